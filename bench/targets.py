"""The systems under load: this service and the original Node stack, started here or reached by URL;
thumbor lives in thumbor_peer.py. Each answers how a cell is requested from it (`request`)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import httpx
import msgspec

from . import corpus, procs
from .corpus import CACHE, ROOT
from .matrix import Cell

PEER_SOURCE = Path(os.environ.get("BENCH_PEER_SOURCE", str(ROOT.parent / "shared" / "peers" / "seed-sharp")))


class Request(msgspec.Struct, frozen=True):
    """One conversion as a system is asked for it; a body is a file so hey can replay it."""

    url: str
    method: str = "GET"
    body: Path | None = None
    content_type: str | None = None

    def send(self, client: httpx.Client) -> bytes:
        headers = {"Content-Type": self.content_type} if self.content_type else {}
        content = self.body.read_bytes() if self.body else None
        r = client.request(self.method, self.url, content=content, headers=headers, timeout=300)
        r.raise_for_status()
        return r.content


def multipart_body(
    image: bytes, filename: str, media_type: str, fields: dict[str, str], directory: Path
) -> tuple[Path, str]:
    """A multipart/form-data body written once, so hey can replay it (the original's upload shape)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"\r\n'
        f"Content-Type: {media_type}\r\n\r\n".encode()
        + image
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    path = directory / f"body-{boundary}.bin"
    path.write_bytes(b"".join(parts))
    return path, f"multipart/form-data; boundary={boundary}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        self.url = url.rstrip("/") if url else ""
        self.started = url is None

    def request(self, cell: Cell, work: Path) -> Request:
        """How this system is asked for `cell` (bodies written under `work`)."""
        raise NotImplementedError

    def pids(self) -> list[int]:
        return []

    def server_pids(self) -> list[int]:
        """The process(es) that speak HTTP, as opposed to the ones converting images."""
        return []

    def cpu_seconds(self) -> float:
        return procs.cpu_seconds(self.pids())

    def peak_rss(self) -> int:
        return procs.peak_rss_bytes(self.pids())

    def set_affinity(self, cpus: str) -> None:
        """Pin every thread of the whole process tree to `cpus` (taskset list syntax, e.g. "0")."""
        for pid in self.pids():
            subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)], capture_output=True, check=False)

    def stop(self) -> None:
        pass


class ServiceTarget(Target):
    name = "service"

    def __init__(self, url: str | None = None, workers: str = "auto", env: dict[str, str] | None = None) -> None:
        """`env`: more variables for the service (e.g. STORAGE_DIR), over the bench's own."""
        super().__init__(url)
        self.proc: subprocess.Popen[bytes] | None = None
        if self.started:
            port = free_port()
            env = {
                **os.environ,
                "HOST": "127.0.0.1",
                "PORT": str(port),
                "WORKERS": workers,
                "LOG_LEVEL": "warning",
                # The bench measures conversion cost, not the deadline: a 4K AVIF on a machine
                # shared with other work can pass API Gateway's 25 s, and the peers have no limit.
                "REQUEST_DEADLINE_SECONDS": "600",
                **(env or {}),
            }
            CACHE.mkdir(exist_ok=True)
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "service"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(CACHE / "service.log").open("wb"),
            )
            self.url = f"http://127.0.0.1:{port}"
            wait_for(self.url + "/ready")

    def pids(self) -> list[int]:
        """The server process, its forkserver and libvips workers."""
        return procs.tree(self.proc.pid) if self.proc else []

    def server_pids(self) -> list[int]:
        return [self.proc.pid] if self.proc else []

    def request(self, cell: Cell, work: Path) -> Request:
        """The raw image as the body, options in the query (one body file per image)."""
        image = corpus.IMAGES[cell.image]
        body = work / f"raw-{image.file}"
        if not body.exists():
            body.write_bytes(corpus.read(cell.image))
        url = str(httpx.URL(self.url + "/api/convert", params=cell.params()))
        return Request(url, "POST", body, image.media_type)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)


class PeerTarget(Target):
    """The original Express + Sharp stack under PM2 cluster mode, installed once into bench/.cache."""

    name = "original"

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
            PEER_SOURCE.is_dir() and shutil.which("npm") is not None
        )

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
            subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund"], cwd=self.dir, check=True, stdout=subprocess.DEVNULL
            )

    def request(self, cell: Cell, work: Path) -> Request:
        """The original's contract: a multipart upload with the options as form fields."""
        image = corpus.IMAGES[cell.image]
        body, ctype = multipart_body(corpus.read(cell.image), image.file, image.media_type, cell.params(), work)
        return Request(self.url + "/api/process", "POST", body, ctype)

    def versions(self) -> str:
        """sharp's and its bundled libvips's versions, as installed."""
        out = subprocess.run(
            ["node", "-e", "const v=require('sharp').versions;console.log(`sharp ${v.sharp}, libvips ${v.vips}`)"],
            cwd=self.dir,
            capture_output=True,
            text=True,
            check=False,
        )
        return out.stdout.strip() or "unknown"

    def _pm2(self, *args: str, env: dict[str, str] | None = None) -> str:
        pm2 = self.dir / "node_modules" / ".bin" / "pm2"
        result = subprocess.run(
            [str(pm2), *args],
            cwd=self.dir,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PM2_HOME": str(self.home), **(env or {})},
        )
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
