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

from ...util.syntax import casts_to_int
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
                if not casts_to_int(function, arg.arg):
                    text = ast.unparse(arg.annotation)
                    yield unit.hit(arg, MESSAGE.format(param=arg.arg, annotation=text), "kfp")


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
