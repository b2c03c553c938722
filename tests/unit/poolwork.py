"""Tasks for the pool tests. They run inside real pool workers, so they live in a module the
workers can import by name (the forkserver inherits the test run's sys.path)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


class Span:
    """What a task reports: the worker that ran it and when (time.time())."""

    def __init__(self, pid: int, start: float, end: float, value: object = None) -> None:
        self.pid, self.start, self.end, self.value = pid, start, end, value


def sleep(seconds: float) -> Span:
    start = time.time()
    time.sleep(seconds)
    return Span(os.getpid(), start, time.time())


def touch(path: str) -> Span:
    """Leaves a mark, so a test can tell whether the task ever ran."""
    start = time.time()
    Path(path).write_text("ran")
    return Span(os.getpid(), start, time.time())


def crash(after: float) -> Span:
    time.sleep(after)
    os._exit(3)  # as an out-of-memory kill would: no exception, the process is just gone


def stop(_: object) -> Span:
    os.kill(os.getpid(), signal.SIGSTOP)  # hangs here until the pool notices and kills it
    return Span(os.getpid(), 0, 0)
