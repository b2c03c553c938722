"""The codecs under the cells thumbor wins: libvips (pyvips-binary: mozjpeg, libwebp) against
Pillow (thumbor's environment: libjpeg-turbo, libwebp), the same work in one process each.

    python -m bench.studies.decoders [--rounds 7] [--n 10]

JPEG decode at each DCT scale the cells use (libvips `jpegload shrink=`, Pillow `draft`), and WebP
encode of the same 320x180 picture at effort/method 4. Each side runs in its own single-threaded
process (libvips set up as a pool worker); the two take turns, `n` operations per turn, CPU from
getrusage, and the median over the rounds is printed. This separates the codecs from the servers:
the whole-tree CPU in the matrix adds HTTP, uploads and resizing on top.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

from ..corpus import ROOT, prepare
from ..thumbor_peer import VENV, install

# (name, file, scale): scale is the DCT reduction (1, 2, 4, 8)
DECODES = (
    ("4K baseline JPEG, 1/8 (-> 320)", "Elephants_3840x2160_baseline.jpg", 8),
    ("4K baseline JPEG, 1/4 (-> 800)", "Elephants_3840x2160_baseline.jpg", 4),
    ("4K baseline JPEG, 1/2 (-> 1600)", "Elephants_3840x2160_baseline.jpg", 2),
    ("1080p progressive JPEG, 1/4 (-> 320)", "Elephants.jpg", 4),
    ("1080p progressive JPEG, 1/1 (-> 800)", "Elephants.jpg", 1),
)
ENCODES = (("WebP encode 320x180, q75, effort/method 4", "Elephants_3840x2160_baseline.jpg", 0),)

_COMMON = """
import resource, sys
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
def timed(fn, n):
    fn()
    t = cpu()
    for _ in range(n):
        fn()
    return (cpu() - t) / n * 1000
"""

VIPS = (
    _COMMON
    + """
sys.path.insert(0, {root!r})
from service.imaging.worker import init_worker
init_worker()
import pyvips
def decode(data, scale):
    return lambda: pyvips.Image.jpegload_buffer(data, shrink=scale).write_to_memory()
def webp(data):
    small = pyvips.Image.thumbnail_buffer(data, 320).copy_memory()
    return lambda: small.webpsave_buffer(Q=75, effort=4, keep=0)
print("libvips", pyvips.version(0), pyvips.version(1), pyvips.version(2), flush=True)
"""
)

PILLOW = (
    _COMMON
    + """
import io
from PIL import Image, features
def decode(data, scale):
    def run():
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", (image.width // scale, image.height // scale))
        image.load()
        return image.tobytes()
    return run
def webp(data):
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (480, 270))
    small = image.resize((320, 180), Image.LANCZOS)
    def run():
        out = io.BytesIO()
        small.save(out, "WEBP", quality=75, method=4)
        return out.getvalue()
    return run
print("Pillow", Image.__version__, "libjpeg-turbo", features.version("libjpeg_turbo"), flush=True)
"""
)

_LOOP = """
cache = {{}}
for line in sys.stdin:
    path, scale, n = line.split()
    scale, n = int(scale), int(n)
    if (path, scale) not in cache:
        data = open(path, "rb").read()
        cache[(path, scale)] = webp(data) if scale == 0 else decode(data, scale)
    print(f"{{timed(cache[(path, scale)], n):.3f}}", flush=True)
"""


def _start(python: str, script: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [python, "-c", script + _LOOP.format()], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def _ask(proc: subprocess.Popen[str], path: str, scale: int, n: int) -> float:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(f"{path} {scale} {n}\n")
    proc.stdin.flush()
    return float(proc.stdout.readline())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.studies.decoders", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--n", type=int, default=10, help="operations per turn")
    args = parser.parse_args(argv)
    corpus = prepare(["4k", "1080p"])
    install()
    vips, vips_version = _start(sys.executable, VIPS.format(root=str(ROOT)))
    pil, pil_version = _start(str(VENV / "bin" / "python"), PILLOW)
    print(f"{vips_version} | {pil_version} | median of {args.rounds} turns of {args.n}, ms CPU per operation")
    print("| operation | libvips ms | Pillow ms | libvips / Pillow |")
    print("|---|---|---|---|")
    try:
        for name, file, scale in DECODES + ENCODES:
            path = str(corpus / file)
            times: dict[str, list[float]] = {"vips": [], "pil": []}
            for r in range(args.rounds):
                order = [("vips", vips), ("pil", pil)] if r % 2 == 0 else [("pil", pil), ("vips", vips)]
                for key, proc in order:
                    times[key].append(_ask(proc, path, scale, args.n))
            v, p = statistics.median(times["vips"]), statistics.median(times["pil"])
            print(f"| {name} | {v:.1f} | {p:.1f} | {v / p:.2f} |", flush=True)
    finally:
        for proc in (vips, pil):
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
