"""A Python ``if``, ``while`` or ``for`` over a KFP channel or a Flyte promise in a pipeline body.

Why: a pipeline function runs once, when the pipeline is defined, and its values are placeholders.
KFP compiles ``if channel == "big":`` without complaint and always takes the first branch (the
comparison object is truthy); Flyte refuses it (``Cannot perform truth value testing``) and cannot
iterate a promise.

Instead: KFP ``with dsl.If(...)`` / ``dsl.Elif`` / ``dsl.Else`` and ``dsl.ParallelFor``; Flyte
``conditional(...).if_(...)`` and ``map_task``; or move the logic into a task (Flyte ``@dynamic``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import Hit, LintUnit

CODE = "TP507"
NAME = "runtime-control-flow"
MESSAGE = "Python `{statement}` on a pipeline value ({names}) runs at definition time; {instead}"
FRAMEWORKS = frozenset({"kfp", "flyte"})
PIPELINES = {"kfp": ("pipeline",), "flyte": ("workflow",)}
INSTEAD = {
    ("kfp", "if"): "KFP always takes the first branch: use dsl.If",
    ("kfp", "for"): "use dsl.ParallelFor",
    ("flyte", "if"): "use flytekit.conditional",
    ("flyte", "for"): "use map_task or @dynamic",
}

VALID = [
    """
from kfp import dsl

@dsl.component(base_image="python:3.11")
def say(text: str) -> str:
    return text

@dsl.pipeline
def flow(mode: str = "big", debug: bool = False):
    for word in ["a", "b"]:
        say(text=word)
    with dsl.If(mode == "big"):
        say(text=mode)
""",
]
INVALID = [
    """
from kfp import dsl

@dsl.component(base_image="python:3.11")
def say(text: str) -> str:
    return text

@dsl.pipeline
def flow(mode: str = "big"):
    if mode == "big":  # error
        say(text="big")
""",
    """
from flytekit import task, workflow

@task
def items() -> list[int]:
    return [1, 2]

@task
def show(x: int) -> int:
    return x

@workflow
def wf() -> None:
    values = items()
    for value in values:  # error
        show(x=value)
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    for framework, decorators in PIPELINES.items():
        for pipeline in unit.functions(framework, *decorators):
            yield from _scan(unit, framework, pipeline)


def _scan(unit: LintUnit, framework: str, pipeline: ast.FunctionDef) -> Iterator[Hit]:
    """Walk the body in order, tracking which names hold pipeline values."""
    args = pipeline.args
    runtime = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    for node in _in_order(pipeline.body):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            if isinstance(node.value, ast.Call) or _uses(node.value, runtime):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                runtime |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.With):
            bound = [item.optional_vars for item in node.items if item.optional_vars is not None]
            runtime |= {n.id for v in bound for n in ast.walk(v) if isinstance(n, ast.Name)}
        tested = _tested(node)
        if tested is not None and _uses(tested[1], runtime):
            names = ", ".join(sorted(_uses(tested[1], runtime)))
            instead = INSTEAD[(framework, "for" if tested[0] == "for" else "if")]
            message = MESSAGE.format(statement=tested[0], names=names, instead=instead)
            yield unit.hit(node, message)


def _in_order(body: list[ast.stmt]) -> list[ast.AST]:
    nodes = [n for statement in body for n in ast.walk(statement) if hasattr(n, "lineno")]
    return sorted(nodes, key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))


def _tested(node: ast.AST) -> tuple[str, ast.expr] | None:
    """(statement, expression) when ``node`` branches or loops on an expression."""
    if isinstance(node, (ast.If, ast.While, ast.IfExp)):
        return {ast.If: "if", ast.While: "while", ast.IfExp: "if"}[type(node)], node.test
    if isinstance(node, ast.For):
        return "for", node.iter
    if isinstance(node, ast.BoolOp):
        return "and" if isinstance(node.op, ast.And) else "or", node
    return None


def _uses(expression: ast.expr, runtime: set[str]) -> set[str]:
    return {n.id for n in ast.walk(expression) if isinstance(n, ast.Name) and n.id in runtime}
