"""service/ecs.py against local stand-ins of the two ECS endpoints, answering as AWS documents them:
the agent's task scale-in protection endpoint (PUT/GET $ECS_AGENT_URI/task-protection/v1/state)
and the task metadata endpoint v4 ($ECS_CONTAINER_METADATA_URI_V4/task, Limits.CPU in vCPUs).
Loopback only. Then the two hooks: WORKERS=auto on ECS, and the job runner protecting its task
while it holds items and releasing them at once when draining."""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from service import ecs
from service.cpu import usable_cpus
from service.settings import SettingsError, load_settings

TASK_ARN = "arn:aws:ecs:eu-west-1:123456789012:task/imageconv-Cluster-abc/0123456789abcdef0123456789abcdef"


class StandIn:
    """The ECS agent's endpoints as documented, recording every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self.protection = {"ProtectionEnabled": False, "TaskArn": TASK_ARN}
        self.task: dict[str, Any] = {
            "Cluster": "imageconv-Cluster-abc",
            "TaskARN": TASK_ARN,
            "Family": "imageconv-service",
            "Revision": "7",
            "DesiredStatus": "RUNNING",
            "KnownStatus": "RUNNING",
            "Limits": {"CPU": 2, "Memory": 4096},
            "Containers": [{"Name": "service", "Limits": {"CPU": 1984, "Memory": 3968}}],
        }
        self.mode = "ok"  # ok | failure | down

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = body
        self.requests.append((method, path, parsed))
        if path == "/v4/task" and method == "GET":
            return 200, self.task
        if path != "/api/task-protection/v1/state":
            return 404, {"error": {"Code": "NotFound", "Message": path}}
        if self.mode == "down":
            return 500, {"error": {"Arn": TASK_ARN, "Code": "ServerException", "Message": "agent unavailable"}}
        if method == "GET":
            return 200, {"protection": self.protection}
        if method != "PUT":
            return 405, {"error": {"Code": "InvalidRequest", "Message": method}}
        enabled = parsed.get("ProtectionEnabled") if isinstance(parsed, dict) else None
        minutes = parsed.get("ExpiresInMinutes", 120) if isinstance(parsed, dict) else None
        if not isinstance(enabled, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 2880:
            return 400, {
                "error": {
                    "Arn": TASK_ARN,
                    "Code": "InvalidParameterException",
                    "Message": "UpdateTaskProtection: failed to decode request",
                }
            }
        if self.mode == "failure":
            return 200, {"failure": {"Arn": TASK_ARN, "Reason": "TASK_NOT_VALID", "Detail": "the task is stopping"}}
        self.protection = {"ProtectionEnabled": enabled, "TaskArn": TASK_ARN}
        if enabled:
            self.protection["ExpirationDate"] = f"2026-12-04T20:00:00Z (+{minutes} min)"
        return 200, {"protection": self.protection}

    def puts(self) -> list[dict[str, Any]]:
        return [body for method, path, body in self.requests if method == "PUT"]


@pytest.fixture
def agent() -> Iterator[tuple[StandIn, str]]:
    stand_in = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, payload = stand_in.answer(self.command, self.path, self.rfile.read(length))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = _serve

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- task metadata: WORKERS=auto
def test_the_task_cpu_limit_comes_from_limits_cpu_in_vcpus(agent):
    stand_in, base = agent
    assert ecs.task_cpu_limit(f"{base}/v4") == 2.0
    stand_in.task["Limits"]["CPU"] = 0.5
    assert ecs.task_cpu_limit(f"{base}/v4") == 0.5
    stand_in.task["Limits"]["CPU"] = 4096  # CPU units, whatever an agent might say: 4 vCPUs
    assert ecs.task_cpu_limit(f"{base}/v4") == 4.0
    del stand_in.task["Limits"]  # a task without a task-level limit (EC2 may omit it)
    assert ecs.task_cpu_limit(f"{base}/v4") is None
    assert ("GET", "/v4/task", None) in stand_in.requests


def test_no_answer_means_no_limit():
    assert ecs.task_cpu_limit("http://127.0.0.1:9/v4", timeout=0.5) is None
    assert ecs.task_cpu_limit("") is None


def test_workers_follow_the_task_limit_rounded_up_within_the_cgroup_view():
    assert ecs.workers_for(None, 8) == 8
    assert ecs.workers_for(2.0, 8) == 2
    assert ecs.workers_for(1.5, 8) == 2
    assert ecs.workers_for(0.25, 8) == 1
    assert ecs.workers_for(4.0, 2) == 2, "never above what affinity and the cgroup allow"


def test_workers_auto_on_ecs_reads_the_task_metadata(agent):
    stand_in, base = agent
    stand_in.task["Limits"]["CPU"] = 1
    settings = load_settings({"WORKERS": "auto", "ECS_CONTAINER_METADATA_URI_V4": f"{base}/v4"})
    assert settings.workers == min(usable_cpus(), 1) == 1
    stand_in.task["Limits"]["CPU"] = 64
    assert load_settings({"ECS_CONTAINER_METADATA_URI_V4": f"{base}/v4"}).workers == usable_cpus()
    # An explicit count is the operator's: the endpoint is not asked.
    asked = len(stand_in.requests)
    assert load_settings({"WORKERS": "3", "ECS_CONTAINER_METADATA_URI_V4": f"{base}/v4"}).workers == 3
    assert len(stand_in.requests) == asked
    # Off ECS (no variable): the cgroup view alone.
    assert load_settings({}).workers == usable_cpus()
    with pytest.raises(SettingsError, match="ECS_AGENT_URI"):
        load_settings({"ECS_AGENT_URI": "not a url"})


# ---------------------------------------------------------------- scale-in protection
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_protection_is_on_while_holding_renewed_before_it_lapses_and_off_after_an_idle_grace(agent):
    stand_in, base = agent
    clock = Clock()
    p = ecs.ScaleInProtection(f"{base}/api", 7, idle_grace=15, clock=clock)

    async def scenario() -> None:
        await p.step(holding=True)
        assert stand_in.puts() == [{"ProtectionEnabled": True, "ExpiresInMinutes": 7}]
        assert p.protected and stand_in.protection["ProtectionEnabled"] is True
        clock.now += 60
        await p.step(holding=True)  # well inside the 7 minutes: no call
        assert len(stand_in.puts()) == 1
        clock.now += 4 * 60  # past half of it: renewed
        await p.step(holding=True)
        assert stand_in.puts()[-1] == {"ProtectionEnabled": True, "ExpiresInMinutes": 7}
        assert len(stand_in.puts()) == 2
        clock.now += 5
        await p.step(holding=False)  # idle, but the next item may come at once
        clock.now += 5
        await p.step(holding=True)
        clock.now += 5
        await p.step(holding=False)
        assert len(stand_in.puts()) == 2 and p.protected
        clock.now += 16
        await p.step(holding=False)
        assert stand_in.puts()[-1] == {"ProtectionEnabled": False}
        assert not p.protected and stand_in.protection["ProtectionEnabled"] is False

    asyncio.run(scenario())


def test_draining_clears_protection_at_once(agent):
    stand_in, base = agent
    clock = Clock()
    p = ecs.ScaleInProtection(f"{base}/api", 7, idle_grace=15, clock=clock)

    async def scenario() -> None:
        await p.step(holding=True)
        await p.step(holding=True, draining=True)  # items are released: nothing to protect
        assert stand_in.puts()[-1] == {"ProtectionEnabled": False} and not p.protected

    asyncio.run(scenario())


def test_a_replica_busy_without_a_break_stops_renewing_after_max_minutes(agent):
    stand_in, base = agent
    clock = Clock()
    p = ecs.ScaleInProtection(f"{base}/api", 7, max_minutes=20, clock=clock)

    async def scenario() -> None:
        for _ in range(9):  # t = 0 .. 28 min, holding all along
            await p.step(holding=True)
            clock.now += 3.5 * 60
        enabled = [b for b in stand_in.puts() if b["ProtectionEnabled"]]
        # Renewed every 3.5 min up to 20 min, then left to lapse (ECS drops it 7 min after the last
        # renewal, at 24.5 min) and not asked again for pause_seconds (5 min): the task can be taken.
        assert len(enabled) == math.ceil(20 / 3.5), enabled
        assert not p.protected
        clock.now += 3.5 * 60  # 31.5 min: the pause is over, a new protected stretch begins
        await p.step(holding=True)
        assert p.protected and len([b for b in stand_in.puts() if b["ProtectionEnabled"]]) == len(enabled) + 1

    asyncio.run(scenario())


def test_refusals_and_errors_of_the_agent_are_retried_later_not_hammered(agent):
    stand_in, base = agent
    clock = Clock()
    p = ecs.ScaleInProtection(f"{base}/api", 7, retry_seconds=10, clock=clock)

    async def scenario() -> None:
        stand_in.mode = "failure"  # {"failure": {...}}: not protected
        await p.step(holding=True)
        assert not p.protected and len(stand_in.puts()) == 1
        clock.now += 5
        await p.step(holding=True)
        assert len(stand_in.puts()) == 1, "waits retry_seconds"
        stand_in.mode = "down"  # HTTP 500 {"error": {...}}
        clock.now += 6
        await p.step(holding=True)
        assert not p.protected and len(stand_in.puts()) == 2
        stand_in.mode = "ok"
        clock.now += 11
        await p.step(holding=True)
        assert p.protected and len(stand_in.puts()) == 3

    asyncio.run(scenario())


def test_the_request_is_the_documented_one(agent):
    stand_in, base = agent
    p = ecs.ScaleInProtection(f"{base}/api/", 2881)  # clamped to the documented 2880
    assert asyncio.run(p.set(True))
    assert stand_in.requests[-1] == (
        "PUT",
        "/api/task-protection/v1/state",
        {"ProtectionEnabled": True, "ExpiresInMinutes": 2880},
    )
    assert ecs.protection_for("", 300) is None
    assert ecs.protection_for(f"{base}/api", 300).minutes == 7  # the longest item + 2 minutes


def test_follow_clears_protection_when_the_replica_stops(agent):
    stand_in, base = agent

    async def scenario() -> None:
        p = ecs.ScaleInProtection(f"{base}/api", 7)
        task = asyncio.create_task(p.follow(lambda: True, lambda: False, interval=0.01))
        for _ in range(200):
            if p.protected:
                break
            await asyncio.sleep(0.01)
        assert p.protected
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert stand_in.puts()[-1] == {"ProtectionEnabled": False} and not p.protected

    asyncio.run(scenario())


# ---------------------------------------------------------------- the job runner's hooks
def test_the_runner_protects_its_task_while_holding_and_releases_items_at_once_on_drain(agent, tmp_path):
    from types import SimpleNamespace

    from service.jobs.runner import JobRunner
    from service.jobs.store import JobStore

    stand_in, base = agent
    settings = load_settings({"WORKERS": "2", "STORAGE_DIR": str(tmp_path), "ECS_AGENT_URI": f"{base}/api"})
    # The runner only needs the pool's size until it dispatches an item, which it never does here.
    engine = SimpleNamespace(pool=SimpleNamespace(size=2), settings=settings, limits=settings.limits)
    draining = {"now": False}

    async def scenario() -> None:
        runner = JobRunner(JobStore(tmp_path), engine, draining=lambda: draining["now"])  # type: ignore[arg-type]
        assert runner.protection is not None
        runner.protection.idle_grace = 0.2
        await runner.start()
        released = asyncio.Event()

        async def item() -> None:  # stands for ItemWork.carry: interrupted, it releases its lease
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                released.set()
                raise

        runner.held[("job", "e0")] = asyncio.create_task(item())  # type: ignore[index]
        for _ in range(300):
            if runner.protection.protected:
                break
            await asyncio.sleep(0.01)
        assert stand_in.puts()[0] == {"ProtectionEnabled": True, "ExpiresInMinutes": 7}
        draining["now"] = True  # SIGTERM
        await asyncio.wait_for(released.wait(), 5)  # released at once, not after a drain budget
        for _ in range(300):
            if not runner.protection.protected:
                break
            await asyncio.sleep(0.01)
        assert stand_in.puts()[-1] == {"ProtectionEnabled": False}
        await runner.stop(5)

    asyncio.run(scenario())
