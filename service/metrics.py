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

from .errors import REASONS

__all__ = [
    "CONNECTIONS_CLOSED",
    "CONVERSIONS",
    "DECODE_SECONDS",
    "ENCODE_SECONDS",
    "HTTP_CONNECTIONS",
    "HTTP_DURATION",
    "HTTP_REQUESTS",
    "INPUT_BYTES",
    "JOBS",
    "JOB_BACKLOG_AGE",
    "JOB_DURATION",
    "JOB_ITEMS",
    "JOB_ITEMS_HELD",
    "JOB_ITEMS_PENDING",
    "JOB_ITEMS_RECLAIMED",
    "JOB_ITEMS_RUNNING",
    "JOB_STATUSES",
    "JOB_STORAGE_BYTES",
    "OUTPUT_BYTES",
    "POOL_IN_FLIGHT",
    "POOL_JOBS_MOVED",
    "POOL_SATURATION",
    "POOL_WAITING",
    "POOL_WORKERS",
    "REJECTIONS",
    "REJECTION_REASONS",
    "REQUESTS_ADMITTED",
    "TARGET_ENCODES",
    "TARGET_SEARCHES",
    "WORKER_KILLS",
    "WORKER_RESTARTS",
    "PoolView",
    "bind_pool",
    "exposition",
    "record_conversion",
    "record_search",
    "serve_on_port",
]

# `_created` series double the exposition and no dashboard or alert here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 30.0)
_WORK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "imageconv_http_requests_total",
    "HTTP requests answered, by route, method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "imageconv_http_request_duration_seconds",
    "Time from request start to the last byte of the response.",
    ["route", "method", "status"],
    buckets=_LATENCY_BUCKETS,
)
CONVERSIONS = Counter("imageconv_conversions_total", "Images encoded, by output format.", ["format"])
DECODE_SECONDS = Histogram(
    "imageconv_decode_duration_seconds",
    "Decode and resize time in a worker, by input format.",
    ["format"],
    buckets=_WORK_BUCKETS,
)
ENCODE_SECONDS = Histogram(
    "imageconv_encode_duration_seconds",
    "Encode time in a worker, by output format.",
    ["format"],
    buckets=_WORK_BUCKETS,
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
    "imageconv_rejections_total",
    "Requests refused, by reason.",
    ["reason"],
)
WORKER_RESTARTS = Counter("imageconv_worker_restarts_total", "Worker processes replaced after dying.")

REJECTION_REASONS: tuple[str, ...] = REASONS  # declared with the error codes that carry them
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


def record_conversion(
    input_type: str,
    output_format: str,
    bytes_in: int,
    bytes_out: int,
    decode_seconds: float | None,
    encode_seconds: float,
) -> None:
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
TARGET_SEARCHES = Counter(
    "imageconv_target_searches_total", "Quality searches for max_bytes or min_score, by target.", ["target"]
)
TARGET_ENCODES = Counter(
    "imageconv_target_search_encodes_total",
    "Encodes made by quality searches (every attempt), by target and output format.",
    ["target", "format"],
)


def record_search(max_bytes: int | None, min_score: float | None, output_format: str, attempts: int) -> None:
    """Count a search (success or unreachable); a conversion without a target is not one."""
    if max_bytes is None and min_score is None:
        return
    target = "min_score" if min_score is not None else "max_bytes"
    TARGET_SEARCHES.labels(target).inc()
    TARGET_ENCODES.labels(target, output_format).inc(attempts)


# --- batch jobs on shared storage (issue 9) ----------------------------------------------------
_JOB_BUCKETS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
JOB_STATUSES = ("queued", "running", "done", "failed")
JOBS = Gauge("imageconv_jobs", "Jobs in shared storage by status, as this replica last saw them.", ["status"])
for _status in JOB_STATUSES:
    JOBS.labels(_status)
JOB_ITEMS_PENDING = Gauge(
    "imageconv_job_items_pending",
    "Job items waiting to be claimed in shared storage (this replica's view): the backlog autoscaling reads.",
)
JOB_ITEMS_RUNNING = Gauge("imageconv_job_items_running", "Job items claimed by some replica and not yet finished.")
JOB_BACKLOG_AGE = Gauge(
    "imageconv_job_backlog_age_seconds",
    "Age of the oldest unfinished job with items waiting to be claimed (0: none wait): jobs wait for capacity.",
)
JOB_ITEMS_HELD = Gauge("imageconv_job_items_held", "Job items this replica is working on.")
JOB_ITEMS = Counter(
    "imageconv_job_items_total", "Job items this replica finished, by kind and result.", ["kind", "result"]
)
for _kind in ("decode", "encode"):  # zeros from the first scrape: a replica that did none still says so
    for _result in ("done", "failed", "interrupted"):
        JOB_ITEMS.labels(_kind, _result)
JOB_ITEMS_RECLAIMED = Counter(
    "imageconv_job_items_reclaimed_total",
    "Job items this replica claimed again after their holder's lease lapsed.",
)
JOB_STORAGE_BYTES = Gauge("imageconv_job_storage_bytes", "Bytes held in STORAGE_DIR (last sweep).")
JOB_DURATION = Histogram(
    "imageconv_job_duration_seconds", "Submission to last output, per job (counted once).", buckets=_JOB_BUCKETS
)

# --- reliability (issue 13) -------------------------------------------------------------------
WORKER_KILLS = Counter(
    "imageconv_worker_kills_total",
    "Workers killed and replaced by the pool's watchdog, by reason: deadline (a job ran past its "
    "deadline), stopped (SIGSTOP or traced), died (gone while idle), abandoned (a cancelled job's item).",
    ["reason"],
)
for _reason in ("deadline", "stopped", "died", "abandoned"):
    WORKER_KILLS.labels(_reason)
POOL_JOBS_MOVED = Counter(
    "imageconv_pool_jobs_moved_total",
    "Jobs taken back from a busy worker's pipe and run on a worker that became idle.",
)
HTTP_CONNECTIONS = Gauge("imageconv_http_connections", "Open client connections (idle keep-alive ones included).")
CONNECTIONS_CLOSED = Counter(
    "imageconv_http_connections_closed_total",
    "Client connections the server closed, by reason: idle (keep-alive timeout), header_timeout, body_timeout, "
    "headers_too_large, evicted_idle / evicted_head (room made at the connection limit), over_connection_limit.",
    ["reason"],
)


def serve_on_port(port: int, host: str) -> None:
    """/metrics on its own port (METRICS_PORT), off the public one: a thread of prometheus_client's."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host)


# --- sources of GET /img URLs -----------------------------------------------------------------
SOURCE_READS = Counter(
    "imageconv_source_reads_total",
    "Source lookups of GET /img, by scheme and outcome (ok, not_modified or the refusal's code).",
    ["scheme", "outcome"],
)
SOURCE_READ_SECONDS = Histogram(
    "imageconv_source_read_duration_seconds", "Time to read a source's bytes, by scheme.", ["scheme"],
    buckets=_WORK_BUCKETS,
)  # fmt: skip
SOURCE_BYTES = Counter("imageconv_source_bytes_total", "Bytes of sources read, by scheme.", ["scheme"])


def record_source(scheme: str, outcome: str, seconds: float | None = None, size: int = 0) -> None:
    """One source lookup: its outcome, and for a read its time and bytes."""
    SOURCE_READS.labels(scheme, outcome).inc()
    if seconds is not None:
        SOURCE_READ_SECONDS.labels(scheme).observe(seconds)
        SOURCE_BYTES.labels(scheme).inc(size)
