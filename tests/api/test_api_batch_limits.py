"""/api/batch never answers a ZIP that looks complete when outputs are missing: a grid that cannot
finish before the deadline is refused up front (pointing to jobs), and a failure after streaming
began cuts the transfer so every client sees it fail."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from apihelpers import Service, noise


@pytest.fixture(scope="module")
def short_deadline() -> Iterator[Service]:
    svc = Service("batch-deadline", {"REQUEST_DEADLINE_SECONDS": "5", "MAX_INPUT_PIXELS": "40000000"}).start()
    yield svc
    svc.stop()  # workers still busy with abandoned AVIF encodes are killed after the pool's grace


@pytest.fixture(scope="module")
def slow_source() -> bytes:
    return noise(2400, 1800).jpegsave_buffer(Q=90)


def test_a_grid_too_slow_for_the_deadline_is_refused_up_front(short_deadline, slow_source):
    with httpx.Client(base_url=short_deadline.url, timeout=60) as client:
        r = client.post(
            "/api/batch",
            params={"qualities": "40,50,60,70", "format": "avif"},
            content=slow_source,
            headers={"Content-Type": "image/jpeg"},
        )
    assert r.status_code == 400, r.text[:300]
    error = r.json()["error"]
    assert error["field"] == "widths" and "POST /api/jobs" in error["message"] and "s of work" in error["received"]
    assert error["allowed"] == {"type": "limit", "maximum": 5, "unit": "seconds"}


def test_a_failure_after_streaming_began_is_a_failed_transfer(short_deadline, slow_source):
    # The estimate lets this through (noise is far slower to encode than photographs): the JPEG
    # streams first, then the AVIF misses the deadline. The client must see an error, not a ZIP.
    with (
        httpx.Client(base_url=short_deadline.url, timeout=120) as client,
        pytest.raises(httpx.HTTPError),
        client.stream(
            "POST",
            "/api/batch",
            params={"qualities": "50", "formats": "jpeg,avif", "effort": "9"},  # the estimate ignores effort
            content=slow_source,
            headers={"Content-Type": "image/jpeg"},
        ) as r,
    ):
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/zip"
        for _ in r.iter_bytes():
            pass


def test_a_batch_whose_client_left_is_withdrawn(short_deadline, slow_source):
    import time

    from jobhelpers import metric

    with httpx.Client(base_url=short_deadline.url, timeout=60) as client:
        before = metric(client, 'imageconv_rejections_total{reason="client_gone"}')
        with pytest.raises(httpx.ReadTimeout), httpx.Client(base_url=short_deadline.url, timeout=1.5) as impatient:
            impatient.post(
                "/api/batch",
                # effort 9: far slower than the client's patience however quiet the machine
                params={"qualities": "50,60", "format": "avif", "response": "json", "width": "1200", "effort": "9"},
                content=slow_source,
                headers={"Content-Type": "image/jpeg"},
            )
        deadline = time.monotonic() + 20
        while metric(client, 'imageconv_rejections_total{reason="client_gone"}') <= before:
            assert time.monotonic() < deadline, "the abandoned batch was not withdrawn"
            time.sleep(0.2)
        assert metric(client, "imageconv_pool_jobs_waiting") == 0
