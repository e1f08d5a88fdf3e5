"""What a pipeline model means, computed directly: the reference the emitted code must match.

Runs each step's neutral body with ``exec`` (the models are the tests' own), walking the flow:
a map runs its body once per item and collects each output into a list, a switch runs the case
whose value equals its condition.
"""

from __future__ import annotations

import ast
from typing import Any

from transpile.model.ir import Map, Node, Parallel, Pipeline, Ref, Sequence, Switch, Task

Values = dict[tuple[str, str, str], Any]


def evaluate(pipeline: Pipeline, params: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's results for ``params`` (defaults fill in the rest)."""
    values: Values = {}
    for param in pipeline.parameters:
        value = params.get(param.name, _literal(param.default))
        values[("param", param.name, param.name)] = value
    _run(pipeline, pipeline.flow, values)
    return {r.name: _first(values, r.refs) for r in pipeline.results}


def _run(pipeline: Pipeline, node: Node, values: Values) -> None:
    if isinstance(node, Task):
        _step(pipeline, node.step, values)
    elif isinstance(node, Sequence):
        for child in node.nodes:
            _run(pipeline, child, values)
    elif isinstance(node, Parallel):
        for branch in node.branches:
            _run(pipeline, branch, values)
    elif isinstance(node, Map):
        _map(pipeline, node, values)
    elif isinstance(node, Switch):
        key = values[_key(node.condition)]
        case = next(c for c in node.cases if _literal(c.value) == key)
        _run(pipeline, case.body, values)


def _map(pipeline: Pipeline, node: Map, values: Values) -> None:
    runs = []
    for index, item in enumerate(values[_key(node.collection)]):
        inner = {**values, ("item", node.split, "item"): item}
        inner[("index", node.split, "index")] = index
        _run(pipeline, node.body, inner)
        runs.append({k: v for k, v in inner.items() if k not in values})
    for key in {k for run in runs for k in run}:
        values[("collected", *key[1:])] = [run[key] for run in runs if key in run]


def _step(pipeline: Pipeline, name: str, values: Values) -> None:
    step = pipeline.step(name)
    scope: dict[str, Any] = {}
    for inp in step.inputs:
        if inp.mode == "collected":
            scope[inp.name] = values[("collected", *_key(inp.refs[0])[1:])]
        else:
            scope[inp.name] = _first(values, inp.refs)
    exec(compile(step.body, f"<step {name}>", "exec"), scope)  # noqa: S102 (the tests' own models)
    for output in step.outputs:
        values[("output", name, output.name)] = scope[output.var]


def _first(values: Values, refs: tuple[Ref, ...]) -> Any:
    """The value of whichever reference was set (a switch sets one of several)."""
    return next(values[_key(r)] for r in refs if _key(r) in values)


def _key(ref: Ref) -> tuple[str, str, str]:
    return (ref.kind, ref.source, ref.name)


def _literal(text: str | None) -> Any:
    return None if text is None else ast.literal_eval(text)
