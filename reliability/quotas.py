"""The scenarios of issue 23 points 1, 2 and 4, each against a fresh service: a thin PNG whose decode
costs far more than its pixels, job storage against MAX_STORAGE_BYTES (a TIFF plan over it, twenty
submissions at once), and the edges of a job's archive and outputs.

Each job scenario uses its own storage directory and deletes what it submitted, so an older tree
that accepts the TIFF job (the "before" figures) writes at most one small job's worth to disk.
"""

from __future__ import annotations

import os
import struct
import tempfile
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pyvips

from .service import Running

Figures = dict[str, Any]
_JPEG = {"Content-Type": "image/jpeg"}
TIFF_WIDTHS = ",".join(str(w) for w in range(6010, 7001, 10))  # the 100 widths


def _photo(width: int, height: int) -> bytes:
    x = pyvips.Image.xyz(width, height)
    image = (x[0] * (255 / width)).bandjoin([x[1] * (255 / height), (x[0] + x[1]) * (127 / (width + height)) + 64])
    data: bytes = image.cast("uchar").copy(interpretation="srgb").jpegsave_buffer(Q=85)
    return data


def thin_png(height: int) -> bytes:
    """A real 1 x height grey PNG, every row written (tests/api/apihelpers.py makes the same)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    squeeze = zlib.compressobj(9)
    body = b"".join(squeeze.compress(b"\0\0" * min(1_000_000, height - r)) for r in range(0, height, 1_000_000))
    ihdr = struct.pack(">IIBBBBB", 1, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body + squeeze.flush()) + chunk(b"IEND", b"")


def _post(url: str, route: str, data: bytes, params: dict[str, str], kind: str = "image/jpeg") -> tuple[str, float]:
    started = time.monotonic()
    try:
        r = httpx.post(url + route, params=params, content=data, headers={"Content-Type": kind}, timeout=120)
        result = f"{r.status_code} {r.json().get('error', {}).get('code', '') if r.status_code >= 400 else ''}".strip()
    except httpx.HTTPError as exc:
        result = type(exc).__name__
    return result, round(time.monotonic() - started, 3)


def _submit(url: str, data: bytes, params: dict[str, str]) -> httpx.Response:
    return httpx.post(url + "/api/jobs", params=params, content=data, headers=_JPEG, timeout=60)


def tall_png(svc: Running) -> Figures:
    tall = thin_png(49_000_000)
    figures: Figures = {"PNG bytes": len(tall)}
    for route in ("/api/convert", "/api/jobs"):
        figures[f"{route}: answer, seconds"] = _post(svc.url, route, tall, {"width": "200"}, "image/png")
    # two at once (both workers), and a normal 200 px conversion meanwhile
    with ThreadPoolExecutor(3) as ex:
        stalls = [ex.submit(_post, svc.url, "/api/convert", tall, {"width": "200"}, "image/png") for _ in range(2)]
        time.sleep(0.2)
        normal = ex.submit(_post, svc.url, "/api/convert", _photo(800, 600), {"width": "200"})
        figures["normal 200 px convert meanwhile"] = normal.result()
        figures["the two thin PNGs"] = [s.result() for s in stalls]
    return figures


def _stored(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _delete(url: str, answer: httpx.Response) -> None:
    if answer.status_code == 202:
        httpx.delete(f"{url}/api/jobs/{answer.json()['id']}", timeout=30)


def job_storage(svc: Running) -> Figures:
    root = _STORAGE / "storage"
    small = _photo(1200, 800)
    tiff = {"format": "tiff", "compression": "none", "enlarge": "true"}
    figures: Figures = {"limit": _LIMIT}

    # twenty submissions at once against MAX_ACTIVE_JOBS, first: while storage is empty
    def one(_: int) -> httpx.Response:
        return _submit(svc.url, small, {"widths": "100"})

    with ThreadPoolExecutor(20) as ex:
        answers = list(ex.map(one, range(20)))
    codes = [a.status_code for a in answers]
    figures["20 at once: accepted (MAX_ACTIVE_JOBS)"] = f"{codes.count(202)} (5)"
    figures["20 at once: answers"] = {str(c): codes.count(c) for c in sorted(set(codes))}
    for answer in answers:
        _delete(svc.url, answer)
    time.sleep(2)  # an older tree counts active jobs only at its next scan of storage (every 0.5 s)
    started = time.monotonic()
    r = _submit(svc.url, small, {"widths": TIFF_WIDTHS, **tiff})
    figures["100-width TIFF job: answer, seconds"] = (r.status_code, round(time.monotonic() - started, 3))
    _delete(svc.url, r)  # at once: an older tree would write gigabytes
    started = time.monotonic()
    r = _submit(svc.url, small, {"widths": "6010,6340,6670,7000", **tiff})
    figures["4-width TIFF job: answer, seconds"] = (r.status_code, round(time.monotonic() - started, 3))
    if r.status_code == 202:
        job = r.json()["id"]
        peak, until = 0, time.monotonic() + 120
        while time.monotonic() < until:
            peak = max(peak, _stored(root))
            status = httpx.get(f"{svc.url}/api/jobs/{job}", timeout=30).json()["status"]
            if status in ("done", "failed"):
                break
            time.sleep(0.2)
        figures["4-width TIFF job: peak bytes stored"] = max(peak, _stored(root))
        _delete(svc.url, r)
    return figures


def job_edges(svc: Running) -> Figures:
    noise = pyvips.Image.gaussnoise(1600, 1200, sigma=60, mean=128)
    slow = noise.bandjoin([noise, noise]).cast("uchar").copy(interpretation="srgb").jpegsave_buffer(Q=90)
    params = {"widths": "200,1600", "qualities": "40,50", "format": "avif", "effort": "9"}
    job = _submit(svc.url, slow, params).json()
    figures: Figures = {}
    r = httpx.get(svc.url + job["archive_url"], timeout=30)
    figures["archive while running"] = f"{r.status_code} {len(r.content)} bytes {r.headers.get('content-type')}"
    r = httpx.get(svc.url + job["archive_url"], params={"partial": "1"}, timeout=30)
    figures["archive?partial=1 while running"] = f"{r.status_code} partial={r.headers.get('x-archive-partial')}"
    httpx.delete(f"{svc.url}/api/jobs/{job['id']}", timeout=30)
    small = _submit(svc.url, _photo(400, 300), {"widths": "100"}).json()
    until = time.monotonic() + 60
    while httpx.get(f"{svc.url}/api/jobs/{small['id']}", timeout=30).json()["status"] not in ("done", "failed"):
        assert time.monotonic() < until, "the small job never finished"
        time.sleep(0.2)
    url = svc.url + small["outputs"][0]["url"]
    etag = httpx.get(url, timeout=30).headers["etag"]
    figures["output with a matching If-None-Match"] = httpx.get(url, headers={"If-None-Match": etag}).status_code
    return figures


# Fresh for each run of `python -m reliability`: the service creates them; no stale job counts.
_STORAGE = Path(tempfile.gettempdir()) / f"reliability-jobs-{os.getpid()}"
_LIMIT = 20_000_000  # the MAX_STORAGE_BYTES

QUOTA_SCENARIOS: dict[str, tuple[dict[str, str], Callable[[Running], Figures]]] = {
    "tall_png": ({}, tall_png),
    "job_storage": (
        {
            "STORAGE_DIR": str(_STORAGE / "storage"),
            "MAX_STORAGE_BYTES": str(_LIMIT),
            "MAX_ACTIVE_JOBS": "5",
            "MAX_JOB_OUTPUT_PIXELS": "10000000000",  # storage, not the pixel budget, is what this measures
        },
        job_storage,
    ),
    "job_edges": ({"STORAGE_DIR": str(_STORAGE / "edges")}, job_edges),
}
