"""Model surgery the readers' normalisations share: read a value from where it really comes from
instead of a step that only hands it on, and take a step out of the flow."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

from ..model.ir import (
    Case,
    Input,
    Map,
    Node,
    Parallel,
    Pipeline,
    Ref,
    Sequence,
    Step,
    Switch,
    Task,
    task_steps,
    walk,
)

# what a hand-on output really is: the references it passes on and how they combine (Input.mode)
Alias = tuple[tuple[Ref, ...], str]


def redirect(pipeline: Pipeline, step: str, aliases: dict[str, Alias]) -> Pipeline | None:
    """Every read of ``step``'s aliased outputs reads the alias instead; None when a read cannot
    (a collected value read where one value per run is needed)."""
    try:
        steps = tuple(
            dataclasses.replace(s, inputs=tuple(_input(i, step, aliases) for i in s.inputs))
            for s in pipeline.steps
        )
        results = tuple(
            dataclasses.replace(r, refs=_refs(r.refs, "oneof", step, aliases)[0])
            for r in pipeline.results
        )
        flow = _flow_refs(pipeline.flow, step, aliases)
    except _Unfit:
        return None
    return dataclasses.replace(pipeline, steps=steps, results=results, flow=flow)


class _Unfit(Exception):
    """A read that cannot take the alias."""


def _input(inp: Input, step: str, aliases: dict[str, Alias]) -> Input:
    refs, mode = _refs(inp.refs, inp.mode, step, aliases)
    return inp if refs == inp.refs else dataclasses.replace(inp, refs=refs, mode=mode)


def _refs(refs: tuple[Ref, ...], mode: str, step: str, aliases: dict[str, Alias]):
    out: list[Ref] = []
    for ref in refs:
        alias = aliases.get(ref.name) if ref.kind == "output" and ref.source == step else None
        if alias is None:
            out.append(ref)
            continue
        mode = _combine(mode, alias[1], len(refs))
        out += [r for r in alias[0] if r not in out]
    if mode == "oneof" and len(out) == 1:
        mode = "value"
    return tuple(out), mode


def _combine(reader: str, alias: str, count: int) -> str:
    if alias == "value":
        return reader
    if reader == "value" and count == 1:
        return alias
    if reader == "oneof" and alias == "oneof":
        return "oneof"
    raise _Unfit


def _flow_refs(node: Node, step: str, aliases: dict[str, Alias]) -> Node:
    if isinstance(node, Sequence):
        return Sequence(tuple(_flow_refs(n, step, aliases) for n in node.nodes))
    if isinstance(node, Parallel):
        return Parallel(tuple(_flow_refs(n, step, aliases) for n in node.branches))
    if isinstance(node, Map):
        collection = _single(node.collection, step, aliases)
        return dataclasses.replace(
            node, collection=collection, body=_flow_refs(node.body, step, aliases)
        )
    if isinstance(node, Switch):
        cases = tuple(Case(c.value, _flow_refs(c.body, step, aliases)) for c in node.cases)
        return Switch(_single(node.condition, step, aliases), cases)
    return node


def _single(ref: Ref, step: str, aliases: dict[str, Alias]) -> Ref:
    refs, mode = _refs((ref,), "value", step, aliases)
    if mode != "value":
        raise _Unfit
    return refs[0]


def without_step(pipeline: Pipeline, step: str) -> Pipeline:
    """``pipeline`` without ``step``: out of the flow, and a map it split renamed after what it
    maps over (the split step now is the collection's producer, or none)."""
    flow = _drop(pipeline.flow, step)
    steps = tuple(s for s in pipeline.steps if s.name != step)
    split = _split_name(flow, step, {s.name for s in steps})
    if split is not None:
        flow = rename_splits(flow, {step: split})
        steps = tuple(
            dataclasses.replace(s, inputs=tuple(_item_input(i, step, split) for i in s.inputs))
            for s in steps
        )
    return dataclasses.replace(pipeline, steps=steps, flow=flow)


def _drop(node: Node, step: str) -> Node:
    if isinstance(node, Sequence):
        kept = [_drop(n, step) for n in node.nodes if n != Task(step)]
        flat = [m for n in kept for m in (n.nodes if isinstance(n, Sequence) else (n,))]
        return Sequence(tuple(flat))
    if isinstance(node, Parallel):
        return Parallel(tuple(_drop(n, step) for n in node.branches))
    if isinstance(node, Map):
        return dataclasses.replace(node, body=_drop(node.body, step))
    if isinstance(node, Switch):
        return Switch(node.condition, tuple(Case(c.value, _drop(c.body, step)) for c in node.cases))
    return Sequence(()) if node == Task(step) else node


def _split_name(flow: Node, step: str, steps: set[str]) -> str | None:
    """The new name of the map ``step`` split, if it split one: the collection's producer when
    that is a step, else ``<first body step>_split`` as the Flyte and KFP readers name it."""
    found = _find_map(flow, step)
    if found is None:
        return None
    if found.collection.kind == "output" and found.collection.source in steps:
        return found.collection.source
    first = next(iter(task_steps(found.body)), "map")
    name = f"{first}_split"
    return name if name not in steps else f"{name}_"


def _find_map(node: Node, split: str) -> Map | None:
    return next((n for n in walk(node) if isinstance(n, Map) and n.split == split), None)


def _item_input(inp: Input, old: str, new: str) -> Input:
    refs = tuple(
        dataclasses.replace(r, source=new) if r.kind in ("item", "index") and r.source == old else r
        for r in inp.refs
    )
    return inp if refs == inp.refs else dataclasses.replace(inp, refs=refs)


def rename_splits(node: Node, marks: dict[str, str]) -> Node:
    """Replace the placeholder split names of maps with their final names."""
    if isinstance(node, Sequence):
        return Sequence(tuple(rename_splits(n, marks) for n in node.nodes))
    if isinstance(node, Parallel):
        return Parallel(tuple(rename_splits(n, marks) for n in node.branches))
    if isinstance(node, Map):
        return Map(
            marks.get(node.split, node.split),
            node.collection,
            node.item_type,
            rename_splits(node.body, marks),
        )
    if isinstance(node, Switch):
        return Switch(
            node.condition, tuple(replace(c, body=rename_splits(c.body, marks)) for c in node.cases)
        )
    return node


def rename_step_splits(step: Step, marks: dict[str, str]) -> Step:
    """Replace the placeholder split names in a step's map references."""

    def fix(ref: Ref) -> Ref:
        return replace(ref, source=marks.get(ref.source, ref.source))

    inputs = tuple(replace(i, refs=tuple(fix(r) for r in i.refs)) for i in step.inputs)
    return replace(step, inputs=inputs)
