"""A pipeline parameter named ``name``, ``cmd``, ``index``, ``input``, ``foreach_stack`` or
``script_name``.

Why: Metaflow reserves these attribute names on a FlowSpec and silently skips a ``Parameter`` bound
to one: the flow gets no ``--name`` option (``Error: no such option: --name``) and ``self.name``
returns the flow's name. A Flyte or KFP pipeline moving to Metaflow hits the same wall.

Instead: rename the parameter (``run_name``, ``dataset_index``, ``input_path``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import Hit, LintUnit

CODE = "TP512"
NAME = "reserved-parameter-name"
MESSAGE = "parameter '{name}' is reserved by Metaflow, which ignores it silently; rename it"
FRAMEWORKS = frozenset({"metaflow", "flyte", "kfp"})
TARGETS = frozenset({"metaflow"})
RESERVED = frozenset({"name", "cmd", "index", "input", "foreach_stack", "script_name"})
PIPELINES = {"flyte": ("workflow",), "kfp": ("pipeline",)}

VALID = [
    """
from metaflow import FlowSpec, Parameter, step

class Flow(FlowSpec):
    run_name = Parameter("name", default="demo")

    @step
    def start(self):
        self.next(self.end)
""",
]
INVALID = [
    """
from metaflow import FlowSpec, Parameter, step

class Flow(FlowSpec):
    name = Parameter("name", default="demo")  # error

    @step
    def start(self):
        self.next(self.end)
""",
    """
from kfp import dsl

@dsl.pipeline
def flow(input: str = "gs://data", rows: int = 3):  # error
    pass
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    for flow in unit.flow_classes:
        for node in flow.body:
            if isinstance(node, ast.Assign) and unit.refers_to(node.value, "metaflow", "Parameter"):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id in RESERVED:
                        yield unit.hit(target, MESSAGE.format(name=target.id), "metaflow")
    for framework, decorators in PIPELINES.items():
        for pipeline in unit.functions(framework, *decorators):
            for arg in [*pipeline.args.args, *pipeline.args.kwonlyargs]:
                if arg.arg in RESERVED:
                    yield unit.hit(arg, MESSAGE.format(name=arg.arg), "metaflow")
