"""Running the real service as a subprocess, and making test images with pyvips."""

from __future__ import annotations

import atexit
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyvips

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "api"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Service:
    name: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    _own_storage: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return OUTPUT / f"{self.name}.log"

    def start(self, timeout: float = 60) -> Service:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        if "STORAGE_DIR" not in self.env:  # never the default data/jobs of the working tree
            self._own_storage = tempfile.mkdtemp(prefix=f"imageconv-{self.name}-jobs-")
            self.env["STORAGE_DIR"] = self._own_storage
            atexit.register(shutil.rmtree, self._own_storage, True)  # also when a test kills it without stop()
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port), "WORKERS": "2", **self.env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log_path.open("wb"),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited with {self.proc.returncode}: {self.log()}")
            try:
                if httpx.get(self.url + "/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"service not ready after {timeout}s: {self.log()}")

    def stop(self, timeout: float = 30) -> int | None:
        try:
            if self.proc is None or self.proc.poll() is not None:
                return self.proc.returncode if self.proc else None
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()
        finally:
            if self._own_storage:
                shutil.rmtree(self._own_storage, ignore_errors=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def descendants(self) -> list[int]:
        assert self.proc is not None
        tree, found, todo = _children(), [], [self.proc.pid]
        while todo:
            kids = tree.get(todo.pop(), [])
            found += kids
            todo += kids
        return found

    def worker_pids(self) -> list[int]:
        """libvips workers: children of the forkserver, which is a child of the service."""
        assert self.proc is not None
        children = _children()
        return [w for fs in children.get(self.proc.pid, []) for w in children.get(fs, [])]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


# --- images ----------------------------------------------------------------------------------


def photo(width: int, height: int) -> pyvips.Image:
    """Photograph-like content: smooth gradients plus fine texture, so encoders have real work."""
    x = pyvips.Image.xyz(width, height)
    r = x[0] * (255 / width)
    g = x[1] * (255 / height)
    b = (x[0] + x[1]) * (127 / (width + height)) + 64
    texture = pyvips.Image.gaussnoise(width, height, sigma=18, mean=0).gaussblur(0.8)
    image = r.bandjoin([g, b]) + texture
    return image.cast("uchar").copy(interpretation="srgb")


def noise(width: int, height: int) -> pyvips.Image:
    """Incompressible content: makes AVIF encodes slow on purpose (for timing-dependent tests)."""
    band = lambda: pyvips.Image.gaussnoise(width, height, sigma=60, mean=128)  # noqa: E731
    return band().bandjoin([band(), band()]).cast("uchar").copy(interpretation="srgb")


def jpeg(width: int = 800, height: int = 600, q: int = 90, **kwargs) -> bytes:
    return photo(width, height).jpegsave_buffer(Q=q, **kwargs)


def hard_edges(width: int = 256, height: int = 192) -> bytes:
    """Black stripes on white: values clipped at 0 and 255 beside sharp edges."""
    x = pyvips.Image.xyz(width, height)[0]
    stripes = ((x / 6).cast("int") % 2 == 0).ifthenelse([255, 255, 255], [0, 0, 0])
    return stripes.cast("uchar").copy(interpretation="srgb").pngsave_buffer()


def with_alpha_png(width: int = 400, height: int = 300) -> bytes:
    image = photo(width, height)
    alpha = (pyvips.Image.xyz(width, height)[0] > width // 2).ifthenelse(255, 0).cast("uchar")
    return image.bandjoin(alpha).pngsave_buffer()


def oriented_jpeg(orientation: int) -> bytes:
    """400x200: left half red, right half blue, with the EXIF orientation tag set."""
    x = pyvips.Image.xyz(400, 200)[0]
    left = x < 200
    image = left.ifthenelse([255, 0, 0], [0, 0, 255]).cast("uchar").copy(interpretation="srgb")
    image = image.copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return image.jpegsave_buffer(Q=95)


def png_declaring(width: int, height: int) -> bytes:
    """A few hundred bytes claiming a huge size: must be refused from the header alone."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def thin_png(height: int, width: int = 1) -> bytes:
    """A real, complete grey PNG of width x height (every row written, zlib level 9): 1 x 49,000,000 is
    95 KB, under MAX_INPUT_PIXELS, and decodes one row at a time for the whole request deadline.
    Built with zlib in ~0.4 s, where libvips' own pngsave takes ~17 s."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows, step = height, 1_000_000
    squeeze = zlib.compressobj(9)
    body = b"".join(squeeze.compress(b"\0" * ((width + 1) * min(step, rows - done))) for done in range(0, rows, step))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body + squeeze.flush()) + chunk(b"IEND", b"")


def decode(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "")


def loader(data: bytes) -> str:
    return decode(data).get("vips-loader")


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}
