"""Model types → how KFP carries a value: a typed JSON parameter or a pickled artifact.

KFP parameters are JSON (protobuf ``Value``): strings and booleans survive, but every number
inside a list or a dict comes back as a float, and tuples, sets, dataclasses and unknown objects
cannot be parameters at all; nor can a list or dict holding None (kfp.local refuses it:
``ValueError: Value must be one of the following types: str, int, float, bool, dict, and list.
Got: "None"``). A value is a parameter when its model type is built from int, float, str and
bool with ``list[...]`` and ``dict[str, ...]`` (their elements may be a union of those:
``dict[str, str | int]``); the ints inside are restored by the consumer (``restore``).
Everything else travels as an artifact file (see the module's ``save_value`` /
``load_value``), which keeps the Python value exactly.
"""

from __future__ import annotations

import ast
from functools import lru_cache

SCALARS = ("int", "float", "str", "bool")


@lru_cache(maxsize=512)
def _parse(expr: str) -> ast.expr | None:
    try:
        return ast.parse(expr, mode="eval").body
    except SyntaxError:
        return None


def _shape(node: ast.expr | None, inside: bool = False) -> tuple | None:
    """('scalar', name) | ('list', inner) | ('dict', inner) for parameter types, and
    ('union', names) for a union of scalars inside a list or dict, else None. A union is no
    parameter by itself: a component's parameter has one type."""
    if isinstance(node, ast.Name) and node.id in SCALARS:
        return ("scalar", node.id)
    if isinstance(node, ast.BinOp) and inside:
        parts = _union(node)
        if parts and all(p in SCALARS for p in parts):
            return ("union", tuple(parts))
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        if node.value.id == "list":
            inner = _shape(node.slice, inside=True)
            return ("list", inner) if inner else None
        if node.value.id == "dict" and isinstance(node.slice, ast.Tuple):
            key, value = node.slice.elts
            inner = _shape(value, inside=True)
            if isinstance(key, ast.Name) and key.id == "str" and inner:
                return ("dict", inner)
    return None


def _union(node: ast.expr) -> list[str] | None:
    """``str | int | None`` → ["str", "int", "None"]; None for anything else."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _union(node.left), _union(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Constant) and node.value is None:
        return ["None"]
    return None


def is_parameter(expr: str) -> bool:
    """Whether KFP can carry a value of this model type as a JSON parameter."""
    return _shape(_parse(expr)) is not None


def is_scalar(expr: str) -> bool:
    return expr in SCALARS


def needs_restore(expr: str) -> bool:
    """Whether KFP changes values of this parameter type on the way (ints inside containers)."""
    return _restore("x", _shape(_parse(expr)), 0, top=False) not in (None, "x")


def restore(value: str, expr: str, top: bool = False) -> str | None:
    """An expression giving back the ints KFP turned into floats inside ``value``, or None.

    ``top`` also converts a top-level int (loop items and positions can arrive as floats).
    """
    text = _restore(value, _shape(_parse(expr)), 0, top)
    return None if text in (None, value) else text


def _restore(value: str, shape: tuple | None, depth: int, top: bool) -> str | None:
    if shape is None:
        return None
    kind, inner = shape
    suffix = str(depth + 1) if depth else ""
    if kind == "scalar":
        return f"int({value})" if inner == "int" and top else value
    if kind == "union":  # only an int of the union can have become a float
        return (
            f"int({value}) if isinstance({value}, float) else {value}" if "int" in inner else value
        )
    item = _restore(f"v{suffix}", inner, depth + 1, True)
    if item in (None, f"v{suffix}"):
        return value
    if kind == "list":
        return f"[{item} for v{suffix} in {value}]"
    return f"{{k{suffix}: {item} for k{suffix}, v{suffix} in {value}.items()}}"


def annotation(expr: str) -> str:
    """The annotation of a parameter of this type, written as the model writes it."""
    return ast.unparse(_parse(expr)) if is_parameter(expr) else "Artifact"


def mentions(expr: str, names: frozenset[str] | set[str]) -> bool:
    """Whether a type expression names one of ``names`` (module-level classes)."""
    node = _parse(expr)
    return node is not None and any(
        isinstance(n, ast.Name) and n.id in names for n in ast.walk(node)
    )
