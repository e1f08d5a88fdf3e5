"""Names in the emitted flow: steps, Parameters and artifacts, clear of what Metaflow reserves."""

from __future__ import annotations

import re

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Pipeline, Span
from transpile.util.namespace import Namespace
from transpile.writing.render import identifier

from .graph import flatten

# FlowSpec's public attributes (dir(FlowSpec) in metaflow 2.19, plus the instance's `name`): a
# Parameter by one of these names is silently ignored, a step by one is a lint error, and an
# artifact by one shadows the flow's own attribute.
RESERVED = frozenset(
    {"name", "next", "input", "index", "cmd", "foreach_stack", "script_name", "merge_artifacts"}
)

OutputKey = tuple[str, str]  # (model step, output name)


class FlowNames:
    """Deterministic Metaflow names for a model's steps, parameters and outputs."""

    def __init__(self, pipeline: Pipeline, diagnostics: list[Diagnostic]):
        self.p = pipeline
        self.diagnostics = diagnostics
        self.options: dict[str, str] = {}  # a parameter whose option is not its attribute's name
        self.params = {q.name: self._param(q.name, q.span) for q in pipeline.parameters}
        self.steps = self._steps()
        self.taken = set(self.params.values()) | set(self.steps.values())
        self.artifacts = self._artifacts()

    def option(self, name: str) -> str:
        """The command-line option (``--x``) of the model's parameter ``name``."""
        return self.options.get(name) or self.params[name]

    def _note(self, message: str, span: Span | None, code: str = "TP230") -> None:
        self.diagnostics.append(Diagnostic(code, "warning", message, span))

    def _param(self, name: str, span: Span) -> str:
        attr = identifier(name)
        if attr in ("start", "end"):  # the flow's first and last steps: the option keeps it
            self.options[name] = attr
            return f"{attr}_value"
        if attr in RESERVED:
            self._note(
                f"parameter {name!r} is reserved by Metaflow (it would be silently ignored); "
                f"renamed {attr}_ (command-line option --{attr}_)",
                span,
            )
            attr = f"{attr}_"
        return attr

    def _steps(self) -> dict[str, str]:
        nodes = flatten(self.p.flow)
        first = nodes[0] if nodes else None
        last = nodes[-1] if len(nodes) > 1 else None
        names: dict[str, str] = {}
        params = set(self.params.values())
        # a result keeps its name (what users read after a run); a step by that name yields
        results = {identifier(r.name) for r in self.p.results} - RESERVED
        for step in self.p.steps:
            name = identifier(step.name)
            allowed = re.sub(r"[^a-z0-9_]", "_", name.lower())
            if allowed != name:  # Metaflow's linter refuses any other step name
                while allowed in names.values() or allowed in params:
                    allowed += "_"
                self._note(
                    f"step name {step.name!r} has characters Metaflow refuses (only lowercase "
                    f"ascii letters, digits and underscores); renamed {allowed}",
                    step.span,
                )
                name = allowed
            misplaced = (name == "start" and getattr(first, "step", None) != step.name) or (
                name == "end" and getattr(last, "step", None) != step.name
            )
            if name in RESERVED or misplaced or name in params or name in results:
                why = "is reserved by Metaflow" if name in RESERVED else "is taken"
                why = "is a result's name" if name in results - params else why
                self._note(f"step name {step.name!r} {why}; renamed {name}_step", step.span)
                name = f"{name}_step"
            names[step.name] = name
        return names

    def _artifacts(self) -> dict[OutputKey, str]:
        """Output names, shared by the outputs a `oneof` input or result merges; an output name two
        steps produce is prefixed with its step, except in models read from Metaflow, where the
        references already follow Metaflow's own artifact semantics."""
        groups = _oneof_groups(self.p)
        keys = [(s.name, o.name) for s in self.p.steps for o in s.outputs]
        producers: dict[str, set[OutputKey]] = {}
        for key in keys:
            canonical = groups.get(key, key)
            producers.setdefault(canonical[1], set()).add(canonical)
        spans = {s.name: s.span for s in self.p.steps}
        pinned = _namespace_reads(self.p)
        chosen: dict[OutputKey, str] = {}
        for key in keys:
            lead_step, output = canonical = groups.get(key, key)
            if canonical not in chosen:
                shared = len(producers[output]) > 1 and self.p.framework != "metaflow"
                shared = shared and canonical not in pinned
                base = f"{lead_step}_{output}" if shared else output
                chosen[canonical] = self._artifact(identifier(base), spans[key[0]])
        return {key: chosen[groups.get(key, key)] for key in keys}

    def _artifact(self, name: str, span: Span) -> str:
        if name in RESERVED or name in self.taken:
            why = "is reserved by Metaflow" if name in RESERVED else "names a step or parameter"
            self._note(f"artifact {name!r} {why}; renamed {name}_", span, "TP231")
            return self._artifact(f"{name}_", span)
        return name

    def fresh_artifact(self, base: str) -> str:
        used = self.taken | set(self.artifacts.values())
        name, n = base, 1
        while name in used or name in RESERVED:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name


def _oneof_groups(pipeline: Pipeline) -> dict[OutputKey, OutputKey]:
    """Outputs that stand for one value (whichever switch case ran) → the group's first output."""
    ref_sets = [i.refs for s in pipeline.steps for i in s.inputs if i.mode == "oneof"]
    ref_sets += [r.refs for r in pipeline.results if len(r.refs) > 1]
    leader: dict[OutputKey, OutputKey] = {}
    for refs in ref_sets:
        keys = [(r.source, r.name) for r in refs if r.kind == "output"]
        if not keys:
            continue
        head = next((leader[k] for k in keys if k in leader), keys[0])
        for key in keys:
            leader[key] = head
    return leader


def _namespace_reads(pipeline: Pipeline) -> set[OutputKey]:
    """Outputs a join reads by their own name through ``inputs`` (``inp.x``, ``inputs[0].x``):
    in Metaflow that is their artifact name, so it is never prefixed."""
    keys: set[OutputKey] = set()
    for step in pipeline.steps:
        if "SimpleNamespace" not in step.body:  # a join read from any framework
            continue
        inputs = {i.name: i for i in step.inputs}
        for field, names in Namespace.of(step.body).locals().items():
            refs = [r for n in names if n in inputs for r in inputs[n].refs]
            keys |= {(r.source, r.name) for r in refs if r.kind == "output" and r.name == field}
    return keys
