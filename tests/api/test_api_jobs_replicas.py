"""Jobs across replicas: two real service processes sharing one STORAGE_DIR.

Any replica answers for any job; a replica that dies mid-job (SIGKILL) or is stopped (SIGTERM)
leaves its items to the other, and every output still exists exactly once, whole.
"""

from __future__ import annotations

import signal
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from apihelpers import Service, jpeg
from jobhelpers import check_outputs, finished, metric, submit, wait_until


@pytest.fixture
def storage() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="imageconv-shared-jobs-") as path:
        yield Path(path)


def replica(name: str, storage: Path, **env: str) -> Service:
    return Service(name, {"STORAGE_DIR": str(storage), "JOB_WORKER_SHARE": "1", **env})


@pytest.fixture(scope="module")
def slow_source() -> bytes:
    """AVIF encodes of this take 0.2-0.4 s each at the default effort: the tests act as soon as an
    item is held, and what they check (every output once; reclaimed or released) holds however
    quickly the rest of the job runs."""
    return jpeg(1200, 900)


def _wait_holding(client: httpx.Client, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while metric(client, "imageconv_job_items_held") < 1:
        assert time.monotonic() < deadline, "the replica never claimed an item"
        time.sleep(0.2)


def test_submit_to_one_replica_poll_and_download_from_the_other(storage):
    a, b = replica("jobs-a", storage), replica("jobs-b", storage)
    try:
        a.start(), b.start()
        with httpx.Client(base_url=a.url, timeout=60) as ca, httpx.Client(base_url=b.url, timeout=60) as cb:
            job = submit(ca, jpeg(1600, 1000), widths="160,320,640,1280", qualities="50,80", formats="jpeg,webp")
            status = wait_until(cb, job["id"], finished)
            check_outputs(cb, status, storage)
            assert cb.get(status["archive_url"]).status_code == 200
            # both replicas may have worked on it (each uses one of its two workers); a busy one may not
            done = metric(ca, 'imageconv_job_items_total{kind="encode",result="done"}') + metric(
                cb, 'imageconv_job_items_total{kind="encode",result="done"}'
            )
            assert done == status["total"]  # every output made once, by one replica or the other
    finally:
        assert a.stop() == 0, a.log()
        assert b.stop() == 0, b.log()


def test_sigkill_of_the_holding_replica_the_other_finishes(storage, slow_source):
    a = replica("jobs-kill-a", storage, JOB_LEASE_SECONDS="3")
    b = replica("jobs-kill-b", storage, JOB_LEASE_SECONDS="3")
    try:
        a.start()
        with httpx.Client(base_url=a.url, timeout=60) as ca:
            job = submit(ca, slow_source, widths="600,1200", qualities="40,60", format="avif")
            _wait_holding(ca)
            assert a.proc is not None
            a.proc.send_signal(signal.SIGKILL)
            a.proc.wait(10)
        b.start()
        with httpx.Client(base_url=b.url, timeout=60) as cb:
            status = wait_until(cb, job["id"], finished, timeout=400)
            check_outputs(cb, status, storage)
            assert metric(cb, "imageconv_job_items_reclaimed_total") >= 1
    finally:
        a.stop()
        assert b.stop() == 0, b.log()


def test_sigterm_releases_held_items_within_the_drain_budget(storage, slow_source):
    # A lease far longer than the test: the job can only finish elsewhere if A released its items.
    a = replica("jobs-term-a", storage, JOB_LEASE_SECONDS="900", SHUTDOWN_TIMEOUT_SECONDS="8")
    b = replica("jobs-term-b", storage, JOB_LEASE_SECONDS="900")
    try:
        a.start()
        with httpx.Client(base_url=a.url, timeout=60) as ca:
            job = submit(ca, slow_source, widths="600,1200", qualities="40,60", format="avif")
            _wait_holding(ca)
        assert a.proc is not None
        stopped = time.monotonic()
        a.proc.send_signal(signal.SIGTERM)
        assert a.proc.wait(8 + 15) == 0, a.log()  # the drain budget, plus start-up slack of a busy machine
        assert time.monotonic() - stopped < 8 + 15
        assert "draining job items" in a.log() or "draining: no more job items" in a.log()
        b.start()
        with httpx.Client(base_url=b.url, timeout=60) as cb:
            status = wait_until(cb, job["id"], finished, timeout=400)
            check_outputs(cb, status, storage)
            assert metric(cb, "imageconv_job_items_reclaimed_total") == 0  # released, not timed out
    finally:
        a.stop()
        assert b.stop() == 0, b.log()


def _convert_p99(client: httpx.Client, image: bytes, n: int = 40) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        r = client.post("/api/convert", params={"width": "320"}, content=image, headers={"Content-Type": "image/jpeg"})
        assert r.status_code == 200, r.text
        times.append(time.perf_counter() - started)
    return statistics.quantiles(times, n=100)[98]


def test_convert_stays_fast_while_a_large_avif_job_runs(storage):
    svc = replica("jobs-fair", storage, JOB_WORKER_SHARE="0.5")
    try:
        svc.start()
        with httpx.Client(base_url=svc.url, timeout=60) as client:
            small = jpeg(800, 600)
            _convert_p99(client, small, 5)  # warm up
            unloaded = _convert_p99(client, small)
            # Items of ~10-40 s each (AVIF effort 9): a conversion that had to wait behind one would
            # take seconds, far beyond the slack below, so the check holds on a busy box and still
            # fails if conversions queue behind job items. (At the default effort an item takes
            # ~0.4 s, inside any slack a shared CI machine needs: such a test could not fail.)
            job = submit(client, jpeg(1920, 1200), widths="640,800", qualities="50,60,70", format="avif", effort="9")
            assert job["total"] == 6
            _wait_holding(client)
            loaded = _convert_p99(client, small)
            print(f"/api/convert p99: unloaded {unloaded * 1000:.0f} ms, during the job {loaded * 1000:.0f} ms")
            still = client.get(f"/api/jobs/{job['id']}").json()
            assert still["status"] == "running" and still["done"] < still["total"], still
            # The target is 2x (measured in the bench, 1.00x on a quiet machine).
            assert loaded <= max(4 * unloaded, unloaded + 2.0), (unloaded, loaded)
            client.delete(f"/api/jobs/{job['id']}")
    finally:
        assert svc.stop() == 0, svc.log()
