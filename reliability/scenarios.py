"""The abuse scenarios of issue 13, each against a fresh service, each bounded in time.

Every scenario returns {figure name: value}; the same code measures the tree before the fixes (an
older checkout passed as --source) and after, so RELIABILITY.md compares like with like.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import threading
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pyvips

from .quotas import QUOTA_SCENARIOS
from .service import Running

Figures = dict[str, Any]


def photo(width: int, height: int, q: int = 85) -> bytes:
    x = pyvips.Image.xyz(width, height)
    image = (x[0] * (255 / width)).bandjoin([x[1] * (255 / height), (x[0] + x[1]) * (127 / (width + height)) + 64])
    texture = pyvips.Image.gaussnoise(width, height, sigma=18).gaussblur(0.8)
    data: bytes = (image + texture).cast("uchar").copy(interpretation="srgb").jpegsave_buffer(Q=q)
    return data


def noise(width: int, height: int) -> bytes:
    bands = [pyvips.Image.gaussnoise(width, height, sigma=60, mean=128) for _ in range(3)]
    data: bytes = bands[0].bandjoin(bands[1:]).cast("uchar").copy(interpretation="srgb").jpegsave_buffer(Q=95)
    return data


def post(
    url: str,
    data: bytes,
    params: dict[str, str],
    timeout: float = 120,
    route: str = "/api/convert",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return httpx.post(
        url + route,
        params=params,
        content=data,
        timeout=timeout,
        headers={"Content-Type": "image/jpeg", **(headers or {})},
    )


def status_of(call: Callable[[], httpx.Response]) -> str:
    try:
        return str(call().status_code)
    except httpx.HTTPError as exc:
        return type(exc).__name__


def timed(call: Callable[[], httpx.Response]) -> tuple[str, float]:
    started = time.monotonic()
    result = status_of(call)
    return result, round(time.monotonic() - started, 2)


# --- 1. connections ------------------------------------------------------------------------------


def connections(svc: Running) -> Figures:
    """200 idle sockets and 200 sending headers at 1 byte/s, then /health and a new conversion."""
    sockets: list[socket.socket] = []
    stop = threading.Event()
    try:
        for i in range(400):
            s = socket.create_connection(("127.0.0.1", svc.port), timeout=5)
            if i % 2:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            sockets.append(s)

        def drip() -> None:
            while not stop.wait(1.0):
                for s in sockets[1::2]:
                    with contextlib.suppress(OSError):
                        s.sendall(b"X")

        threading.Thread(target=drip, daemon=True).start()
        time.sleep(1)
        health = [timed(lambda: httpx.get(svc.url + "/health", timeout=10)) for _ in range(5)]
        convert = timed(lambda: post(svc.url, photo(320, 240), {"format": "webp"}, timeout=30))
        time.sleep(12)  # past a 10 s header timeout
        later = timed(lambda: httpx.get(svc.url + "/health", timeout=10))
        return {
            "health during 400-socket flood": ",".join(sorted({s for s, _ in health})),
            "health slowest (s)": max(t for _, t in health),
            "new conversion during flood": convert[0],
            "health 12 s later": later[0],
        }
    finally:
        stop.set()
        for s in sockets:
            s.close()


def big_header(svc: Running) -> Figures:
    before = svc.rss_mb([svc.proc.pid])
    answer = b""
    with socket.create_connection(("127.0.0.1", svc.port), timeout=20) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
        try:
            for _ in range(960):  # 60 MB
                s.sendall(b"a" * 65536)
            s.sendall(b"\r\n\r\n")
        except OSError:
            pass
        with contextlib.suppress(OSError):
            answer = s.recv(200)
    first = answer.split(b"\r\n", 1)[0].decode(errors="replace") or "closed"
    return {"60 MB header line": first, "server RSS growth (MB)": round(svc.rss_mb([svc.proc.pid]) - before, 1)}


# --- 2. runaway and stopped workers ----------------------------------------------------------------


def runaway(svc: Running) -> Figures:
    """WORKERS=1, deadline 3 s: a lossless effort-9 AVIF, then how soon a small request succeeds."""
    slow = noise(1200, 1200)
    late = timed(lambda: post(svc.url, slow, {"format": "avif", "lossless": "true", "effort": "9"}))
    ready_during = status_of(lambda: httpx.get(svc.url + "/ready", timeout=5))
    started = time.monotonic()
    recovered = None
    while time.monotonic() - started < 60:
        if status_of(lambda: post(svc.url, photo(64, 48), {"format": "png"}, timeout=10)) == "200":
            recovered = round(time.monotonic() - started, 1)
            break
        time.sleep(0.5)
    return {
        "runaway request": f"{late[0]} after {late[1]} s",
        "/ready right after": ready_during,
        "worker serves again after (s)": recovered if recovered is not None else "> 60",
    }


def stopped_worker(svc: Running) -> Figures:
    victim = svc.workers()[0]
    os.kill(victim, signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(6) as ex:
            results = list(
                ex.map(lambda _: timed(lambda: post(svc.url, photo(200, 150), {"format": "png"}, timeout=60)), range(6))
            )
        started = time.monotonic()
        replaced = None
        while time.monotonic() - started < 30:
            if victim not in svc.workers() and len(svc.workers()) >= 2:
                replaced = round(time.monotonic() - started, 1)
                break
            time.sleep(0.2)
        ready = httpx.get(svc.url + "/ready", timeout=5).json()
        return {
            "6 requests after SIGSTOP": ",".join(s for s, _ in results),
            "slowest (s)": max(t for _, t in results),
            "stopped worker replaced": "yes" if replaced is not None else "no (30 s)",
            "/ready busy afterwards": ready.get("busy"),
        }
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)


# --- 3. memory -----------------------------------------------------------------------------------


def memory(svc: Running) -> Figures:
    """Batches that enlarge a small JPEG to ~30 MP widths: peak RSS (VmHWM) of the server and of
    the whole tree. Five widths (~145 MP, inside MAX_BATCH_OUTPUT_PIXELS) are the worst batch the
    limits allow; ten (~240 MP) are over it (run only with --heavy: the tree before the limits
    would need several GB for it)."""
    small = photo(640, 400, q=60)
    figures: Figures = {"input bytes": len(small)}
    five = {"widths": "7000,6900,6800,6700,6600", "enlarge": "true", "format": "jpeg", "qualities": "50"}
    r, seconds = timed(lambda: post(svc.url, small, five, route="/api/batch", timeout=180))
    figures["batch 5 widths ~145 MP"] = f"{r} in {seconds} s"
    figures["peak RSS server (MB)"] = round(svc.hwm_mb([svc.proc.pid]))
    figures["peak RSS all processes (MB)"] = round(svc.hwm_mb())
    if os.environ.get("RELIABILITY_HEAVY") == "1":
        ten = {**five, "widths": "7000,6900,6800,6700,6600,6500,6400,6300,6200,6100"}
        r, seconds = timed(lambda: post(svc.url, small, ten, route="/api/batch", timeout=180))
        figures["batch 10 widths ~240 MP"] = f"{r} in {seconds} s"
        figures["peak RSS all after it (MB)"] = round(svc.hwm_mb())
    tiny = pyvips.Image.black(1, 1).cast("uchar").pngsave_buffer()
    out = post(
        svc.url,
        tiny,
        {"width": "7000", "height": "7000", "fit": "fill", "enlarge": "true", "format": "tiff", "compression": "none"},
        headers={"Content-Type": "image/png"},
    )
    figures["1x1 PNG -> 7000x7000 TIFF"] = f"{out.status_code}, {len(out.content)} bytes"
    return figures


# --- 4. fairness ---------------------------------------------------------------------------------


def fairness(svc: Running) -> Figures:
    image = noise(800, 533)
    with ThreadPoolExecutor(7) as ex:
        big = ex.submit(
            timed,
            lambda: post(
                svc.url,
                image,
                {"widths": "800,700,600,500,400,300", "qualities": "50,60,70,80,90", "format": "avif"},
                route="/api/batch",
                timeout=120,
            ),
        )
        time.sleep(1.5)
        singles = [
            ex.submit(timed, lambda: post(svc.url, photo(64, 48), {"format": "png"}, timeout=60)) for _ in range(5)
        ]
        answers = [f.result() for f in singles]
        batch = big.result()
    return {
        "5 small conversions during a 30-output AVIF batch": ",".join(s for s, _ in answers),
        "slowest small (s)": max(t for _, t in answers),
        "batch": f"{batch[0]} in {batch[1]} s",
    }


def idle_worker(svc: Running) -> Figures:
    """A long job on one worker, a short one on the other, then a 10 ms request."""
    with ThreadPoolExecutor(3) as ex:
        ex.submit(post, svc.url, noise(1000, 1000), {"format": "avif", "effort": "8", "quality": "90"})
        time.sleep(1.0)
        ex.submit(post, svc.url, noise(400, 400), {"format": "avif", "effort": "4"})
        time.sleep(0.5)
        status, seconds = timed(lambda: post(svc.url, photo(64, 48), {"format": "png"}, timeout=120))
    return {"10 ms request behind a long job": f"{status} after {seconds} s"}


# --- 7/8. aborted uploads and refusals ----------------------------------------------------------


def aborted(svc: Running) -> Figures:
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", svc.port), timeout=10) as s:
            s.sendall(
                b"POST /api/convert HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
                b"Content-Length: 1000000\r\n\r\n\xff\xd8" + bytes(100_000)
            )
            time.sleep(0.3)
    time.sleep(1)
    route = 'imageconv_http_requests_total{method="POST",route="/api/convert",'
    return {
        "5 aborted uploads counted as 500": int(svc.metric(route + 'status="500"}')),
        "counted as 499": int(svc.metric(route + 'status="499"}')),
    }


def overload(svc: Running) -> Figures:
    """WORKERS=1, no queue, the worker busy: 200 x 1 MB uploads refused; server CPU per refusal."""
    body = bytes(1_000_000)
    with ThreadPoolExecutor(9) as ex:
        busy = ex.submit(post, svc.url, noise(1200, 1200), {"format": "avif", "effort": "9", "lossless": "true"})
        time.sleep(1.0)
        cpu = svc.server_cpu_seconds()
        started = time.monotonic()
        codes = list(
            ex.map(lambda _: status_of(lambda: post(svc.url, body, {"format": "png"}, timeout=30)), range(200))
        )
        elapsed = time.monotonic() - started
        used = svc.server_cpu_seconds() - cpu
        busy.cancel()
    return {
        "refused (503) of 200": codes.count("503"),
        "server CPU per refusal (ms)": round(used / 200 * 1000, 2),
        "refusals per second": round(200 / elapsed, 0),
    }


# --- 5/6/9/10/11. correctness at the edges ---------------------------------------------------------


def edges(svc: Running) -> Figures:
    figures: Figures = {}
    red = pyvips.Image.black(40, 30).new_from_image([255, 0, 0]).copy(interpretation="srgb")
    frames = red.join(red, "vertical").cast("uchar").copy()
    frames.set_type(pyvips.GValue.gint_type, "page-height", 30)
    figures["GIF input"] = post(
        svc.url, frames.gifsave_buffer(), {"format": "png"}, headers={"Content-Type": "image/gif"}
    ).status_code
    post(svc.url, b"plain text, not an image", {"format": "png"})
    r = post(svc.url, photo(400, 300)[:3000], {"format": "png"})
    stale = "known format" in r.json()["error"]["message"]
    figures["truncated JPEG after a text upload: status, stale 'not in a known format'"] = (
        f"{r.status_code}, {'yes' if stale else 'no'}"
    )
    image = pyvips.Image.new_from_buffer(photo(400, 300), "").copy()
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Artist", "Reliability")
    exif_jpeg = image.jpegsave_buffer(keep=31)
    r = post(svc.url, exif_jpeg, {"widths": "200", "format": "jpeg", "keep_metadata": "true"}, route="/api/batch")
    kept = "?"
    if r.status_code == 200:
        with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".jpg"))
            out = pyvips.Image.new_from_buffer(archive.read(name), "")
            kept = "yes" if "Reliability" in str(_field(out, "exif-ifd0-Artist")) else "no"
    figures["batch keep_metadata keeps EXIF"] = kept
    r = post(svc.url, exif_jpeg, {"format": "tiff", "keep_metadata": "true"})
    tiff: int | str = r.status_code
    if r.status_code == 200:
        out = pyvips.Image.new_from_buffer(r.content, "")
        tiff = "200, EXIF " + ("kept" if "Reliability" in str(_field(out, "exif-ifd0-Artist")) else "silently dropped")
    figures["TIFF keep_metadata"] = tiff
    h = httpx.get(svc.url + "/health", timeout=10).headers
    figures["security headers on /health"] = sum(
        k in h for k in ("x-content-type-options", "x-frame-options", "content-security-policy")
    )
    csp = httpx.get(svc.url + "/", timeout=10).headers.get("content-security-policy")
    figures["CSP on /"] = "strict" if csp and "script-src 'self'" in csp else "none"
    r = httpx.post(
        svc.url + "/api/convert",
        files={"image": ("a.jpg", photo(64, 48), "image/jpeg")},
        headers={"Origin": "https://evil.example"},
        timeout=30,
    )
    figures["cross-origin multipart POST"] = r.status_code
    r = httpx.get(svc.url + "/api/convert", timeout=10)
    figures["405 Allow header"] = r.headers.get("allow", "absent")
    r = httpx.post(
        svc.url + "/api/convert",
        data={f"f{i}": "1" for i in range(1100)},
        files={"image": ("a.jpg", photo(64, 48), "image/jpeg")},
        timeout=30,
    )
    figures["1100-part form"] = f"{r.status_code} {r.text[:70]}"
    return figures


def _field(image: pyvips.Image, name: str) -> object:
    return image.get(name) if name in image.get_fields() else None


SCENARIOS: dict[str, tuple[dict[str, str], Callable[[Running], Figures]]] = {
    "connections": ({}, connections),
    "big_header": ({}, big_header),
    "runaway": ({"WORKERS": "1", "REQUEST_DEADLINE_SECONDS": "3"}, runaway),
    "stopped_worker": ({"REQUEST_DEADLINE_SECONDS": "10"}, stopped_worker),
    "memory": ({}, memory),
    "fairness": ({}, fairness),
    "idle_worker": ({"REQUEST_DEADLINE_SECONDS": "120"}, idle_worker),
    "aborted": ({}, aborted),
    "overload": ({"WORKERS": "1", "QUEUE_PER_WORKER": "0", "REQUEST_DEADLINE_SECONDS": "60"}, overload),
    "edges": ({}, edges),
    **QUOTA_SCENARIOS,  # issue 23: decode cost, job storage, archive and output edges
}


def run(name: str, source: Path, log_dir: Path) -> Figures:
    env, scenario = SCENARIOS[name]
    with Running(source, env, log_dir / f"{name}.log") as svc:
        return scenario(svc)
