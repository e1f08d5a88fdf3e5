"""A transition whose target is computed at run time (``self.next(getattr(self, name))``).

Why: Metaflow builds its graph from the source before the run, and Flyte and KFP need every edge
when the pipeline is defined; a target picked by a string at run time has no static counterpart,
so no converter (transpile included) can tell where the flow goes.

Instead: name each target (``self.next(self.train)``); to choose between targets at run time,
use a switch (``self.next({"a": self.a, "b": self.b}, condition="route")``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import Hit, LintUnit, self_attribute
from . import is_transition

CODE = "TP501"
NAME = "computed-transition"
MESSAGE = "transition target is computed at run time; name the step (self.next(self.<step>))"
FRAMEWORKS = frozenset({"metaflow"})

VALID = [
    """
from metaflow import FlowSpec, step

class Flow(FlowSpec):
    @step
    def start(self):
        self.route = "a"
        self.next({"a": self.a, "b": self.end}, condition="route")
""",
]
INVALID = [
    """
from metaflow import FlowSpec, step

class Flow(FlowSpec):
    @step
    def start(self):
        self.next(getattr(self, "train"))  # error
""",
    """
import metaflow as mf

class Flow(mf.FlowSpec):
    @mf.step
    def start(self):
        self.next({"a": self.a, "b": self.steps["b"]}, condition="route")  # error
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    for step in unit.steps:
        if step.framework != "metaflow":
            continue
        for node in ast.walk(step.node):
            if is_transition(node):
                for target in _targets(node):
                    if self_attribute(target) is None:
                        yield unit.hit(target, MESSAGE)


def _targets(call: ast.Call) -> list[ast.expr]:
    if len(call.args) == 1 and isinstance(call.args[0], ast.Dict):
        return list(call.args[0].values)
    return [a.value if isinstance(a, ast.Starred) else a for a in call.args]
