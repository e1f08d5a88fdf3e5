"""The report's view-model: plain JSON-ready data built from a source ``Read`` and a ``Converted``.

Markdown, HTML and JSON all render this one structure, so they never disagree; its shape is the
JSON schema documented in ``transpile.report``.
"""

from __future__ import annotations

import ast
import re
import shlex
import textwrap
from functools import lru_cache
from pathlib import Path

from ..api import Converted
from ..diff.options import used_capabilities
from ..frameworks import capabilities
from ..inspect_render import ref_label
from ..model.diagnostics import Diagnostic, in_file
from ..model.ir import Option, Pipeline, Step, TypeRef
from ..util.syntax import quiet_tree
from ..writing.render import identifier
from . import picture
from .conditions import case_labels
from .next_steps import TODO_MARKER, next_steps
from .written import as_written

SCHEMA_VERSION = 1
STATUSES = ("mapped", "approximated", "todo", "dropped")


def build(source_text: str, converted: Converted, target: str) -> dict:
    """Everything the report shows about converting ``converted.path`` to ``target``."""
    pipeline = converted.pipeline
    tasks = emitted_tasks(converted.code)
    names = {s.name: _task_name(s.name, tasks) or s.name for s in pipeline.steps}
    options = [
        _option(o, owner, converted.diagnostics, target, source_text, converted.path)
        for owner, o in _options(pipeline)
    ]
    steps = [_step_row(s, names, tasks) for s in pipeline.steps]
    diagnostics = _in_source_order(converted.diagnostics)
    lines_of = {row["source"]: row["target_line"] for row in steps if row["target_line"]}
    owners = {o.span.line: owner for owner, o in _options(pipeline)}
    cases = case_labels(pipeline, source_text, converted.path)
    return {
        "schema_version": SCHEMA_VERSION,
        "source": {"path": converted.path, "framework": pipeline.framework, "name": pipeline.name},
        "target": _target(converted.path, target),
        "summary": _summary(pipeline, options, converted),
        "next_steps": next_steps(pipeline, converted.code, diagnostics, lines_of, owners),
        "steps": steps,
        "parameters": [_parameter_row(p) for p in pipeline.parameters],
        "artifacts": [row for s in pipeline.steps for row in _artifact_rows(s)],
        "options": options,
        "diagnostics": [_diagnostic_row(d, converted.path) for d in diagnostics],
        "dag": _dags(pipeline, names, target, converted.code, cases),
        "code": [_code_row(s, source_text, converted.code, names) for s in pipeline.steps],
        "verification": None,  # filled in by report --verify
    }


def target_path(source: str, target: str) -> str:
    """The name the report gives the converted file (``flows/x.py`` → ``x_kfp.py``)."""
    return f"{Path(source).stem}_{target}.py"


def _target(source: str, target: str) -> dict:
    """The converted file: ``report`` writes none, so it says how to write the one its lines
    point into (conversion is deterministic: the same lines every time)."""
    path = target_path(source, target)
    command = f"transpile convert {shlex.quote(source)} --to {target} -o {shlex.quote(path)}"
    return {"path": path, "framework": target, "written": False, "command": command}


# --- emitted code ------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def emitted_functions(code: str) -> dict[str, ast.FunctionDef]:
    """Decorated top-level functions of a module (tasks, components), by name."""
    tree = quiet_tree(code)
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.decorator_list
    }


@lru_cache(maxsize=8)
def emitted_tasks(code: str) -> dict[str, ast.FunctionDef]:
    """The converted module's tasks: decorated top-level functions (Flyte, KFP), then decorated
    methods of its classes (a Metaflow FlowSpec's ``@step`` methods)."""
    found = dict(emitted_functions(code))
    for node in quiet_tree(code).body:
        if isinstance(node, ast.ClassDef):
            for method in node.body:
                if isinstance(method, ast.FunctionDef) and method.decorator_list:
                    found.setdefault(method.name, method)
    return found


def _task_name(step: str, functions: dict[str, ast.FunctionDef]) -> str | None:
    # writers name a task after its step, adding ``_step`` or ``_`` when the name is taken
    pattern = re.compile(rf"{re.escape(identifier(step))}(_step)?_*")
    return next((name for name in functions if pattern.fullmatch(name)), None)


def _function_text(node: ast.FunctionDef | None, code: str) -> str:
    if node is None:
        return ""
    first = min([d.lineno for d in node.decorator_list] + [node.lineno])
    return textwrap.dedent("\n".join(code.splitlines()[first - 1 : node.end_lineno]))


# --- rows --------------------------------------------------------------------------------------


def _step_row(step: Step, names: dict[str, str], functions: dict[str, ast.FunctionDef]) -> dict:
    node = functions.get(names[step.name])
    return {
        "source": step.name,
        "source_line": step.span.line,
        "role": step.role,
        "target": names[step.name] if node else None,
        "target_line": node.lineno if node else None,
    }


def _parameter_row(parameter) -> dict:
    return {
        "name": parameter.name,
        "type": parameter.type.expr,
        "origin": parameter.type.origin,
        "default": parameter.default,
        "required": parameter.required,
        "line": parameter.span.line,
    }


def _artifact_rows(step: Step) -> list[dict]:
    rows = [
        _typed("input", step, i.name, i.type, [ref_label(r) for r in i.refs]) for i in step.inputs
    ]
    return rows + [_typed("output", step, o.name, o.type, []) for o in step.outputs]


def _typed(direction: str, step: Step, name: str, type_ref: TypeRef, sources: list[str]) -> dict:
    return {
        "step": step.name,
        "direction": direction,
        "name": name,
        "type": type_ref.expr,
        "origin": type_ref.origin,
        "from": sources,
    }


def _options(pipeline: Pipeline) -> list[tuple[str, Option]]:
    found = [("pipeline", o) for o in pipeline.options]
    return found + [(s.name, o) for s in pipeline.steps for o in s.options]


def _option(
    option: Option,
    owner: str,
    diagnostics: tuple[Diagnostic, ...],
    target: str,
    source_text: str,
    path: str,
) -> dict:
    """An option, as written and as the model keeps it, the capabilities it stands for, and
    what the writer made of it."""
    table = capabilities()
    keys = [k for k in used_capabilities(option) if k in table]
    cited = [
        {
            "key": k,
            "support": table[k].support.get(target, "none"),
            "note": table[k].notes.get(target, ""),
        }
        for k in keys
    ]
    found = [d for d in diagnostics if d.span and d.span.line == option.span.line]
    return {
        "owner": owner,
        "kind": option.kind,
        "args": ", ".join(f"{k}={v}" for k, v in option.written),
        "written": as_written(option, source_text, path),
        "line": option.span.line,
        "capabilities": cited,
        "status": _status(found, cited),
        "diagnostics": [d.code for d in found],
    }


def _status(found: list[Diagnostic], cited: list[dict]) -> str:
    """todo: the writer left a TODO; approximated: it said so; otherwise the capability table."""
    codes = {d.code for d in found}
    if "TP202" in codes:
        return "todo"
    if "TP201" in codes or any(d.lossy for d in found):
        return "approximated"
    supports = {c["support"] for c in cited}
    if "none" in supports:
        return "dropped"  # the table says it cannot be expressed, yet the writer said nothing
    return "approximated" if "approximate" in supports else "mapped"


def _diagnostic_row(d: Diagnostic, path: str) -> dict:
    line, column, message = in_file(d, path)
    return {
        "code": d.code,
        "severity": d.severity,
        "message": message,
        "line": line,
        "column": column,
        "lossy": d.lossy,
    }


def _in_source_order(diagnostics: tuple[Diagnostic, ...]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: (d.span.line, d.span.column) if d.span else (0, 0))


def _summary(pipeline: Pipeline, options: list[dict], converted: Converted) -> dict:
    severities = [d.severity for d in converted.diagnostics]
    return {
        "steps": len(pipeline.steps),
        "parameters": len(pipeline.parameters),
        "artifacts": len({(s.name, o.name) for s in pipeline.steps for o in s.outputs}),
        "options": {status: sum(o["status"] == status for o in options) for status in STATUSES},
        "unknown_types": sum(not o.type.known for s in pipeline.steps for o in s.outputs),
        "todo_markers": converted.code.count(TODO_MARKER),
        "diagnostics": {k: severities.count(k) for k in ("error", "warning", "info")},
        "lossy": converted.lossy,
    }


def _dags(pipeline: Pipeline, names: dict[str, str], target: str, code: str, cases: dict) -> dict:
    before = picture.picture(pipeline, {}, pipeline.framework, cases=cases)
    after = picture.picture(pipeline, names, target, code, cases)
    return {"before": picture.to_dict(before), "after": picture.to_dict(after)}


def _code_row(step: Step, source: str, code: str, names: dict[str, str]) -> dict:
    return {
        "step": step.name,
        "source": _source_code(step, source),
        "target": _function_text(emitted_tasks(code).get(names[step.name]), code),
    }


def _source_code(step: Step, text: str) -> str:
    """The step's definition: a top-level task function of its name (Flyte, KFP), else its span."""
    functions = emitted_functions(text)
    node = functions.get(_task_name(step.name, functions) or "")
    if node is not None:
        return _function_text(node, text)
    return textwrap.dedent("\n".join(text.splitlines()[step.span.line - 1 : step.span.end_line]))
