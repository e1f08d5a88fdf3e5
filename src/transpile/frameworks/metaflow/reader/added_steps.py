"""Leave out of a read Metaflow model the steps a transpile writer added (marked by their
docstring, see ``transpile.model.added``) when they only move data: each read of what such a step hands
on reads the value where it comes from, and the flow goes on without the step. A flow converted
from Flyte or KFP to Metaflow thus reads back with the steps it had; a step the user has since
given real work keeps its place."""

from __future__ import annotations

import ast
import dataclasses

import libcst as cst

from transpile.model.added import HANDED_ON, is_added, listed_results
from transpile.model.ir import Pipeline, Step
from transpile.reading.rewire import Alias, redirect, without_step
from transpile.util.namespace import Namespace


def drop_added_steps(pipeline: Pipeline) -> Pipeline:
    """``pipeline`` without the added steps that only move data."""
    pipeline = _own_results(pipeline)
    for step in pipeline.steps:
        if not is_added(step.doc) and HANDED_ON in step.body:
            pipeline = without_handed_on(pipeline, pipeline.step(step.name))
    for name in [s.name for s in pipeline.steps if is_added(s.doc)]:
        step = pipeline.step(name)  # as the steps removed so far left it
        aliases = moves(step)
        rewired = None if aliases is None else redirect(pipeline, step.name, aliases)
        if rewired is not None:
            pipeline = without_step(rewired, step.name)
    return pipeline


def _own_results(pipeline: Pipeline) -> Pipeline:
    """An added end step lists the results the pipeline had; every other artifact is the flow's
    inner working."""
    ends = [s for s in pipeline.steps if s.name == "end" and is_added(s.doc)]
    names = listed_results(ends[0].doc) if ends else None
    if names is None:
        return pipeline
    results = tuple(r for r in pipeline.results if r.name in names)
    return dataclasses.replace(pipeline, results=results)


def moves(step: Step) -> dict[str, Alias] | None:
    """What each output of a step that only moves data really is, or None if it computes."""
    try:
        tree = ast.parse(step.body)
    except SyntaxError:
        return None
    found = _moves(tree.body, step, Namespace())
    by_var = {o.var: o.name for o in step.outputs}
    if found is None or set(found) != set(by_var):
        return None
    return {by_var[var]: alias for var, alias in found.items()}


def _moves(stmts: list[ast.stmt], step: Step, namespace: Namespace) -> dict[str, Alias] | None:
    """Output local → what it hands on, for statements that only hand inputs on (else None)."""
    inputs = {i.name: (i.refs, i.mode) for i in step.inputs}
    aliases: dict[str, Alias] = {}
    for stmt in stmts:
        if isinstance(stmt, ast.Pass):
            continue
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
            return None
        target = stmt.targets[0]
        if isinstance(target, ast.Name) and target.id == "inputs":
            namespace.read(stmt.value)
            continue
        source = namespace.moved(stmt.value)
        if not isinstance(target, ast.Name) or source not in inputs:
            return None
        aliases[target.id] = inputs[source]
    return aliases


def without_handed_on(pipeline: Pipeline, step: Step) -> Pipeline:
    """``step`` without the lines a writer added to hand values on (below the ``HANDED_ON``
    comment), each read of those values reading them where they come from."""
    lines = step.body.splitlines()
    mark = next((n for n, line in enumerate(lines) if line.startswith(HANDED_ON)), None)
    if mark is None:
        return pipeline
    head = "\n".join(lines[:mark]) + "\n"
    try:
        namespace = Namespace.of(head)
        found = _moves(ast.parse("\n".join(lines[mark + 1 :])).body, step, namespace)
    except SyntaxError:
        return pipeline
    by_var = {o.var: o.name for o in step.outputs}
    if not found or not set(found) <= set(by_var):
        return pipeline
    rewired = redirect(pipeline, step.name, {by_var[v]: a for v, a in found.items()})
    if rewired is None:
        return pipeline
    head = _unshimmed(head, _names("\n".join(lines[mark + 1 :])))
    used = _names(head)
    kept = dataclasses.replace(
        step,
        body=head,
        inputs=tuple(i for i in step.inputs if i.name in used),
        outputs=tuple(o for o in step.outputs if o.var not in found),
    )
    steps = tuple(kept if s.name == step.name else s for s in rewired.steps)
    return dataclasses.replace(rewired, steps=steps)


def _unshimmed(head: str, handed: set[str]) -> str:
    """``head`` without the ``x=x`` fields of a join's ``SimpleNamespace`` shim for values only
    the handed-on lines read (``inputs[0].x``): with those lines gone, nothing reads them."""
    module = cst.parse_module(head)
    counts: dict[str, int] = {}
    for node in ast.walk(ast.parse(head)):
        if isinstance(node, ast.Name):
            counts[node.id] = counts.get(node.id, 0) + 1

    class Fields(cst.CSTTransformer):
        def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
            if not (isinstance(updated.func, cst.Name) and updated.func.value == "SimpleNamespace"):
                return updated
            args = [a for a in updated.args if not _only_field(a, handed, counts)]
            if len(args) == len(updated.args):
                return updated
            if args:
                args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return updated.with_changes(args=args)

    return module.visit(Fields()).code


def _only_field(arg: cst.Arg, handed: set[str], counts: dict[str, int]) -> bool:
    """``x=x`` where ``x`` is handed on and read nowhere else."""
    return (
        arg.keyword is not None
        and isinstance(arg.value, cst.Name)
        and arg.value.value == arg.keyword.value
        and arg.keyword.value in handed
        and counts.get(arg.keyword.value) == 1
    )


def _names(code: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
