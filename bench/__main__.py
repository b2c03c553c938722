"""python -m bench {ceiling,service,peer,compare,profile,report}: see BENCHMARKS.md."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from .matrix import FULL, QUICK
from .report import RESULTS, load_results, render, summarize, write_all, markdown_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("compare", "ceiling, service and peer side by side, plus the batch case; writes results and the report"),
        ("ceiling", "libvips alone, one process per core, no HTTP"),
        ("service", "the service under HTTP load (started here, or --url)"),
        ("peer", "the original Node/Sharp stack under the same load (started here, or --peer-url)"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--quick", action="store_true", help="a small matrix, short cells: under 3 minutes")
        p.add_argument("--url", help="target a running service (e.g. behind API Gateway) instead of starting one")
        p.add_argument("--peer-url", help="target a running original stack instead of starting it")
        p.add_argument("--seconds", type=float, help="load per measurement (overrides the preset)")
        p.add_argument("--repeats", type=int, help="repeats (overrides the preset; at least 3 for ratios)")
        p.add_argument("--concurrency", type=int, help="concurrent requests (service capacity is "
                       "WORKERS x (1 + QUEUE_PER_WORKER); stay at or under it)")
        p.add_argument("--out", type=Path, help="results directory (default bench/results or bench/results/quick)")
        p.add_argument("--no-progress", action="store_true")
    pr = sub.add_parser("profile", help="py-spy the server process under load on one cell")
    pr.add_argument("--format", default="jpeg")
    pr.add_argument("--quality", type=int, default=75)
    pr.add_argument("--width", type=int, default=320)
    pr.add_argument("--seconds", type=float, default=8.0)
    pr.add_argument("--out", type=Path, default=RESULTS / "profile.md")
    r = sub.add_parser("report", help="re-render the report from a results.json")
    r.add_argument("--results", type=Path, default=RESULTS / "results.json")
    args = parser.parse_args(argv)

    if args.command == "profile":
        from .matrix import Cell
        from .profile import profile, render as render_profile

        text = render_profile(profile(Cell(args.format, args.quality, args.width), args.seconds))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
        print(text)
        return 0
    if args.command == "report":
        results = load_results(args.results)
        print(render(results, args.results.parent).read_text())
        return 0

    import msgspec

    from .run import compare

    spec = QUICK if args.quick else FULL
    overrides = {k: v for k, v in (("seconds", args.seconds), ("repeats", args.repeats),
                                   ("concurrency", args.concurrency)) if v is not None}
    spec = msgspec.structs.replace(spec, **overrides)
    command = "python -m bench " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    results = compare(
        spec, command, service_url=args.url, peer_url=args.peer_url,
        with_ceiling=args.command in ("compare", "ceiling"),
        with_service=args.command in ("compare", "service"),
        with_peer=args.command in ("compare", "peer"),
        progress=not args.no_progress,
    )
    out = args.out or (RESULTS / "quick" if args.quick else RESULTS)
    if args.command == "compare":
        path = write_all(results, out)
        print(path.read_text())
    else:
        print(markdown_table(summarize(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
