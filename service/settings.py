"""Every environment variable the service reads, typed and validated once at start-up.

A bad value stops the process with a message naming the variable, the accepted range and the
value received; nothing else in the code reads os.environ.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from .cpu import usable_cpus


class SettingsError(ValueError):
    pass


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    queue_per_worker: int = 4
    request_deadline_seconds: float = 25.0
    max_upload_bytes: int = 25_000_000
    max_input_pixels: int = 50_000_000
    max_output_dimension: int = 16383
    max_batch_outputs: int = 60
    shutdown_timeout_seconds: float = 90.0
    log_level: str = "info"
    prestop_seconds: float = 0.0
    storage_dir: str = "data/jobs"
    max_job_outputs: int = 600
    job_ttl_seconds: float = 86400.0
    max_storage_bytes: int = 10_000_000_000
    job_item_timeout_seconds: float = 300.0
    job_worker_share: float = 0.5
    job_lease_seconds: float = 60.0
    max_active_jobs: int = 100
    client_header_timeout_seconds: float = 10.0
    client_body_timeout_seconds: float = 60.0
    max_header_bytes: int = 65536
    max_connections: int = 4096
    api_keys: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    metrics_port: int = 0
    max_output_pixels: int = 50_000_000
    max_batch_output_pixels: int = 150_000_000
    max_concurrent_batches: int = 2

    @property
    def max_waiting(self) -> int:
        return self.workers * self.queue_per_worker


@dataclass(frozen=True)
class Variable:
    name: str
    field: str
    default: str
    description: str
    parse: Callable[[str], Any]
    secret: bool = False  # never repeated in an error message


def _int_range(lo: int, hi: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw.strip().replace("_", ""))
        if not lo <= value <= hi:
            raise ValueError(f"an integer between {lo} and {hi}")
        return value

    parse.__doc__ = f"an integer between {lo} and {hi}"
    return parse


def _float_range(lo: float, hi: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = float(raw)
        if not lo <= value <= hi:
            raise ValueError(f"a number between {lo:g} and {hi:g}")
        return value

    parse.__doc__ = f"a number between {lo:g} and {hi:g}"
    return parse


def _workers(raw: str) -> int:
    if raw.strip().lower() == "auto":
        return usable_cpus()
    return _int_range(1, 256)(raw)


_workers.__doc__ = "auto or an integer between 1 and 256"


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError("one of " + ", ".join(choices))
        return value

    parse.__doc__ = "one of " + ", ".join(choices)
    return parse


def _host(raw: str) -> str:
    if not raw.strip():
        raise ValueError("a host name or address")
    return raw.strip()


_host.__doc__ = "a host name or address"


def _path(raw: str) -> str:
    if not raw.strip():
        raise ValueError("a directory path")
    return raw.strip()


_path.__doc__ = "a directory path"


def _api_keys(raw: str) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    for key in keys:
        if len(key) < 16 or not key.isascii() or not key.isprintable() or " " in key:
            raise ValueError("comma-separated keys of at least 16 printable ASCII characters")
    return keys


_api_keys.__doc__ = "empty (off) or comma-separated keys of at least 16 printable ASCII characters"


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        if origin != "*" and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", origin):
            raise ValueError("comma-separated origins like https://app.example.com, or *")
    return origins


_origins.__doc__ = "empty (same origin only), * or comma-separated origins like https://app.example.com"


_port_or_off = _int_range(0, 65535)

VARIABLES: tuple[Variable, ...] = (
    Variable("HOST", "host", "127.0.0.1", "Address to bind (0.0.0.0 in a container).", _host),
    Variable("PORT", "port", "8000", "TCP port to listen on.", _int_range(1, 65535)),
    Variable(
        "WORKERS",
        "workers",
        "auto",
        "libvips worker processes; auto = vCPUs this process may use (affinity and cgroup quota).",
        _workers,
    ),
    Variable(
        "QUEUE_PER_WORKER",
        "queue_per_worker",
        "4",
        "Requests allowed to wait per worker; beyond that 503 with Retry-After.",
        _int_range(0, 1000),
    ),
    Variable(
        "REQUEST_DEADLINE_SECONDS",
        "request_deadline_seconds",
        "25",
        "Per-request deadline (under API Gateway's 30 s): work not started by then is dropped, "
        "a reply not ready by then is a 504.",
        _float_range(0.1, 3600),
    ),
    Variable(
        "MAX_UPLOAD_BYTES",
        "max_upload_bytes",
        "25000000",
        "Largest request body; 413 beyond.",
        _int_range(1024, 2_000_000_000),
    ),
    Variable(
        "MAX_INPUT_PIXELS",
        "max_input_pixels",
        "50000000",
        "Largest input width x height, read from the header before decoding; 422 beyond. Also bounds the output size.",
        _int_range(1, 1_000_000_000),
    ),
    Variable(
        "MAX_OUTPUT_DIMENSION",
        "max_output_dimension",
        "16383",
        "Largest width or height a client may ask for.",
        _int_range(16, 16383),
    ),
    Variable(
        "MAX_BATCH_OUTPUTS",
        "max_batch_outputs",
        "60",
        "Most outputs (widths x qualities x formats) in one batch.",
        _int_range(1, 1000),
    ),
    Variable(
        "SHUTDOWN_TIMEOUT_SECONDS",
        "shutdown_timeout_seconds",
        "90",
        "On SIGTERM, time in-flight requests get to finish (keep under PM2 kill_timeout and ECS stopTimeout).",
        _float_range(0, 3600),
    ),
    Variable(
        "LOG_LEVEL", "log_level", "info", "debug, info, warning or error.", _choice("debug", "info", "warning", "error")
    ),
    Variable(
        "PRESTOP_SECONDS",
        "prestop_seconds",
        "0",
        "On SIGTERM, keep serving new requests this long (readiness already 503) while the load balancer "
        "deregisters the task; then drain. The stack sets 10.",
        _float_range(0, 60),
    ),
    Variable(
        "STORAGE_DIR",
        "storage_dir",
        "data/jobs",
        "Directory holding batch jobs (created on start); shared by every replica (EFS in AWS).",
        _path,
    ),
    Variable(
        "MAX_JOB_OUTPUTS",
        "max_job_outputs",
        "600",
        "Most outputs (widths x qualities x formats) in one job.",
        _int_range(1, 10000),
    ),
    Variable(
        "JOB_TTL_SECONDS",
        "job_ttl_seconds",
        "86400",
        "A job and its files are removed this long after submission.",
        _float_range(1, 30 * 86400),
    ),
    Variable(
        "MAX_STORAGE_BYTES",
        "max_storage_bytes",
        "10000000000",
        "Bytes STORAGE_DIR may hold; new jobs get 507 beyond.",
        _int_range(1, 10**15),
    ),
    Variable(
        "JOB_ITEM_TIMEOUT_SECONDS",
        "job_item_timeout_seconds",
        "300",
        "Time limit of one job item (a decode or an encode); the item fails beyond.",
        _float_range(1, 3600),
    ),
    Variable(
        "JOB_WORKER_SHARE",
        "job_worker_share",
        "0.5",
        "Share of the workers background job items may use at once: at most ceil(share x WORKERS), "
        "and never the last worker when WORKERS >= 2.",
        _float_range(0.01, 1),
    ),
    Variable(
        "JOB_LEASE_SECONDS",
        "job_lease_seconds",
        "60",
        "A claimed job item whose lease is not renewed for this long is claimed again by another replica.",
        _float_range(1, 3600),
    ),
    Variable(
        "MAX_ACTIVE_JOBS",
        "max_active_jobs",
        "100",
        "Unfinished jobs in storage beyond which new jobs get 503 with Retry-After.",
        _int_range(1, 100000),
    ),
    Variable(
        "CLIENT_HEADER_TIMEOUT_SECONDS",
        "client_header_timeout_seconds",
        "10",
        "Time a client gets to send a request's headers (from its first byte), and the longest silence "
        "allowed while it sends a body; 408 and close beyond.",
        _float_range(0.5, 600),
    ),
    Variable(
        "CLIENT_BODY_TIMEOUT_SECONDS",
        "client_body_timeout_seconds",
        "60",
        "Time a client gets to send a whole request body; 408 and close beyond.",
        _float_range(1, 3600),
    ),
    Variable(
        "MAX_HEADER_BYTES",
        "max_header_bytes",
        "65536",
        "Largest request line plus headers; 431 beyond.",
        _int_range(4096, 16_777_216),
    ),
    Variable(
        "MAX_CONNECTIONS",
        "max_connections",
        "4096",
        "Open client sockets kept at most (capped by the file-descriptor limit); past it the oldest idle "
        "connections are closed to make room. Requests are limited by the pool, not by this.",
        _int_range(16, 1_000_000),
    ),
    Variable(
        "API_KEYS",
        "api_keys",
        "",
        "API keys, comma separated; when set, /api/*, /schema and /metrics need X-API-Key: <key> "
        "(or Authorization: Bearer <key>). Empty: off.",
        _api_keys,
        secret=True,
    ),
    Variable(
        "CORS_ORIGINS",
        "cors_origins",
        "",
        "Other sites whose pages may call the API from a browser (CORS); POSTs from any other "
        "site are refused with 403. Empty: same origin only.",
        _origins,
    ),
    Variable(
        "METRICS_PORT",
        "metrics_port",
        "0",
        "Serve /metrics on this port instead of the main one (bound to HOST); 0: on the main port.",
        _port_or_off,
    ),
    Variable(
        "MAX_OUTPUT_PIXELS",
        "max_output_pixels",
        "50000000",
        "Largest output width x height of one conversion (enlarging included); 422 beyond.",
        _int_range(1, 1_000_000_000),
    ),
    Variable(
        "MAX_BATCH_OUTPUT_PIXELS",
        "max_batch_output_pixels",
        "150000000",
        "Largest sum of output width x height over all outputs of one batch; 422 beyond.",
        _int_range(1, 10_000_000_000),
    ),
    Variable(
        "MAX_CONCURRENT_BATCHES",
        "max_concurrent_batches",
        "2",
        "Synchronous batches admitted at once (each may hold up to MAX_BATCH_OUTPUT_PIXELS of rasters in "
        "memory); 503 with Retry-After beyond.",
        _int_range(1, 1000),
    ),
)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for var in VARIABLES:
        raw = env.get(var.name, var.default)
        try:
            values[var.field] = var.parse(raw)
        except ValueError as exc:
            expected = var.parse.__doc__ or str(exc)
            received = "a value that is not shown (secret)" if var.secret else repr(raw)
            problems.append(f"{var.name} must be {expected}, got {received}")
    if problems:
        raise SettingsError("invalid configuration: " + "; ".join(problems))
    return msgspec.convert(values, Settings)
