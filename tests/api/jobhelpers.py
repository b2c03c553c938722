"""Helpers for the job tests: submit, wait, read metrics, check outputs against the manifest."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from apihelpers import decode, loader

LOADERS = {
    "jpeg": "jpegload_buffer",
    "webp": "webpload_buffer",
    "png": "pngload_buffer",
    "avif": "heifload_buffer",
    "tiff": "tiffload_buffer",
}


def submit(client: httpx.Client, data: bytes, name: str = "photo.jpg", **params: str) -> dict:
    r = client.post("/api/jobs", params=params, files={"image": (name, data, "image/jpeg")})
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/api/jobs/{r.json()['id']}"
    return r.json()


def wait_until(client: httpx.Client, job_id: str, predicate, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/api/jobs/{job_id}", params={"wait": 5})
        assert r.status_code == 200, r.text
        status = r.json()
        if predicate(status):
            return status
        assert time.monotonic() < deadline, f"job never reached the state asked: {status['status']} {status['done']}"


def finished(status: dict) -> bool:
    return status["status"] in ("done", "failed")


def metric(client: httpx.Client, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"metric {name} not exposed")


def check_outputs(client: httpx.Client, status: dict, storage: Path | None = None) -> None:
    """Every output is done, downloads whole, decodes with its format and size; on disk each exists once."""
    assert status["status"] == "done" and status["done"] == status["total"] and status["failed"] == 0, status
    for out in status["outputs"]:
        r = client.get(out["url"])
        assert r.status_code == 200, r.text
        assert int(r.headers["content-length"]) == len(r.content) == out["bytes"]
        assert (
            r.headers["content-type"]
            == {
                "jpeg": "image/jpeg",
                "webp": "image/webp",
                "avif": "image/avif",
                "png": "image/png",
                "tiff": "image/tiff",
            }[out["format"]]
        )
        assert r.headers["etag"]
        image = decode(r.content)
        assert loader(r.content) == LOADERS[out["format"]]
        assert (image.width, image.height) == (out["width"], out["height"])
        image.avg()  # decodes every pixel: a truncated file fails here
    if storage is not None:
        on_disk = sorted(p.name for p in (storage / status["id"] / "outputs").iterdir() if not p.name.startswith("."))
        assert on_disk == sorted(o["name"] for o in status["outputs"])
