"""Every environment variable the service reads, typed and validated once at start-up.

A bad value stops the process with a message naming the variable, the accepted range and the
value received; nothing else in the code reads os.environ.
"""

from __future__ import annotations

import os
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
    storage_dir: str = "data/jobs"
    max_job_outputs: int = 600
    job_ttl_seconds: float = 86400.0
    max_storage_bytes: int = 10_000_000_000
    job_item_timeout_seconds: float = 300.0
    job_worker_share: float = 0.5
    job_lease_seconds: float = 60.0
    max_active_jobs: int = 100

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

VARIABLES: tuple[Variable, ...] = (
    Variable("HOST", "host", "127.0.0.1", "Address to bind (0.0.0.0 in a container).", _host),
    Variable("PORT", "port", "8000", "TCP port to listen on.", _int_range(1, 65535)),
    Variable("WORKERS", "workers", "auto",
             "libvips worker processes; auto = vCPUs this process may use (affinity and cgroup quota).", _workers),
    Variable("QUEUE_PER_WORKER", "queue_per_worker", "4",
             "Requests allowed to wait per worker; beyond that 503 with Retry-After.", _int_range(0, 1000)),
    Variable("REQUEST_DEADLINE_SECONDS", "request_deadline_seconds", "25",
             "Per-request deadline (under API Gateway's 30 s): work not started by then is dropped, "
             "a reply not ready by then is a 504.", _float_range(0.1, 3600)),
    Variable("MAX_UPLOAD_BYTES", "max_upload_bytes", "25000000", "Largest request body; 413 beyond.",
             _int_range(1024, 2_000_000_000)),
    Variable("MAX_INPUT_PIXELS", "max_input_pixels", "50000000",
             "Largest input width x height, read from the header before decoding; 422 beyond. "
             "Also bounds the output size.", _int_range(1, 1_000_000_000)),
    Variable("MAX_OUTPUT_DIMENSION", "max_output_dimension", "16383", "Largest width or height a client may ask for.",
             _int_range(16, 16383)),
    Variable("MAX_BATCH_OUTPUTS", "max_batch_outputs", "60", "Most outputs (widths x qualities x formats) in one batch.",
             _int_range(1, 1000)),
    Variable("SHUTDOWN_TIMEOUT_SECONDS", "shutdown_timeout_seconds", "90",
             "On SIGTERM, time in-flight requests get to finish (keep under PM2 kill_timeout and ECS stopTimeout).",
             _float_range(0, 3600)),
    Variable("LOG_LEVEL", "log_level", "info", "debug, info, warning or error.",
             _choice("debug", "info", "warning", "error")),
    Variable("STORAGE_DIR", "storage_dir", "data/jobs",
             "Directory holding batch jobs (created on start); shared by every replica (EFS in AWS).", _path),
    Variable("MAX_JOB_OUTPUTS", "max_job_outputs", "600", "Most outputs (widths x qualities x formats) in one job.",
             _int_range(1, 10000)),
    Variable("JOB_TTL_SECONDS", "job_ttl_seconds", "86400",
             "A job and its files are removed this long after submission.", _float_range(1, 30 * 86400)),
    Variable("MAX_STORAGE_BYTES", "max_storage_bytes", "10000000000",
             "Bytes STORAGE_DIR may hold; new jobs get 507 beyond.", _int_range(1, 10**15)),
    Variable("JOB_ITEM_TIMEOUT_SECONDS", "job_item_timeout_seconds", "300",
             "Time limit of one job item (a decode or an encode); the item fails beyond.", _float_range(1, 3600)),
    Variable("JOB_WORKER_SHARE", "job_worker_share", "0.5",
             "Share of the workers job items may use at once (at least one worker).", _float_range(0, 1)),
    Variable("JOB_LEASE_SECONDS", "job_lease_seconds", "60",
             "A claimed job item whose lease is not renewed for this long is claimed again by another replica.",
             _float_range(1, 3600)),
    Variable("MAX_ACTIVE_JOBS", "max_active_jobs", "100",
             "Unfinished jobs in storage beyond which new jobs get 503 with Retry-After.", _int_range(1, 100000)),
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
            problems.append(f"{var.name} must be {expected}, got {raw!r}")
    if problems:
        raise SettingsError("invalid configuration: " + "; ".join(problems))
    return msgspec.convert(values, Settings)
