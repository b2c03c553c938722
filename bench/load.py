"""Drive HTTP load with `hey` (a compiled Go tool from Debian) and read its per-request CSV.

Each measurement is a fixed number of requests (`hey -n N -c C`), the same N the ceiling converts
for that cell, and the rate is N over the time from the first request's start to the last one's
end: the same definition as the ceiling's, with no partial requests at a window's edge (counting
what finishes inside a time window gives 0 img/s for a cell whose requests take longer than it).

hey shares the machine's cores with what it measures, so its own CPU time is measured too and
reported next to the service's.
"""

from __future__ import annotations

import csv
import io
import resource
import shutil
import subprocess

import msgspec

from .stats import percentile
from .targets import Request


class LoadResult(msgspec.Struct, frozen=True):
    requests: int
    ok: int
    errors: int
    seconds: float  # first request's start to last response's end
    images_per_second: float  # ok / seconds
    p50_ms: float
    p95_ms: float
    p99_ms: float
    generator_cpu_seconds: float


def hey_path() -> str:
    path = shutil.which("hey")
    if path is None:
        raise SystemExit("the load generator `hey` is missing: apt-get install hey")
    return path


def parse_hey_csv(text: str, generator_cpu: float, sent: int | None = None) -> LoadResult:
    """hey lists every response (any status) with its start offset; a request that got no response
    at all (refused, reset, timed out) is not listed, so it counts as an error from `sent`."""
    latencies: list[float] = []
    starts: list[float] = []
    ends: list[float] = []
    errors = 0
    for row in csv.DictReader(io.StringIO(text)):
        offset, elapsed = float(row["offset"]), float(row["response-time"])
        starts.append(offset)
        ends.append(offset + elapsed)
        if row.get("status-code") == "200":
            latencies.append(elapsed * 1000)
        else:
            errors += 1
    seconds = (max(ends) - min(starts)) if starts else 0.0
    if sent is not None and sent > len(starts):
        errors += sent - len(starts)
    requests = max(sent or 0, len(starts))
    if not latencies:
        return LoadResult(requests, 0, errors, seconds, 0.0, 0.0, 0.0, 0.0, generator_cpu)
    return LoadResult(
        requests,
        len(latencies),
        errors,
        round(seconds, 4),
        len(latencies) / seconds,
        percentile(latencies, 50),
        percentile(latencies, 95),
        percentile(latencies, 99),
        generator_cpu,
    )


def hey_command(
    request: Request, requests: int, concurrency: int, timeout: int = 120, cpus: str | None = None
) -> list[str]:
    """hey's command line; with `cpus`, pinned there with taskset (the scaling case)."""
    cmd = [
        hey_path(),
        "-n",
        str(requests),
        "-c",
        str(concurrency),
        "-m",
        request.method,
        "-t",
        str(timeout),
        "-o",
        "csv",
    ]
    if request.body is not None:
        cmd += ["-D", str(request.body), "-T", request.content_type or "application/octet-stream"]
    cmd.append(request.url)
    return (["taskset", "-c", cpus] if cpus else []) + cmd


def run_hey(
    request: Request, requests: int, concurrency: int, timeout: int = 120, cpus: str | None = None
) -> LoadResult:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        hey_command(request, requests, concurrency, timeout, cpus), capture_output=True, text=True, check=False
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"hey failed: {proc.stderr.strip()[:500]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return parse_hey_csv(proc.stdout, cpu, requests)
