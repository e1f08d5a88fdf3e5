"""Metaflow's ``start`` and ``end`` steps when they do nothing: Metaflow requires them, Flyte,
KFP and Airflow do not.

A flow must begin with a step named ``start`` and end in one named ``end``, so flows often open
with ``def start(self): self.next(...)`` and close with ``def end(self): pass``. Written to
another target each would be a task that starts a container (a pod) to run nothing. Such a step,
first (``start``) or last (``end``) in the flow, reading and writing no artifact, with no
options, is left out of the output; an info diagnostic says so. ``diff`` leaves them out of a
Metaflow flow's structure too, so a flow and its conversion still compare equal (and the
Metaflow writer gives a Flyte or KFP pipeline the ``start`` and ``end`` Metaflow needs).
"""

from __future__ import annotations

import ast
from dataclasses import replace

from ..model.diagnostics import Diagnostic
from ..model.ir import Pipeline, Sequence, Task


def empty_end(pipeline: Pipeline) -> str | None:
    """The name of the Metaflow ``end`` step that does nothing, or None."""
    return _empty(pipeline, -1, "end")


def empty_start(pipeline: Pipeline) -> str | None:
    """The name of the Metaflow ``start`` step that does nothing, or None."""
    return _empty(pipeline, 0, "start")


def empty_ends(pipeline: Pipeline) -> list[str]:
    """The Metaflow ``start`` and ``end`` steps that do nothing (see the module)."""
    return [n for n in (empty_start(pipeline), empty_end(pipeline)) if n is not None]


def _empty(pipeline: Pipeline, position: int, name: str) -> str | None:
    flow = pipeline.flow
    if pipeline.framework != "metaflow" or not isinstance(flow, Sequence) or len(flow.nodes) < 2:
        return None
    node = flow.nodes[position]
    if not isinstance(node, Task) or node.step != name:
        return None
    step = next((s for s in pipeline.steps if s.name == node.step), None)
    if step is None or step.role != "task" or step.inputs or step.outputs or step.options:
        return None
    if any(ref.source == step.name for r in pipeline.results for ref in r.refs):
        return None
    return step.name if _does_nothing(step.body) else None


def without_empty_ends(pipeline: Pipeline) -> tuple[Pipeline, list[Diagnostic]]:
    """``pipeline`` without its ``start`` and ``end`` steps that do nothing (see the module),
    and a note for each dropped; the step between them always stays."""
    dropped = empty_ends(pipeline)
    flow = pipeline.flow
    if not dropped or not isinstance(flow, Sequence):
        return pipeline, []
    if len(flow.nodes) == len(dropped):
        dropped = dropped[1:]  # a flow that does nothing keeps its start
    nodes = tuple(n for n in flow.nodes if not (isinstance(n, Task) and n.step in dropped))
    kept = replace(
        pipeline,
        flow=Sequence(nodes),
        steps=tuple(s for s in pipeline.steps if s.name not in dropped),
    )
    notes = [
        Diagnostic(
            "TP201",
            "info",
            f"step '{name}' does nothing: Metaflow needs it, this target does not (no task)",
            pipeline.step(name).span,
        )
        for name in dropped
    ]
    return kept, notes


def _does_nothing(body: str) -> bool:
    """Only ``pass``, ``...`` and string literals (docstrings, comments are not in the tree)."""
    try:
        statements = ast.parse(body).body
    except SyntaxError:
        return False
    return all(
        isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in statements
    )
