"""A component body's ``return`` → assignments of its output locals (the model's convention).

``return a, b`` and ``return Outputs(a=..., b=...)`` assign each output; a single ``return x``
keeps the local ``x``; early returns run the original body as a nested function, so every path
stays exact.
"""

from __future__ import annotations

import builtins
import re

import libcst as cst

from transpile.model.ir import Span
from transpile.reading.cst import code


def rewrite_returns(
    statements: list[cst.BaseStatement],
    outputs: list[str],
    span: Span,
    params: tuple[str, ...] = (),
) -> str:
    """The body with its ``return`` turned into assignments of the output locals (``params``:
    the component's parameters, bound before the body runs)."""
    last = statements[-1] if statements else None
    final = return_of(last) if last is not None else None
    if final is not None:
        statements = statements[:-1]
    if ReturnFinder.has_return(statements):
        return _wrapped(statements, final, outputs, params)
    shadowed = _shadowed_builtins(outputs, statements) - set(params)
    if shadowed:
        statements = _via_builtins_module(statements, final, shadowed)
        final = return_of(statements[-1]) if final is not None else None
        statements = statements[:-1] if final is not None else statements
    tail = _assign_outputs(final.value if final else None, outputs, span)
    return _module_code([*statements, *tail])


def _shadowed_builtins(outputs: list[str], statements: list[cst.BaseStatement]) -> set[str]:
    """Outputs named like a builtin the body uses (``sorted``): assigning the output would make
    every use of that name in the body local, so those uses go through ``builtins`` instead."""
    text = cst.Module(body=statements).code
    used = set(re.findall(r"\b\w+\b", text))
    assigned = set(re.findall(r"\b(\w+)\s*=[^=]", text))
    return {o for o in outputs if hasattr(builtins, o) and o in used and o not in assigned}


def _via_builtins_module(
    statements: list[cst.BaseStatement], final: cst.Return | None, names: set[str]
) -> list[cst.BaseStatement]:
    tail = [cst.SimpleStatementLine([final])] if final is not None else []
    module = cst.Module(body=[*statements, *tail]).visit(_BuiltinUses(names))
    return [cst.parse_statement("import builtins\n"), *module.body]


class _BuiltinUses(cst.CSTTransformer):
    """``sorted(x)`` → ``builtins.sorted(x)`` for the given names, wherever they are read."""

    def __init__(self, names: set[str]):
        self.names = names

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        if updated.value in self.names:
            return cst.Attribute(cst.Name("builtins"), cst.Name(updated.value))
        return updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute):
        return updated.with_changes(attr=original.attr)

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(keyword=original.keyword)

    def leave_Param(self, original: cst.Param, updated: cst.Param) -> cst.Param:
        return updated.with_changes(name=original.name)


def return_of(stmt: cst.BaseStatement) -> cst.Return | None:
    if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[-1], cst.Return):
        return stmt.body[-1] if len(stmt.body) == 1 else None
    return None


def _assign_outputs(
    value: cst.BaseExpression | None, outputs: list[str], span: Span
) -> list[cst.BaseStatement]:
    if value is None or not outputs:
        return [] if value is None else [cst.SimpleStatementLine([cst.Expr(value)])]
    if len(outputs) == 1 and not _is_tuple_of(value, 1):
        if isinstance(value, cst.Name) and value.value == outputs[0]:
            return []
        return [_assign(outputs[0], code(value))]
    parts = _parts(value, outputs)
    if parts is None:
        return [_assign(", ".join(outputs), code(value))]  # a NamedTuple unpacks by position
    pairs = [(n, p) for n, p in zip(outputs, parts, strict=True) if p != n]
    if not pairs:
        return []
    return [_assign(", ".join(n for n, _ in pairs), ", ".join(p for _, p in pairs))]


def _is_tuple_of(value: cst.BaseExpression, count: int) -> bool:
    return isinstance(value, cst.Tuple) and len(value.elements) == count


def _parts(value: cst.BaseExpression, outputs: list[str]) -> list[str] | None:
    """Source text per output of ``return a, b`` or ``return Outputs(a=..., b=...)``; other
    values (``return Outputs(x, y)``, ``return result``) are unpacked by position instead."""
    if isinstance(value, cst.Tuple) and len(value.elements) == len(outputs):
        return [code(e.value) for e in value.elements]
    if isinstance(value, cst.Call) and len(value.args) == len(outputs):
        by_name = {a.keyword.value: code(a.value) for a in value.args if a.keyword}
        if set(by_name) == set(outputs):
            return [by_name[n] for n in outputs]
    return None


def _assign(targets: str, value: str) -> cst.BaseStatement:
    return cst.parse_statement(f"{targets} = {value}\n")


def _wrapped(
    statements: list[cst.BaseStatement],
    final: cst.Return | None,
    outputs: list[str],
    params: tuple[str, ...],
) -> str:
    """Early returns: run the original body as a nested function so every path stays exact.
    The component's parameters are its parameters too (a body may rebind one)."""
    inner = [*statements, *([cst.SimpleStatementLine([final])] if final else [])]
    func = cst.FunctionDef(
        name=cst.Name("_body"),
        params=cst.Parameters([cst.Param(cst.Name(p)) for p in params]),
        body=cst.IndentedBlock(body=inner),
    )
    called = f"_body({', '.join(params)})"
    call = _assign(", ".join(outputs), called) if outputs else cst.parse_statement(called)
    call = call.with_changes(leading_lines=[cst.EmptyLine()])
    return _module_code([func, call])


def _module_code(statements: list[cst.BaseStatement]) -> str:
    text = cst.Module(body=statements).code
    return text if text.strip() else "pass\n"


class ReturnFinder(cst.CSTVisitor):
    """Finds ``return`` statements outside nested functions and classes."""

    def __init__(self) -> None:
        self.found = False

    @classmethod
    def has_return(cls, statements: list[cst.BaseStatement]) -> bool:
        finder = cls()
        cst.Module(body=statements).visit(finder)
        return finder.found

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Return(self, node: cst.Return) -> None:
        self.found = True
