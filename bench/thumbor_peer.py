"""thumbor as the second peer: a Python imaging server on Pillow, installed by the bench into its
own virtual environment from PyPI (.bench-venv/thumbor, gitignored) and started with the file
loader on the bench corpus, no storage of originals, no result storage and one process per worker
the service has. It reads the image from disk (a GET with the options in the path), so it does less
work per request than an upload: the comparison favours it on the HTTP side."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from service.cpu import usable_cpus

from . import corpus, procs
from .corpus import CACHE, ROOT
from .matrix import Cell
from .targets import Request, Target, free_port, wait_for

VENV = ROOT / ".bench-venv" / "thumbor"
REQUIREMENT = "thumbor>=7.7,<8"  # 7.x serves AVIF through Pillow >= 11.3's own AVIF codec

CONFIG = """\
# Written by bench/thumbor_peer.py: read originals from the bench corpus, cache nothing.
LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = {root!r}
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = None
ALLOW_UNSAFE_URL = True
MAX_AGE = 0
"""


def _binary() -> Path:
    return VENV / "bin" / "thumbor"


def install() -> None:
    """Create the environment and `pip install thumbor` into it, once."""
    if _binary().exists():
        return
    VENV.parent.mkdir(parents=True, exist_ok=True)
    print(f"installing {REQUIREMENT} into {VENV.relative_to(ROOT)} (once)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(VENV / "bin" / "pip"), "install", "--quiet", REQUIREMENT], check=True, stdout=subprocess.DEVNULL
    )


def installed() -> bool:
    return _binary().exists()


class ThumborTarget(Target):
    name = "thumbor"

    def __init__(self, url: str | None = None, processes: int | None = None) -> None:
        super().__init__(url)
        self.proc: subprocess.Popen[bytes] | None = None
        self.processes = processes or usable_cpus()
        if self.started:
            install()
            CACHE.mkdir(exist_ok=True)
            conf = CACHE / "thumbor.conf"
            conf.write_text(CONFIG.format(root=str(corpus.ROOT_DIR)))
            port = free_port()
            self.proc = subprocess.Popen(
                [
                    str(_binary()),
                    "-p",
                    str(port),
                    "-i",
                    "127.0.0.1",
                    "-c",
                    str(conf),
                    "-l",
                    "error",
                    "--processes",
                    str(self.processes),
                ],
                stdout=subprocess.DEVNULL,
                stderr=(CACHE / "thumbor.log").open("wb"),
            )
            self.url = f"http://127.0.0.1:{port}"
            wait_for(self.url + "/healthcheck")

    def request(self, cell: Cell, work: Path) -> Request:
        filters = [f"format({cell.format})"]
        if cell.quality is not None:
            filters.append(f"quality({cell.quality})")
        return Request(f"{self.url}/unsafe/{cell.width}x0/filters:{':'.join(filters)}/{corpus.IMAGES[cell.image].file}")

    def pids(self) -> list[int]:
        """The parent (it only forks and waits) and one Tornado process per worker."""
        return procs.tree(self.proc.pid) if self.proc else []

    def versions(self) -> str:
        out = subprocess.run(
            [
                str(VENV / "bin" / "python"),
                "-c",
                "import thumbor, PIL; print(f'thumbor {thumbor.__version__}, Pillow {PIL.__version__}')",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return out.stdout.strip() or "unknown"

    def stop(self) -> None:
        """The forked processes are not always taken down with the parent: signal the whole tree."""
        if not self.proc or self.proc.poll() is not None:
            return
        tree = self.pids()
        for pid in reversed(tree):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            for pid in tree:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
