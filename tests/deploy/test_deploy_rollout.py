"""deploy.yml, run for real: its steps' scripts in order, with GitHub's `if:` rules, against a
stand-in AWS CLI and docker that answer as an account would (and record every call), and a
stand-in of the public API on 127.0.0.1 for the smoke test. Then ops/smoke.py against the real
service started here, so the smoke test's checks are the answers the service really gives."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from deployfiles import ROOT, workflow

DIGEST = "sha256:" + "cd" * 32
IMAGE_ID = "sha256:" + "12" * 32
KEY = "k0123456789abcdefghij"
PREVIOUS = "arn:aws:ecs:eu-west-1:123456789012:task-definition/imageconv-service:7"
NEXT = "arn:aws:ecs:eu-west-1:123456789012:task-definition/imageconv-service:8"

FAKE_AWS = r"""#!/bin/bash
echo "aws $*" >> "$STATE/calls"
case "$1 $2" in
  "sts get-caller-identity") echo 123456789012 ;;
  "ecr describe-images")
    [ -f "$STATE/pushed" ] || { echo "An error occurred (ImageNotFoundException)" >&2; exit 254; }
    case "$*" in *imageDigest\ *|*imageDetails*) echo "$DIGEST" ;; esac ;;
  "ecr get-login-password") echo password ;;
  "ecs describe-services")
    case "$*" in
      *rolloutState*) echo "$ROLLOUT" ;;
      *desiredCount*) echo "$DESIRED" ;;
      *taskDefinition*) cat "$STATE/current" ;;
      *) echo "unexpected query: $*" >&2; exit 99 ;;
    esac ;;
  "ecs describe-task-definition")
    echo '{"family": "imageconv-service", "taskDefinitionArn": "'"$PREVIOUS"'", "revision": 7, "status": "ACTIVE",
           "containerDefinitions": [{"name": "service", "image": "old@sha256:00"},
                                    {"name": "cloudwatch-agent", "image": "agent:1"}],
           "requiresAttributes": [], "compatibilities": ["EC2"], "registeredAt": 1, "registeredBy": "x"}' ;;
  "ecs register-task-definition") cp next.json "$STATE/registered.json"; echo "$NEXT" ;;
  "ecs update-service")
    while [ $# -gt 0 ]; do [ "$1" = --task-definition ] && td="$2"; shift; done
    # A rollout ECS fails (circuit breaker, rollback alarm) leaves the previous revision running.
    [ "$ROLLOUT" = FAILED ] || echo "$td" > "$STATE/current"
    echo "ecs-svc/1234567890" ;;
  "ecs wait") ;;
  "secretsmanager get-secret-value") echo "$KEY,k_second_key_0123456789" ;;
  "ecr batch-get-image")
    case "$*" in
      *imageManifestMediaType*) echo application/vnd.docker.distribution.manifest.v2+json ;;
      *) echo '{"schemaVersion": 2}' ;;
    esac ;;
  "ecr put-image") echo "$*" > "$STATE/tagged" ;;
  *) echo "unexpected call: $*" >&2; exit 99 ;;
esac
"""

FAKE_DOCKER = r"""#!/bin/bash
echo "docker $*" >> "$STATE/calls"
case "$1" in
  load) cat >/dev/null; echo "Loaded image: localhost/imageconv:image-test" ;;
  image) echo "$LOADED_ID" ;;
  login) cat >/dev/null ;;
  push) touch "$STATE/pushed" ;;
  tag|logout) ;;
  *) echo "unexpected docker $*" >&2; exit 99 ;;
esac
"""


class PublicApi:
    """What API Gateway would answer for the service: good, broken (500) or wrong (not a WebP)."""

    def __init__(self) -> None:
        self.mode = "good"
        self.keys: list[str | None] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._send(200, b'{"status":"ok","timestamp":"now"}', {"Content-Type": "application/json"})

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                api.keys.append(self.headers.get("X-API-Key"))
                if api.mode == "broken":
                    self._send(500, b'{"error":"internal"}', {"Content-Type": "application/json"})
                    return
                webp = b"RIFF" + (4000).to_bytes(4, "little") + b"WEBPVP8 " + bytes(4000)
                kind = "image/webp" if api.mode == "good" else "image/jpeg"
                self._send(200, webp, {"Content-Type": kind, "X-Image-Width": "320", "X-Image-Height": "213"})

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def public_api() -> Iterator[tuple[PublicApi, str]]:
    api = PublicApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), api.handler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield api, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _condition(expr: str | None, failed: bool, outputs: dict[str, dict[str, str]]) -> bool:
    """GitHub's `if:` for the forms deploy.yml uses (no expression = success())."""
    if not expr:
        return not failed
    expr = expr.strip()
    always_checked = "failure()" in expr or "always()" in expr
    if not always_checked and failed:
        return False
    for part in (p.strip() for p in expr.split("&&")):
        if part == "failure()":
            if not failed:
                return False
            continue
        m = re.fullmatch(r"steps\.(\w+)\.outputs\.(\w+) (==|!=) '([^']*)'", part)
        assert m, f"the emulation does not know `{part}`"
        got = outputs.get(m.group(1), {}).get(m.group(2), "")
        if (got == m.group(4)) != (m.group(3) == "=="):
            return False
    return True


def run_deploy(tmp_path: Path, api_url: str, **state: str) -> tuple[bool, Path, str]:
    """Run deploy.yml's job; (succeeded, state dir, log)."""
    (job,) = workflow("deploy.yml")["jobs"].values()
    work, bin_dir, state_dir = tmp_path / "work", tmp_path / "bin", tmp_path / "state"
    for d in (work / "ops", work / "tests" / "fixtures", bin_dir, state_dir, work / "tested-image"):
        d.mkdir(parents=True)
    shutil.copy(ROOT / "ops" / "smoke.py", work / "ops" / "smoke.py")
    shutil.copy(ROOT / "tests" / "fixtures" / "Storm.jpg", work / "tests" / "fixtures" / "Storm.jpg")
    # What actions/download-artifact leaves: CI's saved image and the ID it recorded.
    (work / "tested-image" / "image.tar.gz").write_bytes(gzip.compress(b"an image archive"))
    (work / "tested-image" / "image-id").write_text(IMAGE_ID + "\n")
    for name, script in (("aws", FAKE_AWS), ("docker", FAKE_DOCKER)):
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    (state_dir / "current").write_text(PREVIOUS + "\n")
    (state_dir / "calls").touch()
    env = {
        "PATH": f"{bin_dir}:{os.path.dirname(shutil.which('jq') or '/usr/bin/jq')}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "STATE": str(state_dir),
        "AWS_REGION": "eu-west-1",
        "STACK": "imageconv",
        "CLUSTER": "imageconv-Cluster-abc",
        "REPOSITORY": "imageconv-repo",
        "API_URL": api_url,
        "API_KEYS_SECRET": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ApiKeysSecret-abc",
        "TAG": "0123456789abcdef0123456789abcdef01234567",
        "DIGEST": DIGEST,
        "KEY": KEY,
        "PREVIOUS": PREVIOUS,
        "NEXT": NEXT,
        "LOADED_ID": IMAGE_ID,
        "ROLLOUT": "COMPLETED",
        "DESIRED": "2",
        **state,
    }
    assert set(job["env"]) <= set(env), set(job["env"]) - set(env)
    failed, outputs, log = False, {}, []
    for step in job["steps"]:
        if "run" not in step or not _condition(step.get("if"), failed, outputs):
            continue
        output_file = tmp_path / f"output-{len(log)}"
        output_file.touch()
        step_env = {}
        for key, value in (step.get("env") or {}).items():
            m = re.fullmatch(r"\$\{\{ steps\.(\w+)\.outputs\.(\w+) \}\}", value)
            step_env[key] = outputs.get(m.group(1), {}).get(m.group(2), "") if m else value
        r = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=work,
            env={**env, **step_env, "GITHUB_OUTPUT": str(output_file)},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        log.append(f"--- {step['name']}: exit {r.returncode}\n{r.stdout}{r.stderr}")
        if "id" in step:
            outputs[step["id"]] = dict(
                line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line
            )
        failed = failed or r.returncode != 0
    return not failed, state_dir, "\n".join(log)


def _calls(state: Path) -> list[str]:
    return (state / "calls").read_text().splitlines()


def _rolled_to(state: Path) -> list[str]:
    return [re.search(r"--task-definition (\S+)", c).group(1) for c in _calls(state) if "ecs update-service" in c]


def test_a_good_rollout_promotes_the_tested_image_by_digest_smoke_tests_it_then_tags_it(tmp_path, public_api):
    api, url = public_api
    ok, state, log = run_deploy(tmp_path, url)
    assert ok, log
    calls = _calls(state)
    assert not any(c.startswith("docker build") for c in calls), "promote, don't rebuild"
    push = calls.index(next(c for c in calls if c.startswith("docker push")))
    register = calls.index(next(c for c in calls if "register-task-definition" in c))
    assert push < register
    registered = json.loads((state / "registered.json").read_text())
    images = {c["name"]: c["image"] for c in registered["containerDefinitions"]}
    account = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert images == {"service": f"{account}/imageconv-repo@{DIGEST}", "cloudwatch-agent": "agent:1"}
    assert _rolled_to(state) == [NEXT]
    assert api.keys == [KEY], "one conversion through the public URL, with a key from the secret"
    tagged = (state / "tagged").read_text()
    assert "--image-tag deployed-" in tagged and "0123456789ab" in tagged
    assert f"imageDigest={DIGEST}" in " ".join(calls)


def test_a_failed_smoke_test_rolls_back_to_the_previous_revision_and_tags_nothing(tmp_path, public_api):
    api, url = public_api
    for mode in ("broken", "wrong"):
        api.mode = mode
        ok, state, log = run_deploy(tmp_path / mode, url)
        assert not ok, log
        assert _rolled_to(state) == [NEXT, PREVIOUS], log
        assert not (state / "tagged").exists(), "deployed-* only after the smoke test passed"
        assert "smoke test:" in log


def test_a_rollout_ecs_fails_is_not_rolled_back_twice_and_not_tagged(tmp_path, public_api):
    api, url = public_api
    ok, state, log = run_deploy(tmp_path, url, ROLLOUT="FAILED")
    assert not ok and "failed and was rolled back" in log, log
    assert _rolled_to(state) == [NEXT], "ECS already returned to the previous revision"
    assert api.keys == [] and not (state / "tagged").exists()


def test_an_artifact_that_is_not_the_tested_image_is_never_pushed(tmp_path, public_api):
    _, url = public_api
    ok, state, log = run_deploy(tmp_path, url, LOADED_ID="sha256:" + "99" * 32)
    assert not ok and "not the" in log, log
    assert not any(c.startswith(("docker push", "aws ecs")) for c in _calls(state))


def test_the_first_image_is_deployed_without_a_smoke_test_or_tag_and_says_so(tmp_path, public_api):
    api, url = public_api
    ok, state, log = run_deploy(tmp_path, url, DESIRED="0")
    assert ok, log
    assert api.keys == [] and not (state / "tagged").exists()
    assert "runs no task yet" in log


def test_a_missing_environment_variable_fails_before_anything_changes(tmp_path, public_api):
    _, url = public_api
    ok, state, log = run_deploy(tmp_path, url, API_URL="")
    assert not ok and "no variable API_URL" in log
    assert not any(c.startswith(("docker", "aws ecs")) for c in _calls(state))


# ---------------------------------------------------------------- ops/smoke.py against the service
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _smoke(url: str, key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "ops" / "smoke.py"), url],
        env={**os.environ, "SMOKE_API_KEY": key},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_smoke_test_passes_against_the_real_service_and_fails_without_the_key(tmp_path):
    port = _free_port()
    key = "smoke-test-key-0123456789"
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "1",
        "API_KEYS": key,
        "STORAGE_DIR": str(tmp_path / "jobs"),
    }
    log = (tmp_path / "service.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "service.log").read_text()
            time.sleep(0.2)
        passed = _smoke(base, key)
        assert passed.returncode == 0, passed.stdout + passed.stderr
        assert "smoke test passed" in passed.stdout
        # Without a key the service answers 401 before reading the upload (and closes): a failure.
        refused = _smoke(base, "")
        assert refused.returncode == 1 and "smoke test: POST /api/convert" in refused.stdout, refused.stdout
    finally:
        proc.terminate()
        proc.wait(60)
        log.close()


def test_the_smoke_test_names_what_is_wrong(public_api):
    api, url = public_api
    api.mode = "wrong"
    r = _smoke(url, KEY)
    assert r.returncode == 1 and "not image/webp" in r.stdout, r.stdout
    assert _smoke("ftp://nowhere", KEY).returncode == 2
