"""Methods of the flow class that are not steps: plain helpers, properties and static methods.

Each becomes a module function. What it read from ``self`` (artifacts, Parameters) it takes as
keyword-only parameters of the same names, and each call passes the caller's values:
``self.scaled(v)`` in a step becomes ``scaled(v, factor=factor)``. A method that sets an attribute
of ``self`` changes artifacts, which only steps do: it is refused, naming the attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from transpile.model.diagnostics import error
from transpile.model.ir import Span
from transpile.reading.cst import code, is_self_attr

ALLOWED = {None: "method", "staticmethod": "static", "property": "property"}


@dataclass
class Method:
    name: str
    node: cst.FunctionDef
    kind: str  # method | static | property
    span: Span
    reads: list[str] = field(default_factory=list)  # self.<x> it reads, not methods
    calls: list[str] = field(default_factory=list)  # self.<method> it uses
    needs: list[str] = field(default_factory=list)  # reads, with those of what it calls


def method_kind(node: cst.FunctionDef, span: Span) -> str:
    names = [code(d.decorator) for d in node.decorators]
    if len(names) > 1 or (names and names[0] not in ALLOWED):
        raise error(
            "TP113",
            f"method '{node.name.value}' is not a step and is decorated @{names[0]}; "
            "move it to module level",
            span,
        )
    return ALLOWED[names[0] if names else None]


def analyse(methods: dict[str, Method], constants: set[str]) -> None:
    """Fill in what each method reads and calls, and what it needs with what it calls."""
    for method in methods.values():
        if method.kind == "static":
            continue
        scan = _SelfUses(set(methods))
        method.node.body.visit(scan)
        if scan.writes:
            raise error(
                "TP113",
                f"method '{method.name}' sets self.{scan.writes[0]}: only steps set artifacts; "
                "move that assignment into the step that calls it",
                method.span,
            )
        if scan.bare:
            raise error(
                "TP113",
                f"method '{method.name}' uses self other than to read an attribute; "
                "move it to module level",
                method.span,
            )
        method.reads = [r for r in scan.reads if r not in constants]
        method.calls = scan.calls
    for method in methods.values():
        needs: dict[str, None] = {}
        seen: set[str] = set()
        stack = [method.name]
        while stack:
            current = methods[stack.pop()]
            if current.name in seen:
                continue
            seen.add(current.name)
            needs.update(dict.fromkeys(current.reads))
            stack.extend(current.calls)
        method.needs = list(needs)


def module_function(method: Method, methods: dict[str, Method], constants: set[str]) -> str:
    """The method as a module function (source text)."""
    node = method.node.with_changes(decorators=[])
    if method.kind != "static":
        node = node.visit(_Rewriter(methods, {n: n for n in method.needs}, constants))
        params = node.params
        positional = list(params.params)[1:]  # without self
        extra = [cst.Param(cst.Name(n)) for n in method.needs]
        star = params.star_arg
        if extra and not isinstance(star, cst.Param):
            star = cst.ParamStar()
        node = node.with_changes(
            params=params.with_changes(
                params=positional, star_arg=star, kwonly_params=[*params.kwonly_params, *extra]
            )
        )
    return cst.Module([node]).code.strip("\n")


def call_text(method: Method, args: str, local: dict[str, str]) -> str:
    """A call of the module function, passing the caller's value of each attribute it needs."""
    passed = [f"{n}={local.get(n, n)}" for n in method.needs]
    return f"{method.name}({', '.join(p for p in (args, *passed) if p)})"


class _SelfUses(cst.CSTVisitor):
    def __init__(self, methods: set[str]):
        self.methods = methods
        self.reads: list[str] = []
        self.calls: list[str] = []
        self.writes: list[str] = []
        self.bare = False
        self._owners: set[int] = set()

    def _target(self, target: cst.BaseExpression) -> None:
        if is_self_attr(target):
            self.writes.append(target.attr.value)  # type: ignore[union-attr]
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._target(element.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._target(target.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._target(node.target)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if is_self_attr(node):
            self._owners.add(id(node.value))
            name = node.attr.value
            bucket = self.calls if name in self.methods else self.reads
            if name not in bucket and name not in self.writes:
                bucket.append(name)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "self" and id(node) not in self._owners:
            self.bare = True


class _Rewriter(cst.CSTTransformer):
    """``self.<method>(...)`` → a call passing what it needs; ``self.<property>`` likewise;
    ``self.<attr>`` → the local holding it (``local``); a class constant → its module name."""

    def __init__(
        self,
        methods: dict[str, Method],
        local: dict[str, str],
        constants: set[str],
        attributes: bool = True,  # False in a step: its body rewrite handles the rest
    ):
        self.methods, self.local, self.constants = methods, local, constants
        self.attributes = attributes

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        func = original.func
        if is_self_attr(func) and func.attr.value in self.methods:  # type: ignore[union-attr]
            method = self.methods[func.attr.value]  # type: ignore[union-attr]
            args = cst.Module([]).code_for_node(updated.with_changes(func=cst.Name("f")))[2:-1]
            return cst.parse_expression(call_text(method, args, self.local))
        return updated

    def leave_Attribute(
        self, original: cst.Attribute, updated: cst.Attribute
    ) -> cst.BaseExpression:
        if not is_self_attr(original):
            return updated
        name = original.attr.value
        method = self.methods.get(name)
        if method is not None:
            if method.kind == "property":
                return cst.parse_expression(call_text(method, "", self.local))
            return cst.Name(name)  # called: leave_Call rewrites the call around it
        if not self.attributes:
            return updated
        if name in self.constants:
            return cst.Name(name)
        return cst.Name(self.local.get(name, name))


def rewrite_calls(module: cst.Module, methods: dict[str, Method], local: dict[str, str]):
    """A step body with its calls of the flow's methods made calls of the module functions."""
    return module.visit(_Rewriter(methods, local, set(), attributes=False))
