"""Metaflow's ``end`` step when it does nothing: Metaflow requires it, Flyte and KFP do not.

A flow must end in a step named ``end``, so flows often close with ``def end(self): pass``. Written
to Flyte or KFP it would be a task that starts a container (a pod) to run nothing. Such a step,
last in the flow, reading and writing no artifact, with no options, is left out of the Flyte
and KFP output; an info diagnostic says so. ``diff`` leaves it out of a Metaflow flow's structure
too, so a flow and its conversion still compare equal (and the Metaflow writer gives a Flyte or
KFP pipeline the ``end`` Metaflow needs).
"""

from __future__ import annotations

import ast
from dataclasses import replace

from ..model.diagnostics import Diagnostic
from ..model.ir import Pipeline, Sequence, Task


def empty_end(pipeline: Pipeline) -> str | None:
    """The name of the Metaflow ``end`` step that does nothing, or None."""
    flow = pipeline.flow
    if pipeline.framework != "metaflow" or not isinstance(flow, Sequence) or len(flow.nodes) < 2:
        return None
    last = flow.nodes[-1]
    if not isinstance(last, Task):
        return None
    step = next((s for s in pipeline.steps if s.name == last.step), None)
    if (
        step is None
        or step.name != "end"
        or step.role != "task"
        or step.inputs
        or step.outputs
        or step.options
    ):
        return None
    if any(ref.source == step.name for r in pipeline.results for ref in r.refs):
        return None
    return step.name if _does_nothing(step.body) else None


def without_empty_end(pipeline: Pipeline) -> tuple[Pipeline, list[Diagnostic]]:
    """``pipeline`` without its empty ``end`` step (see the module), and a note when dropped."""
    name = empty_end(pipeline)
    if name is None:
        return pipeline, []
    step = pipeline.step(name)
    flow = pipeline.flow
    assert isinstance(flow, Sequence)
    kept = replace(
        pipeline,
        flow=Sequence(flow.nodes[:-1]),
        steps=tuple(s for s in pipeline.steps if s.name != name),
    )
    message = f"step '{name}' does nothing: Metaflow needs it, this target does not (no task)"
    return kept, [Diagnostic("TP201", "info", message, step.span)]


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
