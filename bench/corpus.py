"""The bench's input images: read from the shared corpus beside the repository (nothing large is
copied into it), plus one derived file made once into bench/.cache.

The corpus has no baseline JPEG of about 4K, so the 3840x2160 progressive photograph is re-encoded
once as baseline (libvips, Q 92, no interlace): a 4K baseline decode is what the issue measures
first, and shrink-on-load behaves differently for baseline and progressive JPEG.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).parent / ".cache"
# BENCH_CORPUS points elsewhere when the repository is not checked out beside `shared/`.
SHARED_CORPUS = Path(os.environ.get("BENCH_CORPUS", str(ROOT.parent / "shared" / "corpus")))
# All inputs side by side in one directory: thumbor's file loader serves from a single root.
ROOT_DIR = CACHE / "corpus"


class BenchImage(msgspec.Struct, frozen=True):
    key: str  # short name used in cell keys and tables
    file: str  # name inside ROOT_DIR
    media_type: str
    description: str
    source: str  # the corpus file it is, or is derived from


IMAGES: dict[str, BenchImage] = {
    i.key: i
    for i in (
        BenchImage(
            "4k",
            "Elephants_3840x2160_baseline.jpg",
            "image/jpeg",
            "3840x2160 baseline JPEG (Q92)",
            "Elephants_3840x2160.jpg",
        ),
        BenchImage("1080p", "Elephants.jpg", "image/jpeg", "1920x1080 progressive JPEG", "Elephants.jpg"),
        BenchImage("alpha", "Flow.png", "image/png", "1920x1200 RGBA PNG", "Flow.png"),
        BenchImage("batch", "TwoWings.jpg", "image/jpeg", "2560x1600 baseline JPEG", "TwoWings.jpg"),
    )
}


def _derive_baseline(source: Path, target: Path) -> None:
    import pyvips

    image = pyvips.Image.new_from_file(str(source), access="sequential")
    tmp = target.with_suffix(".tmp.jpg")
    image.jpegsave(str(tmp), Q=92, interlace=False, optimize_coding=True, keep="icc")
    tmp.replace(target)


def prepare(keys: list[str] | tuple[str, ...]) -> Path:
    """Make ROOT_DIR hold every image asked for (symlinks to the corpus, the derived file made
    once) and answer it."""
    ROOT_DIR.mkdir(parents=True, exist_ok=True)
    for key in keys:
        image = IMAGES[key]
        target = ROOT_DIR / image.file
        source = SHARED_CORPUS / image.source
        if target.exists():
            continue
        if not source.exists():
            raise SystemExit(f"the bench corpus is missing {source} (set BENCH_CORPUS to the shared corpus)")
        if image.file == image.source:
            target.symlink_to(source)
        else:
            _derive_baseline(source, target)
    return ROOT_DIR


def path(key: str) -> Path:
    return ROOT_DIR / IMAGES[key].file


def read(key: str) -> bytes:
    return path(key).read_bytes()
