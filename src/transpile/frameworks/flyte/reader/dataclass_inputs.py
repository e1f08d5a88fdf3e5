"""A workflow input typed as a dataclass of the module (``hp: Hyper = Hyper(rate=0.5)``).

No target has a dataclass parameter: Metaflow takes JSON, KFP text or a dict, Airflow a JSON
object. So the input travels as a JSON object (a ``dict`` parameter, its default the fields'
values worked out ahead), and each task that takes it builds the dataclass again before its own
code (``hp = Hyper(**hp)``), which is what Flyte hands the task. Before, the task got the dict
and ``hp.rate`` failed at run time. Only dataclasses whose fields are plain JSON values (``int``,
``float``, ``str``, ``bool``, lists and dicts of them, or None) are rebuilt this way: a nested dataclass
would come back as a dict, so such an input is left as it was (and named).
"""

from __future__ import annotations

import ast
from dataclasses import replace

import libcst as cst

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Input, Parameter, Ref, Step, TypeRef
from transpile.reading.cst import code

PLAIN = {"int", "float", "str", "bool"}


def dataclass_inputs(scan, parameters, steps) -> tuple[tuple[Parameter, ...], list[Step]]:
    """``parameters`` and ``steps`` with each input typed as a plain dataclass of the module
    carried as a JSON object, as above; ``scan`` (the module's tables) gets the diagnostics."""
    classes = _plain_dataclasses(scan)
    changed: dict[str, str] = {}  # parameter → its dataclass
    found = []
    for param in parameters:
        name = param.type.expr
        if name not in classes:
            found.append(param)
            continue
        default = param.default
        if default is not None:
            default = _json_default(default, name, classes[name])
            if default is None:  # not worked out ahead: the writers name it (TP246)
                found.append(param)
                continue
        kind = scan.portable(TypeRef("dict", "annotation"), param.span)
        found.append(replace(param, type=kind, default=default, kind="value"))
        changed[param.name] = name
        message = (
            f"workflow input '{param.name}' ({name}, a dataclass) travels as a JSON object; each "
            f"task that takes it makes a {name} of it first, as Flyte hands it over"
        )
        scan.diagnostics.append(Diagnostic("TP201", "info", message, param.span))
    if not changed:
        return tuple(parameters), steps
    return tuple(found), [_rebuilt(step, changed, found) for step in steps]


def _rebuilt(step: Step, changed: dict[str, str], parameters: list[Parameter]) -> Step:
    types = {p.name: p.type for p in parameters}
    lines, inputs = [], []
    for item in step.inputs:
        ref = item.refs[0] if len(item.refs) == 1 else None
        if (
            item.mode == "value"
            and ref is not None
            and ref.kind == "param"
            and ref.source in changed
        ):
            lines.append(f"{item.name} = {changed[ref.source]}(**{item.name})")
            item = Input(item.name, types[ref.source], (Ref("param", ref.source, ref.name),))
        inputs.append(item)
    if not lines:
        return step
    return replace(step, inputs=tuple(inputs), body="\n".join(lines) + "\n" + step.body)


def _plain_dataclasses(scan) -> dict[str, dict[str, object]]:
    """The module's ``@dataclass`` classes whose fields are all plain JSON values: name →
    {field: its default (a Python value), or ``_REQUIRED``}."""
    found = {}
    for name, text in scan.definitions:
        if name is None or name not in getattr(scan, "classes", {}):
            continue
        try:
            node = cst.parse_statement(text)
        except cst.ParserSyntaxError:
            continue
        if not isinstance(node, cst.ClassDef) or not _is_dataclass(node):
            continue
        fields = _fields(node)
        if fields is not None:
            found[name] = fields
    return found


_REQUIRED = object()


def _is_dataclass(node: cst.ClassDef) -> bool:
    for decorator in node.decorators:
        expr = decorator.decorator
        expr = expr.func if isinstance(expr, cst.Call) else expr
        if code(expr) in ("dataclass", "dataclasses.dataclass"):
            return not isinstance(decorator.decorator, cst.Call)  # frozen=, slots=...: as is
    return False


def _fields(node: cst.ClassDef) -> dict[str, object] | None:
    """{field: default} of a class body of annotated fields with plain types and literal
    defaults; None for anything else (methods are fine: they need the class, which the task
    has)."""
    fields: dict[str, object] = {}
    for stmt in getattr(node.body, "body", ()):
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        small = stmt.body[0]
        if not isinstance(small, cst.AnnAssign) or not isinstance(small.target, cst.Name):
            continue
        if not _plain(code(small.annotation.annotation)):
            return None
        if small.value is None:
            fields[small.target.value] = _REQUIRED
            continue
        try:
            fields[small.target.value] = ast.literal_eval(code(small.value))
        except (ValueError, SyntaxError):
            return None  # field(default_factory=...), a computed default
    return fields or None


def _plain(annotation: str) -> bool:
    try:
        node = ast.parse(annotation, mode="eval").body
    except SyntaxError:
        return False
    return _plain_node(node)


def _plain_node(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id in PLAIN
    if isinstance(node, ast.Constant):
        return node.value is None  # `list[str] | None`
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _plain_node(node.left) and _plain_node(node.right)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return node.value.id in ("list", "dict") and all(_plain_node(p) for p in parts)
    return False


def _json_default(text: str, name: str, fields: dict[str, object]) -> str | None:
    """``Hyper(rate=0.5)`` → ``{"rate": 0.5, "epochs": 3}`` (the fields' defaults overridden by
    the call's literal arguments); None when a value is not known ahead."""
    try:
        call = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    if not (
        isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == name
    ):
        return None
    values = dict(fields)
    try:
        for key, arg in zip(fields, call.args, strict=False):
            values[key] = ast.literal_eval(arg)
        for keyword in call.keywords:
            if keyword.arg is None or keyword.arg not in fields:
                return None
            values[keyword.arg] = ast.literal_eval(keyword.value)
    except ValueError:
        return None
    if len(call.args) > len(fields) or any(v is _REQUIRED for v in values.values()):
        return None
    return repr(values)
