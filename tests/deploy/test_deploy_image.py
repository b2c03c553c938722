"""The image and its process manager: Dockerfile, .dockerignore and pm2/ecosystem.config.js agree
with the service, and the command PM2 starts really serves and stops the way the stack expects."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from deployfiles import (
    ROOT,
    autoscaling_metric,
    container,
    contract_routes,
    default_of,
    dockerfile,
    dockerfile_env,
    exec_form,
    pm2_apps,
)

PORT = int(default_of("PORT"))


# ---------------------------------------------------------------- Dockerfile
def test_dockerfile_builds_x86_64_from_pinned_slim_debian_python_in_stages():
    froms = dockerfile("FROM")
    assert len(froms) >= 2, "multi-stage: build the venv in one stage, copy it into the runtime"
    for line in froms:
        assert "--platform=linux/amd64" in line, line
        image = line.split()[1]
        # The digest is what the build pulls (a tag can be moved); the tag says which release it is.
        assert re.fullmatch(r"python:3\.\d+\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", image), (
            f"pin the patch version and the digest: {image}"
        )
    assert len({line.split()[1] for line in froms}) == 1, "one Python for building and running"


def test_dockerfile_listens_where_the_service_and_the_task_definition_say():
    env = dockerfile_env()
    assert env["HOST"] == "0.0.0.0", "in a container the service must bind every interface"
    assert env["PORT"] == str(PORT) == str(container()["PortMappings"][0]["ContainerPort"])
    assert dockerfile("EXPOSE") == [str(PORT)]


def test_healthcheck_asks_health_with_python_on_the_service_port():
    (check,) = dockerfile("HEALTHCHECK")
    command = exec_form(check)
    assert command[0] == "python", "the slim image has no curl: use the interpreter it has"
    assert f"http://127.0.0.1:{PORT}/health" in command[-1] and "/health" in contract_routes()
    # The task definition's check (the one ECS uses) asks the same thing.
    task_check = container()["HealthCheck"]["Command"]
    assert task_check[0] == "CMD" and task_check[1:] == command


def test_runs_non_root_with_jemalloc_under_tini_and_pm2():
    (user,) = dockerfile("USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "a numeric non-root user (Kubernetes/ECS can verify it)"
    env = dockerfile_env()
    assert env["LD_PRELOAD"] == "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
    installs = " ".join(dockerfile("RUN"))
    for package in ("libjemalloc2", "tini", "node-requirements.txt", "ci --omit=dev"):
        assert package in installs, package
    assert exec_form(dockerfile("ENTRYPOINT")[0]) == ["/usr/bin/tini", "--"]
    assert exec_form(dockerfile("CMD")[-1]) == ["node", "pm2/runtime.js", "pm2/ecosystem.config.js"]
    assert any("pm2/ecosystem.config.js" in c and "pm2/runtime.js" in c for c in dockerfile("COPY"))


# ---------------------------------------------------------------- locked dependencies
def _locked(path: str) -> dict[str, str]:
    """{name: version} of a hash-locked requirements file; every pin carries hashes."""
    text = (ROOT / path).read_text()
    entries = re.findall(
        r"^([A-Za-z0-9_.-]+)==([^\s;]+)(?: ;[^\\\n]*)?((?: \\\n\s+--hash=sha256:[0-9a-f]{64})+)", text, re.M
    )
    pins = re.findall(r"^[A-Za-z0-9_.-]+==", text, re.M)
    assert entries and len(entries) == len(pins), f"{path}: every pin needs its hashes"
    return {name.lower().replace("_", "-"): version for name, version, _ in entries}


def test_the_image_installs_python_dependencies_from_the_hash_lock():
    import tomllib

    locked = _locked("requirements.txt")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower().replace("_", "-")
        assert name in locked, f"{name} is in pyproject.toml but not in requirements.txt: regenerate the lock"
    installs = dockerfile("RUN")
    assert any("pip install --require-hashes -r requirements.txt" in r for r in installs)
    assert any("pip install --no-deps ." in r for r in installs), "the project adds nothing unlocked"
    assert any(c.startswith("requirements.txt") for c in dockerfile("COPY"))


def test_node_is_a_supported_lts_from_a_hash_lock_and_pm2_from_its_lock_file():
    (version,) = _locked("pm2/node-requirements.txt").values()
    major = int(version.split(".")[0])
    assert major % 2 == 0 and major >= 22, f"Node {major}: an LTS line still supported (18 and 20 are past end of life)"
    lock = json.loads((ROOT / "pm2" / "package-lock.json").read_text())
    package = json.loads((ROOT / "pm2" / "package.json").read_text())
    assert (
        lock["packages"][""]["dependencies"]
        == package["dependencies"]
        == {"pm2": lock["packages"]["node_modules/pm2"]["version"]}
    )
    assert all("integrity" in p for name, p in lock["packages"].items() if name), "npm ci verifies every package"
    installs = " ".join(dockerfile("RUN"))
    assert "--require-hashes" in installs and "npm-cli.js ci --omit=dev" in " ".join(installs.split())


def test_dependabot_updates_every_lock():
    import yaml

    updates = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())["updates"]
    entries = {(u["package-ecosystem"], u["directory"]) for u in updates}
    assert {("docker", "/"), ("github-actions", "/"), ("pip", "/"), ("pip", "/pm2"), ("npm", "/pm2")} <= entries


def test_pm2_stops_the_service_with_sigterm():
    # pm2-runtime sends the kill signal a second time while the app drains; only SIGTERM is
    # safe to receive twice (a second SIGINT makes uvicorn force-exit).
    assert dockerfile_env()["PM2_KILL_SIGNAL"] == "SIGTERM"


def test_dockerignore_lets_through_exactly_what_the_dockerfile_copies():
    rules = [
        r.strip() for r in (ROOT / ".dockerignore").read_text().splitlines() if r.strip() and not r.startswith("#")
    ]

    def ignored(path: str) -> bool:
        result = False
        for rule in rules:
            negate = rule.startswith("!")
            pattern = rule.lstrip("!").rstrip("/")
            if (
                fnmatch.fnmatch(path, pattern)
                or path.startswith(pattern + "/")
                or (pattern.startswith("**/") and fnmatch.fnmatch(path.rsplit("/", 1)[-1], pattern[3:]))
            ):
                result = not negate
        return result

    copied = [arg for line in dockerfile("COPY") if "--from" not in line for arg in line.split()[:-1]]
    assert copied, "the Dockerfile copies nothing from the context?"
    for path in copied:
        assert not ignored(path), f"{path} is copied but .dockerignore leaves it out"
        assert (ROOT / path).exists(), path
    for path in (
        "tests/deploy/deployfiles.py",
        ".venv/bin/python",
        "bench/__init__.py",
        ".git/HEAD",
        "service/__pycache__/app.cpython-311.pyc",
        "docs/contract.md",
    ):
        assert ignored(path), f"{path} would be sent to the build"


# ---------------------------------------------------------------- PM2
def test_pm2_runs_one_forked_python_m_service():
    (app,) = pm2_apps()
    assert app["script"] == "python" and app["args"] == ["-m", "service"], "the contract's entry point"
    assert app["interpreter"] == "none", "without it PM2 runs the script under node"
    assert app["exec_mode"] == "fork" and app["instances"] == 1, "cluster mode is for Node programs"
    assert app["treekill"] is False, "the service stops its own pool"
    assert app["autorestart"] is True and app["exp_backoff_restart_delay"] > 0
    assert re.fullmatch(r"\d+[MG]", app["max_memory_restart"])
    assert 2 in app["stop_exit_codes"], "invalid settings (exit 2): restarting cannot help"
    assert "env" not in app, "settings come from the task definition, not from the PM2 file"


def test_pm2_writes_logs_to_stdout_only():
    # PM2's default also copies every line into ~/.pm2/logs inside the container, unrotated.
    (app,) = pm2_apps()
    assert app["out_file"] == app["error_file"] == "/dev/null"
    assert "log_file" not in app


def test_shutdown_timeouts_nest_service_then_pm2_then_ecs():
    (app,) = pm2_apps()
    env = {e["Name"]: e["Value"] for e in container()["Environment"]}
    drain = float(env.get("SHUTDOWN_TIMEOUT_SECONDS", default_of("SHUTDOWN_TIMEOUT_SECONDS")))
    prestop = float(env.get("PRESTOP_SECONDS", "0"))
    assert prestop + drain < app["kill_timeout"] / 1000 < container()["StopTimeout"] <= 120


# ---------------------------------------------------------------- the command PM2 starts
def _wait_ready(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    """Until /ready answers 200 (at most 60 s); the service's log in the failure if it exits first."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _slow_image() -> bytes:
    import pyvips

    noise = pyvips.Image.gaussnoise(1600, 1600, mean=128, sigma=60).cast("uchar")
    return noise.bandjoin([noise.rot90(), noise.rot180()]).copy(interpretation="srgb").write_to_buffer(".jpg[Q=90]")


def test_the_command_pm2_starts_serves_the_checked_paths_and_drains_through_a_double_sigterm(tmp_path):
    """Run what PM2 runs (script + args, the image's environment) and stop it the way pm2-runtime
    does on an ECS stop: PM2_KILL_SIGNAL twice while a request is in flight. The request completes
    and the service exits 0. On the way, the paths and the metric the stack relies on are live."""
    (app,) = pm2_apps()
    assert app["script"] == "python"
    port = _free_port()
    image_env = {k: v for k, v in dockerfile_env().items() if k in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")}
    env = {
        **os.environ,
        **image_env,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "1",
        "REQUEST_DEADLINE_SECONDS": "300",
        "SHUTDOWN_TIMEOUT_SECONDS": "120",
    }
    log = (tmp_path / "service.log").open("wb")
    proc = subprocess.Popen([sys.executable, *app["args"]], cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, base, tmp_path / "service.log")
        assert httpx.get(f"{base}/health", timeout=5).status_code == 200  # Dockerfile + task health check
        assert autoscaling_metric() in httpx.get(f"{base}/metrics", timeout=5).text  # the scaling metric

        result: dict[str, object] = {}

        def convert() -> None:
            try:
                r = httpx.post(
                    f"{base}/api/convert",
                    params={"format": "avif", "effort": 2, "quality": 50},
                    content=_slow_image(),
                    headers={"Content-Type": "image/jpeg"},
                    timeout=300,
                )
                result["status"] = r.status_code
            except httpx.HTTPError as exc:
                result["error"] = repr(exc)

        client = threading.Thread(target=convert)
        client.start()
        # Wait until the job is running, then signal as pm2-runtime does (twice).
        deadline = time.monotonic() + 30
        while "status" not in result and "error" not in result and time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/ready", timeout=1).json().get("busy"):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.05)
        kill_signal = getattr(signal, dockerfile_env()["PM2_KILL_SIGNAL"])
        proc.send_signal(kill_signal)
        time.sleep(0.3)
        if proc.poll() is None:
            proc.send_signal(kill_signal)
        client.join(300)
        assert result.get("status") == 200, (result, (tmp_path / "service.log").read_text()[-3000:])
        assert proc.wait(120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()


# ---------------------------------------------------------------- pm2/runtime.js, for real
# pm2-runtime's own module replaced by a stand-in that behaves as it does on a drain: the stop
# completes with exit 0, but its auto-exit check, seeing "0 applications online", exits 2 first.
FAKE_PM2_RUNTIME = """
process.on('SIGTERM', () => {
  setTimeout(() => process.exit(2), 300);   // the auto-exit check
  setTimeout(() => process.exit(0), 3000);  // the app has stopped
});
if (process.env.FAKE_CRASH) setTimeout(() => process.exit(2), 300);  // the app crashed 10 times
setInterval(() => {}, 1000);
console.log('started');
"""


def _run_runtime_js(tmp_path, *, crash: bool, signal_it: bool) -> int:
    import shutil as sh

    fake = tmp_path / "node_modules" / "pm2" / "lib" / "binaries"
    fake.mkdir(parents=True)
    (fake / "Runtime4Docker.js").write_text(FAKE_PM2_RUNTIME)
    sh.copy(ROOT / "pm2" / "runtime.js", tmp_path / "runtime.js")
    env = {"PATH": os.environ["PATH"], **({"FAKE_CRASH": "1"} if crash else {})}
    proc = subprocess.Popen(
        ["node", "runtime.js", "ecosystem.config.js"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
    if signal_it:
        proc.send_signal(signal.SIGTERM)
    return proc.wait(30)


def test_runtime_js_reports_a_clean_drain_as_exit_0(tmp_path):
    assert _run_runtime_js(tmp_path, crash=False, signal_it=True) == 0


def test_runtime_js_keeps_exit_2_when_no_stop_was_asked(tmp_path):
    # Invalid settings or a crash loop: the task must stop as a failure ECS can see.
    assert _run_runtime_js(tmp_path, crash=True, signal_it=False) == 2


# ---------------------------------------------------------------- pre-stop delay, for real
def test_sigterm_keeps_serving_for_prestop_seconds_with_readiness_down_then_exits_0(tmp_path):
    """The load balancer needs a moment to stop sending new connections after deregistration:
    during PRESTOP_SECONDS readiness says draining (503) but liveness and conversions still
    answer; then the service drains and exits 0."""
    port = _free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "1",
        "PRESTOP_SECONDS": "6",
        "SHUTDOWN_TIMEOUT_SECONDS": "30",
        "STORAGE_DIR": str(tmp_path / "jobs"),
    }
    log = (tmp_path / "service.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, base, tmp_path / "service.log")
        import pyvips

        small = pyvips.Image.black(64, 48).write_to_buffer(".png")
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        time.sleep(0.5)
        ready = httpx.get(f"{base}/ready", timeout=5)
        assert ready.status_code == 503 and ready.json()["status"] == "draining"
        assert httpx.get(f"{base}/health", timeout=5).status_code == 200
        # A new connection, after the signal: still served.
        r = httpx.post(
            f"{base}/api/convert",
            params={"format": "webp"},
            content=small,
            headers={"Content-Type": "image/png"},
            timeout=30,
        )
        assert r.status_code == 200
        assert time.monotonic() - signalled < 6, "the checks above ran inside the pre-stop window"
        assert proc.wait(60) == 0
        assert time.monotonic() - signalled >= 6, "it waited out the pre-stop delay"
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()


def test_the_server_installs_its_own_signal_handlers():
    # uvicorn's private `_captured_signals` (re-raised after shutdown) is not relied on: the
    # service installs its handlers through uvicorn's capture_signals hook instead.
    source = (ROOT / "service" / "__main__.py").read_text()
    assert "_captured_signals" not in source and "def capture_signals" in source
