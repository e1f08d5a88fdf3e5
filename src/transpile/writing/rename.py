"""Step inputs a target framework refuses by name, renamed in the step before it is written.

An input is a free name of the step's body: libcst's scope analysis finds every use of it (and
every rebinding), never an attribute, a keyword argument or a nested function's own name.
"""

from __future__ import annotations

import dataclasses
import re

import libcst as cst
from libcst.metadata import MetadataWrapper, ScopeProvider

from ..model.diagnostics import Diagnostic
from ..model.ir import Pipeline, Step
from .render import free_name


def rename_inputs(
    pipeline: Pipeline, forbidden: frozenset[str], why: str
) -> tuple[Pipeline, list[Diagnostic]]:
    """``pipeline`` with every step input named in ``forbidden`` renamed (TP251 says so), or
    unchanged when a body cannot be analysed (the writer's own check then refuses it)."""
    steps, notes = [], []
    for step in pipeline.steps:
        clashing = [i.name for i in step.inputs if i.name in forbidden]
        renamed = _renamed(step, clashing) if clashing else None
        if renamed is None:
            steps.append(step)
            continue
        new_step, names = renamed
        steps.append(new_step)
        for old, new in names.items():
            message = f"input '{old}' of step '{step.name}' becomes '{new}': {why}"
            notes.append(Diagnostic("TP251", "warning", message, step.span))
    return dataclasses.replace(pipeline, steps=tuple(steps)), notes


def _renamed(step: Step, clashing: list[str]) -> tuple[Step, dict[str, str]] | None:
    try:
        module = cst.parse_module(step.body)
    except cst.ParserSyntaxError:
        return None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    scopes = wrapper.resolve(ScopeProvider)
    used = {i.name for i in step.inputs} | set(re.findall(r"[A-Za-z_]\w*", step.body))
    names: dict[str, str] = {}
    targets: dict[cst.Name, str] = {}
    scope = scopes.get(module)
    for old in clashing:
        new = free_name(
            old.lower() if old.lower() != old else f"{old}_", used | set(names.values())
        )
        names[old] = new
        if scope is None:
            continue
        for access in scope.accesses[old]:
            if isinstance(access.node, cst.Name):
                targets[access.node] = new
        for assignment in scope.assignments[old]:
            node = getattr(assignment, "node", None)
            if isinstance(node, cst.Name):
                targets[node] = new
    body = wrapper.module.visit(_Renamer(targets)).code if targets else step.body
    inputs = tuple(dataclasses.replace(i, name=names.get(i.name, i.name)) for i in step.inputs)
    return dataclasses.replace(step, inputs=inputs, body=body), names


class _Renamer(cst.CSTTransformer):
    def __init__(self, targets: dict[cst.Name, str]):
        self.targets = {id(node): new for node, new in targets.items()}

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        new = self.targets.get(id(original))
        return updated.with_changes(value=new) if new else updated
