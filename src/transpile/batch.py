"""Converting many files at once: each converted in a worker of a process pool (or in this
process), all formatted in one ruff run, then written in input order. No printing here: the CLI
says what happened (``cli.py``)."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from functools import partial
from typing import Literal

from . import api, frameworks
from .model.diagnostics import TranspileError, rendered
from .util import timing
from .util.fileio import Source, entry_destination, overwrite_refusal, write_outputs
from .util.parallel import default_jobs, ordered_map
from .util.text import GENERATED_MARKER
from .writing.render import format_code, format_many, formatting_deferred

# wraps the stream of attempts as they come in: a progress bar on a terminal, else nothing
Progress = Callable[[Iterator["Attempt"], int], AbstractContextManager[Iterator["Attempt"]]]


@dataclass(frozen=True)
class Job:
    """The options of one ``convert`` run."""

    target: str
    source_fw: str
    force: bool
    strict: bool
    entry: str | None = None  # --entry (one source file only)


@dataclass(frozen=True)
class Outcome:
    """What happened to one file of a batch; ``reason`` explains a failure or a skip."""

    path: str
    status: Literal["converted", "skipped", "failed"]
    reason: str = ""
    lossy: bool = False


@dataclass(frozen=True)
class Attempt:
    """One file converted by a worker: its outcome so far, its unformatted code, its diagnostics."""

    source: Source
    outcome: Outcome
    code: str = ""
    diagnostics: tuple[str, ...] = ()
    timings: dict[str, float] | None = None  # TRANSPILE_TIMINGS=1: the worker's, for this file
    others: tuple[tuple[str, str], ...] = ()  # the file's other pipelines: (name, code)


# Below this much source the batch converts in this process: starting the pool (importing every
# reader for the workers to share, forking, collecting results: about 0.25 s) costs more than
# a second core saves on about 0.5 s of conversion, some 100 KB of Python (measured: README,
# Performance).
POOL_MINIMUM_BYTES = 100_000


def attempts(found: list[Source], job: Job, jobs: int | None, progress: Progress) -> list[Attempt]:
    """Every file converted, in input order, over a process pool unless ``jobs`` is 1;
    ``progress`` wraps the results as they come (a progress bar, or nothing)."""
    jobs = jobs or default_jobs()
    if jobs > 1 and len(found) > 1 and _size(found) < POOL_MINIMUM_BYTES:
        jobs = 1
    if jobs > 1 and len(found) > 1:
        preload(job)  # imported once here, shared by the forked workers
    work = partial(timed_attempt, job=job)
    with progress(ordered_map(work, found, jobs), len(found)) as items:
        done = list(items)
    for item in done:
        timing.merge(item.timings)
    return done


def _size(found: list[Source]) -> int:
    """The sources' bytes (a file that cannot be read counts nothing: its attempt says why)."""
    total = 0
    for source in found:
        try:
            total += os.path.getsize(source.path)
        except OSError:
            pass
    return total


def preload(job: Job) -> None:
    sources = frameworks.readable() if job.source_fw == "auto" else [job.source_fw]
    for name in sources:
        frameworks.reader(name)
    frameworks.writer(job.target)


def timed_attempt(source: Source, job: Job) -> Attempt:
    """``attempt``, carrying the per-phase timers of the process that made it (when on)."""
    if not timing.ENABLED:
        return attempt(source, job)
    with timing.phase("convert (per file, all phases)"):
        result = attempt(source, job)
    timing.add("result pickled (bytes)", len(pickle.dumps(result)))
    return replace(result, timings=timing.take())


def attempt(source: Source, job: Job) -> Attempt:
    """Convert one file of a batch, leaving formatting to the batch; never raises."""
    try:
        result = text = api.load_text(source.path)
        if isinstance(text, str) and text.startswith(GENERATED_MARKER):
            reason = "written by transpile (an earlier output among the inputs)"
            return Attempt(source, Outcome(source.path, "skipped", reason))
        if isinstance(text, str):
            with formatting_deferred():
                result = api.convert_text(
                    text, source.path, job.target, job.source_fw, every_entry=True
                )
    except Exception as exc:  # noqa: BLE001  (a bug for one file must not stop the batch)
        reason = f"internal error: {type(exc).__name__}: {exc}"
        return Attempt(source, Outcome(source.path, "failed", reason))
    lines = tuple(rendered(source.path, getattr(result, "diagnostics", ())))
    if isinstance(result, api.Skipped):
        return Attempt(source, Outcome(source.path, "skipped", result.reason), "", lines)
    if isinstance(result, api.Failed) and _already_target(result):
        # a file of the target framework (an earlier output among the inputs): nothing to do
        reason = result.diagnostics[-1].message
        return Attempt(source, Outcome(source.path, "skipped", reason), "", ())
    if isinstance(result, api.Failed):
        return Attempt(source, Outcome(source.path, "failed", failure_reason(result)), "", lines)
    others = tuple((name, other.code) for name, other in result.others)
    outcome = Outcome(source.path, "converted", lossy=result.lossy)
    return Attempt(source, outcome, result.code, lines, others=others)


def destination(source: Source, output: str) -> str:
    """Where a batch writes ``source``'s conversion: its relative path under ``output``."""
    return os.path.join(output, *source.relative.split("/"))


def modules(attempt: Attempt, code: list[str], output: str) -> list[tuple[str, str]]:
    """(destination, code) of each module ``attempt``'s file converts to: its default pipeline
    at the mirrored path, each other pipeline of the file beside it (``name_<entry>.py``);
    ``code`` is the formatted code of each, in that order."""
    first = destination(attempt.source, output)
    places = [first] + [entry_destination(first, name) for name, _ in attempt.others]
    return list(zip(places, code, strict=True))


def existing(found: list[Source], output: str) -> tuple[list[Source], list[Outcome]]:
    """Before converting without --force: the sources whose output is not there yet, and a
    refusal for each of the others (no work done for a file that would not be written)."""
    free: list[Source] = []
    refused: list[Outcome] = []
    for source in found:
        target = destination(source, output)
        if os.path.lexists(target):
            refused.append(Outcome(source.path, "failed", overwrite_refusal(target)))
        else:
            free.append(source)
    return free, refused


def write_attempts(
    attempts: list[Attempt],
    output: str,
    force: bool,
    diagnostics: list[str],
    outcomes: list[Outcome] | None = None,
) -> list[Outcome]:
    """Format every converted file at once, then write them in input order; ``outcomes`` (the
    list returned) fills as they are written, for a caller interrupted half way."""
    formatted = _formatted_all(attempts, diagnostics)
    with timing.phase("write files"):
        return _write_all(attempts, formatted, output, force, outcomes)


def _write_all(
    attempts: list[Attempt],
    formatted: dict[int, list[str] | Outcome],
    output: str,
    force: bool,
    outcomes: list[Outcome] | None,
) -> list[Outcome]:
    inputs = [a.source.path for a in attempts]  # none is ever written over
    written: dict[str, str] = {}
    outcomes = [] if outcomes is None else outcomes
    for attempt in attempts:
        code = formatted.get(id(attempt))
        if isinstance(code, Outcome):
            outcomes.append(code)
        elif code is None:
            outcomes.append(attempt.outcome)
        else:
            outcomes.append(_write_converted(attempt, code, output, force, written, inputs))
    return outcomes


@dataclass(frozen=True)
class Stale:
    """``convert --check``: an output that is not what converting its source writes now."""

    source: str
    destination: str
    current: str | None  # None: the output does not exist
    expected: str


def check_attempts(
    attempts: list[Attempt], output: str, diagnostics: list[str]
) -> tuple[list[Outcome], list[Stale]]:
    """Compare what converting writes with the outputs already there; write nothing."""
    formatted = _formatted_all(attempts, diagnostics)
    outcomes: list[Outcome] = []
    stale: list[Stale] = []
    for attempt in attempts:
        code = formatted.get(id(attempt))
        if isinstance(code, Outcome) or code is None:
            outcomes.append(attempt.outcome if code is None else code)
            continue
        for target, expected in modules(attempt, code, output):
            current = read_existing(target)
            if current != expected:
                stale.append(Stale(attempt.source.path, target, current, expected))
        outcomes.append(attempt.outcome)
    return outcomes, stale


def read_existing(path: str) -> str | None:
    """An existing output's text (as written: UTF-8), or None when there is none to read."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def _formatted_all(
    attempts: list[Attempt], diagnostics: list[str]
) -> dict[int, list[str] | Outcome]:
    converted = [a for a in attempts if a.outcome.status == "converted"]
    return dict(zip(map(id, converted), _formatted(converted, diagnostics), strict=True))


def _codes(attempt: Attempt) -> list[str]:
    """The unformatted code of each module of ``attempt``: its default pipeline, then the others."""
    return [attempt.code, *(code for _, code in attempt.others)]


def _formatted(converted: list[Attempt], diagnostics: list[str]) -> list[list[str] | Outcome]:
    """Formatted code per attempt (one per module it writes); should ruff fail on the batch,
    each file alone says which."""
    try:
        flat = iter(format_many([c for a in converted for c in _codes(a)]))  # two ruff runs
        return [[next(flat) for _ in _codes(a)] for a in converted]
    except TranspileError:
        pass
    results: list[list[str] | Outcome] = []
    for attempt in converted:
        try:
            results.append([format_code(code) for code in _codes(attempt)])
        except TranspileError as exc:
            reason = exc.diagnostic.render(attempt.source.path)
            diagnostics.append(reason)
            results.append(Outcome(attempt.source.path, "failed", reason))
    return results


def _write_converted(
    attempt: Attempt,
    code: list[str],
    output: str,
    force: bool,
    written: dict[str, str],
    inputs: list[str],
) -> Outcome:
    """Write every module of one file, or none when one of them may not be written."""
    source = attempt.source
    places = modules(attempt, code, output)
    for target, _ in places:
        if target in written:
            reason = f"output {target} is already written from {written[target]}"
            return Outcome(source.path, "failed", reason)
    problem = write_outputs(places, force, inputs)
    if problem:
        return Outcome(source.path, "failed", problem)
    written.update((target, source.path) for target, _ in places)
    return attempt.outcome


def _already_target(result: api.Failed) -> bool:
    return bool(result.diagnostics) and result.diagnostics[-1].code == "TP006"


def failure_reason(result: api.Failed) -> str:
    """The first error of a failed result, rendered (its warnings come before it)."""
    errors = [d for d in result.diagnostics if d.severity == "error"] or list(result.diagnostics)
    return errors[0].render(result.path) if errors else f"{result.path}: failed"
