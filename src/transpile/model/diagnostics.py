"""Diagnostics: what a reader or writer has to tell the user about one spot of the input."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from ..util.text import one_line
from .ir import Span

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding. ``lossy`` marks output that is not an exact translation (counts for --strict)."""

    code: str
    severity: Severity
    message: str
    span: Span | None
    lossy: bool = False

    def render(self, path: str | None = None) -> str:
        """ruff-style ``path:line:col: CODE message``."""
        where = path or (self.span.file if self.span else "<input>")
        if path and self.span is not None and elsewhere(self.span.file, path):
            # a module of the same tree read with the file (a base class, a sibling's task)
            where = os.path.relpath(self.span.file, os.path.dirname(os.path.realpath(path)))
            where = os.path.join(os.path.dirname(path), where)
        if self.span is not None:
            where = f"{where}:{self.span.line}:{self.span.column + 1}"
        return one_line(f"{where}: {self.code} {self.message}")


def elsewhere(file: str, path: str) -> bool:
    """True when ``file`` is another file than ``path`` (both on disk)."""
    return (
        os.path.isabs(file)
        and os.path.isfile(file)
        and os.path.realpath(file) != os.path.realpath(path)
    )


def in_file(diagnostic: Diagnostic, path: str) -> tuple[int | None, int | None, str]:
    """The line and column (1-based) of ``diagnostic`` in ``path``, and its message; a spot in
    another file the reader followed (a module of the same tree) has no line here and is named
    in the message instead (``in ../pkg/config.py:16:20: ...``)."""
    span = diagnostic.span
    if span is None:
        return None, None, diagnostic.message
    if elsewhere(span.file, path):
        where = os.path.relpath(span.file, os.path.dirname(os.path.realpath(path)))
        return None, None, f"in {where}:{span.line}:{span.column + 1}: {diagnostic.message}"
    return span.line, span.column + 1, diagnostic.message


class TranspileError(Exception):
    """Input the tool cannot handle; carries one diagnostic. Never escapes the api layer."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def error(code: str, message: str, span: Span | None) -> TranspileError:
    return TranspileError(Diagnostic(code, "error", message, span))


@dataclass(frozen=True)
class OtherEntries(Diagnostic):
    """The note a reader leaves when a file holds several pipelines and it read one: ``names``
    are the others that convert by default (``convert -o`` writes each to a module of its own)."""

    names: tuple[str, ...] = ()
    chosen: str = ""


def other_entries(
    kind: str, chosen: str, others: list[str], span: Span | None, why: str = ""
) -> OtherEntries:
    """The note naming the ``kind``s (workflow, pipeline, flow, DAG) of a file other than the
    ``chosen`` one: lossy where only the chosen one is written (to stdout)."""
    why = f" ({why})" if why else ""
    message = (
        f"only {kind} {chosen} is converted{why}; not converted: {', '.join(others)} "
        "(convert with -o FILE writes each to a module of its own, FILE_<name>.py; "
        "--entry NAME chooses one)"
    )
    return OtherEntries(
        "TP202", "warning", message, span, lossy=True, names=tuple(others), chosen=chosen
    )


def no_such_entry(name: str, found: list[str]) -> TranspileError:
    """``--entry NAME`` names no pipeline of the file."""
    listed = ", ".join(found) if found else "none"
    return error("TP007", f"--entry {name}: no such pipeline in this file (found: {listed})", None)


def rendered(path: str, diagnostics: tuple[Diagnostic, ...]) -> list[str]:
    """Rendered in source order, as ruff lists them; file-wide ones first."""

    def position(d: Diagnostic) -> tuple[int, int]:
        return (d.span.line, d.span.column) if d.span else (0, 0)

    return [d.render(path) for d in sorted(diagnostics, key=position)]
