"""One @task, @workflow or @dynamic definition: its signature, its outputs, and its body as plain Python.

A task's ``return`` becomes assignments to output locals, so the body is framework-neutral: a single
``return name`` names the output after the local; NamedTuple and tuple returns assign one local per
field; a return that is not the last statement keeps its exact behaviour inside ``def _body()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from transpile.model.diagnostics import TranspileError, error
from transpile.model.ir import Output, Span, TypeRef
from transpile.reading.cst import code, dotted

Fields = list[tuple[str, str]]  # (output name, annotation text)
GENERIC = re.compile(r"\b(?:typing\.)?(List|Dict|Set|FrozenSet|Tuple)\[")
OPTIONAL = re.compile(r"(?:typing\.)?Optional\[(.*)\]")


def annotation_text(node: cst.BaseExpression) -> str:
    """An annotation in the spelling the model uses: ``List[int]`` → ``list[int]``,
    ``Optional[str]`` → ``str | None``."""
    text = GENERIC.sub(lambda m: m.group(1).lower() + "[", code(node))
    match = OPTIONAL.fullmatch(text)
    return f"{match.group(1)} | None" if match else text


@dataclass(frozen=True)
class ParamDef:
    name: str
    annotation: str | None
    default: cst.BaseExpression | None


@dataclass
class FunctionDef:
    """A decorated module-level function: ``kind`` is task, workflow or dynamic."""

    kind: str
    name: str
    node: cst.FunctionDef
    span: Span
    params: list[ParamDef]
    decorator: cst.Decorator
    fields: Fields | None = None  # outputs; None for a single unnamed output
    single: str | None = None  # the annotation of a single output
    named: bool = False  # outputs come from a NamedTuple
    doc: str | None = None
    body_cache: dict = field(default_factory=dict)
    refusal: TranspileError | None = None  # an @eager one with no static graph (eager.py)

    def param(self, name: str) -> ParamDef | None:
        return next((p for p in self.params if p.name == name), None)


def signature(node: cst.FunctionDef, span: Span) -> list[ParamDef]:
    """The parameters of a definition; *args and **kwargs cannot be bound from a workflow."""
    if node.params.star_arg not in (None, cst.MaybeSentinel.DEFAULT) or node.params.star_kwarg:
        raise error("TP152", f"'{node.name.value}' takes *args or **kwargs", span)
    params = [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
    return [
        ParamDef(
            p.name.value,
            annotation_text(p.annotation.annotation) if p.annotation else None,
            p.default,
        )
        for p in params
    ]


def namedtuple_fields(node: cst.BaseExpression) -> Fields | None:
    """Fields of ``NamedTuple("X", [("a", int)])`` or ``NamedTuple("X", a=int)``, else None."""
    if not isinstance(node, cst.Call) or (dotted(node.func) or "").split(".")[-1] != "NamedTuple":
        return None
    fields: Fields = []
    positional = [a.value for a in node.args if a.keyword is None]
    if len(positional) > 1 and isinstance(positional[1], (cst.List, cst.Tuple)):
        for element in positional[1].elements:
            pair = element.value
            if isinstance(pair, cst.Tuple) and len(pair.elements) == 2:
                name = pair.elements[0].value
                if isinstance(name, cst.SimpleString):
                    fields.append(
                        (str(name.evaluated_value), annotation_text(pair.elements[1].value))
                    )
    fields += [(a.keyword.value, annotation_text(a.value)) for a in node.args if a.keyword]
    return fields


def class_fields(node: cst.ClassDef) -> Fields | None:
    """Fields of ``class X(NamedTuple): a: int``, else None."""
    if not any((dotted(b.value) or "").split(".")[-1] == "NamedTuple" for b in node.bases):
        return None
    fields: Fields = []
    for stmt in node.body.body:  # type: ignore[union-attr]
        if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.AnnAssign):
            target = stmt.body[0].target
            if isinstance(target, cst.Name):
                fields.append((target.value, annotation_text(stmt.body[0].annotation.annotation)))
    return fields


def set_outputs(fn: FunctionDef, namedtuples: dict[str, Fields]) -> None:
    """Read the return annotation: NamedTuple fields, unnamed tuple fields (o0, o1...), or one."""
    returns = fn.node.returns.annotation if fn.node.returns else None
    if returns is None or code(returns) == "None":
        fn.fields = []
        return
    name = code(returns)
    inline = namedtuple_fields(returns)
    if name in namedtuples or inline is not None:
        fn.fields, fn.named = (namedtuples[name] if inline is None else inline), True
    elif _tuple_parts(returns) is not None:
        fn.fields = [(f"o{i}", part) for i, part in enumerate(_tuple_parts(returns) or [])]
    else:
        fn.single = annotation_text(returns)


def _tuple_parts(node: cst.BaseExpression) -> list[str] | None:
    if isinstance(node, cst.Tuple):
        return [annotation_text(e.value) for e in node.elements]
    if isinstance(node, cst.Subscript) and (dotted(node.value) or "").split(".")[-1] in (
        "tuple",
        "Tuple",
    ):
        parts = [
            annotation_text(e.slice.value) for e in node.slice if isinstance(e.slice, cst.Index)
        ]
        return None if "..." in parts else parts
    return None


def task_body(fn: FunctionDef, span: Span) -> tuple[str, tuple[Output, ...]]:
    """The body with its returns rewritten into output assignments, and the outputs."""
    statements = list(fn.node.body.body)  # type: ignore[union-attr]
    if fn.doc is not None:
        statements = statements[1:]
    finder = _ReturnFinder()
    for statement in statements:
        statement.visit(finder)
    last = statements[-1] if statements else None
    final = _final_return(last)
    if finder.count == (1 if final is not None else 0):
        body, names = _rewrite_final(fn, statements, final, span)
    else:
        body, names = _wrap(fn, statements)
    types = [t for _, t in fn.fields] if fn.fields is not None else [fn.single or ""]
    outputs = tuple(Output(n, TypeRef(t, "annotation")) for n, t in zip(names, types))
    return body, outputs


def _final_return(statement: cst.BaseStatement | None) -> cst.Return | None:
    if isinstance(statement, cst.SimpleStatementLine) and isinstance(
        statement.body[-1], cst.Return
    ):
        return statement.body[-1]
    return None


def _rewrite_final(fn, statements, final, span) -> tuple[str, list[str]]:
    head = statements[:-1] if final is not None else statements
    if final is not None and len(statements[-1].body) > 1:  # `a = 1; return a`
        head.append(statements[-1].with_changes(body=statements[-1].body[:-1]))
    value = final.value if final is not None else None
    names, assigned = _assignments(fn, value, span)
    text = cst.Module(body=head).code.strip("\n")
    lines = [text] if text.strip() else []
    return "\n".join([*lines, *assigned]) + "\n" if lines or assigned else "", names


def _assignments(fn: FunctionDef, value, span: Span) -> tuple[list[str], list[str]]:
    """Output names, and the statements that give each its value."""
    if fn.fields == []:
        if value is not None and code(value) != "None":
            raise error("TP154", f"'{fn.name}' returns a value but declares no outputs", span)
        return [], []
    if value is None:
        raise error("TP154", f"'{fn.name}' declares outputs but never returns them", span)
    if fn.fields is None:
        if isinstance(value, cst.Name):
            return [value.value], []
        return ["o0"], [f"o0 = {code(value)}"]
    names = [n for n, _ in fn.fields]
    parts = _parts(value, fn.fields)
    if parts is None:
        return names, [f"{', '.join(names)} = {code(value)}"]
    changed = [(n, p) for n, p in zip(names, parts) if p != n]
    if not changed:
        return names, []
    targets = ", ".join(n for n, _ in changed)
    return names, [f"{targets} = {', '.join(p for _, p in changed)}"]


def _parts(value: cst.BaseExpression, fields: Fields) -> list[str] | None:
    """Per-field expressions of ``Out(a=x, b=y)``, ``Out(x, y)`` or ``x, y``; None otherwise."""
    names = [n for n, _ in fields]
    if isinstance(value, cst.Tuple) and len(value.elements) == len(names):
        return [code(e.value) for e in value.elements]
    if not isinstance(value, cst.Call) or any(a.star for a in value.args):
        return None
    by_name = {a.keyword.value: code(a.value) for a in value.args if a.keyword}
    positional = [code(a.value) for a in value.args if a.keyword is None]
    by_name.update(zip(names, positional))
    if sorted(by_name) != sorted(names) or isinstance(value.func, cst.Attribute):
        return None
    return [by_name[n] for n in names]


def _wrap(fn: FunctionDef, statements) -> tuple[str, list[str]]:
    """Early returns keep their meaning inside a nested function called once."""
    args = ", ".join(p.name for p in fn.params)
    inner = cst.Module(body=statements).code.strip("\n")
    indented = "\n".join(f"    {line}" if line else "" for line in inner.splitlines())
    if fn.fields == []:
        return f"def _body({args}):\n{indented}\n\n\n_body({args})\n", []
    names = [n for n, _ in fn.fields] if fn.fields is not None else ["o0"]
    return f"def _body({args}):\n{indented}\n\n\n{', '.join(names)} = _body({args})\n", names


class _ReturnFinder(cst.CSTVisitor):
    """Counts the function's own returns (not those of nested functions or lambdas)."""

    def __init__(self) -> None:
        self.count = 0

    def visit_Return(self, node: cst.Return) -> None:
        self.count += 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False
