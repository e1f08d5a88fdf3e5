"""Writers format with ruff from threads too (``verify -j 2`` converts in a thread per file): ruff's
``find_ruff_bin`` reads ``sysconfig``'s variables, which Python 3.11 fills on first use without
a lock, so two threads asking at once could fail with "can only concatenate str (not
"NoneType") to str" (an internal error that ended a whole ``verify`` batch)."""

from __future__ import annotations

import subprocess
import sys

RACE = """
import threading

from transpile.writing.render import _ruff_bin

errors = []


def ask():
    try:
        _ruff_bin()
    except TypeError as exc:
        errors.append(exc)


threads = [threading.Thread(target=ask) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(errors))
"""


def test_eight_threads_find_ruff_at_once_in_a_fresh_interpreter():
    counts = [
        subprocess.run(
            [sys.executable, "-c", RACE], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(6)  # the unguarded lookup failed in about half of such runs
    ]
    assert counts == ["0"] * 6
