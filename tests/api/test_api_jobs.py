"""Batch jobs on one replica: the API contract, limits, errors, cancel, expiry, path traversal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from apihelpers import Service, jpeg, noise, unzip
from jobhelpers import check_outputs, finished, metric, submit, wait_until

from service.jobs.store import valid_job_id


@pytest.fixture(scope="module")
def source() -> bytes:
    return jpeg(1200, 800)


def storage_of(service: Service) -> Path:
    return Path(service.env["STORAGE_DIR"])


def job_dirs(storage: Path) -> list[str]:
    """Jobs and half-made or half-removed ones: not the stored sources that share the directory."""
    if not storage.exists():
        return []
    return sorted(p.name for p in storage.iterdir() if valid_job_id(p.name) or p.name.startswith("."))


def test_job_makes_every_output_and_the_archive(client, service, source):
    job = submit(
        client, source, "holiday photo.jpg", widths="200,400,1200,1600", qualities="50,80", formats="jpeg,webp"
    )
    # 1600 > 1200 gives the 1200 outputs again: each made once
    assert job["status"] in ("queued", "running") and job["total"] == 16 - 4
    assert job["original"] == {
        "width": 1200,
        "height": 800,
        "format": "jpeg",
        "bytes": len(source),
        "name": "holiday_photo",
    }
    assert job["archive_url"] == f"/api/jobs/{job['id']}/archive"
    assert len(job["id"]) >= 22  # >= 128 random bits
    status = wait_until(client, job["id"], finished)
    check_outputs(client, status, storage_of(service))
    names = {o["name"] for o in status["outputs"]}
    assert "holiday_photo_200x133_q50.jpg" in names and "holiday_photo_1200x800_q80.webp" in names
    sizes = {(o["width"], o["quality"], o["format"]): o["bytes"] for o in status["outputs"]}
    assert sizes[(400, 50, "webp")] < sizes[(400, 80, "webp")]  # the quality reached the encoder
    archive = client.get(status["archive_url"])
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    entries = unzip(archive.content)
    assert set(entries) == names
    assert all(len(entries[o["name"]]) == o["bytes"] for o in status["outputs"])
    # the rasters are gone once every output settled: storage keeps the outputs and the input only
    assert not (storage_of(service) / job["id"] / "rasters").exists()


def test_cover_job_and_long_poll_returns_at_once_when_finished(client, source):
    job = submit(client, source, widths="100,300", height="100", fit="cover", format="png")
    status = wait_until(client, job["id"], finished)
    assert sorted((o["width"], o["height"]) for o in status["outputs"]) == [(100, 100), (300, 100)]
    started = time.monotonic()
    assert client.get(f"/api/jobs/{job['id']}", params={"wait": 20}).json()["status"] == "done"
    assert time.monotonic() - started < 5


def test_bad_input_is_refused_at_once_with_the_batch_errors(client, service, source):
    before = job_dirs(storage_of(service))
    cases = [
        ({"widths": "abc"}, source, 400, "widths"),
        ({"formats": "gif"}, source, 400, "formats"),
        ({"response": "zip"}, source, 400, "response"),  # a job has no response format
        ({"quality": "500"}, source, 400, "quality"),
        ({"widths": "320"}, b"this is not an image", 415, "image"),
        ({"widths": "320"}, source[: len(source) // 40], 422, "image"),
    ]
    for params, data, status, field in cases:
        r = client.post("/api/jobs", params=params, files={"image": ("x.jpg", data, "image/jpeg")})
        assert r.status_code == status, (params, r.text)
        assert r.json()["error"]["field"] == field
    assert job_dirs(storage_of(service)) == before  # nothing left behind


def test_long_poll_over_the_limit_is_a_json_400(client, source):
    job = submit(client, source, widths="100")
    r = client.get(f"/api/jobs/{job['id']}", params={"wait": 21})
    assert r.status_code == 400 and "error" in r.json()


def test_unknown_ids_and_traversal_attempts_are_json_404s(client, service, source):
    job = submit(client, source, widths="100,200")
    status = wait_until(client, job["id"], finished)
    jid = job["id"]
    (storage_of(service).parent / "secret.txt").write_text("secret")
    attempts = [
        "/api/jobs/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "/api/jobs/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/archive",
        "/api/jobs/..",
        "/api/jobs/%2E%2E/outputs/secret.txt",
        f"/api/jobs/{jid}/outputs/job.json",
        f"/api/jobs/{jid}/outputs/input",
        f"/api/jobs/{jid}/outputs/..%2Finput",
        f"/api/jobs/{jid}/outputs/..%2F..%2Fsecret.txt",
        f"/api/jobs/{jid}/outputs/%2Fetc%2Fpasswd",
        f"/api/jobs/{jid}/outputs/.tmp-x",
        f"/api/jobs/{jid}/outputs/{status['outputs'][0]['name']}%00.png",
        f"/api/jobs/{jid}%2F..%2F{jid}/outputs/{status['outputs'][0]['name']}",
    ]
    for path in attempts:
        r = client.get(path)
        assert r.status_code == 404, (path, r.status_code, r.text[:200])
        assert r.json()["error"]["code"] in ("job_not_found", "output_not_found", "not_found"), path
        assert b"secret" not in r.content and b"JFIF" not in r.content
    for method in ("DELETE",):
        assert client.request(method, "/api/jobs/..").status_code == 404
    assert client.delete("/api/jobs/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").json()["error"]["code"] == "job_not_found"


def test_cancel_removes_the_job_and_every_file(client, service):
    job = submit(
        client,
        noise(1600, 1200).jpegsave_buffer(Q=90),
        widths="400,800,1200,1600",
        qualities="40,50,60,70",
        format="avif",
    )
    jid = job["id"]
    r = client.delete(f"/api/jobs/{jid}")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert not (storage_of(service) / jid).exists()
    for path in (f"/api/jobs/{jid}", f"/api/jobs/{jid}/archive", job["outputs"][0]["url"]):
        r = client.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "job_not_found"
    assert client.delete(f"/api/jobs/{jid}").status_code == 404
    # an item already running when the job went is abandoned (its worker freed) and writes nothing
    # back: wait for this replica to hold no item any more, then look
    deadline = time.monotonic() + 30
    while metric(client, "imageconv_job_items_held") > 0:
        assert time.monotonic() < deadline, "the deleted job's item was never abandoned"
        time.sleep(0.1)
    assert not (storage_of(service) / jid).exists()
    assert not any(p.name.startswith(".deleted-") for p in storage_of(service).iterdir())


# --- limits: their own replica with small limits --------------------------------------------------


@pytest.fixture(scope="module")
def limited() -> Iterator[Service]:
    svc = Service(
        "jobs-limits",
        {"MAX_JOB_OUTPUTS": "6", "MAX_STORAGE_BYTES": "1500000", "MAX_ACTIVE_JOBS": "1", "JOB_TTL_SECONDS": "4"},
    ).start()
    yield svc
    assert svc.stop() == 0, svc.log()


def test_limits_over_outputs_flood_storage_full_and_expiry(limited):
    storage = storage_of(limited)
    big = noise(700, 500).jpegsave_buffer(Q=95)  # ~0.9 MB
    assert 700_000 < len(big) < 1_400_000
    with httpx.Client(base_url=limited.url, timeout=60) as client:
        r = client.post(
            "/api/jobs",
            params={"widths": "100,200,300,400,500,600,700"},
            content=big,
            headers={"Content-Type": "image/jpeg"},
        )
        assert r.status_code == 400 and r.json()["error"]["field"] == "widths" and "at most 6" in r.text
        assert job_dirs(storage) == []

        # seconds of work, with a plan (two AVIF bounds of 300x200, ~1.3 MB) that fits the storage limit
        slow = submit(client, noise(300, 200).jpegsave_buffer(Q=95), qualities="50,60", format="avif", effort="9")
        flood = client.post(
            "/api/jobs", params={"widths": "100"}, content=jpeg(200, 100), headers={"Content-Type": "image/jpeg"}
        )
        assert flood.status_code == 503 and int(flood.headers["retry-after"]) >= 1
        assert flood.json()["error"]["code"] == "too_many_jobs"
        assert client.delete(f"/api/jobs/{slow['id']}").status_code == 200

        # The deleted job's reservation is given back: there is room for one job (its plan: the
        # upload and ~0.25 MB)...
        deadline = time.monotonic() + 30
        while (
            r := client.post("/api/jobs", params={"widths": "100"}, content=big, headers={"Content-Type": "image/jpeg"})
        ).status_code in (503, 507):
            assert time.monotonic() < deadline, r.text
            time.sleep(0.3)
        assert r.status_code == 202, r.text
        first = r.json()
        # ...and not for two
        full = client.post("/api/jobs", params={"widths": "100"}, content=big, headers={"Content-Type": "image/jpeg"})
        assert full.status_code == 507, full.text
        assert full.json()["error"]["code"] == "storage_full" and "MAX_STORAGE_BYTES" in full.text
        assert job_dirs(storage) == [first["id"]]  # nothing half-written

        # expiry: after JOB_TTL_SECONDS the job is gone for clients at once, and its files soon after
        while client.get(f"/api/jobs/{first['id']}").status_code != 404:
            assert time.monotonic() < deadline
            time.sleep(0.3)
        r = client.get(f"/api/jobs/{first['id']}/archive")
        assert r.status_code == 404 and r.json()["error"]["code"] == "job_not_found"
        while job_dirs(storage):
            assert time.monotonic() < deadline, job_dirs(storage)
            time.sleep(0.3)


def test_output_names_keep_any_script_and_their_urls_work(client, source):
    job = submit(client, source, "사진.jpg", widths="100", format="webp")
    status = wait_until(client, job["id"], finished)
    (out,) = status["outputs"]
    assert out["name"] == "사진_100x67.webp" and "%" in out["url"]
    r = client.get(out["url"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
    assert "filename*=UTF-8''%EC%82%AC%EC%A7%84_100x67.webp" in r.headers["content-disposition"]


# --- storage reserved from the plan ---------------------------------------------------------------

TIFF_WIDTHS = ",".join(str(w) for w in range(6010, 7001, 10))  # the 100 widths


@pytest.fixture(scope="module")
def twenty_mb() -> Iterator[Service]:
    # the 20 MB; a pixel budget large enough that storage is what refuses
    svc = Service("jobs-quota", {"MAX_STORAGE_BYTES": "20000000", "MAX_JOB_OUTPUT_PIXELS": "10000000000"}).start()
    yield svc
    assert svc.stop() == 0, svc.log()


def test_a_plan_that_storage_cannot_hold_is_507_at_once(twenty_mb):
    small = jpeg(1200, 800)
    with httpx.Client(base_url=twenty_mb.url, timeout=60) as client:
        for widths in (TIFF_WIDTHS, "6010,6340,6670,7000"):
            started = time.monotonic()
            r = client.post(
                "/api/jobs",
                params={"widths": widths, "format": "tiff", "compression": "none", "enlarge": "true"},
                content=small,
                headers={"Content-Type": "image/jpeg"},
            )
            assert time.monotonic() - started < 1.0
            assert r.status_code == 507, r.text
            error = r.json()["error"]
            assert error["code"] == "storage_full" and "MAX_STORAGE_BYTES" in error["message"]
            assert "outputs and rasters" in error["message"]
        assert job_dirs(storage_of(twenty_mb)) == []  # nothing was written
        job = submit(client, small, widths="1000", format="tiff", compression="none")  # ~3.6 MB bound: fits
        status = wait_until(client, job["id"], finished)
        assert status["done"] == 1
        stored = sum(p.stat().st_size for p in (storage_of(twenty_mb) / job["id"]).rglob("*") if p.is_file())
        assert stored < 20_000_000


def test_max_job_output_pixels_refuses_the_grid_at_once(client):
    r = client.post(
        "/api/jobs",
        params={"widths": TIFF_WIDTHS, "format": "tiff", "compression": "none", "enlarge": "true"},
        content=jpeg(1200, 800),
        headers={"Content-Type": "image/jpeg"},
    )
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "unprocessable" and error["field"] == "widths"
    assert "MAX_JOB_OUTPUT_PIXELS" in error["message"]


# --- the archive of an unfinished job, revalidating an output --------------------------------------


def test_the_archive_of_an_unfinished_job_is_409_or_says_it_is_partial(client):
    job = submit(
        client, noise(1600, 1200).jpegsave_buffer(Q=90), widths="200,1600", qualities="40,50", format="avif", effort="9"
    )
    r = client.get(job["archive_url"])
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "job_not_finished"
    partial = client.get(job["archive_url"], params={"partial": "1"})
    assert partial.status_code == 200 and partial.headers["x-archive-partial"] == "true"
    assert "_batch_partial.zip" in partial.headers["content-disposition"]
    assert set(unzip(partial.content)) <= {o["name"] for o in job["outputs"]}
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 200


def test_an_output_answers_304_to_a_matching_if_none_match(client, source):
    job = submit(client, source, widths="100", format="webp")
    status = wait_until(client, job["id"], finished)
    url = status["outputs"][0]["url"]
    first = client.get(url)
    etag = first.headers["etag"]
    assert first.status_code == 200 and etag.startswith('"')
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    complete = client.get(status["archive_url"])
    assert complete.status_code == 200 and "x-archive-partial" not in complete.headers
