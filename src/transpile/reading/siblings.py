"""Modules of the same source tree as the file being read: where ``from X import ...`` points.

Readers parse such a module like the file itself (never import it, never run it): the Flyte reader
for tasks and workflows it imports, the Metaflow reader for a flow's base classes, the Airflow
reader for the constants a DAG names (``default_args=DEFAULT_ARGS`` from the project's package).
"""

from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import Span
from transpile.reading.cst import code
from transpile.util.fileio import MAX_SOURCE_BYTES

MAX_BYTES = MAX_SOURCE_BYTES  # a sibling is parsed like the file itself
UP = 3  # folders above the file's own where a package may sit
MAX_DEPTH = 4  # a sibling may import siblings, this deep


def module_file(source: str, node: cst.ImportFrom) -> Path | None:
    """The file an ``from X import ...`` names, inside the source's tree; None if not there."""
    module = code(node.module) if node.module is not None else None
    return module_path(source, module, len(node.relative))


def module_path(source: str, module: str | None, level: int = 0) -> Path | None:
    """The file module ``module`` (``level`` dots before it) names seen from ``source``: beside
    it or a few folders up, directly or under a ``src/`` folder (a package in the common src
    layout, ``<project>/src/<package>/``); None if not in the source's tree or too large."""
    here = Path(source).resolve().parent
    if not here.is_dir():
        return None
    parts = module.split(".") if module else []
    if level:
        base = here
        for _ in range(level - 1):
            base = base.parent
        return _module_at(base, parts)
    if not parts:
        return None
    for base in (here, *list(here.parents)[:UP]):
        for root in (base, base / "src"):
            found = _module_at(root, parts)
            if found is not None:
                return found
    return None


def _module_at(base: Path, parts: list[str]) -> Path | None:
    if not parts:
        candidate = base / "__init__.py"
        return candidate if candidate.is_file() else None
    for candidate in (
        base.joinpath(*parts).with_suffix(".py"),
        base.joinpath(*parts, "__init__.py"),
    ):
        if candidate.is_file() and candidate.stat().st_size <= MAX_BYTES:
            return candidate
    return None


def parsed_sibling(path: Path, span: Span, diagnostics: list[Diagnostic]) -> cst.Module | None:
    """The module at ``path`` (an import of the file being read, at ``span``), parsed, never
    imported; None, with a note in ``diagnostics``, when it cannot be read. A syntax error in it
    is refused at the import: the Python that runs the output must read it too."""
    try:
        text = path.read_text(encoding="utf-8")
        ast.parse(text)
        return cst.parse_module(text)
    except SyntaxError as exc:
        message = f"{path.name}:{exc.lineno}: syntax error in a module this file imports: {exc.msg}"
        raise error("TP003", message, span) from None
    except (OSError, UnicodeDecodeError, cst.ParserSyntaxError):
        message = f"{path.name} (imported here) could not be read; its names stay an import"
        diagnostics.append(Diagnostic("TP201", "warning", message, span))
        return None
