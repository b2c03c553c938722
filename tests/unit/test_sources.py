"""service/api/sources.py through the real app: POST /api/sources probes, stores by SHA-256, renews,
and refuses beyond MAX_STORAGE_BYTES; the stored files sit under STORAGE_DIR/sources by default."""

from __future__ import annotations

import hashlib
import os

from appclient import jpeg, running_app

from service.api.sources import DESCRIPTION, store_source


def test_stored_under_storage_dir_and_renewed() -> None:
    data = jpeg(64, 48)
    with running_app() as (client, app):
        first = client.post("/api/sources", content=data, headers={"Content-Type": "image/jpeg"})
        assert first.status_code == 201, first.text
        body = first.json()
        sha = hashlib.sha256(data).hexdigest()
        assert body["source"] == f"stored:///{sha}" and body["bytes"] == len(data)
        settings = app.state.settings
        assert os.path.exists(os.path.join(settings.storage_dir, "sources", sha[:2], sha))
        again = client.post("/api/sources", content=data, headers={"Content-Type": "image/jpeg"}).json()
        assert again["expires_at"] >= body["expires_at"] and again["sha256"] == sha
    assert store_source.paths == {"/api/sources"} and "SHA-256" in DESCRIPTION


def test_full_storage_is_507_and_corrupt_images_are_refused() -> None:
    with running_app({"MAX_STORAGE_BYTES": "2000"}) as (client, _):
        full = client.post("/api/sources", content=jpeg(256, 256), headers={"Content-Type": "image/jpeg"})
        assert full.status_code == 507 and full.json()["error"]["code"] == "storage_full"
        cut = jpeg(64, 48)[:200]
        truncated = client.post("/api/sources", content=cut, headers={"Content-Type": "image/jpeg"})
        assert truncated.status_code == 422, truncated.text


def test_an_upload_over_max_upload_bytes_is_refused_from_its_headers() -> None:
    from service.api.admission import ADMITTED_ROUTES

    assert "/api/sources" in ADMITTED_ROUTES
    with running_app({"MAX_UPLOAD_BYTES": "2048"}) as (client, _):
        refused = client.post(
            "/api/sources", content=b"\xff\xd8\xff" + b"0" * 5000, headers={"Content-Type": "image/jpeg"}
        )
        assert refused.status_code == 413 and refused.json()["error"]["code"] == "payload_too_large"
