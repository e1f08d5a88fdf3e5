"""Option values as they are known before the pipeline runs: literals, module constants, and
simple expressions of them (``@retry(times=RETRIES)``, ``@resources(memory=4 * GB)``,
``@environment(vars=dict(MODE="x"))``).

Each reader records an option argument as its source text. ``resolve_options`` replaces the text
by the literal of its value where that value is fixed by the module itself; anything else (a call,
an environment lookup, a name bound twice) stays as written, and the writers treat it as
unknown: a TODO and a lossy diagnostic, never the text taken for a value.
"""

from __future__ import annotations

import ast
import dataclasses
import math

import libcst as cst

from ..model.ir import Option, Pipeline
from ..util.syntax import is_literal

_MAX_DEPTH = 20
_MAX_SIZE = 10_000  # the longest string or list an expression may build


class NotStatic(Exception):
    """The expression's value is not fixed by the module's text."""


def module_constants(module: cst.Module) -> dict[str, str]:
    """``NAME = expr`` at module level, for each name the module binds exactly once there."""
    bound: dict[str, int] = {}
    values: dict[str, str] = {}
    for stmt in module.body:
        for name in _bound_names(stmt):
            bound[name] = bound.get(name, 0) + 1
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            continue
        small = stmt.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target, value = small.targets[0].target, small.value
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            target, value = small.target, small.value
        else:
            continue
        if isinstance(target, cst.Name):
            values[target.value] = module.code_for_node(value)
    return {name: text for name, text in values.items() if bound.get(name) == 1}


def _bound_names(stmt: cst.CSTNode) -> list[str]:
    if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
        return [stmt.name.value]
    names: list[str] = []
    for node in _walk(stmt):
        if isinstance(node, cst.AssignTarget | cst.AnnAssign | cst.AugAssign | cst.For):
            target = node.target
            names += [n.value for n in _walk(target) if isinstance(n, cst.Name)]
        elif isinstance(node, cst.ImportAlias):
            alias = node.asname.name if node.asname else node.name
            if isinstance(alias, cst.Name):
                names.append(alias.value)
            elif isinstance(alias, cst.Attribute):
                root = alias
                while isinstance(root, cst.Attribute):
                    root = root.value
                if isinstance(root, cst.Name):
                    names.append(root.value)
    return names


def _walk(node: cst.CSTNode):
    yield node
    if isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda):
        return
    for child in node.children:
        yield from _walk(child)


def static_value(source: str, constants: dict[str, str]) -> object:
    """The value of ``source``, or raise NotStatic."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise NotStatic(source) from exc
    return _Evaluator(constants).value(tree.body, 0)


def resolve(source: str, constants: dict[str, str]) -> str:
    """The literal of ``source``'s value where it is static, else ``source`` unchanged (a
    literal stays as the user wrote it)."""
    if is_literal(source):
        return source
    try:
        value = static_value(source, constants)
    except NotStatic:
        return source
    text = repr(value)
    try:
        same = ast.literal_eval(text) == value
    except (ValueError, SyntaxError, RecursionError, MemoryError, TypeError):
        same = False
    return text if same else source


def resolve_options(pipeline: Pipeline, constants: dict[str, str]) -> Pipeline:
    """The pipeline with every option argument that names or computes a fixed value resolved."""

    def fix(options: tuple[Option, ...]) -> tuple[Option, ...]:
        return tuple(
            dataclasses.replace(o, args=tuple((k, resolve(v, constants)) for k, v in o.args))
            for o in options
        )

    steps = tuple(dataclasses.replace(s, options=fix(s.options)) for s in pipeline.steps)
    return dataclasses.replace(pipeline, steps=steps, options=fix(pipeline.options))


_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
}
_CONSTRUCTORS = {"dict", "list", "tuple", "int", "float", "str", "bool"}


class _Evaluator:
    def __init__(self, constants: dict[str, str]):
        self.constants = constants
        self.resolving: set[str] = set()

    def value(self, node: ast.expr, depth: int) -> object:
        if depth > _MAX_DEPTH:
            raise NotStatic("too deep")
        depth += 1
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            items = [self.value(e, depth) for e in node.elts]
            kind = {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)]
            return self._small(kind(items))
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                raise NotStatic("** in a dict")
            return {
                self.value(k, depth): self.value(v, depth) for k, v in zip(node.keys, node.values)
            }  # type: ignore[arg-type]
        if isinstance(node, ast.Name):
            return self._name(node.id, depth)
        if isinstance(node, ast.UnaryOp):
            operand = self.value(node.operand, depth)
            if isinstance(node.op, ast.USub) and _is_number(operand):
                return -operand  # type: ignore[operator]
            if isinstance(node.op, ast.UAdd) and _is_number(operand):
                return +operand  # type: ignore[operator]
            raise NotStatic("unary operator")
        if isinstance(node, ast.BinOp):
            return self._binary(node, depth)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        raise NotStatic(type(node).__name__)

    def _name(self, name: str, depth: int) -> object:
        if name not in self.constants or name in self.resolving:
            raise NotStatic(name)
        self.resolving.add(name)
        try:
            tree = ast.parse(self.constants[name].strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            raise NotStatic(name) from exc
        try:
            return self.value(tree.body, depth)
        finally:
            self.resolving.discard(name)

    def _binary(self, node: ast.BinOp, depth: int) -> object:
        left, right = self.value(node.left, depth), self.value(node.right, depth)
        if isinstance(node.op, ast.Pow):
            if _is_number(left) and _is_number(right) and abs(right) <= 64 and abs(left) <= 1e6:  # type: ignore[operator,arg-type]
                return left**right  # type: ignore[operator]
            raise NotStatic("power")
        operation = _BINARY.get(type(node.op))
        if operation is None:
            raise NotStatic("operator")
        numbers = _is_number(left) and _is_number(right)
        sequences = type(left) is type(right) and isinstance(left, str | list | tuple)
        repeat = isinstance(node.op, ast.Mult) and (
            (isinstance(left, str | list | tuple) and type(right) is int)
            or (isinstance(right, str | list | tuple) and type(left) is int)
        )
        if isinstance(node.op, ast.Mult) and repeat:
            count = right if type(right) is int else left
            item = left if type(right) is int else right
            if len(item) * max(count, 0) > _MAX_SIZE:  # type: ignore[arg-type,operator]
                raise NotStatic("too large")
        elif not numbers and not (sequences and isinstance(node.op, ast.Add)):
            raise NotStatic("operands")
        if isinstance(node.op, ast.Mod) and not numbers:
            raise NotStatic("string formatting")
        try:
            result = operation(left, right)
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise NotStatic("arithmetic") from exc
        if isinstance(result, float) and not math.isfinite(result):
            raise NotStatic("not finite")
        return self._small(result)

    def _call(self, node: ast.Call, depth: int) -> object:
        func = node.func
        if not isinstance(func, ast.Name) or func.id not in _CONSTRUCTORS:
            raise NotStatic("call")
        if func.id in self.constants:
            raise NotStatic("rebound builtin")
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords
        ):
            raise NotStatic("unpacking")
        args = [self.value(a, depth) for a in node.args]
        kwargs = {k.arg: self.value(k.value, depth) for k in node.keywords}
        if func.id == "dict":
            if args and not isinstance(args[0], dict):
                raise NotStatic("dict of pairs")
            return {**(args[0] if args else {}), **kwargs}  # type: ignore[dict-item]
        if kwargs or len(args) > 1:
            raise NotStatic("arguments")
        constructor = {
            "list": list,
            "tuple": tuple,
            "int": int,
            "float": float,
            "str": str,
            "bool": bool,
        }[func.id]
        if not args:
            return constructor()
        if func.id in ("list", "tuple") and not isinstance(args[0], list | tuple | str):
            raise NotStatic("iterable")
        if func.id == "str" and not isinstance(args[0], str | int | float | bool):
            raise NotStatic("str of a container")
        try:
            return self._small(constructor(args[0]))
        except (ValueError, TypeError, OverflowError) as exc:
            raise NotStatic("conversion") from exc

    @staticmethod
    def _small(value: object) -> object:
        if isinstance(value, str | list | tuple | set | dict) and len(value) > _MAX_SIZE:
            raise NotStatic("too large")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
            raise NotStatic("too large")
        return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
