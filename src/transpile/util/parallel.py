"""Spreading per-file work of a batch over a process pool, with results in input order."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from . import timing
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
    started = time.perf_counter()
    pool = ProcessPoolExecutor(workers, initializer=_start_worker)
    try:
        # a few chunks per worker: fewer round trips, yet a slow file does not idle the others
        for result in pool.map(work, items, chunksize=max(1, len(items) // (workers * 4))):
            if not done:
                timing.add("pool start to first result", time.perf_counter() - started)
            yield result
            done += 1
    except BrokenProcessPool:
        # a worker died (killed, out of memory): the rest done in-process gives the same results
        pool.shutdown(wait=True)
        yield from map(work, items[done:])
    except BaseException:  # Ctrl-C in the parent, or the consumer stopped early
        _stop(pool)
        raise
    else:
        pool.shutdown(wait=True)


def _start_worker() -> None:
    """Ctrl-C is the parent's to handle: a worker that took it too would print its traceback.
    A worker started afresh (spawn, forkserver) also needs the CLI's warning filters."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    silence_code_warnings()


def _stop(pool) -> None:
    """End the workers now, without waiting for the files they are on."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(5)
