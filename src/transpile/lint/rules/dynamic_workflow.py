"""A Flyte ``@dynamic`` or ``@eager`` body, which builds its graph while it runs.

Why: inside these functions inputs are real values, so the body can loop and branch over data and
call tasks as it goes. KFP and Metaflow fix the graph before the run (KFP compiles it to YAML,
Metaflow reads it from the flow class), so such a body has no static counterpart.

Instead: express the fan-out as ``map_task`` (a Metaflow foreach, a KFP ``dsl.ParallelFor``) and
the branching as ``conditional`` (a switch, ``dsl.If``), in a plain ``@workflow``.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..unit import Hit, LintUnit

CODE = "TP508"
NAME = "dynamic-workflow"
MESSAGE = "@{kind} '{name}' builds its graph at run time; {targets} need it before the run"
FRAMEWORKS = frozenset({"flyte"})
TARGETS = frozenset({"kfp", "metaflow"})

VALID = [
    """
from flytekit import map_task, task, workflow

@task
def square(x: int) -> int:
    return x * x

@workflow
def wf(xs: list[int]) -> list[int]:
    return map_task(square)(x=xs)
""",
]
INVALID = [
    """
import flytekit as fl

@fl.task
def square(x: int) -> int:
    return x * x

@fl.dynamic  # error
def fan_out(n: int) -> list[int]:
    return [square(x=i) for i in range(n)]
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    concerned = " and ".join(sorted(TARGETS & unit.targets)) or "the targets"
    for function in unit.functions("flyte", "dynamic", "eager"):
        decorator = unit.decorated(function, "flyte", "dynamic", "eager")
        kind = (unit.qualified(decorator) or "dynamic").split(".")[-1]
        yield unit.hit(decorator, MESSAGE.format(kind=kind, name=function.name, targets=concerned))
