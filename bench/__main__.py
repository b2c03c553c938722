"""python -m bench {compare,ceiling,service,peer,report,profile}: see BENCHMARKS.md.

compare   ceiling, service and peer side by side on every cell, then the batch case (`make bench`)
ceiling   libvips alone, one process per core, no HTTP
service   the service under HTTP load: started here, or a running one with --url
peer      the original Node/Express/Sharp stack: started here from bench/.cache, or --peer-url
report    re-render the markdown report and charts from a results.json
profile   py-spy the service's server process under load on one cell
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from .matrix import FULL, QUICK, Cell
from .report import RESULTS, load_results, render, write_all


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x)


def _names(text: str) -> tuple[str, ...]:
    return tuple(x.strip().lower() for x in text.split(",") if x.strip())


HELP = {
    "compare": "ceiling, service and peer side by side on every cell, then the batch case",
    "ceiling": "libvips alone, one process per core, no HTTP",
    "service": "the service under HTTP load (started here, or --url)",
    "peer": "the original Node/Express/Sharp stack (started here, or --peer-url)",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("compare", "ceiling", "service", "peer"):
        p = sub.add_parser(name, help=HELP[name])
        p.add_argument("--quick", action="store_true", help="a small matrix, short cells: under 3 minutes")
        p.add_argument("--url", help="a running service to load (e.g. behind API Gateway) instead of starting one; "
                                     "its CPU and memory are then not measured")
        p.add_argument("--peer-url", help="a running original stack instead of starting it")
        p.add_argument("--no-peer", action="store_true", help="compare without the original stack")
        p.add_argument("--formats", type=_names, help="comma list, e.g. jpeg,webp")
        p.add_argument("--qualities", type=_ints, help="comma list, e.g. 50,75,90")
        p.add_argument("--widths", type=_ints, help="comma list, e.g. 320,800,1600")
        p.add_argument("--seconds", type=float, help="target length of one measurement (sizes the image count)")
        p.add_argument("--repeats", type=int, help="repeats (at least 3 for a median and a spread)")
        p.add_argument("--concurrency", type=int, help="concurrent requests; the service's admission capacity is "
                                                       "WORKERS x (1 + QUEUE_PER_WORKER): stay at or under it")
        p.add_argument("--out", type=Path, help="results directory (default bench/results, or a subfolder)")
        p.add_argument("--no-progress", action="store_true")
    pr = sub.add_parser("profile", help="py-spy the server process under load on one cell")
    pr.add_argument("--format", default="jpeg")
    pr.add_argument("--quality", type=int, default=75)
    pr.add_argument("--width", type=int, default=320)
    pr.add_argument("--seconds", type=float, default=8.0)
    pr.add_argument("--out", type=Path, default=RESULTS / "profile.md")
    r = sub.add_parser("report", help="re-render the report and charts from a results.json")
    r.add_argument("--results", type=Path, default=RESULTS / "results.json")
    args = parser.parse_args(argv)

    if args.command == "profile":
        from .profile import profile, render as render_profile

        text = render_profile(profile(Cell(args.format, args.quality, args.width), args.seconds))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
        print(text)
        return 0
    if args.command == "report":
        print(render(load_results(args.results), args.results.parent).read_text())
        return 0

    import msgspec

    from .run import compare

    spec = QUICK if args.quick else FULL
    overrides = {k: v for k, v in (("seconds", args.seconds), ("repeats", args.repeats),
                                   ("concurrency", args.concurrency), ("formats", args.formats),
                                   ("qualities", args.qualities), ("widths", args.widths)) if v is not None}
    spec = msgspec.structs.replace(spec, **overrides)
    command = "python -m bench " + " ".join(shlex.quote(a) for a in argv)
    results = compare(
        spec, command, service_url=args.url, peer_url=args.peer_url,
        with_ceiling=args.command in ("compare", "ceiling"),
        with_service=args.command in ("compare", "service"),
        with_peer=(args.command == "compare" and not args.no_peer) or args.command == "peer",
        progress=not args.no_progress,
    )
    out = args.out or RESULTS / ("quick" if args.quick else "") / ("" if args.command == "compare" else args.command)
    print(write_all(results, out).read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
