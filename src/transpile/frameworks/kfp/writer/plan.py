"""What writing one KFP module decides before any code is written: how each value travels
(parameter, pickled artifact, JSON text, file), how each foreach runs, the names taken. The
component builder (component.py) and the flow emitter (flow.py) ask it; KfpWriter (write.py) is it.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import Input, Option, Parameter, Pipeline, Ref, Step
from transpile.writing.deps import bound_names, closure, free_names, module_definitions
from transpile.writing.graph import maps, refs_in
from transpile.writing.render import free_name, task_functions
from transpile.writing.types import iso_class

from .options import OptionMapper
from .types import is_parameter, needs_restore

Carrier = str  # "param" (JSON parameter), "artifact" (pickled file), "json" (JSON text), "file",
# "iso" (a date or time parameter as ISO 8601 text)


@dataclass(frozen=True)
class Loop:
    """How a foreach runs: over its items (``direct``) or over their positions."""

    split: str
    collection: Ref
    item_type: str
    direct: bool


class ModulePlan:
    def __init__(self, pipeline: Pipeline):
        self.p = pipeline
        self.diagnostics: list[Diagnostic] = []
        self.steps = {s.name: s for s in pipeline.steps}
        self.definitions = module_definitions(pipeline.module)
        self.module_names = bound_names(self.definitions)
        params = {p.name for p in pipeline.parameters}  # the entry pipeline's own names
        taken = self.module_names | params | _RESERVED
        self.functions, renamed = task_functions(pipeline.steps, taken, "component")
        self.diagnostics += renamed
        self.taken = taken | set(self.functions.values())
        self.options = OptionMapper(self.diagnostics)
        self.todos: dict[str, list[str]] = {}
        self.kfp_names: set[str] = set()
        self.typing_names: set[str] = set()
        self.serializers: set[str] = set()
        self._serializer_names = {
            n: free_name(n, self.taken | _all_names(pipeline)) for n in ("load_value", "save_value")
        }
        self.taken |= set(self._serializer_names.values())
        # kfp-kubernetes, imported when a task has a pod setting (see kubernetes_module)
        self._kubernetes = "kubernetes" if "kubernetes" not in self.taken else "kfp_kubernetes"
        self._kubernetes = free_name(self._kubernetes, self.taken)
        self.taken.add(self._kubernetes)
        self.uses_kubernetes = False
        self.params = {p.name: p for p in pipeline.parameters}
        self.carriers = self._carriers()
        self.loops = {m.split: self._loop(m) for m in maps(pipeline.flow)}
        self.traveling = self._traveling()

    # decisions --------------------------------------------------------------------------------------
    def _carriers(self) -> dict[tuple[str, str], Carrier]:
        """How each step output travels. A result whose ints KFP would turn into floats travels as
        an artifact: the pipeline hands it to its caller as it is."""
        results = {(r.source, r.name) for res in self.p.results for r in res.refs}
        carriers = {}
        for step in self.p.steps:
            for out in step.outputs:
                exact = is_parameter(out.type.expr) and not (
                    (step.name, out.name) in results and needs_restore(out.type.expr)
                )
                carriers[(step.name, out.name)] = "param" if exact else "artifact"
        groups = [i.refs for s in self.p.steps for i in s.inputs] + [r.refs for r in self.p.results]
        groups = [[(r.source, r.name) for r in g if r.kind == "output"] for g in groups]
        changed = True
        while changed:  # values that meet in a dsl.OneOf travel the same way
            changed = False
            for group in (g for g in groups if len(g) > 1):
                if any(carriers[k] == "artifact" for k in group):
                    for k in group:
                        changed |= carriers[k] != "artifact"
                        carriers[k] = "artifact"
        return carriers

    def _loop(self, node) -> Loop:
        uses_index = any(
            r.kind == "index" and r.source == node.split for r in refs_in(node.body, self.steps)
        )
        item = node.item_type.expr
        kind = self.carrier(node.collection)
        direct = (
            kind == "param"
            and self.ref_type(node.collection).startswith("list[")
            and is_parameter(item)
            and not uses_index
        )
        return Loop(node.split, node.collection, item, direct)

    def _traveling(self) -> tuple[str, ...]:
        """Module classes whose instances may travel in artifacts: those some step uses. Every
        component that loads or saves an artifact defines them, so a pickle always finds its class."""
        if not any(c == "artifact" for c in self.carriers.values()):
            return ()
        used: set[str] = set()
        for step in self.p.steps:
            used |= free_names(step.body, [i.name for i in step.inputs]) & self.module_names
        chosen = closure(used, self.definitions)
        return tuple(n for d in chosen if d.kind == "class" for n in sorted(d.binds))

    # facts the component builder and the flow emitter ask for ---------------------------------------
    def param(self, name: str) -> Parameter:
        return self.params[name]

    def param_carrier(self, param: Parameter) -> Carrier:
        if param.kind == "file":
            return "file"
        if param.kind == "value" and iso_class(param.type.expr):
            return "iso"  # KFP has no date or time parameter: ISO 8601 text
        return "param" if is_parameter(param.type.expr) else "json"

    def carrier(self, ref: Ref) -> Carrier:
        if ref.kind == "param":
            return self.param_carrier(self.params[ref.name])
        if ref.kind == "output":
            return self.carriers[(ref.source, ref.name)]
        return "param"

    def carrier_of(self, step: str, output: str) -> Carrier:
        return self.carriers[(step, output)]

    def ref_type(self, ref: Ref) -> str:
        if ref.kind == "param":
            return self.params[ref.name].type.expr
        if ref.kind == "index":
            return "int"
        if ref.kind == "item":
            return self.loops[ref.source].item_type
        return next(o.type.expr for o in self.steps[ref.source].outputs if o.name == ref.name)

    def value_type(self, inp: Input) -> str:
        """The type a value input is declared and restored with: the consumer's, if KFP can carry it."""
        if is_parameter(inp.type.expr):
            return inp.type.expr
        return self.ref_type(inp.refs[0])

    def step_options(self, step: Step) -> tuple[Option, ...]:
        flow = (o for o in self.p.options if o.kind in ("pypi_base", "conda_base"))
        return (*flow, *step.options)

    def serializer(self, name: str) -> str:
        return self._serializer_names[name]

    def kubernetes_module(self) -> str:
        """The name the pipeline calls kfp-kubernetes by (``kubernetes`` unless the module has
        that name)."""
        self.uses_kubernetes = True
        return self._kubernetes

    def clash(self, step: Step, names: list[str]) -> None:
        raise error(
            "TP141",
            f"step '{step.name}' receives {', '.join(names)} but also needs the module-level "
            f"{'name' if len(names) == 1 else 'names'} of that name: rename one of them",
            step.span,
        )


# module-level names the emitted code relies on (annotations use builtins such as list and int)
_RESERVED = {"dsl", "compiler", "NamedTuple", "Artifact", "Dataset", "Input", "Markdown", "Output"}
_RESERVED |= set(dir(builtins))


def _all_names(pipeline: Pipeline) -> set[str]:
    names = set()
    for step in pipeline.steps:
        names |= set(re.findall(r"\w+", step.body)) | {i.name for i in step.inputs}
    return names
