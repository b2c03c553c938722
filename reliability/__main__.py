"""`python -m reliability [--source DIR] [--label NAME] [scenario ...]`: the abuse scenarios of
issue 13 against a fresh service each, on 127.0.0.1 only; prints a table and writes
test-output/reliability/<label>.json. `--source` runs another checkout (e.g. the tree before the
fixes, as a git worktree) with this environment's Python, for before/after figures."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .scenarios import SCENARIOS, run

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability", description=__doc__)
    parser.add_argument("scenarios", nargs="*", choices=[[], *SCENARIOS], help="default: all")
    parser.add_argument("--source", type=Path, default=ROOT, help="service tree to run (default: this one)")
    parser.add_argument("--label", default="current")
    args = parser.parse_args(argv)
    out_dir = ROOT / "test-output" / "reliability"
    results: dict[str, object] = {}
    for name in args.scenarios or list(SCENARIOS):
        started = time.monotonic()
        try:
            figures = run(name, args.source.resolve(), out_dir / args.label)
        except Exception as exc:  # one broken scenario must not hide the others' figures
            figures = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        results[name] = figures
        print(f"## {name} ({time.monotonic() - started:.0f} s)")
        for key, value in figures.items():
            print(f"  {key}: {value}")
        sys.stdout.flush()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{args.label}.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
