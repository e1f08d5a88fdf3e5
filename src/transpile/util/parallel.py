"""Spreading per-file work of a batch over a process pool, with results in input order."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from .syntax import silence_code_warnings

Item = TypeVar("Item")
Result = TypeVar("Result")


def default_jobs() -> int:
    return os.cpu_count() or 1


def ordered_map(
    work: Callable[[Item], Result], items: Sequence[Item], jobs: int, minimum: int = 2
) -> Iterator[Result]:
    """``work`` over ``items`` in input order: in-process for ``jobs`` 1 or fewer than ``minimum``
    items (a pool costs more than it saves there), else over ``jobs`` processes."""
    if jobs <= 1 or len(items) < minimum:
        yield from map(work, items)
        return
    # imported here: multiprocessing costs start-up time a one-file lint must not pay
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    workers = min(jobs, len(items))
    done = 0
    try:
        # a worker started afresh (spawn, forkserver) does not inherit the CLI's warning filters
        with ProcessPoolExecutor(workers, initializer=silence_code_warnings) as pool:
            # a few chunks per worker: fewer round trips, yet a slow file does not idle the others
            for result in pool.map(work, items, chunksize=max(1, len(items) // (workers * 4))):
                yield result
                done += 1
    except BrokenProcessPool:
        # a worker died (killed, out of memory): the rest done in-process gives the same results
        yield from map(work, items[done:])
