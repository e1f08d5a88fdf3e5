"""What reading one flow keeps track of, and what the join builder (join.py) asks of it: the
artifacts available at each point (``Avail``), what reaches a join (``Incoming``), the types, inputs
and body rewrites found so far."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Input, Ref, TypeRef
from transpile.reading.cst import SpanIndex

from .scan import MetaflowNames
from .step import Rewrite, StepFacts

Avail = dict[str, tuple[str, ...]]  # artifact → the steps whose write may reach here


@dataclass
class Incoming:
    """What reaches a join: per incoming step, the artifacts available at its end."""

    kind: str  # "parallel" | "foreach"
    branches: dict[str, Avail]
    body_steps: frozenset[str] = frozenset()
    collection: Ref | None = None  # what a foreach iterated over: each input's `.input`
    item_type: TypeRef | None = None


class FlowState:
    def __init__(self, module: cst.Module, path: str, spans: SpanIndex | None = None):
        self.module, self.path = module, path
        self.spans = spans or SpanIndex(path, module.code)
        self.names = MetaflowNames()
        self.diagnostics: list[Diagnostic] = []
        self.types: dict[tuple[str, str], TypeRef] = {}
        self.consumed: set[tuple[str, str]] = set()
        self.inputs: dict[str, list[Input]] = {}
        self.rewrites: dict[str, Rewrite] = {}
        self.facts: dict[str, StepFacts] = {}
        self.needs_namespace = False
        self.catches: dict[str, str | None] = {}  # @catch step → its var (catch.py)

    def _input(self, name: str, defs: tuple[str, ...], local: str | None = None) -> Input:
        for d in defs:
            self.consumed.add((d, name))
        kinds = {self.types.get((d, name), TypeRef("typing.Any", "fallback")) for d in defs}
        kind = kinds.pop() if len(kinds) == 1 else TypeRef("typing.Any", "fallback")
        refs = tuple(Ref("output", d, name) for d in defs)
        return Input(local or name, kind, refs, "value" if len(defs) == 1 else "oneof")

    def _rewrite(self, step, names, branch_names, prelude, merge_code) -> Rewrite:
        literals = {"flow_name": repr(self.flow.name), "step_name": repr(step.name)}
        parsed = [  # a Config: its file arrives as text; its keys read as attributes too
            f"{names[c]} = ConfigValue(json.loads({names[c]}))"
            if c in self.flow.config_files
            else f"{names[c]} = ConfigValue({names[c]})"
            for c in sorted(self.flow.configs)
            if c in names
        ]
        split = [  # Metaflow splits a Parameter with a separator= before a step sees it
            f"{names[p]} = {names[p]}.split({sep}) if {names[p]} else {names[p]}"
            for p, sep in sorted(self.flow.separators.items())
            if p in names
        ]
        prelude = [*parsed, *split, *prelude]
        namespace, epilogue = self._namespace(step, names)
        if namespace is not None:
            given = {i.name for i in self.inputs.get(step.name, ())}
            held = [n for n in sorted(namespace[1]) if names.get(n) in given]
            fields = ", ".join(f"{n}={names[n]}" for n in held)
            prelude.append(f"{namespace[0]} = SimpleNamespace({fields})")
            self.needs_namespace = True
        rewrite = Rewrite(
            names,
            branch_names,
            set(self.flow.constants),
            literals,
            self.current_names,
            step.inputs_name,
            prelude,
            merge_code,
            self.flow.methods,
            namespace=namespace,
            epilogue=epilogue,
        )
        return rewrite

    def _namespace(self, step, names: dict[str, str]):
        """The namespace a step that calls a method setting artifacts keeps them in (its
        name, what it holds), and the lines that take the step's outputs back from it."""
        facts = self.facts.get(step.name)
        if facts is None or not facts.namespace:
            return None, []
        taken = facts.bare_names | facts.local_names | set(names.values())
        var = "artifacts"
        while var in taken:
            var += "_"
        epilogue = [f"{names.get(n, n)} = {var}.{n}" for n in facts.namespace if n in facts.writes]
        return (var, frozenset(facts.namespace)), epilogue
