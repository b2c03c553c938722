"""The pool under stress: a worker killed mid-job, overload, deadlines, SIGTERM, bad settings.

Each scenario gets its own service process with a one-worker pool, so timings are controlled by
one deliberately slow conversion: an AVIF encode of incompressible noise (several seconds).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from apihelpers import ROOT, Service, decode, jpeg, loader, noise

SLOW_PARAMS = {"format": "avif", "effort": "4", "quality": "90"}


@pytest.fixture(scope="module")
def slow_image() -> bytes:
    return noise(700, 700).jpegsave_buffer(Q=95)


def post(url: str, data: bytes, params: dict[str, str], timeout: float = 120) -> httpx.Response:
    return httpx.post(
        url + "/api/convert", params=params, content=data, headers={"Content-Type": "image/jpeg"}, timeout=timeout
    )


def wait_until(predicate, timeout: float = 20, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def ready_status(svc: Service) -> int | None:
    """/ready's status, None once the listener is closed."""
    try:
        return httpx.get(svc.url + "/ready", timeout=2).status_code
    except httpx.TransportError:
        return None


def readiness(svc: Service) -> dict:
    return httpx.get(svc.url + "/ready", timeout=5).json()


def metric(svc: Service, name: str) -> float:
    for line in httpx.get(svc.url + "/metrics", timeout=5).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


@pytest.fixture
def one_worker(request):
    # A deadline far beyond the slow jobs unless a test sets its own: on a busy 2-core machine one
    # slow job can take over 25 s, and a 504 is not what these tests are about.
    env = {"WORKERS": "1", "REQUEST_DEADLINE_SECONDS": "600", **getattr(request, "param", {})}
    svc = Service(request.node.name[:40], env).start()
    yield svc
    svc.stop()


def test_worker_killed_mid_job_fails_only_that_job_and_the_service_recovers(one_worker, slow_image):
    svc = one_worker
    with ThreadPoolExecutor(2) as ex:
        pending = ex.submit(post, svc.url, slow_image, SLOW_PARAMS)
        wait_until(lambda: readiness(svc)["busy"] == 1, what="the slow job to start")
        queued = ex.submit(post, svc.url, jpeg(320, 240), {"format": "png", "width": "100"})
        wait_until(lambda: readiness(svc)["busy"] == 2, what="a second job queued behind it on the worker")
        [victim] = svc.worker_pids()
        os.kill(victim, signal.SIGKILL)
        r, behind = pending.result(), queued.result()
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "worker_crashed" and r.headers["retry-after"]
    # The job queued behind it never ran on the dead worker: it is re-run on the replacement.
    assert behind.status_code == 200 and decode(behind.content).width == 100
    for _ in range(3):
        ok = post(svc.url, jpeg(320, 240), {"format": "webp", "width": "100"})
        assert ok.status_code == 200 and loader(ok.content) == "webpload_buffer"
    assert svc.worker_pids() and victim not in svc.worker_pids()
    assert metric(svc, "imageconv_worker_restarts_total") == 1
    assert svc.proc.poll() is None


# A deadline far beyond the two slow jobs: on a loaded machine the queued one once missed the
# default 25 s (a 504 where this test expects 200); the deadline is not what is tested here.
@pytest.mark.parametrize("one_worker", [{"QUEUE_PER_WORKER": "1", "REQUEST_DEADLINE_SECONDS": "600"}], indirect=True)
def test_overload_is_refused_at_once_with_retry_after(one_worker, slow_image):
    svc = one_worker  # capacity = 1 running + 1 waiting
    with ThreadPoolExecutor(2) as ex:
        running: list[Future] = [ex.submit(post, svc.url, slow_image, SLOW_PARAMS)]
        wait_until(lambda: readiness(svc)["busy"] == 1, what="the first job to run")
        running.append(ex.submit(post, svc.url, slow_image, SLOW_PARAMS))
        wait_until(lambda: readiness(svc)["admitted"] == 2, what="the second job to queue")
        ready = httpx.get(svc.url + "/ready", timeout=5)
        # Saturated is still ready: the load balancer must not take a full task out of service.
        assert ready.status_code == 200 and ready.json()["status"] == "saturated"
        started = time.monotonic()
        refused = post(svc.url, jpeg(64, 64), {"format": "png"})
        assert time.monotonic() - started < 3.0  # answered at once (seconds sooner than a queued job)
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "overloaded"
        assert int(refused.headers["retry-after"]) >= 1
        results = [f.result() for f in running]
    assert [r.status_code for r in results] == [200, 200]
    assert all(loader(r.content) == "heifload_buffer" for r in results)
    assert httpx.get(svc.url + "/ready", timeout=5).status_code == 200


@pytest.mark.parametrize("one_worker", [{"REQUEST_DEADLINE_SECONDS": "1.5"}], indirect=True)
def test_deadlines_drop_waiting_jobs_and_time_out_running_ones(one_worker, slow_image):
    svc = one_worker
    with ThreadPoolExecutor(2) as ex:
        first = ex.submit(post, svc.url, slow_image, SLOW_PARAMS)
        wait_until(lambda: readiness(svc)["busy"] == 1, what="the slow job to start")
        second = ex.submit(post, svc.url, jpeg(64, 64), {"format": "png"})
        late, dropped = first.result(), second.result()
    assert late.status_code == 504 and late.json()["error"]["code"] == "deadline_exceeded"
    # The waiting job is dropped at its deadline, unless the runaway's worker was killed and
    # replaced soon enough for it to run in time (then it is answered).
    if dropped.status_code != 200:
        assert dropped.status_code == 503 and dropped.json()["error"]["code"] == "deadline"
        assert dropped.headers["retry-after"]
    # The runaway encode's worker is killed and replaced, then serves again.
    wait_until(
        lambda: post(svc.url, jpeg(64, 64), {"format": "png"}).status_code == 200,
        timeout=60,
        what="the service to serve again",
    )


def test_sigterm_drains_in_flight_work_and_exits_zero(slow_image):
    # The deadline is not under test: a busy machine once took the slow job past the default 25 s.
    env = {"WORKERS": "1", "SHUTDOWN_TIMEOUT_SECONDS": "300", "REQUEST_DEADLINE_SECONDS": "280"}
    svc = Service("sigterm", env).start()
    try:
        with ThreadPoolExecutor(1) as ex:
            pending = ex.submit(post, svc.url, slow_image, SLOW_PARAMS)
            wait_until(lambda: readiness(svc)["busy"] == 1, what="the slow job to start")
            helpers = svc.descendants()
            assert len(helpers) >= 3  # forkserver, resource tracker, the worker
            svc.proc.send_signal(signal.SIGTERM)
            # The signal's effect, waited for: readiness flips (or the listener is already closed),
            # so no new work arrives; the process is then still there, finishing the conversion.
            wait_until(lambda: ready_status(svc) in (503, None), timeout=10, what="readiness to flip after SIGTERM")
            assert svc.proc.poll() is None and not pending.done()
            r = pending.result()
        assert r.status_code == 200, r.text
        assert loader(r.content) == "heifload_buffer" and decode(r.content).width == 700
        assert svc.proc.wait(30) == 0, svc.log()
        # No orphans: the worker, the forkserver and the resource tracker all went with it.
        wait_until(
            lambda: not any(Path(f"/proc/{pid}").exists() for pid in helpers),
            timeout=10,
            what="the pool's processes to exit",
        )
        log = svc.log_path.read_text()
        assert "shutdown requested; draining" in log and '"pool stopped"' in log
    finally:
        svc.stop()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("WORKERS", "zero", "auto or an integer between 1 and 256"),
        ("PORT", "70000", "an integer between 1 and 65535"),
        ("REQUEST_DEADLINE_SECONDS", "-1", "a number between"),
        ("LOG_LEVEL", "loud", "debug, info, warning, error"),
    ],
)
def test_invalid_settings_stop_start_up_with_a_message(name, value, expected):
    result = subprocess.run(
        [sys.executable, "-m", "service"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, name: value},
        timeout=30,
    )
    assert result.returncode == 2
    assert name in result.stderr and expected in result.stderr and repr(value) in result.stderr


def test_shutdown_does_not_wait_for_jobs_whose_requests_already_timed_out():
    """A 504 leaves its encode running on the worker; stopping must not wait for it."""
    very_slow = noise(1400, 1400).jpegsave_buffer(Q=95)  # tens of seconds of AVIF work
    svc = Service(
        "abandoned", {"WORKERS": "1", "REQUEST_DEADLINE_SECONDS": "1", "SHUTDOWN_TIMEOUT_SECONDS": "2"}
    ).start()
    try:
        r = post(svc.url, very_slow, SLOW_PARAMS)
        assert r.status_code == 504
        helpers = svc.descendants()
        started = time.monotonic()
        svc.proc.send_signal(signal.SIGTERM)
        assert svc.proc.wait(20) == 0
        assert time.monotonic() - started < 12
        wait_until(
            lambda: not any(Path(f"/proc/{pid}").exists() for pid in helpers),
            timeout=10,
            what="the killed worker to be gone",
        )
        assert "killed workers still running abandoned tasks" in svc.log_path.read_text()
    finally:
        svc.stop()


def test_a_client_that_gives_up_leaves_the_queue(one_worker, slow_image):
    svc = one_worker
    with ThreadPoolExecutor(2) as ex:
        running = ex.submit(post, svc.url, slow_image, SLOW_PARAMS)
        wait_until(lambda: readiness(svc)["busy"] == 1, what="the slow job to start")
        queued_next = ex.submit(post, svc.url, slow_image, SLOW_PARAMS)
        wait_until(lambda: readiness(svc)["busy"] == 2, what="a job queued on the worker")
        with pytest.raises(httpx.TimeoutException):  # third in line; its client stops waiting
            post(svc.url, jpeg(64, 64), {"format": "png"}, timeout=1.0)
        wait_until(
            lambda: readiness(svc)["waiting"] == 0 and readiness(svc)["admitted"] == 2,
            timeout=5,
            what="the abandoned request to leave the queue",
        )
        assert metric_labelled(svc, 'imageconv_rejections_total{reason="client_gone"}') == 1
        assert running.result().status_code == 200 and queued_next.result().status_code == 200


def metric_labelled(svc: Service, series: str) -> float:
    for line in httpx.get(svc.url + "/metrics", timeout=5).text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{series} not exported")


def test_a_service_killed_outright_leaves_no_worker_behind(slow_image):
    svc = Service("sigkill", {"WORKERS": "1"}).start()
    with ThreadPoolExecutor(1) as ex:
        ex.submit(post, svc.url, slow_image, SLOW_PARAMS)
        wait_until(lambda: readiness(svc)["busy"] == 1, what="the slow job to start")
        helpers = svc.descendants()
        svc.proc.kill()  # no drain, no pool shutdown: the OOM killer's way
        svc.proc.wait(10)
        wait_until(
            lambda: not any(Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid) for pid in helpers),
            timeout=15,
            what="the forkserver and the busy worker to go with the service",
        )


def _state(pid: int) -> str:
    try:
        return "zombie" if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z" else "alive"
    except OSError:
        return "zombie"
