"""CPU per image, the robust figure on a shared machine: one request at a time, the systems taking
turns (A B C, B C A, ...), each request's cost read from /proc as the CPU its whole process tree
used from before the request to after the answer. Background load then falls on every system
alike, and an idle system's own housekeeping is too small to matter against an image's cost.

/proc counts in clock ticks (10 ms), so one request's reading is coarse; the report uses the mean
over the rounds, which the tick rounding does not bias (and the median beside it)."""

from __future__ import annotations

import time

import httpx

from . import procs
from .matrix import Cell, rotation
from .procs import Meter
from .results import CpuRound
from .targets import Request, Target

MIN_ROUNDS = 3  # a median needs three

MIN_ROUNDS = 3  # a median needs three


def one_request(target: Target, request: Request, client: httpx.Client) -> float:
    """CPU seconds the target's process tree spent on one request."""
    pids = target.pids()
    before = procs.cpu_by_pid(pids)
    request.send(client)
    return procs.cpu_delta(before, procs.cpu_by_pid(target.pids()))


def measure(
    cell: Cell,
    systems: dict[str, tuple[Target, Request]],
    max_rounds: int,
    budget_seconds: float,
    extra_pids: list[int],
    client: httpx.Client,
) -> CpuRound:
    """Rounds until `max_rounds`, or until the budget is spent once three rounds are done."""
    names = list(systems)
    samples: dict[str, list[float]] = {name: [] for name in names}
    meter = Meter(extra_pids)
    started = time.monotonic()
    rounds = 0
    while rounds < max_rounds and (rounds < MIN_ROUNDS or time.monotonic() - started < budget_seconds):
        for name in rotation(names, rounds):
            target, request = systems[name]
            try:
                samples[name].append(round(one_request(target, request, client) * 1000, 1))
            except httpx.HTTPError:  # left out of the mean; the throughput phase counts errors
                continue
        rounds += 1
    return CpuRound(cell, rounds, samples, meter.stop())
