"""Structural comparison of two pipeline models: the one read from a Metaflow flow and the one read
back from our KFP writer's version of it (fixtures/<case>/expected/kfp.py).

Each ``facts_*`` function reduces a model to comparable facts; the tolerances are the documented
differences between a Metaflow flow and its KFP form, each justified where it is applied.
"""

from __future__ import annotations

import ast
import json
import re

from transpile.model.ir import Map, Node, Parallel, Pipeline, Sequence, Switch, Task, TypeRef
from transpile.model.ir_json import from_json, to_json


def shape(node: Node) -> str:
    """The flow tree as text. A one-node Sequence is its node: the Metaflow reader wraps every
    branch and loop body in a Sequence, the KFP reader only bodies of several nodes."""
    if isinstance(node, Sequence) and len(node.nodes) == 1:
        return shape(node.nodes[0])
    if isinstance(node, Task):
        return node.step
    if isinstance(node, Sequence):
        return "[" + ", ".join(shape(n) for n in node.nodes) + "]"
    if isinstance(node, Parallel):
        return "parallel(" + " | ".join(shape(b) for b in node.branches) + ")"
    if isinstance(node, Map):
        c = node.collection
        return f"map {c.kind}:{c.source}.{c.name} at {node.split}({shape(node.body)})"
    if isinstance(node, Switch):
        cases = " | ".join(f"{c.value}: {shape(c.body)}" for c in node.cases)
        return f"switch {node.condition.source}.{node.condition.name}({cases})"
    raise TypeError(node)


def _known(kind: TypeRef) -> str | None:
    # our KFP writer pickles values KFP cannot carry: their type is not in the KFP file
    return kind.expr if kind.known else None


def _value(text: str | None, constants: dict[str, str]):
    """A default's Python value; our writer hoists long defaults into module constants."""
    if text is None:
        return None
    try:
        return ast.literal_eval(constants.get(text, text))
    except (ValueError, SyntaxError):
        return text


def constants(pipeline: Pipeline) -> dict[str, str]:
    found = {}
    for definition in pipeline.module.definitions:
        tree = ast.parse(definition).body
        node = tree[0] if len(tree) == 1 else None
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name):
                found[target.id] = ast.unparse(node.value)
    return found


def facts_parameters(pipeline: Pipeline) -> dict[str, tuple]:
    """By name: KFP wants required parameters first, so the writer may reorder them."""
    consts = constants(pipeline)
    out = {}
    for p in pipeline.parameters:
        default = _value(p.default, consts)
        if p.kind == "json" and not p.type.known:
            # JSON of unknown shape travels as its text (TP221): a str parameter in KFP
            text = json.dumps(default) if default is not None else None
            out[p.name] = ("str", "value", text, p.required)
            continue
        out[p.name] = (p.type.expr, p.kind, default, p.required)
    return out


def facts_inputs(pipeline: Pipeline) -> dict[str, list]:
    return {
        s.name: sorted(((i.name, i.mode, i.refs) for i in s.inputs), key=repr)
        for s in pipeline.steps
    }


def facts_input_types(pipeline: Pipeline) -> dict[tuple[str, str], str | None]:
    return {(s.name, i.name): _known(i.type) for s in pipeline.steps for i in s.inputs}


def facts_outputs(pipeline: Pipeline) -> dict[str, dict[str, str | None]]:
    return {s.name: {o.name: _known(o.type) for o in s.outputs} for s in pipeline.steps}


def facts_results(pipeline: Pipeline) -> dict[str, tuple]:
    return {r.name: tuple(sorted(r.refs, key=repr)) for r in pipeline.results}


def facts_options(pipeline: Pipeline) -> dict[str, dict]:
    """Only what the KFP writer carries as task settings: resources, retries, environment.
    Timeouts, @catch and cards become TODOs in KFP; packages merge flow- and step-level lists."""
    out = {}
    for step in pipeline.steps:
        facts: dict = {}
        for option in step.options:
            if option.kind in ("resources", "kubernetes", "batch"):
                for key in ("cpu", "memory"):
                    if option.arg(key) is not None:
                        facts[key] = float(ast.literal_eval(option.arg(key)))
            elif option.kind == "retry":
                facts["retry"] = int(ast.literal_eval(option.arg("times", "3")))
            elif option.kind == "environment":
                facts["env"] = ast.literal_eval(option.arg("vars", "{}"))
        out[step.name] = facts
    return out


def by_collection(pipeline: Pipeline) -> Pipeline:
    """Each map named after the list it iterates over: only Metaflow has a step that fans out;
    KFP names the step that made the list, which differs when that list was set earlier."""
    splits: dict[str, str] = {}

    def walk(node: Node) -> None:
        if isinstance(node, Map):
            c = node.collection
            splits[node.split] = f"<{c.kind}:{c.source}.{c.name}>"
            walk(node.body)
        for child in (*getattr(node, "nodes", ()), *getattr(node, "branches", ())):
            walk(child)
        for case in getattr(node, "cases", ()):
            walk(case.body)

    walk(pipeline.flow)

    def renamed(data):
        if isinstance(data, dict):
            data = {k: renamed(v) for k, v in data.items()}
            if data.get("split") in splits:
                data["split"] = splits[data["split"]]
            if data.get("kind") in ("item", "index") and data.get("source") in splits:
                data["source"] = splits[data["source"]]
            return data
        return [renamed(v) for v in data] if isinstance(data, list) else data

    return from_json(json.dumps(renamed(json.loads(to_json(pipeline)))))


def differences(metaflow: Pipeline, kfp: Pipeline) -> list[str]:
    """Every structural difference, as readable lines (empty: same structure)."""
    metaflow, kfp = by_collection(metaflow), by_collection(kfp)
    found = []
    if shape(metaflow.flow) != shape(kfp.flow):
        found.append(f"flow: {shape(metaflow.flow)}\n   vs {shape(kfp.flow)}")
    for label, fn in (
        ("parameters", facts_parameters),
        ("inputs", facts_inputs),
        ("results", facts_results),
        ("options", facts_options),
    ):
        a, b = fn(metaflow), fn(kfp)
        if a != b:
            keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            found += [f"{label} {k}: {a.get(k)} vs {b.get(k)}" for k in keys]
    found += _type_differences(facts_input_types(metaflow), facts_input_types(kfp), "input")
    found += _output_differences(facts_outputs(metaflow), facts_outputs(kfp))
    return found


def _type_differences(a: dict, b: dict, label: str) -> list[str]:
    return [
        f"{label} type {k}: {a[k]} vs {b[k]}"
        for k in sorted(set(a) & set(b))
        if a[k] and b[k] and not _compatible(a[k], b[k])
    ]


def _compatible(metaflow: str, kfp: str) -> bool:
    """Equal, where ``typing.Any`` in the KFP side matches anything: types of values our writer
    pickled are inferred from their assignment, with parts it cannot see left unknown."""
    pattern = ".+".join(re.escape(part) for part in kfp.split("typing.Any"))
    return re.fullmatch(pattern, metaflow) is not None


def _output_differences(a: dict, b: dict) -> list[str]:
    """KFP outputs are a subset: Metaflow keeps every artifact, our KFP writer returns only the
    ones a later step or the results use."""
    found = []
    for step, outputs in b.items():
        # our KFP writer turns @card into a Markdown artifact named card
        extra = sorted(set(outputs) - set(a.get(step, {})) - {"card"})
        if extra:
            found.append(f"outputs of {step} not in Metaflow: {extra}")
        found += _type_differences(a.get(step, {}), outputs, f"output of {step}")
    return found


def writer_renames_undone(metaflow: Pipeline, kfp: Pipeline) -> Pipeline:
    """``kfp`` with our writer's step renames undone: a step whose name is a Python builtin or
    keyword becomes ``<name>_step`` (reported as TP250 when it was written)."""
    names = {s.name for s in kfp.steps}
    renames = {
        f"{s.name}_step": s.name
        for s in metaflow.steps
        if s.name not in names and f"{s.name}_step" in names
    }
    if not renames:
        return kfp
    data = json.loads(to_json(kfp))
    return from_json(json.dumps(_renamed(data, renames)))


def _renamed(data, renames: dict[str, str]):
    if isinstance(data, dict):
        return {
            k: renames.get(v, v)
            if k in ("name", "step", "source", "split") and isinstance(v, str)
            else _renamed(v, renames)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_renamed(v, renames) for v in data]
    return data
