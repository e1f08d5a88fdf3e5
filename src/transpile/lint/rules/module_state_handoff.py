"""Module-level mutable state written in one step and read in another.

Why: locally the steps may share one Python process, or at least the author's expectations of it;
on every backend each step is a fresh process (often on another machine), so the list or dict is
back to its initial value when the next step reads it. Metaflow's own local runs already start a
process per step, so this usually fails there too, just less visibly.

Instead: keep the value in an artifact (``self.seen = [...]``) or a task output, and pass it on.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import Hit, LintUnit, StepFunction

CODE = "TP504"
NAME = "module-state-handoff"
MESSAGE = "module-level '{name}' is changed by step '{writer}' and read here; pass it as data"
FRAMEWORKS = frozenset({"metaflow", "flyte", "kfp"})

MUTATORS = {"append", "extend", "insert", "update", "add", "setdefault", "pop", "clear"}
MUTATORS |= {"remove", "discard", "popitem", "appendleft", "sort"}

VALID = [
    """
from metaflow import FlowSpec, step

DEFAULTS = {"lr": 0.1}

class Flow(FlowSpec):
    @step
    def start(self):
        self.lr = DEFAULTS["lr"]
        self.next(self.end)

    @step
    def end(self):
        print(DEFAULTS["lr"], self.lr)
""",
]
INVALID = [
    """
from metaflow import FlowSpec, step

SEEN = []

class Flow(FlowSpec):
    @step
    def start(self):
        SEEN.append("start")
        self.next(self.end)

    @step
    def end(self):
        print(len(SEEN))  # error
""",
    """
from flytekit import task

CACHE = {}
counter = 0

@task
def fill() -> None:
    global counter
    counter = 1
    CACHE["model"] = 3

@task
def use() -> int:
    return CACHE["model"] + counter  # error
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    shared = _module_state(unit.tree)
    writers: dict[str, str] = {}
    for step in unit.steps:
        for name in _changed(step.node, shared):
            writers.setdefault(name, step.name)
    for step in unit.steps:
        for name, node in _first_reads(step, shared).items():
            if writers.get(name, step.name) != step.name:
                yield unit.hit(node, MESSAGE.format(name=name, writer=writers[name]))


def _module_state(tree: ast.Module) -> set[str]:
    """Names bound at module level (a step can mutate them in place or rebind them)."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _changed(function: ast.AST, shared: set[str]) -> Iterator[str]:
    """Module names the function mutates in place, or rebinds after ``global``."""
    declared = {
        n for node in ast.walk(function) if isinstance(node, ast.Global) for n in node.names
    }
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id in declared:
            yield node.id
        target = _mutated_container(node)
        if target in shared:
            yield target


def _mutated_container(node: ast.AST) -> str | None:
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return node.value.id if isinstance(node.value, ast.Name) else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        owner = node.func.value
        if node.func.attr in MUTATORS and isinstance(owner, ast.Name):
            return owner.id
    return None


def _first_reads(step: StepFunction, shared: set[str]) -> dict[str, ast.AST]:
    reads: dict[str, ast.AST] = {}
    local = {a.arg for a in step.node.args.args}
    for node in ast.walk(step.node):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in shared:
            earlier = reads.get(node.id)
            if node.id not in local and (earlier is None or _before(node, earlier)):
                reads[node.id] = node
    return reads


def _before(a: ast.AST, b: ast.AST) -> bool:
    return (a.lineno, a.col_offset) < (b.lineno, b.col_offset)  # type: ignore[attr-defined]
