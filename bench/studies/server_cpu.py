"""CPU the server process itself spends per request (the libvips workers excluded).

    python -m bench.studies.server_cpu [--requests 60] [--upload-bytes 1400000] [--upload FILE]
                                       [--floor] [--profile DIR]

Starts the service (2 workers, a free port on 127.0.0.1), sends N sequential conversions of one
~1.4 MB JPEG to a 320-wide JPEG, as a raw body and as multipart, and reads the server pid's
utime + stime from /proc before and after each series: everything the event loop, HTTP parsing,
validation, the hand-off to the workers, logging and metrics cost, per request. With --profile,
py-spy samples the server process during the runs (collapsed stacks written to DIR) and the
busiest frames are printed. With --floor, bare ASGI apps on the same uvicorn (bench/studies/floor_app.py:
receive the body; + write it to /dev/shm; + a ProcessPoolExecutor round trip) are measured in the
same interleaved series: the floor this stack puts under any service built on it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import pyvips

from ..matrix import CORPUS

ROOT = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def upload(target_bytes: int) -> bytes:
    """A photograph re-encoded at the size and quality whose bytes are closest to `target_bytes`
    (full size for large targets; smaller ones, e.g. 30000, show the per-request floor)."""
    widths = (1920,) if target_bytes >= 300_000 else (1280, 960, 640, 320)
    best = b""
    for width in widths:
        image = pyvips.Image.thumbnail(str(CORPUS / "Storm.jpg"), width).copy_memory()
        for q in range(70, 101):
            data = bytes(image.jpegsave_buffer(Q=q, keep=0))
            if not best or abs(len(data) - target_bytes) < abs(len(best) - target_bytes):
                best = data
    return best


def series(
    clients: list[httpx.Client],
    pids: list[int],
    data: bytes,
    multipart: bool,
    n: int,
    params: dict[str, str] | None = None,
) -> list[float]:
    """CPU seconds per request of each server, requests alternating between them one at a time so
    that whatever else the machine does falls on all of them alike."""
    params = params or {"width": "320", "format": "jpeg"}
    for client in clients:
        for _ in range(3):  # warm the connection and the code paths
            _send(client, data, multipart, params)
    # Each server's counters move only with its own work, so one reading before and one after the
    # whole series is exact to a clock tick (10 ms) over n requests.
    before = [cpu_seconds(pid) for pid in pids]
    for _ in range(n):
        for client in clients:
            _send(client, data, multipart, params)
    return [(cpu_seconds(pid) - b) / n for pid, b in zip(pids, before, strict=True)]


def _send(client: httpx.Client, data: bytes, multipart: bool, params: dict[str, str]) -> None:
    if multipart:
        r = client.post("/api/convert", files={"image": ("photo.jpg", data, "image/jpeg")}, data=params)
    else:
        r = client.post("/api/convert", params=params, content=data, headers={"Content-Type": "image/jpeg"})
    r.raise_for_status()


def start_server(checkout: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "2", "LOG_LEVEL": "warning"}
    log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server; closed with the process)
    # `python -m service` from the checkout's directory imports that checkout's code first.
    server = subprocess.Popen([sys.executable, "-m", "service"], cwd=checkout, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    if not _ready(server, url):
        log.seek(0)
        raise SystemExit(f"service in {checkout} did not start: " + log.read().decode(errors="replace")[-2000:])
    return server, url


def _ready(server: subprocess.Popen[bytes], url: str, seconds: float = 60) -> bool:
    """Wait until `url`/ready answers 200; False (the process killed) if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url + "/ready", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            return False
        time.sleep(0.1)


FLOOR_MODES = ("receive", "shm", "executor", "litestar")


def start_floor(mode: str) -> tuple[subprocess.Popen[bytes], str]:
    """bench/studies/floor_app.py in `mode` on uvicorn with the service's event loop and HTTP parser."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.studies.floor_app:app"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    command += ["--http", "httptools", "--log-level", "warning", "--no-access-log", "--lifespan", "on"]
    env = {**os.environ, "FLOOR_MODE": mode}
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    if not _ready(server, url):
        raise SystemExit(f"floor app ({mode}) did not start")
    return server, url


def top_frames(collapsed: Path, top: int = 15) -> list[tuple[float, str]]:
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        own[stack.split(";")[-1]] += n
    return [(n / total, frame) for frame, n in own.most_common(top)] if total else []


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.studies.server_cpu", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--upload-bytes", type=int, default=1_400_000)
    parser.add_argument("--profile", type=Path, default=None, help="directory for py-spy's collapsed stacks")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument(
        "--baseline", type=Path, default=None, help="another checkout (e.g. a worktree of main) to measure side by side"
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure bare ASGI apps doing only the unavoidable parts (bench/studies/floor_app.py)",
    )
    parser.add_argument("--width", type=int, default=320, help="output width (1600 with png: a ~4 MB answer)")
    parser.add_argument("--format", default="jpeg")
    parser.add_argument("--upload", type=Path, default=None, help="send this file instead of a re-encoded photograph")
    args = parser.parse_args(argv)

    data = args.upload.read_bytes() if args.upload else upload(args.upload_bytes)
    checkouts = [ROOT] + ([args.baseline.resolve()] if args.baseline else [])
    names = [checkout.name for checkout in checkouts]
    servers: list[subprocess.Popen[bytes]] = []
    spy: subprocess.Popen[bytes] | None = None
    try:
        urls = []
        for checkout in checkouts:
            server, url = start_server(checkout)
            servers.append(server)
            urls.append(url)
        for mode in FLOOR_MODES if args.floor else ():
            server, url = start_floor(mode)
            servers.append(server)
            urls.append(url)
            names.append(f"floor: {mode}")
        if args.profile is not None:
            args.profile.mkdir(parents=True, exist_ok=True)
            py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
            out = args.profile / "server.collapsed"
            command = [
                py_spy,
                "record",
                "--pid",
                str(servers[0].pid),
                "--format",
                "raw",
                "--rate",
                str(args.rate),
                "--output",
                str(out),
                "--nonblocking",
                "--gil",  # samples only while Python code holds the GIL: CPU, not waiting
            ]
            spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
        clients = [httpx.Client(base_url=url, timeout=60) for url in urls]
        try:
            pids = [s.pid for s in servers]
            params = {"width": str(args.width), "format": args.format}
            raw = series(clients, pids, data, False, args.requests, params)
            multi = series(clients, pids, data, True, args.requests, params)
        finally:
            for client in clients:
                client.close()
        head = f"upload {len(data)} bytes -> {args.width}-wide {args.format}, {args.requests} sequential requests each"
        print(head + ", server pid only (ms CPU/request):")
        for i, name in enumerate(names):
            if name.startswith("floor"):  # a bare app reads every body as raw bytes: one figure
                print(f"  {name:>16}: {raw[i] * 1000:.2f}")
            else:
                print(f"  {name:>16}: raw body {raw[i] * 1000:.2f}, multipart {multi[i] * 1000:.2f}")
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=30)
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=60)
    if args.profile is not None:
        print("busiest frames in the server process (own time share):")
        for share, frame in top_frames(args.profile / "server.collapsed"):
            print(f"  {share:6.1%}  {frame}")


if __name__ == "__main__":
    main()
