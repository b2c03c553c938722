"""The measurements behind the encoder defaults and the fast JPEG shrink-on-load, in one process.

    python -m bench.studies.defaults effort  [--corpus DIR] [--images A.jpg,B.jpg] [--widths 320,1200]
    python -m bench.studies.defaults shrink  [--corpus DIR] [--images ...] [--widths 320,800,1200,1600]
    python -m bench.studies.defaults search  [--corpus DIR] [--images ...] [--widths 96,320]
    python -m bench.studies.defaults scores  [--corpus DIR] [--images ...] [--widths 320]

effort: for AVIF and WebP, every effort at several qualities: CPU seconds per encode, bytes and
quality score (service/imaging/quality.py). Bytes are compared at equal score: each effort's
(score, log bytes) curve is interpolated at the scores libvips' default effort (4) reaches at the
qualities around the service's default quality, so a faster effort that needs a higher quality to
look as good is charged for it. Efforts, qualities and defaults come from the option table.

scores: the quality score at four qualities of every lossy encoding, for every image of a corpus:
the validation that it rises with quality.

search: max_bytes and min_score against trying every quality 1-100: how often the search finds
exactly the exhaustive answer, how far off it is otherwise, and how many encodes it spends.

shrink: for JPEG inputs, the decode to each width by libvips' thumbnail (today's path) and by the
fast path (largest DCT scale at or above the target, then resize): CPU per decode, and the score of
both decodes, and of their q75 JPEGs, against an exact reference (full-size decode, then the same
resize), so the difference the faster decode makes is measured, not assumed.

Runs the service's own pipeline functions with one libvips thread, as a worker does. CPU is
process time (user + system), which busy neighbours on the machine disturb far less than wall time.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

os.environ.setdefault("VIPS_CONCURRENCY", "1")

import msgspec
import pyvips

from bench.corpus import SHARED_CORPUS
from service.imaging.domains import Domain
from service.imaging.encoders import encode
from service.imaging.formats import OutputFormat
from service.imaging.geometry import fit_geometry, jpeg_shrink
from service.imaging.options import OPTION_BY_NAME, ConvertOptions
from service.imaging.pipeline import FAST_SHRINK_HEADROOM, decode, load, probe, shrink_scale
from service.imaging.quality import score, score_encoded
from service.imaging.search import encode_for
from service.settings import Settings

CORPUS = SHARED_CORPUS  # the photographs of ../shared/corpus (BENCH_CORPUS elsewhere)
LIMITS = Settings().limits  # the service's defaults


def _domain(option: str, fmt: str) -> Domain:
    return OPTION_BY_NAME[option].domain_by_format[OutputFormat(fmt)]


def _int_default(option: str, fmt: str) -> int:
    value = _domain(option, fmt).default
    assert isinstance(value, int)
    return value


def _efforts(fmt: str, slowest: int) -> tuple[int, ...]:
    """Every effort the option table accepts for `fmt`, up to `slowest`."""
    domain = _domain("effort", fmt)
    assert domain.minimum is not None and domain.maximum is not None
    return tuple(range(int(domain.minimum), min(int(domain.maximum), slowest) + 1))


EFFORTS = {"avif": _efforts("avif", slowest=5), "webp": _efforts("webp", slowest=6)}  # AVIF above 5: seconds each
BASELINE = {"avif": 4, "webp": 4}  # libvips' own default effort (and ours before the study): what each is compared with
DEFAULT_QUALITY = {fmt: _int_default("quality", fmt) for fmt in ("avif", "webp")}
_AROUND = {"avif": (-15, -8, 0, 8, 15), "webp": (-15, -8, 0, 7, 12)}  # the ladder each curve is drawn from
QUALITIES = {fmt: tuple(DEFAULT_QUALITY[fmt] + step for step in steps) for fmt, steps in _AROUND.items()}


def cpu(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median process time of `repeats` calls, and the last result."""
    times = []
    result: object = None
    for _ in range(repeats):
        started = time.process_time()
        result = fn()
        times.append(time.process_time() - started)
    return statistics.median(times), result


def interpolate(points: Sequence[tuple[float, float]], x: float) -> float | None:
    """y at x on the polyline through (x, y) points sorted by x; None outside their range."""
    pts = sorted(points)
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return None


def _monotone(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Keep the points whose score beats every lower quality's: a curve interpolation can use."""
    kept: list[tuple[float, float]] = []
    for s, b in points:
        if not kept or s > kept[-1][0]:
            kept.append((s, b))
    return kept


def measure_effort(images: list[Path], widths: list[int], formats: list[str], detail: bool) -> None:
    print("## effort: CPU per encode and bytes at equal score, relative to libvips' default effort\n")
    for fmt in formats:
        efforts = EFFORTS[fmt]
        rows: dict[int, list[tuple[float, float]]] = {e: [] for e in efforts}  # (cpu ratio, bytes ratio)
        absolute: dict[int, list[tuple[float, float, float]]] = {e: [] for e in efforts}  # cpu s, bytes, score
        for path in images:
            data = path.read_bytes()
            for width in widths:
                reference = decode(data, ConvertOptions(width=width), LIMITS).image.copy_memory()
                repeats = 3 if width <= 400 else 1
                curves: dict[int, list[tuple[float, float]]] = {}
                at_default: dict[int, tuple[float, float, float]] = {}
                for effort in efforts:
                    points = []
                    for q in QUALITIES[fmt]:
                        opts = ConvertOptions(format=fmt, quality=q, effort=effort)
                        seconds, out = cpu(partial(encode, reference, OutputFormat(fmt), opts), repeats)
                        assert isinstance(out, bytes)
                        s = score_encoded(out, reference)
                        points.append((s, math.log(len(out))))
                        if q == DEFAULT_QUALITY[fmt]:
                            at_default[effort] = (seconds, len(out), s)
                    curves[effort] = _monotone(sorted(points, key=lambda p: p[0]))
                base = curves[BASELINE[fmt]]
                targets = [s for s, _ in base[1:-1]]  # interior scores of today's curve
                for effort in efforts:
                    ratios = []
                    for t in targets:
                        mine, theirs = interpolate(curves[effort], t), interpolate(base, t)
                        if mine is not None and theirs is not None:
                            ratios.append(math.exp(mine - theirs))
                    cpu_ratio = at_default[effort][0] / at_default[BASELINE[fmt]][0]
                    if ratios:
                        rows[effort].append((cpu_ratio, statistics.mean(ratios)))
                        if detail:
                            print(
                                f"  {fmt} {path.name} w{width} effort {effort}: CPU {cpu_ratio:.2f}x, bytes at "
                                f"equal score {statistics.mean(ratios) - 1:+.1%} over scores "
                                f"{', '.join(f'{t:.4f}' for t in targets)}",
                                file=sys.stderr,
                            )
                    absolute[effort].append(at_default[effort])
                print(f"  measured {fmt} {path.name} w{width}", file=sys.stderr)
        print(f"### {fmt} (compared with effort {BASELINE[fmt]}; quality {DEFAULT_QUALITY[fmt]})\n")
        print(
            f"| effort | CPU per encode vs effort {BASELINE[fmt]} | bytes at equal score vs effort {BASELINE[fmt]} "
            "(mean, worst) | "
            f"mean CPU ms at q{DEFAULT_QUALITY[fmt]} | mean score at q{DEFAULT_QUALITY[fmt]} |"
        )
        print("|---|---|---|---|---|")
        for effort in efforts:
            if not rows[effort]:
                continue
            cpu_r = statistics.mean(r[0] for r in rows[effort])
            bytes_r = [r[1] for r in rows[effort]]
            ms = statistics.mean(a[0] for a in absolute[effort]) * 1000
            sc = statistics.mean(a[2] for a in absolute[effort])
            print(
                f"| {effort} | {cpu_r:.2f}x | {statistics.mean(bytes_r) - 1:+.1%}, {max(bytes_r) - 1:+.1%} | "
                f"{ms:.0f} | {sc:.4f} |"
            )
        print()


def _exact(data: bytes, width: int) -> pyvips.Image:
    """The reference: decode every pixel, then libvips' thumbnail resize (no shrink-on-load)."""
    full = pyvips.Image.new_from_buffer(data, "")
    return full.thumbnail_image(width, height=10_000_000, size="both").copy_memory()


def measure_shrink(images: list[Path], widths: list[int], headroom: float) -> None:
    print(f"## shrink: JPEG decode to width, today's path vs the fast DCT-scale path (headroom {headroom:g})\n")
    print(
        "| input | width | shrink today/fast | CPU today ms | CPU fast ms | fast/today | "
        "score today | score fast | q75 JPEG score today | q75 JPEG score fast | q75 bytes today/fast |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for path in images:
        data = path.read_bytes()
        for width in widths:
            opts = ConvertOptions(width=width)
            source = probe(data, LIMITS)
            plan = fit_geometry(source.width, source.height, opts)
            fast_shrink = jpeg_shrink(shrink_scale(source, plan), headroom)
            today_shrink = jpeg_shrink(shrink_scale(source, plan))  # what libvips' thumbnail picks
            repeats = 5 if width <= 800 else 3
            t_today, today = cpu(partial(load, data, source, plan, 1), repeats)
            t_fast, fast = cpu(partial(load, data, source, plan, fast_shrink), repeats)
            assert isinstance(today, pyvips.Image) and isinstance(fast, pyvips.Image)
            exact = _exact(data, width)
            q75 = ConvertOptions(quality=75)
            jt, jf = encode(today, OutputFormat.JPEG, q75), encode(fast, OutputFormat.JPEG, q75)
            print(
                f"| {path.name} {source.width}x{source.height}{' prog' if source.interlaced else ''} | {width} | "
                f"{today_shrink}/{fast_shrink} | {t_today * 1000:.1f} | {t_fast * 1000:.1f} | "
                f"{t_fast / t_today:.2f} | {score(today, exact):.4f} | {score(fast, exact):.4f} | "
                f"{score_encoded(jt, exact):.4f} | {score_encoded(jf, exact):.4f} | {len(jt)}/{len(jf)} |"
            )
            sys.stdout.flush()


SEARCHED: dict[str, dict[str, bool | str]] = {
    "jpeg": {},
    "webp": {},
    "avif": {},
    "png": {"palette": True},
    "tiff": {"compression": "jpeg"},
}


def measure_search(images: list[Path], widths: list[int]) -> None:
    """max_bytes and min_score (service/imaging/search.py) against trying every quality."""
    print("## search: max_bytes and min_score against an exhaustive search over qualities 1-100\n")
    print(
        "| format | max_bytes exact | quality below the exhaustive answer (worst) | encodes (mean, max) | "
        "min_score exact | bytes over the exhaustive answer (worst) | encodes (mean, max) |"
    )
    print("|---|---|---|---|---|---|---|")
    for fmt, extra in SEARCHED.items():
        mb_exact = mb_total = ms_exact = ms_total = 0
        mb_gap, ms_gap = 0, 0.0
        mb_encodes: list[int] = []
        ms_encodes: list[int] = []
        for path in images:
            for width in widths:
                reference = decode(path.read_bytes(), ConvertOptions(width=width), LIMITS).image.copy_memory()
                base = msgspec.convert({"format": fmt, **extra}, ConvertOptions)
                outs = {
                    q: encode(reference, OutputFormat(fmt), msgspec.structs.replace(base, quality=q))
                    for q in range(1, 101)
                }
                sizes = {q: len(d) for q, d in outs.items()}
                scores = {q: score_encoded(d, reference) for q, d in outs.items()}
                for frac in (0.05, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9):
                    budget = int(sizes[1] + frac * (sizes[100] - sizes[1]))
                    best = max(q for q in sizes if sizes[q] <= budget)
                    found = encode_for(
                        reference, OutputFormat(fmt), msgspec.structs.replace(base, quality=100, max_bytes=budget)
                    )
                    assert found.quality is not None and len(found.data) <= budget
                    mb_total += 1
                    mb_exact += found.quality == best
                    mb_gap = max(mb_gap, best - found.quality)
                    mb_encodes.append(found.attempts)
                for target in (0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99):
                    reaching = [q for q in scores if scores[q] >= target]
                    if not reaching:
                        continue
                    smallest = min(sizes[q] for q in reaching)
                    found = encode_for(reference, OutputFormat(fmt), msgspec.structs.replace(base, min_score=target))
                    ms_total += 1
                    ms_exact += len(found.data) == smallest
                    ms_gap = max(ms_gap, len(found.data) / smallest - 1)
                    ms_encodes.append(found.attempts)
                print(f"  searched {fmt} {path.name} w{width}", file=sys.stderr)
        print(
            f"| {fmt} | {mb_exact}/{mb_total} | {mb_gap} | {statistics.mean(mb_encodes):.1f}, {max(mb_encodes)} | "
            f"{ms_exact}/{ms_total} | {ms_gap:+.1%} | {statistics.mean(ms_encodes):.1f}, {max(ms_encodes)} |"
        )
        sys.stdout.flush()


def measure_scores(images: list[Path], widths: list[int]) -> None:
    """The score at qualities 10/40/75/95 of every lossy encoding: it must rise with quality."""
    print("## scores: quality score at qualities 10, 40, 75, 95 (each output against the same-size reference)\n")
    print("| input | width | format | q10 | q40 | q75 | q95 | rises |")
    print("|---|---|---|---|---|---|---|---|")
    for path in images:
        for width in widths:
            reference = decode(path.read_bytes(), ConvertOptions(width=width), LIMITS).image.copy_memory()
            for fmt, extra in SEARCHED.items():
                base = msgspec.convert({"format": fmt, **extra}, ConvertOptions)
                values = [
                    score_encoded(
                        encode(reference, OutputFormat(fmt), msgspec.structs.replace(base, quality=q)), reference
                    )
                    for q in (10, 40, 75, 95)
                ]
                rises = all(a <= b for a, b in itertools.pairwise(values)) and values[0] < values[-1]
                cells = " | ".join(f"{v:.4f}" for v in values)
                print(f"| {path.name} | {width} | {fmt} | {cells} | {'yes' if rises else 'NO'} |")
                sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.studies.defaults", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("effort", "shrink", "search", "scores"))
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--images", default="", help="comma-separated file names (default: every JPEG in the corpus)")
    parser.add_argument("--widths", default="")
    parser.add_argument("--formats", default="avif,webp", help="effort: formats to measure")
    parser.add_argument("--detail", action="store_true", help="effort: every image and width on stderr")
    parser.add_argument(
        "--headroom",
        type=float,
        default=FAST_SHRINK_HEADROOM,
        help="shrink: resize factor the fast path leaves (1 = sharp/Pillow, 2 = libvips)",
    )
    args = parser.parse_args(argv)
    names = [n for n in args.images.split(",") if n]
    pattern = "*.[jp][pn]g" if args.what == "scores" else "*.jpg"  # scores: the PNGs (one with alpha) too
    images = [args.corpus / n for n in names] if names else sorted(args.corpus.glob(pattern))
    pyvips.cache_set_max(0)
    if args.what == "scores":
        measure_scores(images, [int(w) for w in (args.widths or "320").split(",")])
    elif args.what == "search":
        measure_search(images, [int(w) for w in (args.widths or "96,320").split(",")])
    elif args.what == "effort":
        widths = [int(w) for w in (args.widths or "320,1200").split(",")]
        measure_effort(images, widths, args.formats.split(","), args.detail)
    else:
        measure_shrink(images, [int(w) for w in (args.widths or "320,800,1200,1600").split(",")], args.headroom)


if __name__ == "__main__":
    main()
