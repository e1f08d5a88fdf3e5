"""An artifact whose name is computed: ``setattr(self, name, ...)`` or ``getattr(self, name)``.

Why: converting a flow means knowing which step writes and which step reads each artifact, to turn
them into typed task outputs and inputs. A name held in a variable is only known at run time, so
the data flow cannot be read from the source and the artifact is lost on Flyte and KFP.

Instead: assign artifacts by name (``self.model_a = ...``), or keep a dict artifact
(``self.models[name] = ...``) when the set of names is data.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import Hit, LintUnit, string_value
from . import is_transition

CODE = "TP502"
NAME = "computed-artifact-name"
MESSAGE = "artifact name is computed ({call}); assign self.<name> or use a dict artifact"
FRAMEWORKS = frozenset({"metaflow"})

VALID = [
    """
from metaflow import FlowSpec, step

class Flow(FlowSpec):
    @step
    def start(self):
        setattr(self, "total", 3)
        self.models = {name: 0 for name in ("a", "b")}
        self.next(self.end)
""",
]
INVALID = [
    """
from metaflow import FlowSpec, step

class Flow(FlowSpec):
    @step
    def start(self):
        for name in ("a", "b"):
            setattr(self, f"model_{name}", 1)  # error
        self.next(self.end)

    @step
    def end(self):
        print(getattr(self, "model_" + "a"))  # error
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    for step in unit.steps:
        if step.framework == "metaflow":
            transitions = _transition_arguments(step.node)
            for node in ast.walk(step.node):
                call = _computed_access(node)
                if call and id(node) not in transitions:  # a computed target is TP501's finding
                    yield unit.hit(node, MESSAGE.format(call=call))


def _transition_arguments(function: ast.AST) -> set[int]:
    return {
        id(argument) for node in ast.walk(function) if is_transition(node) for argument in node.args
    }


def _computed_access(node: ast.AST) -> str | None:
    """``setattr``/``getattr`` when called on ``self`` with a non-literal name."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return None
    if node.func.id not in ("setattr", "getattr", "hasattr", "delattr") or len(node.args) < 2:
        return None
    owner, name = node.args[0], node.args[1]
    if isinstance(owner, ast.Name) and owner.id == "self" and string_value(name) is None:
        return f"{node.func.id}(self, ...)"
    return None
