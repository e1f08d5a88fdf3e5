"""A switch case that leads straight into a join step.

Why: Metaflow refuses the flow before running it (``A conditional path cannot lead directly to a
join step``): only one case runs, so the join would wait for branches that never come.

Instead: put an ordinary step on that path (the case goes to it, it goes to the join), or let
the cases meet in an ordinary step that does not take ``inputs``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import FUNCTIONS, Hit, LintUnit, self_attribute
from . import is_transition

CODE = "TP513"
NAME = "switch-into-join"
MESSAGE = "switch case {case} goes straight to join step '{join}'; add a plain step in between"
FRAMEWORKS = frozenset({"metaflow"})

VALID = [
    """
from metaflow import FlowSpec, step

class Flow(FlowSpec):
    @step
    def start(self):
        self.route = "a"
        self.next({"a": self.a, "b": self.b}, condition="route")

    @step
    def a(self):
        self.next(self.merge)

    @step
    def b(self):
        self.next(self.merge)

    @step
    def merge(self):
        self.next(self.end)
""",
]
INVALID = [
    """
from metaflow import FlowSpec, step

class Flow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)

    @step
    def a(self):
        self.route = "x"
        self.next({"x": self.join, "y": self.c}, condition="route")  # error

    @step
    def b(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    for flow in unit.flow_classes:
        joins = {
            item.name
            for item in flow.body
            if isinstance(item, FUNCTIONS) and len(item.args.args) > 1
        }
        for node in ast.walk(flow):
            if is_transition(node):
                yield from _cases_into_joins(unit, node, joins)


def _cases_into_joins(unit: LintUnit, call: ast.Call, joins: set[str]) -> Iterator[Hit]:
    if not (call.args and isinstance(call.args[0], ast.Dict)):
        return
    for key, value in zip(call.args[0].keys, call.args[0].values):
        target = self_attribute(value)
        if target in joins:
            case = ast.unparse(key) if key is not None else "**"
            yield unit.hit(value, MESSAGE.format(case=case, join=target))
