"""``transpile verify DIR... --to FW -o REPORT_DIR``: many files verified in parallel, a result
file per source mirrored under REPORT_DIR, and ``summary.json`` for CI.

Each verification already runs its sides as subprocesses, so the parallelism here is threads,
``jobs`` verifications at a time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from transpile.util.fileio import Source, write_output

from .check import NothingToVerify, Verification, VerifyError, verify_file
from .render import as_dict, render

SUMMARY_FILE = "summary.json"
EXTENSIONS = {"json": ".json", "md": ".md", "text": ".txt"}
Progress = Callable[[Iterator["Entry"], int], AbstractContextManager[Iterator["Entry"]]]


@dataclass(frozen=True)
class Entry:
    source: Source
    status: str  # same | differs | error | skipped
    reason: str = ""  # why it is an error (could not start or run) or skipped
    result: Verification | None = None
    report: str = ""  # the result file, relative to the report folder


def verify_all(
    found: list[Source],
    target: str,
    *,
    jobs: int,
    progress: Progress,
    **options: Any,
) -> list[Entry]:
    """Each file verified (``options`` as ``verify_file`` takes them), in ``found``'s order."""

    def one(source: Source) -> Entry:
        try:
            result = verify_file(source.path, target, **options)
        except NothingToVerify as exc:
            return Entry(source, "skipped", str(exc))
        except VerifyError as exc:
            return Entry(source, "error", str(exc))
        return Entry(source, result.verdict, result.error, result)

    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        entries = pool.map(one, found)
        with progress(entries, len(found)) as shown:
            return list(shown)


def write_reports(entries: list[Entry], folder: str, fmt: str, force: bool) -> list[Entry]:
    """Each verified file's result under ``folder`` (its relative path, ``.py`` → the format's
    extension), then ``summary.json``; the entries with their report names. Raises OSError with
    the reason when a file cannot be written."""
    written = []
    for entry in entries:
        if entry.result is None:
            written.append(entry)
            continue
        name = str(PurePosixPath(entry.source.relative).with_suffix(EXTENSIONS[fmt]))
        problem = write_output(f"{folder}/{name}", render(entry.result, fmt), force)
        if problem:
            raise OSError(problem)
        written.append(Entry(entry.source, entry.status, entry.reason, entry.result, name))
    problem = write_output(f"{folder}/{SUMMARY_FILE}", summary_json(written), force)
    if problem:
        raise OSError(problem)
    return written


def counts(entries: list[Entry]) -> dict[str, int]:
    return {s: sum(e.status == s for e in entries) for s in ("same", "differs", "error", "skipped")}


def summary_json(entries: list[Entry]) -> str:
    files = []
    for e in entries:
        row: dict[str, Any] = {
            "path": e.source.path,
            "status": e.status,
            "report": e.report or None,
        }
        row["reason"] = e.reason or None
        row["result"] = as_dict(e.result) if e.result is not None else None
        files.append(row)
    data = {"schema_version": 1, "counts": counts(entries), "files": files}
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def exit_code(entries: list[Entry]) -> int:
    """2 when a file could not be verified (or none was), 1 when one differs, else 0."""
    found = counts(entries)
    if found["error"] or not (found["same"] or found["differs"]):
        return 2
    return 1 if found["differs"] else 0
