"""The systems under load: this service and the original Node stack, started here or reached by URL."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from . import procs

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).parent / ".cache"
PEER_SOURCE = ROOT.parent / "shared" / "peers" / "seed-sharp"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout}s")


class Target:
    """A base URL plus, when we started it, the process tree to measure CPU and memory on."""

    name = "target"

    def __init__(self, url: str | None) -> None:
        self.url = url.rstrip("/") if url else None
        self.started = url is None

    def pids(self) -> list[int]:
        return []

    def server_pids(self) -> list[int]:
        """The process(es) that speak HTTP, as opposed to the ones converting images."""
        return []

    def cpu_seconds(self) -> float:
        return procs.cpu_seconds(self.pids())

    def peak_rss(self) -> int:
        return procs.peak_rss_bytes(self.pids())

    def stop(self) -> None:
        pass


class ServiceTarget(Target):
    name = "service"

    def __init__(self, url: str | None = None, workers: str = "auto") -> None:
        super().__init__(url)
        self.proc: subprocess.Popen | None = None
        if self.started:
            port = free_port()
            env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": workers, "LOG_LEVEL": "warning"}
            CACHE.mkdir(exist_ok=True)
            self.proc = subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env,
                                         stdout=subprocess.DEVNULL, stderr=(CACHE / "service.log").open("wb"))
            self.url = f"http://127.0.0.1:{port}"
            wait_for(self.url + "/ready")

    def pids(self) -> list[int]:
        """The server process, its forkserver and libvips workers."""
        return procs.tree(self.proc.pid) if self.proc else []

    def server_pids(self) -> list[int]:
        return [self.proc.pid] if self.proc else []

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)


class PeerTarget(Target):
    """The original Express + Sharp stack under PM2 cluster mode, installed once into bench/.cache."""

    name = "peer"

    def __init__(self, url: str | None = None) -> None:
        super().__init__(url)
        self.home = CACHE / "pm2"
        self.dir = CACHE / "peer"
        self._pids: list[int] | None = None
        if self.started:
            self._install()
            port = free_port()
            self._pm2("kill")  # a daemon left by an interrupted run (ours: PM2_HOME is bench/.cache/pm2)
            self._pm2("start", "ecosystem.config.js", env={"PORT": str(port)})
            self.url = f"http://127.0.0.1:{port}"
            wait_for(self.url + "/health")

    @staticmethod
    def available() -> bool:
        return (CACHE / "peer" / "node_modules" / "sharp").is_dir() or (
            PEER_SOURCE.is_dir() and shutil.which("npm") is not None)

    def _install(self) -> None:
        """Copy the peer's source (read-only in shared/) into bench/.cache/peer and `npm install`
        it there from the registry, once; again only if its package.json changed."""
        installed = (self.dir / "node_modules" / "sharp").is_dir()
        if not PEER_SOURCE.is_dir():
            if installed:
                return
            raise RuntimeError(f"the peer's source is not at {PEER_SOURCE}")
        self.dir.mkdir(parents=True, exist_ok=True)
        changed = False
        for name in ("package.json", "server.js", "ecosystem.config.js"):
            source, copy = PEER_SOURCE / name, self.dir / name
            if not copy.exists() or copy.read_bytes() != source.read_bytes():
                changed |= name == "package.json"
                copy.write_bytes(source.read_bytes())
        if changed or not installed:
            subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=self.dir, check=True,
                           stdout=subprocess.DEVNULL)

    def versions(self) -> str:
        """sharp's and its bundled libvips's versions, as installed."""
        out = subprocess.run(["node", "-e", "const v=require('sharp').versions;console.log(`sharp ${v.sharp}, "
                              "libvips ${v.vips}`)"], cwd=self.dir, capture_output=True, text=True, check=False)
        return out.stdout.strip() or "unknown"

    def _pm2(self, *args: str, env: dict[str, str] | None = None) -> str:
        pm2 = self.dir / "node_modules" / ".bin" / "pm2"
        result = subprocess.run([str(pm2), *args], cwd=self.dir, capture_output=True, text=True, check=True,
                                env={**os.environ, "PM2_HOME": str(self.home), **(env or {})})
        return result.stdout

    def pids(self) -> list[int]:
        """The cluster workers and the PM2 daemon (asked once: `pm2 jlist` is a Node process of its
        own, which must not run inside a measurement; asked again if a worker was replaced)."""
        if not self.started:
            return []
        if self._pids is None or not all(Path(f"/proc/{pid}").exists() for pid in self._pids):
            apps = json.loads(self._pm2("jlist"))
            pids = [a["pid"] for a in apps if a.get("pid")]
            # In cluster mode the PM2 daemon accepts every connection and hands it to a worker:
            # its CPU is part of the stack's cost.
            daemon = self.home / "pm2.pid"
            if daemon.exists():
                pids.append(int(daemon.read_text().strip()))
            self._pids = pids
        return self._pids

    def server_pids(self) -> list[int]:
        daemon = self.home / "pm2.pid"
        return [int(daemon.read_text().strip())] if self.started and daemon.exists() else []

    def stop(self) -> None:
        if self.started:
            self._pm2("kill")
