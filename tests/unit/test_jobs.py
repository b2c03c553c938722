"""The job routes (service/api/jobs.py) on the whole app with a real one-worker pool and a real job
store: a submitted grid is followed to its end with the long poll, its outputs and archive decode
to what the status document says, and a cancelled job is gone."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import pyvips
from appclient import jpeg, running_app
from litestar import Litestar
from litestar.testing import TestClient

from service.api.jobs import MAX_WAIT, SUBMIT


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    with running_app() as (client, _):
        yield client


def _submit(client: TestClient[Litestar], query: str) -> dict[str, Any]:
    r = client.post(f"/api/jobs?{query}", files={"image": ("shot.jpg", jpeg(160, 120), "image/jpeg")})
    assert r.status_code == 202, r.text
    status: dict[str, Any] = r.json()
    assert r.headers["location"] == f"/api/jobs/{status['id']}"
    return status


def _until_settled(client: TestClient[Litestar], job_id: str) -> dict[str, Any]:
    """Long-polls: each answer comes when something changed (or after MAX_WAIT seconds)."""
    give_up = time.monotonic() + 300
    while time.monotonic() < give_up:
        r = client.get(f"/api/jobs/{job_id}?wait={MAX_WAIT}")
        assert r.status_code == 200
        status: dict[str, Any] = r.json()
        if status["status"] in ("done", "failed"):
            return status
    raise AssertionError("the job did not settle")


def test_a_job_runs_to_done_and_its_outputs_and_archive_decode(client: TestClient[Litestar]) -> None:
    submitted = _submit(client, "widths=80,40&qualities=60&format=webp")
    assert submitted["total"] == 2 and submitted["status"] in ("queued", "running")
    status = _until_settled(client, submitted["id"])
    assert status["status"] == "done" and status["done"] == 2 and status["failed"] == 0
    names = []
    for output in status["outputs"]:
        assert output["state"] == "done"
        r = client.get(output["url"])
        assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
        assert len(r.content) == output["bytes"] and r.headers["etag"]
        image = pyvips.Image.new_from_buffer(r.content, "")
        assert (image.width, image.height) == (output["width"], output["height"])
        names.append(output["name"])
    assert sorted(names) == ["shot_40x30_q60.webp", "shot_80x60_q60.webp"]
    r = client.get(status["archive_url"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        assert sorted(archive.namelist()) == sorted(names)


def test_a_cancelled_job_answers_cancelled_then_is_gone(client: TestClient[Litestar]) -> None:
    submitted = _submit(client, "widths=64&qualities=50")
    r = client.delete(f"/api/jobs/{submitted['id']}")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    for path in (f"/api/jobs/{submitted['id']}", f"/api/jobs/{submitted['id']}/archive"):
        r = client.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "job_not_found"


def test_an_output_not_in_the_job_is_not_found(client: TestClient[Litestar]) -> None:
    submitted = _submit(client, "widths=32&qualities=40")
    _until_settled(client, submitted["id"])
    r = client.get(f"/api/jobs/{submitted['id']}/outputs/shot_999x1_q40.jpg")
    assert r.status_code == 404 and r.json()["error"]["code"] == "output_not_found"


def test_a_job_refuses_what_a_batch_refuses_before_storing_anything(client: TestClient[Litestar]) -> None:
    r = client.post("/api/jobs?widths=32&response=zip", content=jpeg(64, 48), headers={"content-type": "image/jpeg"})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid_option" and error["field"] == "response"


def test_the_submit_description_names_the_status_location() -> None:
    assert "202" in SUBMIT and "Location" in SUBMIT
