"""A KFP component that uses a module-level import, helper or constant.

Why: KFP ships a component as the text of its function alone and runs it in a fresh interpreter,
so names defined at module level do not exist there. The pipeline compiles, then the task fails at
run time with ``NameError: name 'json' is not defined`` (or the helper's name).

Instead: import inside the function body, define constants there, and pass helper functions with
``@dsl.component(additional_funcs=[helper])``.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator

from ..unit import FUNCTIONS, Hit, LintUnit, keyword

CODE = "TP506"
NAME = "kfp-component-global"
MESSAGE = "component '{component}' uses module-level {kind} '{name}', which KFP does not ship"
FRAMEWORKS = frozenset({"kfp"})
BUILTINS = frozenset(dir(builtins))

VALID = [
    """
from kfp import dsl

@dsl.component(base_image="python:3.11")
def parse(text: str) -> int:
    import json

    limit = 10
    return min(len(json.loads(text)), limit)
""",
]
INVALID = [
    """
import json
from kfp import dsl

SCALE = 3

def helper(x: int) -> int:
    return x * SCALE

@dsl.component(base_image="python:3.11")
def parse(text: str) -> int:
    return helper(len(json.loads(text)))  # error
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    module_names = _module_names(unit.tree)
    for component in unit.functions("kfp", "component"):
        shipped = _additional_funcs(unit, component)
        local = _bound_inside(component)
        for node in _loads(component):
            kind = module_names.get(node.id)
            if kind and node.id not in local and node.id not in shipped:
                message = MESSAGE.format(component=component.name, kind=kind, name=node.id)
                yield unit.hit(node, message)


def _module_names(tree: ast.Module) -> dict[str, str]:
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = "import"
        elif isinstance(node, (*FUNCTIONS, ast.ClassDef)):
            names[node.name] = "helper"
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        names[name.id] = "constant"
    return {k: v for k, v in names.items() if k not in BUILTINS}


def _additional_funcs(unit: LintUnit, component: ast.AST) -> set[str]:
    decorator = unit.decorated(component, "kfp", "component")
    listed = keyword(decorator, "additional_funcs") if isinstance(decorator, ast.Call) else None
    return {n.id for n in ast.walk(listed) if isinstance(n, ast.Name)} if listed else set()


def _bound_inside(function: ast.FunctionDef) -> set[str]:
    """Names the function binds itself: parameters, assignments, imports, nested definitions."""
    args = function.args
    bound = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    bound |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {a.asname or a.name.split(".")[0] for a in node.names}
        elif (
            isinstance(node, (*FUNCTIONS, ast.ClassDef, ast.ExceptHandler)) and node is not function
        ):
            bound.add(node.name or "")
    return bound


def _loads(function: ast.FunctionDef) -> list[ast.Name]:
    """Names read by the body (annotations and decorators are evaluated at compile time)."""
    found = [
        node
        for statement in function.body
        for node in ast.walk(statement)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    ]
    first: dict[str, ast.Name] = {}
    for node in sorted(found, key=lambda n: (n.lineno, n.col_offset)):
        first.setdefault(node.id, node)
    return list(first.values())
