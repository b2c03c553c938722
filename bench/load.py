"""Drive HTTP load with `hey` (a compiled Go tool from Debian) and read its per-request CSV.

hey shares the machine's cores with what it measures, so its own CPU time is measured too and
reported next to the service's: if it grew large the numbers would say so.
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
    seconds: float
    ok: int
    errors: int
    images_per_second: float
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


def parse_hey_csv(text: str, seconds: float, generator_cpu: float) -> LoadResult:
    """Count only requests that completed inside the window: hey lets the requests in flight at
    the end finish and lists them too, which for slow cells (AVIF) would inflate the rate."""
    latencies: list[float] = []
    errors = 0
    for row in csv.DictReader(io.StringIO(text)):
        finished = float(row["offset"]) + float(row["response-time"])
        if finished > seconds:
            continue
        if row.get("status-code") == "200":
            latencies.append(float(row["response-time"]) * 1000)
        else:
            errors += 1
    if not latencies:
        return LoadResult(seconds, 0, errors, 0.0, 0.0, 0.0, 0.0, generator_cpu)
    return LoadResult(seconds, len(latencies), errors, len(latencies) / seconds, percentile(latencies, 50),
                      percentile(latencies, 95), percentile(latencies, 99), generator_cpu)


def run_hey(url: str, body: Path, content_type: str, seconds: float, concurrency: int) -> LoadResult:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        [hey_path(), "-z", f"{seconds}s", "-c", str(concurrency), "-m", "POST", "-T", content_type,
         "-D", str(body), "-t", "60", "-o", "csv", url],
        capture_output=True, text=True, check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"hey failed: {proc.stderr.strip()[:500]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return parse_hey_csv(proc.stdout, seconds, cpu)
