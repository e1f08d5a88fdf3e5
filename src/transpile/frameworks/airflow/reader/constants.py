"""A small, safe folder of constant expressions in a DAG file: what a task id, a group id or a
loop's iterable computes from literals and names bound to literals. Never evaluates the user's
code: only the node kinds and methods below, on plain values, with sizes bounded."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Mapping

LIMIT = 10_000  # the most items (or characters) a folded value may have


class NotConstant(Exception):
    """The expression is not a constant this folder computes."""


_UNSET = object()
PLAIN = (str, int, float, bool, type(None))
STRING_METHODS = {
    "lower",
    "upper",
    "strip",
    "lstrip",
    "rstrip",
    "title",
    "capitalize",
    "replace",
    "join",
    "split",
    "startswith",
    "endswith",
    "zfill",
}
COMPARE = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b,
    ast.IsNot: lambda a, b: a is not b,
}
ARITHMETIC = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Div: lambda a, b: a / b,
    ast.Mod: lambda a, b: a % b,
}


def fold(node: ast.expr, names: Mapping[str, object] | None = None) -> object:
    """The value ``node`` computes from literals and ``names`` (name → value); NotConstant if
    it computes with anything else (a call of the user's, a task, a DAG parameter)."""
    return _checked(_fold(node, names or {}))


def folded(node: ast.expr, names: Mapping[str, object] | None = None, default=None) -> object:
    """``fold`` or ``default``."""
    try:
        return fold(node, names)
    except NotConstant:
        return default


def to_node(value: object) -> ast.expr:
    """A literal expression for a folded value."""
    if isinstance(value, PLAIN):
        return ast.Constant(value)
    if isinstance(value, list):
        return ast.List([to_node(v) for v in value], ast.Load())
    if isinstance(value, tuple):
        return ast.Tuple([to_node(v) for v in value], ast.Load())
    if isinstance(value, dict):
        return ast.Dict([to_node(k) for k in value], [to_node(v) for v in value.values()])
    raise NotConstant(f"{type(value).__name__} has no literal")


def _checked(value: object) -> object:
    if isinstance(value, str) and len(value) > LIMIT:
        raise NotConstant("too long")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**18:
        raise NotConstant("too large")
    if isinstance(value, list | tuple | set | dict) and len(value) > LIMIT:
        raise NotConstant("too many items")
    if isinstance(value, (PLAIN, list | tuple | set | dict)):
        return value
    raise NotConstant(type(value).__name__)


def _fold(node: ast.expr, names: Mapping[str, object]) -> object:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, PLAIN):
            return node.value
        raise NotConstant("bytes or ellipsis")
    if isinstance(node, ast.Name):
        value = names.get(node.id, _UNSET)
        if value is _UNSET:
            raise NotConstant(f"{node.id} is not a constant")
        return value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                items.extend(_iterable(_fold(element.value, names)))
            else:
                items.append(_fold(element, names))
        kind = {ast.List: list, ast.Tuple: tuple, ast.Set: _ordered_set}[type(node)]
        return _checked(kind(items))
    if isinstance(node, ast.Dict):
        made: dict = {}
        for key, value in zip(node.keys, node.values):
            if key is None:
                inner = _fold(value, names)
                if not isinstance(inner, dict):
                    raise NotConstant("** of a non-dict")
                made.update(inner)
            else:
                made[_hashable(_fold(key, names))] = _fold(value, names)
        return _checked(made)
    if isinstance(node, ast.JoinedStr):
        return _checked("".join(_fold(v, names) for v in node.values))  # type: ignore[misc]
    if isinstance(node, ast.FormattedValue):
        value = _fold(node.value, names)
        _plain_tree(value)
        if node.conversion == ord("r"):
            value = repr(value)
        elif node.conversion == ord("s"):
            value = str(value)
        elif node.conversion == ord("a"):
            value = ascii(value)
        spec = _fold(node.format_spec, names) if node.format_spec is not None else ""
        return _format(value, spec)
    if isinstance(node, ast.BinOp):
        return _binary(node, _fold(node.left, names), _fold(node.right, names))
    if isinstance(node, ast.UnaryOp):
        value = _fold(node.operand, names)
        if isinstance(node.op, ast.Not):
            return not value
        if isinstance(value, int | float) and isinstance(node.op, ast.USub | ast.UAdd):
            return -value if isinstance(node.op, ast.USub) else +value
        raise NotConstant("unary operator")
    if isinstance(node, ast.BoolOp):
        result = None
        for operand in node.values:
            result = _fold(operand, names)
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
        return result
    if isinstance(node, ast.Compare):
        left = _fold(node.left, names)
        for op, comparator in zip(node.ops, node.comparators):
            right = _fold(comparator, names)
            try:
                if not COMPARE[type(op)](left, right):
                    return False
            except TypeError as problem:
                raise NotConstant(str(problem)) from None
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _fold(node.body if _fold(node.test, names) else node.orelse, names)
    if isinstance(node, ast.Subscript):
        return _subscript(_fold(node.value, names), node.slice, names)
    if isinstance(node, ast.Call):
        return _call(node, names)
    raise NotConstant(type(node).__name__)


def _ordered_set(items: list) -> list:
    """A set literal's items, once each, in the order written (as a list: iterating a set of
    strings has no order a reader can know; the task ids made do not depend on it)."""
    return list(dict.fromkeys(_hashable(i) for i in items))


def _hashable(value: object) -> object:
    if isinstance(value, list | dict | set):
        raise NotConstant("unhashable key")
    return value


def _plain_tree(value: object) -> None:
    if isinstance(value, list | tuple | set):
        for v in value:
            _plain_tree(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            _plain_tree(k)
            _plain_tree(v)
    elif not isinstance(value, PLAIN):
        raise NotConstant(type(value).__name__)


def _narrow(template: str) -> None:
    """A format spec or ``%`` template that pads to at most a bounded width."""
    if "*" in template or any(int(n) > 1000 for n in re.findall(r"\d+", template)):
        raise NotConstant("width too large")


def _format(value: object, spec: object) -> str:
    if not isinstance(spec, str):
        raise NotConstant("format spec")
    _narrow(spec)
    try:
        return _checked(format(value, spec))  # type: ignore[return-value]
    except (TypeError, ValueError) as problem:
        raise NotConstant(str(problem)) from None


def _binary(node: ast.BinOp, left: object, right: object) -> object:
    operation = ARITHMETIC.get(type(node.op))
    if operation is None:
        raise NotConstant("operator")
    if isinstance(node.op, ast.Mult) and (
        isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple)
    ):
        count = right if isinstance(left, str | list | tuple) else left
        sized = left if isinstance(left, str | list | tuple) else right
        if not isinstance(count, int) or count * len(sized) > LIMIT:  # type: ignore[arg-type]
            raise NotConstant("repetition too large")
    if isinstance(node.op, ast.Mod) and isinstance(left, str):
        _plain_tree(right)
        _narrow(left)
    try:
        return _checked(operation(left, right))
    except (TypeError, ValueError, ZeroDivisionError, KeyError, OverflowError) as problem:
        raise NotConstant(str(problem)) from None


def _subscript(value: object, key_node: ast.expr, names: Mapping[str, object]) -> object:
    if isinstance(key_node, ast.Slice):
        parts = [
            None if part is None else _fold(part, names)
            for part in (key_node.lower, key_node.upper, key_node.step)
        ]
        if not all(p is None or isinstance(p, int) for p in parts):
            raise NotConstant("slice")
        key: object = slice(*parts)
    else:
        key = _fold(key_node, names)
    if not isinstance(value, str | list | tuple | dict):
        raise NotConstant("subscript")
    try:
        return value[key]  # type: ignore[index]
    except (KeyError, IndexError, TypeError, ValueError) as problem:
        raise NotConstant(str(problem)) from None


def _iterable(value: object) -> list:
    if isinstance(value, str | list | tuple):
        return list(value)
    if isinstance(value, dict):
        return list(value)
    raise NotConstant("not iterable")


def _call(node: ast.Call, names: Mapping[str, object]) -> object:
    if any(isinstance(a, ast.Starred) for a in node.args):
        raise NotConstant("*args")
    args = [_fold(a, names) for a in node.args]
    keywords = {k.arg: _fold(k.value, names) for k in node.keywords if k.arg}
    if any(k.arg is None for k in node.keywords):
        raise NotConstant("**kwargs")
    func = node.func
    if isinstance(func, ast.Name) and func.id not in names:
        return _builtin(func.id, args, keywords)
    if not isinstance(func, ast.Attribute):
        raise NotConstant("call")
    target = _fold(func.value, names)
    method = func.attr
    if isinstance(target, str) and method == "format":
        return _str_format(target, args, keywords)
    if isinstance(target, str) and method in STRING_METHODS:
        if method == "join":
            (items,) = args or [None]
            parts = _iterable(items)
            if not all(isinstance(p, str) for p in parts):
                raise NotConstant("join of non-strings")
            if sum(map(len, parts)) + len(target) * len(parts) > LIMIT:
                raise NotConstant("too long")
        wide = method == "replace" and len(args) >= 2 and isinstance(args[1], str)
        if wide and len(target) * max(1, len(args[1])) > 100 * LIMIT:
            raise NotConstant("too long")
        if method == "zfill" and not (args and isinstance(args[0], int) and args[0] <= 1000):
            raise NotConstant("width")
        try:
            return _checked(getattr(target, method)(*args, **keywords))
        except (TypeError, ValueError) as problem:
            raise NotConstant(str(problem)) from None
    if isinstance(target, dict) and not keywords:
        if method == "keys" and not args:
            return list(target)
        if method == "values" and not args:
            return list(target.values())
        if method == "items" and not args:
            return [(k, v) for k, v in target.items()]
        if method == "get" and 1 <= len(args) <= 2:
            return target.get(args[0], args[1] if len(args) == 2 else None)  # type: ignore[arg-type]
    raise NotConstant(f".{method}()")


def _str_format(template: str, args: list, keywords: dict) -> str:
    """``template.format(...)`` with fields that index at most (no attribute lookups)."""
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None and "." in field:
            raise NotConstant("attribute in a format field")
    for _, _, spec, _ in string.Formatter().parse(template):
        if spec:
            _narrow(spec)
    for value in [*args, *keywords.values()]:
        _plain_tree(value)
    try:
        return _checked(template.format(*args, **keywords))  # type: ignore[return-value]
    except (IndexError, KeyError, ValueError, TypeError) as problem:
        raise NotConstant(str(problem)) from None


def _builtin(name: str, args: list, keywords: dict) -> object:
    if keywords and name not in ("sorted",):
        raise NotConstant("keywords")
    if name == "range":
        if not 1 <= len(args) <= 3 or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in args
        ):
            raise NotConstant("range of non-integers")
        made = range(*args)
        if len(made) > LIMIT:
            raise NotConstant("range too long")
        return list(made)
    if name == "enumerate" and 1 <= len(args) <= 2:
        start = args[1] if len(args) == 2 else 0
        if not isinstance(start, int):
            raise NotConstant("enumerate start")
        return [(start + i, v) for i, v in enumerate(_iterable(args[0]))]
    if name == "zip" and args:
        return [tuple(t) for t in zip(*(_iterable(a) for a in args))]
    if name in ("list", "tuple") and len(args) <= 1:
        items = _iterable(args[0]) if args else []
        return items if name == "list" else tuple(items)
    if name == "sorted" and len(args) == 1 and set(keywords) <= {"reverse"}:
        try:
            return sorted(_iterable(args[0]), reverse=bool(keywords.get("reverse", False)))
        except TypeError as problem:
            raise NotConstant(str(problem)) from None
    if name == "reversed" and len(args) == 1:
        return list(reversed(_iterable(args[0])))
    if name == "len" and len(args) == 1 and isinstance(args[0], str | list | tuple | dict):
        return len(args[0])
    if name == "str" and len(args) == 1:
        _plain_tree(args[0])
        return _checked(str(args[0]))
    if name == "int" and len(args) == 1 and isinstance(args[0], str | int | float | bool):
        try:
            return int(args[0])
        except ValueError as problem:
            raise NotConstant(str(problem)) from None
    raise NotConstant(f"{name}()")
