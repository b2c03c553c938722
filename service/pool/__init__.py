"""The libvips process pool: sizing, bounded admission, lanes, deadlines, runaway and crash recovery.

The package's face: the rest of the service imports from here. Where each part lives: `lanes`
(the lanes and their limits), `policy` (the scheduling rules, pure functions over a snapshot of
worker loads), `slots` (one worker process and its lifecycle), `board` (the hand-off board shared
with a worker), `watchdog` (which workers to kill and replace), `tickets` (admission: a request's place),
`dispatch` (the WorkerPool that puts them together), `errors` (the pool's refusals).
"""

from .dispatch import WorkerPool
from .errors import DeadlineExceeded, Overloaded, PoolClosed, PoolError, WorkerCrashed
from .lanes import Lane, background_limit
from .tickets import Ticket

__all__ = [
    "DeadlineExceeded",
    "Lane",
    "Overloaded",
    "PoolClosed",
    "PoolError",
    "Ticket",
    "WorkerCrashed",
    "WorkerPool",
    "background_limit",
]
