"""Starting a service tree (this one, or an older checkout for the "before" figures) on a free
loopback port, and reading its processes' CPU and memory from /proc."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Running:
    def __init__(self, source: Path, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WORKERS": "2",
            "LOG_LEVEL": "warning",
            **env,
        }
        log.parent.mkdir(parents=True, exist_ok=True)
        # cwd first on sys.path: `-m service` runs the tree under test, whatever this venv installed.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service"], cwd=source, env=full, stdout=subprocess.DEVNULL, stderr=log.open("wb")
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("service not ready in 60 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- processes -----------------------------------------------------------------------------
    def tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [self.proc.pid], [self.proc.pid]
        while todo:
            kids = children.get(todo.pop(), [])
            found += kids
            todo += kids
        return found

    def workers(self) -> list[int]:
        """libvips workers: grandchildren through the forkserver."""
        return [p for p in self.tree() if p != self.proc.pid and _ppid(p) != self.proc.pid]

    def rss_mb(self, pids: list[int] | None = None) -> float:
        return sum(_status(p, "VmRSS") for p in (pids or self.tree())) / 1024

    def hwm_mb(self, pids: list[int] | None = None) -> float:
        """Peak RSS (VmHWM) of each process, summed: an upper bound of the tree's peak."""
        return sum(_status(p, "VmHWM") for p in (pids or self.tree())) / 1024

    def server_cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def metric(self, prefix: str) -> float:
        text = httpx.get(self.url + "/metrics", timeout=10).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError):
        return -1


def _status(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
