"""`python -m bench jobload`: does a large background job slow down interactive conversions (issue 9)?

The target: while a 60-output AVIF job runs, `/api/convert` answers with a p99 no more than 2x its
unloaded p99. One run starts the service (WORKERS=2, a temporary STORAGE_DIR, every other setting
the service's default), then repeats, interleaved:

- unloaded: N conversions of a small typical request (the 1920x1080 JPEG to 320 wide JPEG), one
  at a time, nothing else submitted;
- loaded: a 60-output AVIF job (6 widths x 10 qualities of the 4K photograph) is submitted and,
  once it is running, the same N conversions are sent while it runs; after every answer the job's
  status is read, so the requests that really overlapped the job are counted. The job is then
  deleted and the next repeat waits until no job item is held any more.

Per repeat: p50, p99 and loaded/unloaded ratios (paired: noise that hits both halves of one repeat
cancels); over the run: their medians. Each phase also records the CPU that other programs used
meanwhile (the machine is shared). Bounded: a time budget stops it (default 7 minutes), loopback
only. Results: bench/results/jobload.json and a printed table.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import msgspec
import orjson

from .. import procs
from ..corpus import IMAGES, SHARED_CORPUS
from ..matrix import Cell
from ..stats import paired_ratios, percentile, ratio
from ..targets import ServiceTarget

OUT = Path(__file__).parents[1] / "results" / "jobload.json"
TARGET_RATIO = 2.0
CELL = Cell("1080p", "jpeg", 75, 320)  # Elephants.jpg, 1920x1080, to 320 wide JPEG
JOB_SOURCE = "Elephants_3840x2160.jpg"  # the corpus's 4K photograph (progressive JPEG, 3840x2160)
JOB_WIDTHS = (640, 960, 1280, 1600, 1920, 2560)
JOB_QUALITIES = (30, 40, 50, 60, 65, 70, 75, 80, 85, 90)


class Config(msgspec.Struct, frozen=True):
    requests: int = 100  # per phase: p99 of 100 lies between the two slowest answers
    warmup: int = 5  # before the first repeat, not recorded
    repeats: int = 5
    budget_seconds: float = 420.0  # no new phase starts after this (the service's start not counted)
    job_widths: tuple[int, ...] = JOB_WIDTHS
    job_qualities: tuple[int, ...] = JOB_QUALITIES
    workers: int = 2

    @property
    def job_outputs(self) -> int:
        return len(self.job_widths) * len(self.job_qualities)


class Phase(msgspec.Struct, frozen=True):
    """One series of conversions, one at a time."""

    requests: int  # answered 200 (the latencies below)
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    seconds: float
    noise: procs.Noise
    service_cores: float | None  # CPU of the service's process tree (job included) / seconds; None with --url
    # loaded phases only: how many answers came while the job was still running, and the job then
    during_job: int | None = None
    job_done: int | None = None  # outputs finished when the phase ended
    job_status: str | None = None  # status when the phase ended


class Repeat(msgspec.Struct, frozen=True):
    repeat: int
    unloaded: Phase
    loaded: Phase
    p50_ratio: float | None
    p99_ratio: float | None
    job_running_seconds_before: float  # submission to the first loaded request


class Summary(msgspec.Struct, frozen=True):
    repeats: int
    median_p99_ratio: float | None
    min_p99_ratio: float | None
    max_p99_ratio: float | None
    median_p50_ratio: float | None
    median_unloaded_p99_ms: float | None
    median_loaded_p99_ms: float | None
    within_target: bool | None  # median p99 ratio <= TARGET_RATIO
    every_loaded_request_during_job: bool


class JobloadResults(msgspec.Struct, frozen=True):
    command: str
    started: str
    config: Config
    convert: str  # what one measured request is
    job: str
    target_ratio: float
    repeats: list[Repeat]
    summary: Summary
    notes: list[str]


def phase_from(
    latencies_s: list[float],
    errors: int,
    seconds: float,
    noise: procs.Noise,
    service_cores: float | None = None,
    **job: object,
) -> Phase:
    """p50/p99/max in milliseconds of one phase's successful requests."""
    ms = [t * 1000 for t in latencies_s]
    if not ms:
        return Phase(0, errors, 0.0, 0.0, 0.0, round(seconds, 3), noise, service_cores, **job)  # type: ignore[arg-type]
    return Phase(
        len(ms),
        errors,
        round(percentile(ms, 50), 2),
        round(percentile(ms, 99), 2),
        round(max(ms), 2),
        round(seconds, 3),
        noise,
        service_cores,
        **job,  # type: ignore[arg-type]
    )


def make_repeat(index: int, unloaded: Phase, loaded: Phase, lead_seconds: float) -> Repeat:
    def r(a: float, b: float) -> float | None:
        value = ratio(a, b) if a and b else None
        return round(value, 3) if value is not None else None

    return Repeat(
        index, unloaded, loaded, r(loaded.p50_ms, unloaded.p50_ms), r(loaded.p99_ms, unloaded.p99_ms), lead_seconds
    )


def summarize(repeats: list[Repeat]) -> Summary:
    """Medians of the paired per-repeat ratios (a repeat with a phase that measured nothing is left out)."""
    usable = [r for r in repeats if r.unloaded.requests and r.loaded.requests]
    p99 = paired_ratios([r.loaded.p99_ms for r in usable], [r.unloaded.p99_ms for r in usable])
    p50 = paired_ratios([r.loaded.p50_ms for r in usable], [r.unloaded.p50_ms for r in usable])
    return Summary(
        len(repeats),
        round(p99.median, 3) if p99 else None,
        round(p99.low, 3) if p99 else None,
        round(p99.high, 3) if p99 else None,
        round(p50.median, 3) if p50 else None,
        statistics.median([r.unloaded.p99_ms for r in usable]) if usable else None,
        statistics.median([r.loaded.p99_ms for r in usable]) if usable else None,
        (p99.median <= TARGET_RATIO) if p99 else None,
        all(r.loaded.during_job == r.loaded.requests for r in repeats),
    )


# --- talking to the service -----------------------------------------------------------------


def convert_once(client: httpx.Client, body: bytes, cell: Cell = CELL) -> float | None:
    """One conversion; its latency in seconds, None if it did not answer 200."""
    started = time.perf_counter()
    try:
        r = client.post(
            "/api/convert", params=cell.params(), content=body, headers={"Content-Type": IMAGES[cell.image].media_type}
        )
    except httpx.HTTPError:
        return None
    elapsed = time.perf_counter() - started
    return elapsed if r.status_code == 200 else None


def job_status(client: httpx.Client, job_id: str) -> dict[str, object]:
    r = client.get(f"/api/jobs/{job_id}")
    r.raise_for_status()
    status: dict[str, object] = orjson.loads(r.content)
    return status


def measure(
    client: httpx.Client,
    body: bytes,
    n: int,
    deadline: float,
    job_id: str | None = None,
    cell: Cell = CELL,
    service_pid: int | None = None,
) -> Phase:
    """n conversions one after another (fewer if `deadline`, a time.monotonic(), passes). With a job,
    its status is read after every answer (outside the timed part): `during_job` counts the answers
    that came while it was still running."""
    latencies: list[float] = []
    errors = 0
    during = 0
    running = job_id is not None
    status: dict[str, object] = {}
    meter = procs.Meter()
    cpu_before = procs.cpu_by_pid(procs.tree(service_pid)) if service_pid else {}
    started = time.monotonic()
    for _ in range(n):
        if time.monotonic() > deadline:
            break
        latency = convert_once(client, body, cell)
        if latency is None:
            errors += 1
        else:
            latencies.append(latency)
        if job_id is not None:
            status = job_status(client, job_id)
            running = running and status["status"] == "running"
            during += int(running and latency is not None)
    seconds = time.monotonic() - started
    noise = meter.stop()
    cores = None
    if service_pid:
        used = procs.cpu_delta(cpu_before, procs.cpu_by_pid(procs.tree(service_pid)))
        cores = round(used / max(seconds, 1e-6), 3)
    if job_id is None:
        return phase_from(latencies, errors, seconds, noise, cores)
    done = status.get("done")
    return phase_from(
        latencies,
        errors,
        seconds,
        noise,
        cores,
        during_job=during,
        job_done=done if isinstance(done, int) else None,
        job_status=str(status.get("status")),
    )


def submit_job(client: httpx.Client, source: Path, config: Config) -> str:
    params = {
        "widths": ",".join(map(str, config.job_widths)),
        "qualities": ",".join(map(str, config.job_qualities)),
        "format": "avif",
    }
    r = client.post("/api/jobs", params=params, files={"image": (source.name, source.read_bytes(), "image/jpeg")})
    if r.status_code != 202:
        raise RuntimeError(f"the job was refused: {r.status_code} {r.text[:300]}")
    job = orjson.loads(r.content)
    if job["total"] != config.job_outputs:
        raise RuntimeError(f"the job has {job['total']} outputs, not {config.job_outputs}")
    return str(job["id"])


def wait_running(client: httpx.Client, job_id: str, timeout: float = 120) -> None:
    """Until some item of the job is being worked on (its status says running)."""
    deadline = time.monotonic() + timeout
    while job_status(client, job_id)["status"] != "running":
        if time.monotonic() > deadline:
            raise RuntimeError("the job did not start running")
        time.sleep(0.1)


def held_items(client: httpx.Client) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("imageconv_job_items_held "):
            return float(line.rsplit(" ", 1)[1])
    raise RuntimeError("imageconv_job_items_held is not in /metrics")


def cancel(client: httpx.Client, job_id: str, timeout: float = 60) -> None:
    """DELETE the job, then wait until this replica holds no item (a deleted job's item in flight is
    abandoned within about a second): the next unloaded phase must not share the CPU with it."""
    r = client.delete(f"/api/jobs/{job_id}")
    if r.status_code not in (200, 404):
        raise RuntimeError(f"DELETE /api/jobs/{job_id}: {r.status_code} {r.text[:300]}")
    deadline = time.monotonic() + timeout
    while held_items(client) > 0:
        if time.monotonic() > deadline:
            raise RuntimeError("job items still held after the job was deleted")
        time.sleep(0.2)
    time.sleep(0.5)  # the worker process finishing its abandoned call


# --- one run -------------------------------------------------------------------------------


def run(
    config: Config,
    command: str = "python -m bench jobload",
    url: str | None = None,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
) -> JobloadResults:
    """Start the service (or use `url`), measure `config.repeats` interleaved pairs, stop it."""
    body = (SHARED_CORPUS / IMAGES[CELL.image].source).read_bytes()
    source = SHARED_CORPUS / JOB_SOURCE
    if not source.exists():
        raise SystemExit(f"the bench corpus is missing {source} (set BENCH_CORPUS to the shared corpus)")
    started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    notes: list[str] = []
    repeats: list[Repeat] = []
    with tempfile.TemporaryDirectory(prefix="bench-jobload-") as storage:
        target = None
        try:
            if url is None:
                log(f"starting the service (WORKERS={config.workers}, STORAGE_DIR={storage})")
                target = ServiceTarget(None, workers=str(config.workers), env=_service_env(storage))
                url = target.url
            with httpx.Client(base_url=url, timeout=120) as client:
                deadline = time.monotonic() + config.budget_seconds
                for _ in range(config.warmup):
                    convert_once(client, body)
                for index in range(config.repeats):
                    if repeats and time.monotonic() + _repeat_seconds(repeats[-1]) > deadline:
                        notes.append(f"time budget reached: {len(repeats)} of {config.repeats} repeats")
                        log(notes[-1])
                        break
                    pid = target.proc.pid if target is not None and target.proc is not None else None
                    repeats.append(_one_repeat(client, body, source, config, index, deadline, log, pid))
        finally:
            if target is not None:
                target.stop()
    summary = summarize(repeats)
    if not summary.every_loaded_request_during_job:
        notes.append("in some repeat the job ended before the loaded measurement did: see during_job")
    return JobloadResults(
        command,
        started_at,
        config,
        f"POST /api/convert?{'&'.join(f'{k}={v}' for k, v in CELL.params().items())}, "
        f"body {IMAGES[CELL.image].source} ({IMAGES[CELL.image].description}), one at a time",
        f"POST /api/jobs {JOB_SOURCE}, format=avif, widths {','.join(map(str, config.job_widths))} x "
        f"qualities {','.join(map(str, config.job_qualities))} = {config.job_outputs} outputs",
        TARGET_RATIO,
        repeats,
        summary,
        notes,
    )


def _service_env(storage: str) -> dict[str, str]:
    """A temporary STORAGE_DIR; the two variables the bench's ServiceTarget overrides set back to the
    service's defaults (this measures the deadline-bound service as deployed)."""
    from service.settings import Settings

    defaults = Settings()
    return {
        "STORAGE_DIR": storage,
        "REQUEST_DEADLINE_SECONDS": str(defaults.request_deadline_seconds),
        "LOG_LEVEL": defaults.log_level,
    }


def _repeat_seconds(last: Repeat) -> float:
    return last.unloaded.seconds + last.loaded.seconds + last.job_running_seconds_before + 5


def _one_repeat(
    client: httpx.Client,
    body: bytes,
    source: Path,
    config: Config,
    index: int,
    deadline: float,
    log: Callable[[str], None],
    service_pid: int | None,
) -> Repeat:
    n = config.requests
    log(f"repeat {index + 1}/{config.repeats}: unloaded, {n} conversions")
    unloaded = measure(client, body, n, deadline, service_pid=service_pid)
    log(f"  unloaded p50 {unloaded.p50_ms:.1f} ms, p99 {unloaded.p99_ms:.1f} ms")
    submitted = time.monotonic()
    job_id = submit_job(client, source, config)
    try:
        wait_running(client, job_id)
        lead = round(time.monotonic() - submitted, 2)
        log(f"  job {job_id[:8]} running after {lead:.1f} s: loaded, {n} conversions")
        loaded = measure(client, body, n, deadline, job_id, service_pid=service_pid)
    finally:
        cancel(client, job_id)
    log(
        f"  loaded p50 {loaded.p50_ms:.1f} ms, p99 {loaded.p99_ms:.1f} ms; {loaded.during_job}/{loaded.requests} "
        f"during the job ({loaded.job_done}/{config.job_outputs} outputs done, {loaded.job_status}); job deleted"
    )
    return make_repeat(index + 1, unloaded, loaded, lead)


# --- output --------------------------------------------------------------------------------


def table(results: JobloadResults) -> str:
    def f(x: float | None, digits: int = 1) -> str:
        return "-" if x is None else f"{x:.{digits}f}"

    lines = [
        "| repeat | unloaded p50 ms | unloaded p99 ms | loaded p50 ms | loaded p99 ms | p99 ratio | p50 ratio "
        "| loaded requests during the job | service CPU (cores) unloaded / loaded "
        "| other programs' CPU (cores) unloaded / loaded |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results.repeats:
        u, lo = r.unloaded, r.loaded
        lines.append(
            f"| {r.repeat} | {f(u.p50_ms)} | {f(u.p99_ms)} | {f(lo.p50_ms)} | {f(lo.p99_ms)} | {f(r.p99_ratio, 2)} "
            f"| {f(r.p50_ratio, 2)} | {lo.during_job}/{lo.requests} "
            f"| {f(u.service_cores, 2)} / {f(lo.service_cores, 2)} "
            f"| {u.noise.foreign_cores:.2f} / {lo.noise.foreign_cores:.2f} |"
        )
    s = results.summary
    lines.append("")
    lines.append(
        f"median p99 ratio (loaded/unloaded) {f(s.median_p99_ratio, 2)} (range {f(s.min_p99_ratio, 2)}-"
        f"{f(s.max_p99_ratio, 2)}), median p50 ratio {f(s.median_p50_ratio, 2)}; target <= {results.target_ratio:g}: "
        + ("met" if s.within_target else "not met" if s.within_target is not None else "not measured")
    )
    lines += [f"note: {n}" for n in results.notes]
    return "\n".join(lines)


def write(results: JobloadResults, path: Path = OUT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(orjson.dumps(msgspec.to_builtins(results), option=orjson.OPT_INDENT_2) + b"\n")
    tmp.replace(path)
    return path
