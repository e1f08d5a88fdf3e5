"""Numbers inside lists or dicts passed through KFP where the consumer relies on ``int``.

Why: KFP passes list and dict values as JSON through protobuf ``Struct``, which knows one number
type; every number inside arrives as a float (``List[int]`` gives ``[1.0, 2.0, 3.0]``). Code that
indexes, slices or formats with those values breaks or changes output. Top-level ``int`` values
are not affected, and Flyte and Metaflow keep ints.

A component that passes the values through ``int()`` is left alone.

Instead: cast in the consumer (``[int(v) for v in values]``), or pass the collection as a JSON
string (``str``) and ``json.loads`` it in the component.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import Hit, LintUnit

CODE = "TP511"
NAME = "kfp-nested-numbers"
MESSAGE = "'{param}: {annotation}' crosses KFP as JSON: its ints arrive as floats; cast with int()"
FRAMEWORKS = frozenset({"kfp", "flyte"})
TARGETS = frozenset({"kfp"})
STEPS = {"kfp": ("component",), "flyte": ("task",)}
CONTAINERS = {"List", "list", "Dict", "dict", "Sequence", "Mapping", "Tuple", "tuple"}

VALID = [
    """
from kfp import dsl

@dsl.component(base_image="python:3.11")
def total(n: int, weights: list[float]) -> float:
    return n * sum(weights)
""",
]
INVALID = [
    """
from typing import Dict, List
from kfp import dsl

@dsl.component(base_image="python:3.11")
def pick(items: List[int], sizes: Dict[str, int]) -> int:  # error
    return items[0] + sizes["a"]
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    for framework, decorators in STEPS.items():
        for function in unit.functions(framework, *decorators):
            args = function.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
                if arg.annotation is None or not _ints_inside(arg.annotation):
                    continue
                if not _cast_to_int(function, arg.arg):
                    text = ast.unparse(arg.annotation)
                    yield unit.hit(arg, MESSAGE.format(param=arg.arg, annotation=text), "kfp")


def _cast_to_int(function: ast.FunctionDef, param: str) -> bool:
    """Whether the body passes the parameter, or a loop variable over it, through ``int()``."""
    derived = {param}
    for node in ast.walk(function):
        if isinstance(node, (ast.For, ast.comprehension)) and _mentions(node.iter, derived):
            derived |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "int"
        and any(_mentions(a, derived) for a in node.args)
        for node in ast.walk(function)
    )


def _mentions(expression: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(expression))


def _ints_inside(annotation: ast.expr, inside: bool = False) -> bool:
    """Whether ``int`` appears as an element type of a list, dict or tuple annotation."""
    if isinstance(annotation, ast.Name):
        return inside and annotation.id == "int"
    if isinstance(annotation, ast.Subscript):
        head = annotation.value
        name = head.id if isinstance(head, ast.Name) else getattr(head, "attr", "")
        nested = inside or name in CONTAINERS
        parts = getattr(annotation.slice, "elts", [annotation.slice])
        return any(_ints_inside(part, nested) for part in parts)
    return False
