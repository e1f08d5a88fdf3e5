"""Opt-in per-phase timers (``TRANSPILE_TIMINGS=1``): where a run's time goes, printed to stderr
when the process ends. Totals are inclusive wall seconds summed over files (and over the workers
of a batch, which send theirs back with each file): ``rewrite`` is part of ``read``, ``render``,
``provide missing`` and ``finish`` part of ``write``. Off, a phase costs one attribute test."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

ENABLED = os.environ.get("TRANSPILE_TIMINGS", "") not in ("", "0")

_totals: dict[str, float] = {}


@contextmanager
def phase(name: str) -> Iterator[None]:
    if not ENABLED:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        add(name, time.perf_counter() - start)


def add(name: str, amount: float) -> None:
    """Count ``amount`` (seconds, or another quantity its name says) towards ``name``."""
    _totals[name] = _totals.get(name, 0.0) + amount


def take() -> dict[str, float] | None:
    """This process's totals so far, now zero (a worker sends them with a file's result)."""
    if not ENABLED:
        return None
    found = dict(_totals)
    _totals.clear()
    return found


def merge(totals: dict[str, float] | None) -> None:
    for name, amount in (totals or {}).items():
        add(name, amount)


def report() -> None:
    if not ENABLED or not _totals:
        return
    width = max(map(len, _totals))
    lines = [f"  {name:<{width}}  {amount:10.3f}" for name, amount in sorted(_totals.items())]
    sys.stderr.write("transpile timings (seconds, summed over files and workers):\n")
    sys.stderr.write("\n".join(lines) + "\n")
