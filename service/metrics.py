"""Every Prometheus metric the service exposes, defined in one place.

Names follow Prometheus conventions (base units, `_total` on counters) and imgproxy's where one
exists, so operators' dashboards carry over. `imageconv_pool_saturation_ratio` is the autoscaling
signal: (jobs running + jobs waiting) / workers, above 1 means work is queueing.
"""

from __future__ import annotations

from typing import Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

# `_created` series double the exposition and no dashboard or alert here reads them.
disable_created_metrics()

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 30.0)
_WORK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "imageconv_http_requests_total", "HTTP requests answered, by route, method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "imageconv_http_request_duration_seconds", "Time from request start to the last byte of the response.",
    ["route", "method", "status"], buckets=_LATENCY_BUCKETS,
)
CONVERSIONS = Counter("imageconv_conversions_total", "Images encoded, by output format.", ["format"])
DECODE_SECONDS = Histogram(
    "imageconv_decode_duration_seconds", "Decode and resize time in a worker, by input format.",
    ["format"], buckets=_WORK_BUCKETS,
)
ENCODE_SECONDS = Histogram(
    "imageconv_encode_duration_seconds", "Encode time in a worker, by output format.",
    ["format"], buckets=_WORK_BUCKETS,
)
INPUT_BYTES = Counter("imageconv_input_bytes_total", "Bytes of images received.")
OUTPUT_BYTES = Counter("imageconv_output_bytes_total", "Bytes of images produced, by output format.", ["format"])
POOL_WORKERS = Gauge("imageconv_pool_workers", "libvips worker processes in the pool.")
POOL_IN_FLIGHT = Gauge("imageconv_pool_jobs_in_flight", "Jobs handed to a worker: running, or next in its queue.")
POOL_WAITING = Gauge("imageconv_pool_jobs_waiting", "Jobs admitted and waiting for a free worker.")
POOL_SATURATION = Gauge(
    "imageconv_pool_saturation_ratio",
    "(jobs in flight + jobs waiting) / workers: the autoscaling signal; above 1 means queueing.",
)
REQUESTS_ADMITTED = Gauge("imageconv_requests_admitted", "Conversion requests inside the service (running or queued).")
REJECTIONS = Counter(
    "imageconv_rejections_total", "Requests refused, by reason.", ["reason"],
)
WORKER_RESTARTS = Counter("imageconv_worker_restarts_total", "Worker processes replaced after dying.")

REJECTION_REASONS = ("overload", "deadline", "bad_input", "too_large", "worker_crash", "shutdown", "client_gone")
for _reason in REJECTION_REASONS:
    REJECTIONS.labels(_reason)  # export zeros so rate() works from the first scrape


class PoolView(Protocol):
    @property
    def busy(self) -> int: ...
    @property
    def waiting(self) -> int: ...
    @property
    def saturation(self) -> float: ...
    @property
    def admitted(self) -> int: ...


def bind_pool(pool: PoolView) -> None:
    """Read the pool's live counts at scrape time instead of tracking them twice."""
    POOL_IN_FLIGHT.set_function(lambda: pool.busy)
    POOL_WAITING.set_function(lambda: pool.waiting)
    POOL_SATURATION.set_function(lambda: pool.saturation)
    REQUESTS_ADMITTED.set_function(lambda: pool.admitted)


def record_conversion(input_type: str, output_format: str, bytes_in: int, bytes_out: int,
                      decode_seconds: float | None, encode_seconds: float) -> None:
    CONVERSIONS.labels(output_format).inc()
    OUTPUT_BYTES.labels(output_format).inc(bytes_out)
    if bytes_in:
        INPUT_BYTES.inc(bytes_in)
    if decode_seconds is not None:
        DECODE_SECONDS.labels(input_type).observe(decode_seconds)
    ENCODE_SECONDS.labels(output_format).observe(encode_seconds)


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

# Targets (max_bytes / min_score): each search and every encode it made, so the cost is visible.
TARGET_SEARCHES = Counter("imageconv_target_searches_total", "Quality searches for max_bytes or min_score, by target.",
                          ["target"])
TARGET_ENCODES = Counter("imageconv_target_search_encodes_total",
                         "Encodes made by quality searches (every attempt), by target and output format.",
                         ["target", "format"])


def record_search(max_bytes: int | None, min_score: float | None, output_format: str, attempts: int) -> None:
    """Count a search (success or unreachable); a conversion without a target is not one."""
    if max_bytes is None and min_score is None:
        return
    target = "min_score" if min_score is not None else "max_bytes"
    TARGET_SEARCHES.labels(target).inc()
    TARGET_ENCODES.labels(target, output_format).inc(attempts)
