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
import uuid
from pathlib import Path

import msgspec

from .stats import percentile


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


def multipart_body(image: bytes, filename: str, fields: dict[str, str], directory: Path) -> tuple[Path, str]:
    """A multipart/form-data body written once, so hey can replay it (the original's upload shape)."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"\r\n'
                 f"Content-Type: image/jpeg\r\n\r\n".encode() + image + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    path = directory / f"body-{boundary}.bin"
    path.write_bytes(b"".join(parts))
    return path, f"multipart/form-data; boundary={boundary}"


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
    return LoadResult(requests, len(latencies), errors, round(seconds, 4), len(latencies) / seconds,
                      percentile(latencies, 50), percentile(latencies, 95), percentile(latencies, 99),
                      generator_cpu)


def run_hey(url: str, body: Path, content_type: str, requests: int, concurrency: int,
            timeout: int = 120) -> LoadResult:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        [hey_path(), "-n", str(requests), "-c", str(concurrency), "-m", "POST", "-T", content_type,
         "-D", str(body), "-t", str(timeout), "-o", "csv", url],
        capture_output=True, text=True, check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"hey failed: {proc.stderr.strip()[:500]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return parse_hey_csv(proc.stdout, cpu, requests)
