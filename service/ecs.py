"""What the service asks of ECS when it runs there, through the two endpoints ECS gives every task;
elsewhere (both variables unset) nothing here does anything.

- The task's CPU limit, from the task metadata endpoint v4 (`$ECS_CONTAINER_METADATA_URI_V4/task`,
  `Limits.CPU`, in vCPUs): on ECS the limit is the task's, not the container's cgroup, so
  `WORKERS=auto` would otherwise start a worker per vCPU of the instance.
- Task scale-in protection, through the ECS agent (`$ECS_AGENT_URI/task-protection/v1/state`,
  PUT `{"ProtectionEnabled": bool, "ExpiresInMinutes": n}`, answered `{"protection": {...}}`, or
  `{"failure": {...}}` / `{"error": {...}}`): while this replica holds job items, neither a
  scale-in nor a deployment stops its task; it is cleared once the replica has been idle a while.

Standard library HTTP only, run in a thread: two small local calls, no client dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

__all__ = ["PROTECTION_PATH", "EcsError", "ScaleInProtection", "protection_for", "task_cpu_limit", "workers_for"]

log = logging.getLogger("service.ecs")

PROTECTION_PATH = "/task-protection/v1/state"
# ECS tasks have at most 192 vCPUs: a larger Limits.CPU can only be CPU units (1024 per vCPU).
_MAX_TASK_VCPUS = 192


class EcsError(Exception):
    pass


def _call(method: str, url: str, body: dict[str, Any] | None, timeout: float) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
    except urllib.error.HTTPError as e:  # the agent answers errors with a JSON body too
        raw = e.read()
        if not raw:
            raise EcsError(f"{method} {url}: HTTP {e.code}") from None
    except (OSError, ValueError) as e:
        raise EcsError(f"{method} {url}: {e}") from None
    try:
        answer = json.loads(raw)
    except ValueError:
        raise EcsError(f"{method} {url}: not JSON: {raw[:200]!r}") from None
    if not isinstance(answer, dict):
        raise EcsError(f"{method} {url}: unexpected answer {raw[:200]!r}")
    return answer


# ---------------------------------------------------------------- task metadata: the CPU limit
def task_cpu_limit(metadata_uri: str, timeout: float = 2.0) -> float | None:
    """The task's CPU limit in vCPUs, or None when the endpoint cannot tell (no limit set, no
    answer): the caller keeps the cgroup's view then."""
    if not metadata_uri:
        return None
    try:
        task = _call("GET", metadata_uri.rstrip("/") + "/task", None, timeout)
    except EcsError:
        return None
    limits = task.get("Limits")
    cpu = limits.get("CPU") if isinstance(limits, dict) else None
    if not isinstance(cpu, int | float) or isinstance(cpu, bool) or cpu <= 0:
        return None
    return float(cpu) / 1024 if cpu > _MAX_TASK_VCPUS else float(cpu)


def workers_for(limit: float | None, usable: int) -> int:
    """WORKERS=auto on ECS: the cgroup/affinity count `usable`, capped by the task's limit rounded
    up (1.5 vCPU -> 2), never below one."""
    if limit is None:
        return usable
    return max(1, min(usable, math.ceil(limit - 1e-9)))


# ---------------------------------------------------------------- scale-in protection
class ScaleInProtection:
    """Follows `holding()` (does this replica hold job items?) and keeps the task's scale-in
    protection in step: on while holding, renewed before it lapses; off once idle for
    `idle_grace` seconds (items come one after another: no on/off per item) or when draining.

    Protection lasts `minutes` from each renewal, so a replica that dies protected is released by
    ECS itself soon after. A replica busy without a break for `max_minutes` stops renewing and,
    once ECS has dropped the protection, stays unprotected for `pause_seconds`: a deployment or a
    scale-in waiting for the task waits at most about `max_minutes` + `minutes`, then takes it
    (its items are released to other replicas at SIGTERM)."""

    def __init__(
        self,
        agent_uri: str,
        minutes: int,
        *,
        max_minutes: int = 60,
        pause_seconds: float = 300.0,
        idle_grace: float = 15.0,
        retry_seconds: float = 10.0,
        timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = agent_uri.rstrip("/") + PROTECTION_PATH
        self.minutes = max(1, min(2880, minutes))
        self.max_seconds = max_minutes * 60.0
        self.pause_seconds = pause_seconds
        self.idle_grace = idle_grace
        self.retry_seconds = retry_seconds
        self.timeout = timeout
        self.clock = clock
        self.protected = False
        self.protected_since: float | None = None
        self._renew_at = 0.0
        self._expires_at = 0.0
        self._idle_since: float | None = None
        self._next_try = 0.0

    async def set(self, enabled: bool) -> bool:
        """One PUT to the agent; True when it confirmed the state asked for."""
        body: dict[str, Any] = {"ProtectionEnabled": enabled}
        if enabled:
            body["ExpiresInMinutes"] = self.minutes
        try:
            answer = await asyncio.to_thread(_call, "PUT", self.url, body, self.timeout)
        except EcsError as exc:
            log.warning("task protection call failed", extra={"enabled": enabled, "error": str(exc)})
            return False
        state = answer.get("protection")
        if not isinstance(state, dict) or state.get("ProtectionEnabled") is not enabled:
            problem = answer.get("failure") or answer.get("error") or answer
            log.warning("task protection refused", extra={"enabled": enabled, "answer": json.dumps(problem)[:500]})
            return False
        now = self.clock()
        if enabled:
            if not self.protected:
                self.protected_since = now
                log.info("task protected from scale-in while it holds job items", extra={"minutes": self.minutes})
            self._renew_at = now + self.minutes * 60 / 2
            self._expires_at = now + self.minutes * 60
        else:
            self.protected_since = None
            log.info("task scale-in protection cleared")
        self.protected = enabled
        return True

    async def step(self, holding: bool, draining: bool = False) -> None:
        """Bring protection in line with what the replica does now (called every second or so)."""
        now = self.clock()
        if self.protected and now >= self._expires_at:
            # Not renewed in time (busy past max_minutes, or the agent failed): ECS has dropped it.
            # Stay unprotected a while, so a deployment or scale-in waiting for it can take it.
            self.protected, self.protected_since = False, None
            self._next_try = max(self._next_try, now + self.pause_seconds)
            log.info("task scale-in protection lapsed", extra={"pause_s": self.pause_seconds})
        if now < self._next_try:
            return
        want: bool | None = None
        if holding and not draining:
            self._idle_since = None
            capped = self.protected_since is not None and now - self.protected_since >= self.max_seconds
            if (not self.protected or now >= self._renew_at) and not capped:
                want = True
        elif self.protected:
            if self._idle_since is None:
                self._idle_since = now
            if draining or now - self._idle_since >= self.idle_grace:
                want = False
        if want is not None and not await self.set(want):
            self._next_try = now + self.retry_seconds

    async def follow(self, holding: Callable[[], bool], draining: Callable[[], bool], interval: float = 1.0) -> None:
        """Run until cancelled; on the way out, clear the protection (the replica is stopping)."""
        try:
            while True:
                await self.step(holding(), draining())
                await asyncio.sleep(interval)
        finally:
            if self.protected:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.set(False))


def protection_for(agent_uri: str, item_timeout_seconds: float) -> ScaleInProtection | None:
    """Protection for a replica whose items take at most `item_timeout_seconds`, or None off ECS.
    Each renewal covers the longest item plus two minutes."""
    if not agent_uri:
        return None
    return ScaleInProtection(agent_uri, math.ceil(item_timeout_seconds / 60) + 2)
