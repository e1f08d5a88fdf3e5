"""Structural facts of a pipeline model, for comparing what two readers made of the same pipeline.

``facts(pipeline)`` keeps what must survive a translation (step names, flow shape, parameters,
inputs with their references, outputs, results, options) in a normalized form; each tolerance below
says which difference it absorbs and why that difference is not a loss.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from transpile.frameworks.flyte.writer.types import flyte_type
from transpile.model.ir import Map, Node, Parallel, Pipeline, Ref, Sequence, Switch, Task

# Options whose Flyte form is a TODO comment (capability "none" for Flyte): nothing to read back.
NOT_CARRIED = {"catch", "project", "trigger", "trigger_on_finish", "exit_hook", "custom"}
PLATFORM = {"kubernetes", "batch"}  # their cpu/memory are Flyte Resources, as @resources's
FLOW_IMAGE = {"pypi_base": "pypi", "conda_base": "conda"}  # Flyte copies them into every task


def value(text: str | None) -> Any:
    """A literal's value (quote style and spacing do not count), else its text."""
    if text is None:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


@dataclass
class Normalizer:
    """``outputs`` maps (step, output) to the output's name on the other side, ``steps`` a step name
    to the step's name on the other side."""

    classes: frozenset[str]
    outputs: dict[tuple[str, str], str] = field(default_factory=dict)
    steps: dict[str, str] = field(default_factory=dict)
    splits: dict[str, str] = field(default_factory=dict)  # a map's split → its collection

    def type_text(self, expr: str) -> str:
        """A type as the Flyte writer declares it: Flyte's type engine has no tuples, sets or
        bytes, so those (and containers of ``typing.Any``) travel pickled as ``typing.Any``. Both
        sides go through the writer's own mapping; a type it keeps must match exactly."""
        return flyte_type(expr, self.classes)

    def step(self, name: str) -> str:
        return self.steps.get(name, name)

    def ref(self, ref: Ref) -> str:
        if ref.kind in ("item", "index") and ref.source in self.splits:
            return f"{ref.kind}:{self.splits[ref.source]}"  # see shape(): no split step compared
        name = self.outputs.get((ref.source, ref.name), ref.name)
        return f"{ref.kind}:{self.step(ref.source)}.{name}"

    def shape(self, node: Node) -> Any:
        """The flow tree as nested tuples; a one-node Sequence is the node itself."""
        if isinstance(node, Task):
            return self.step(node.step)
        if isinstance(node, Sequence):
            parts = tuple(self.shape(n) for n in node.nodes)
            return parts[0] if len(parts) == 1 else ("seq", *parts)
        if isinstance(node, Parallel):
            return ("parallel", *(self.shape(b) for b in node.branches))
        if isinstance(node, Map):
            item = self.type_text(node.item_type.expr)
            collection = self.ref(node.collection)
            # not node.split: only Metaflow has a step that fans out; Flyte and KFP name the
            # step that made the list, which differs when that list was set earlier
            return ("map", collection, item, self.shape(node.body))
        if isinstance(node, Switch):
            cases = ((value(c.value), self.shape(c.body)) for c in node.cases)
            return ("switch", self.ref(node.condition), *cases)
        raise TypeError(node)


def options(option_list, flow_options=()) -> dict[str, dict[str, Any]]:
    """Options by kind with literal argument values, merged the way the Flyte writer merges them."""
    out: dict[str, dict[str, Any]] = {}
    for option in (*option_list, *(o for o in flow_options if o.kind in FLOW_IMAGE)):
        kind = FLOW_IMAGE.get(option.kind, "resources" if option.kind in PLATFORM else option.kind)
        if kind in NOT_CARRIED:
            continue
        args = {k: value(v) for k, v in option.args}
        if kind == "retry":  # Flyte has no retry delay (the writer leaves a TODO); 3 is the default
            args = {"times": args.get("times", 3)}
        if kind == "resources":
            args = {k: v for k, v in args.items() if k in ("cpu", "memory", "gpu", "disk")}
        merged = out.setdefault(kind, {})
        for key, arg in args.items():
            if key == "packages":
                merged[key] = {**arg, **merged.get(key, {})}
            else:
                merged.setdefault(key, arg)
    return out


def facts(
    pipeline: Pipeline,
    outputs: dict[tuple[str, str], str] | None = None,
    steps: dict[str, str] | None = None,
) -> dict:
    """Everything compared, keyed so that order does not count where it does not matter."""
    n = Normalizer(_classes(pipeline), outputs or {}, steps or {})
    n.splits = {m.split: n.ref(m.collection) for m in _maps(pipeline.flow)}
    step_facts = {}
    for step in pipeline.steps:
        step_facts[n.step(step.name)] = {
            "inputs": {
                i.name: (n.type_text(i.type.expr), i.mode, tuple(n.ref(r) for r in i.refs))
                for i in step.inputs
            },
            "outputs": {
                n.outputs.get((step.name, o.name), o.name): n.type_text(o.type.expr)
                for o in step.outputs
            },
            "options": options(step.options, pipeline.options),
        }
    return {
        "name": pipeline.name,
        # Python wants required parameters first, so the Flyte writer reorders them
        "parameters": {
            p.name: (n.type_text(p.type.expr), value(p.default), p.required, p.kind == "file")
            for p in pipeline.parameters
        },
        "steps": step_facts,
        "flow": n.shape(pipeline.flow),
        "results": {
            r.name: (n.type_text(r.type.expr), tuple(n.ref(x) for x in r.refs))
            for r in pipeline.results
        },
        "pipeline_options": options([o for o in pipeline.options if o.kind not in FLOW_IMAGE]),
    }


def _maps(node: Node):
    if isinstance(node, Map):
        yield node
        yield from _maps(node.body)
    for child in getattr(node, "nodes", ()) or getattr(node, "branches", ()):
        yield from _maps(child)
    for case in getattr(node, "cases", ()):
        yield from _maps(case.body)


def tuple_output_renames(source: Pipeline, target: Pipeline) -> dict[tuple[str, str], str]:
    """The Flyte writer returns a tuple output as ``list(name)``, an expression, so reading it back
    names the output ``o0``: map it to the source's name (only for single tuple outputs)."""
    renames = {}
    for step in target.steps:
        names = [o.name for o in step.outputs]
        if names == ["o0"] and step.name in {s.name for s in source.steps}:
            original = source.step(step.name).outputs
            if len(original) == 1 and "tuple" in original[0].type.expr:
                renames[(step.name, "o0")] = original[0].name
    return renames


def function_renames(source: Pipeline, target: Pipeline) -> dict[str, str]:
    """The Flyte writer names a step's function ``<step>_step`` when ``<step>`` is taken (a builtin
    or a helper the module uses), and a reader names steps after functions: map those back."""
    known = {s.name for s in source.steps}
    return {
        s.name: s.name[: -len("_step")]
        for s in target.steps
        if s.name.endswith("_step") and s.name not in known and s.name[: -len("_step")] in known
    }


def _classes(pipeline: Pipeline) -> frozenset[str]:
    """Classes the module defines (dataclasses keep their name as a Flyte type)."""
    tree = ast.parse("\n".join(pipeline.module.definitions))
    return frozenset(node.name for node in tree.body if isinstance(node, ast.ClassDef))
