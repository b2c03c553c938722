"""python -m bench {compare,report,profile,jobload}: see BENCHMARKS.md.

The suite (`make bench`, `make bench-quick`):
compare   the ceiling, this service, the original Node/sharp stack and thumbor side by side on every
          cell: CPU per image (interleaved), throughput, bytes and score, the bytes-vs-score sweeps,
          1 vs 2 cores and the batch case (`make bench`; `--quick` for a short pass)
report    re-render the markdown report and charts from a results.json

Studies (bench/studies/: one-off questions, each answered once in BENCHMARKS.md; the rest run as
`python -m bench.studies.<name>`):
profile   py-spy the service's server process under load on one cell
jobload   /api/convert latency (p50, p99) unloaded vs while a 60-output AVIF job runs (issue 9)
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
from pathlib import Path

import msgspec

from .matrix import FULL, QUICK, Cell, MatrixSpec
from .report import RESULTS, load_results, render, write_all


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x)


def _names(text: str) -> tuple[str, ...]:
    return tuple(x.strip().lower() for x in text.split(",") if x.strip())


def _compare_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("compare", help="every system side by side on every cell")
    p.add_argument("--quick", action="store_true", help="a small matrix, short cells: under 5 minutes")
    p.add_argument("--url", help="a running service instead of starting one (its CPU is then not measured)")
    p.add_argument("--peer-url", help="a running original stack instead of starting it")
    p.add_argument("--thumbor-url", help="a running thumbor (file loader on bench/.cache/corpus)")
    for name in ("ceiling", "peer", "thumbor"):
        p.add_argument(f"--no-{name}", action="store_true", help=f"leave the {name} out")
    p.add_argument("--images", type=_names, help="comma list of bench/corpus.py keys: 4k,1080p,alpha")
    p.add_argument("--formats", type=_names, help="comma list, e.g. jpeg,webp")
    p.add_argument("--widths", type=_ints, help="comma list, e.g. 320,800,1600")
    p.add_argument("--quality", type=int, help="quality of every lossy cell")
    p.add_argument("--phases", type=_names, help="comma list of cpu,throughput,sweep,scaling,batch (default all)")
    p.add_argument("--seconds", type=float, help="target length of one throughput measurement")
    p.add_argument("--repeats", type=int, help="repeats (at least 3 for a median and a spread)")
    p.add_argument(
        "--concurrency",
        type=int,
        help="concurrent requests; the service's admission capacity is "
        "WORKERS x (1 + QUEUE_PER_WORKER): stay at or under it",
    )
    p.add_argument("--out", type=Path, help="results directory (default bench/results, --quick: bench/results/quick)")
    p.add_argument("--no-progress", action="store_true")


def _spec(args: argparse.Namespace) -> MatrixSpec:
    spec = QUICK if args.quick else FULL
    overrides = {
        k: getattr(args, k)
        for k in ("images", "formats", "widths", "quality", "phases", "seconds", "repeats", "concurrency")
        if getattr(args, k) is not None
    }
    return msgspec.structs.replace(spec, **overrides)


def _compare(args: argparse.Namespace, argv: list[str]) -> int:
    from . import corpus
    from .run import compare
    from .systems import Systems

    spec = _spec(args)
    corpus.prepare([*spec.images, spec.batch_image])
    command = "python -m bench " + " ".join(shlex.quote(a) for a in argv)
    systems = Systems(
        ceiling=not args.no_ceiling,
        original=not args.no_peer,
        thumbor=not args.no_thumbor,
        service_url=args.url,
        original_url=args.peer_url,
        thumbor_url=args.thumbor_url,
    )
    try:
        results = compare(spec, command, systems, progress=not args.no_progress)
    finally:
        systems.close()
    out = args.out or (RESULTS / "quick" if args.quick else RESULTS)
    print(write_all(results, out).read_text())
    return 0


def _jobload_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from .studies.jobload import OUT, Config

    d = Config()
    j = sub.add_parser("jobload", help="/api/convert latency unloaded vs while a 60-output AVIF job runs")
    j.add_argument("--requests", type=int, default=d.requests, help="conversions per phase (one at a time)")
    j.add_argument("--warmup", type=int, default=d.warmup, help="conversions before the first repeat, not kept")
    j.add_argument("--repeats", type=int, default=d.repeats, help="interleaved (unloaded, loaded) pairs")
    j.add_argument("--budget", type=float, default=d.budget_seconds, help="seconds after which no phase starts")
    j.add_argument("--url", help="a running service instead of starting one (WORKERS=2, temporary STORAGE_DIR)")
    j.add_argument("--out", type=Path, default=OUT)


def _jobload(args: argparse.Namespace, argv: list[str]) -> int:
    from .studies.jobload import Config, run, table, write

    config = Config(requests=args.requests, warmup=args.warmup, repeats=args.repeats, budget_seconds=args.budget)
    results = run(config, "python -m bench " + " ".join(shlex.quote(a) for a in argv), url=args.url)
    path = write(results, args.out)
    print(table(results))
    print(f"written to {path}")
    return 0


def _stop_cleanly_on_signals() -> None:
    """SIGTERM, and SIGINT even when a non-interactive shell started us in the background (it
    ignores SIGINT then), end the run through `finally`: the systems it started are stopped."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _stop_cleanly_on_signals()
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _compare_parser(sub)
    pr = sub.add_parser("profile", help="py-spy the server process under load on one cell")
    pr.add_argument("--image", default="1080p")
    pr.add_argument("--format", default="jpeg")
    pr.add_argument("--quality", type=int, default=75)
    pr.add_argument("--width", type=int, default=320)
    pr.add_argument("--seconds", type=float, default=8.0)
    pr.add_argument("--out", type=Path, default=RESULTS / "profile.md")
    r = sub.add_parser("report", help="re-render the report and charts from a results.json")
    r.add_argument("--results", type=Path, default=RESULTS / "results.json")
    _jobload_parser(sub)
    args = parser.parse_args(argv)

    if args.command == "profile":
        from .studies.profile import profile
        from .studies.profile import render as render_profile

        text = render_profile(profile(Cell(args.image, args.format, args.quality, args.width), args.seconds))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
        print(text)
        return 0
    if args.command == "jobload":
        return _jobload(args, argv)
    if args.command == "report":
        print(render(load_results(args.results), args.results.parent).read_text())
        return 0
    return _compare(args, argv)


if __name__ == "__main__":
    sys.exit(main())
