"""Write a pipeline model as a Kubeflow Pipelines v2 module: self-contained components, pipelines.

Every step becomes a ``@dsl.component`` that carries the module code it uses; each foreach becomes
a small ``@dsl.pipeline`` holding a ``dsl.ParallelFor`` (called like a component); the entry
pipeline, defined last, wires them by data and returns the flow's results; ``__main__`` compiles
it to YAML. How values travel (parameters or pickled artifacts) is decided in ``plan.py`` and ``types.py``.
"""

from __future__ import annotations

import re

from transpile import frameworks
from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import Pipeline
from transpile.writing.deps import closure
from transpile.writing.missing import provide_missing
from transpile.writing.passthrough import without_empty_ends
from transpile.writing.rename import rename_inputs
from transpile.writing.render import (
    finish,
    module_header,
    render,
)

from .component import ComponentBuilder, ComponentView, StepPlan
from .flow import FlowEmitter
from .plan import Loop, ModulePlan

# names the KFP SDK refuses for a component's parameters ("... is an invalid parameter name")
RESERVED = frozenset({"Output"})


def write(pipeline: Pipeline) -> tuple[str, list[Diagnostic]]:
    why = "the KFP SDK reserves it for a component's single output"
    pipeline, dropped = without_empty_ends(pipeline)
    pipeline, renamed = rename_inputs(pipeline, RESERVED, why)
    code, diagnostics = KfpWriter(pipeline).write()
    return code, [*dropped, *renamed, *diagnostics]


class KfpWriter(ModulePlan):
    """Writes the module the plan (plan.py) decided: components, pipelines, imports."""

    # output -----------------------------------------------------------------------------------------
    def write(self) -> tuple[str, list[Diagnostic]]:
        builder = ComponentBuilder(self)
        components: list[ComponentView] = []
        self.plans: dict[str, StepPlan] = {}
        for step in self.p.steps:
            view, plan = builder.build(step)
            components.append(view)
            self.plans[step.name] = plan
        emitter = FlowEmitter(self)
        entry = emitter.pipeline()
        options = tuple(o for o in self.p.options if id(o) not in emitter.carried_options)
        cron, flow_todos = self.options.pipeline_settings(options)
        shared = closure(self.traveling, self.definitions) if self.traveling else []
        if self.serializers:  # a caller reads artifact results with load_value
            self.serializers.add("load_value")
        code = render(
            "kfp/module.py.j2",
            header=module_header(self.p, frameworks.get(self.p.framework)),
            imports=self._imports(shared),
            shared=[d.source for d in shared if d.kind != "import"],
            serializers=[
                (n, self.serializer(n))
                for n in ("save_value", "load_value")
                if n in self.serializers
            ],
            components=components + emitter.helpers,
            pipelines=emitter.subpipelines,
            entry=entry,
            defaults=emitter.defaults,
            flow_todos=[*flow_todos, *emitter.todos],
            cron=cron,
            package=f"{entry.name}.yaml",
        )
        self._check_reserved(components)
        code, missing = provide_missing(code, self.p.span, self.p.module)
        return finish(code, self.p.span.file), [*self.diagnostics, *missing]

    def _check_reserved(self, components: list[ComponentView]) -> None:
        """A component input the KFP SDK refuses (``"Output" is an invalid parameter name``)."""
        steps = {self.functions.get(s.name, s.name): s for s in self.p.steps}
        for view in components:
            for name in RESERVED:
                if re.search(rf"(^|[\s,(]){name}\s*:", view.signature):
                    step = steps.get(view.name)
                    raise error(
                        "TP248",
                        f"'{name}' cannot be an input of a KFP component (the KFP SDK reserves "
                        "it for a component's single output); rename it in the source",
                        step.span if step else self.p.span,
                    )

    def _imports(self, shared) -> list[str]:
        lines = sorted({d.source for d in shared if d.kind == "import"})
        if self.typing_names:
            lines.append(f"from typing import {', '.join(sorted(self.typing_names))}")
        note = "# kfp.kubernetes is the kfp-kubernetes package (pip install kfp-kubernetes)"
        if self.uses_kubernetes and self._kubernetes == "kubernetes":
            lines += [note, "from kfp import compiler, dsl, kubernetes"]
        else:
            lines.append("from kfp import compiler, dsl")
        if self.uses_kubernetes and self._kubernetes != "kubernetes":  # a step's name
            lines += [note, f"from kfp import kubernetes as {self._kubernetes}"]
        if self.kfp_names:
            lines.append(f"from kfp.dsl import {', '.join(sorted(self.kfp_names))}")
        return lines


__all__ = ["KfpWriter", "Loop", "write"]
