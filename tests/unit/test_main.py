"""`python -m service` (service/__main__.py): settings checked before anything starts, JSON logs,
and the draining server's handling of SIGTERM/SIGINT, on a real process and on the class itself."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import uvicorn

from service.__main__ import DrainingServer

ROOT = Path(__file__).parents[2]


class App:
    """An ASGI app with the `state` the server marks as draining."""

    def __init__(self) -> None:
        self.state = SimpleNamespace(draining=False)

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        raise AssertionError("not served in these tests")


def loaded_server(prestop: float = 0.0) -> tuple[DrainingServer, App]:
    app = App()
    config = uvicorn.Config(app, lifespan="off", log_config=None)
    config.load()  # wraps the app in uvicorn's middleware: the server must find the state through them
    return DrainingServer(config, prestop_seconds=prestop), app


def test_the_first_signal_marks_draining_and_starts_the_shutdown() -> None:
    server, app = loaded_server()
    server.handle_exit(signal.SIGTERM, None)
    assert app.state.draining and server.should_exit and not server.force_exit


def test_a_second_sigterm_does_not_force_the_exit_but_a_second_sigint_does() -> None:
    server, _ = loaded_server()
    server.handle_exit(signal.SIGTERM, None)
    server.handle_exit(signal.SIGTERM, None)  # pm2-runtime repeats its kill signal
    assert not server.force_exit
    server.handle_exit(signal.SIGINT, None)  # Ctrl+C twice
    assert server.force_exit


def test_with_a_prestop_the_shutdown_waits_for_it() -> None:
    server, app = loaded_server(prestop=0.2)
    server.started = True
    began = threading.Event()
    server._begin_shutdown = began.set  # type: ignore[method-assign]
    start = time.monotonic()
    server.handle_exit(signal.SIGTERM, None)
    assert app.state.draining and not began.is_set()  # readiness is 503 at once, the listener stays
    assert began.wait(10)
    assert time.monotonic() - start >= 0.2


def test_invalid_settings_stop_it_before_anything_starts() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WORKERS": "abc"}
    done = subprocess.run([sys.executable, "-m", "service"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("service: invalid configuration: WORKERS must be auto or an integer")


def test_it_serves_then_drains_on_sigterm_and_exits_zero() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as storage, tempfile.TemporaryFile() as log:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WORKERS": "1",
            "STORAGE_DIR": storage,
        }
        proc = subprocess.Popen([sys.executable, "-m", "service"], env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while True:  # until it answers (an event, polled), or gives up
                assert proc.poll() is None and time.monotonic() < deadline, "the service did not start"
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        log.seek(0)
        lines = [json.loads(line) for line in log.read().decode().splitlines()]
    starting = next(e for e in lines if e["msg"] == "starting")
    assert (starting["host"], starting["port"], starting["workers"]) == ("127.0.0.1", port, 1)
    draining = next(e for e in lines if e["msg"] == "shutdown requested; draining")
    assert draining["signal"] == "SIGTERM"
