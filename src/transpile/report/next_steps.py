"""The migration engineer's checklist: what is left to do, at its line in the converted file.

One item per ``# TODO(transpile)`` line of the converted code and per lossy diagnostic. A
diagnostic whose TODO is in the code is that TODO's item (its line); any other goes to the task
its step became (the option's or the step's, by source line), else to the pipeline's entry.
"""

from __future__ import annotations

import ast

from ..model.diagnostics import Diagnostic, in_file
from ..model.ir import Pipeline
from ..util.syntax import quiet_tree

TODO_MARKER = "# TODO(transpile)"


def next_steps(
    pipeline: Pipeline,
    code: str,
    diagnostics: list[Diagnostic],
    lines_of: dict[str, int],
    option_owners: dict[int, str],
) -> list[dict]:
    """``lines_of``: step → the line of its task in ``code``; ``option_owners``: source line of
    an option → its step (or ``"pipeline"``)."""
    todos = [
        (number, text.strip())
        for number, text in enumerate(code.splitlines(), start=1)
        if TODO_MARKER in text
    ]
    taken: set[int] = set()
    items = []
    source = pipeline.span.file
    for d in (d for d in diagnostics if d.lossy):
        line = next(
            (n for n, text in todos if n not in taken and _says(text, d)),
            None,
        )
        if line is not None:
            taken.add(line)
            items.append(_item(line, True, d.code, d.message, d, source))
            continue
        items.append(
            _item(
                _home(d, pipeline, code, lines_of, option_owners),
                False,
                d.code,
                d.message,
                d,
                source,
            )
        )
    for number, text in todos:
        if number not in taken:
            code_, message = _marker(text)
            items.append(_item(number, True, code_, message, None, source))
    return sorted(items, key=lambda i: (i["line"] is None, i["line"] or 0, i["code"]))


def _item(
    line: int | None, todo: bool, code_: str, message: str, d: Diagnostic | None, source: str
) -> dict:
    return {
        "line": line,
        "todo": todo,
        "code": code_,
        "message": message,
        "source_line": in_file(d, source)[0] if d is not None else None,
    }


def _says(todo: str, d: Diagnostic) -> bool:
    rest = todo.split(TODO_MARKER, 1)[1].lstrip(": ")
    return rest.startswith(d.code) and d.message[:40] in rest


def _marker(text: str) -> tuple[str, str]:
    """(code, message) of a ``# TODO(transpile): CODE message`` line."""
    rest = text.split(TODO_MARKER, 1)[1].lstrip(": ").strip()
    first, _, message = rest.partition(" ")
    if first[:2] == "TP" and first[2:].isdigit():
        return first, message
    return "TODO", rest


def _home(
    d: Diagnostic,
    pipeline: Pipeline,
    code: str,
    lines_of: dict[str, int],
    option_owners: dict[int, str],
) -> int | None:
    """Where in ``code`` the engineer looks for what ``d`` is about."""
    if d.span is None:
        return _entry_line(code)
    owner = option_owners.get(d.span.line)
    if owner in lines_of:
        return lines_of[owner]
    holding = [
        s
        for s in pipeline.steps
        if s.span.file == d.span.file and s.span.line <= d.span.line <= s.span.end_line
    ]
    if holding and owner != "pipeline":
        step = min(holding, key=lambda s: s.span.end_line - s.span.line)
        if step.name in lines_of:
            return lines_of[step.name]
    return _entry_line(code)


def _entry_line(code: str) -> int | None:
    """The pipeline's own definition in ``code``: its last top-level class (a FlowSpec) or
    decorated function (``@dsl.pipeline``, ``@workflow``), each writer defines the entry last."""
    try:
        tree = quiet_tree(code)
    except (SyntaxError, ValueError):
        return None
    found = [
        n
        for n in tree.body
        if isinstance(n, ast.ClassDef) or (isinstance(n, ast.FunctionDef) and n.decorator_list)
    ]
    if not found:
        return None
    node = found[-1]
    return min([d.lineno for d in node.decorator_list] + [node.lineno])
