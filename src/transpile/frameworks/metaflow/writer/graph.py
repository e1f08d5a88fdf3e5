"""The structured flow of a model → Metaflow's step graph: start, end, splits, foreaches, switches,
the joins Metaflow requires after them, and the small steps its linter asks for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from transpile.model.diagnostics import error
from transpile.model.ir import Map, Node, Parallel, Pipeline, Sequence, Switch, Task


@dataclass
class JoinSpec:
    """What a join step closes: a static split (its branch exits) or a foreach (its body's exit)."""

    kind: Literal["branch", "foreach"]
    split: str
    exits: tuple[str, ...]
    map: Map | None = None


@dataclass
class MFStep:
    """One Metaflow step: a model step (``model``) or one the writer adds (``model`` None)."""

    name: str
    model: str | None
    stack: tuple[str, ...]  # model split names of the enclosing foreaches, innermost last
    kind: Literal["linear", "split", "foreach", "switch", "end"] = "linear"
    targets: list[str | None] = field(default_factory=lambda: [None])
    join: JoinSpec | None = None
    map: Map | None = None
    switch: Switch | None = None


Edge = tuple[MFStep, int]  # a step and the slot of its transition still waiting for a target


@dataclass
class Open:
    """Where the flow continues: edges waiting for the next step, and the join it must be."""

    edges: list[Edge]
    join: JoinSpec | None = None


def flatten(node: Node) -> list[Node]:
    if isinstance(node, Sequence):
        return [n for child in node.nodes for n in flatten(child)]
    return [node]


class GraphBuilder:
    """Builds the steps in definition order; ``names`` maps model step names to Metaflow names."""

    def __init__(self, pipeline: Pipeline, names: dict[str, str], taken: set[str]):
        self.p = pipeline
        self.names = names
        self.taken = taken | set(names.values())
        self.steps: list[MFStep] = []
        self.split_of: dict[str, str] = {}  # model Map.split → the Metaflow step that fans out

    def build(self) -> list[MFStep]:
        nodes = flatten(self.p.flow)
        if nodes and nodes[0] == Task("start"):
            opened = self._task("start", Open([]), ())
            nodes = nodes[1:]
        else:
            opened = Open([(self._add("start", None, ()), 0)])
        last = nodes.pop() if nodes and nodes[-1] == Task("end") else None
        for node in nodes:
            opened = self._node(node, opened, ())
        if opened.join is not None:
            opened = self.settle(opened, (), "join")
        end = self._task("end", opened, ()) if last else self._synthetic("end", opened, ())
        end.edges[0][0].kind = "end"
        end.edges[0][0].targets = []
        return self.steps

    def fresh(self, base: str) -> str:
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name

    def _add(self, name: str, model: str | None, stack: tuple[str, ...]) -> MFStep:
        step = MFStep(name if model else self.fresh(name), model, stack)
        self.steps.append(step)
        return step

    def _enter(self, step: MFStep, opened: Open) -> Open:
        for source, slot in opened.edges:
            source.targets[slot] = step.name
        step.join = opened.join
        return Open([(step, 0)])

    def _task(self, model: str, opened: Open, stack: tuple[str, ...]) -> Open:
        return self._enter(self._add(self.names[model], model, stack), opened)

    def _synthetic(self, base: str, opened: Open, stack: tuple[str, ...]) -> Open:
        return self._enter(self._add(base, None, stack), opened)

    def settle(self, opened: Open, stack: tuple[str, ...], base: str, split: bool = False) -> Open:
        """One plain step to continue from: adds a join or a merge step where Metaflow needs one
        (and a step after a join that would split again: a join step cannot split)."""
        edges = opened.edges
        step = edges[0][0] if len(edges) == 1 else None
        plain = step is not None and opened.join is None and step.kind == "linear"
        if plain and not (split and step.join is not None):  # type: ignore[union-attr]
            return opened
        if opened.join is not None and split:
            opened = self._synthetic("join", opened, stack)
            if len(opened.edges) == 1 and opened.edges[0][0].kind == "linear" and not split:
                return opened
        return self._synthetic(base, opened, stack)

    def _node(self, node: Node, opened: Open, stack: tuple[str, ...]) -> Open:
        if isinstance(node, Task):
            return self._task(node.step, opened, stack)
        if isinstance(node, Sequence):
            for child in node.nodes:
                opened = self._node(child, opened, stack)
            return opened
        if isinstance(node, Parallel):
            return self._parallel(node, opened, stack)
        if isinstance(node, Map):
            return self._map(node, opened, stack)
        return self._switch(node, opened, stack)

    def _parallel(self, node: Parallel, opened: Open, stack: tuple[str, ...]) -> Open:
        split = self.settle(opened, stack, "split", split=True).edges[0][0]
        split.kind, split.targets = "split", [None] * len(node.branches)
        edges: list[Edge] = []
        for i, branch in enumerate(node.branches):
            inner = self._node(branch, Open([(split, i)]), stack)
            edges += self.settle(inner, stack, f"branch_{i + 1}").edges
        exits = tuple(step.name for step, _ in edges)
        return Open(edges, JoinSpec("branch", split.name, exits))

    def _map(self, node: Map, opened: Open, stack: tuple[str, ...]) -> Open:
        base = node.split if node.split and node.split not in self.names else "fan_out"
        source = self.settle(opened, stack, base, split=True).edges[0][0]
        if node.split not in self.names and source.model is not None:
            source = self._synthetic(base, Open([(source, 0)]), stack)
            source = source.edges[0][0]
        source.kind, source.map = "foreach", node
        self.split_of[node.split] = source.name
        inner_stack = (*stack, node.split)
        inner = self._node(node.body, Open([(source, 0)]), inner_stack)
        inner = self.settle(inner, inner_stack, f"{source.name}_body")
        exits = (inner.edges[0][0].name,)
        return Open(inner.edges, JoinSpec("foreach", source.name, exits, node))

    def _switch(self, node: Switch, opened: Open, stack: tuple[str, ...]) -> Open:
        source = self.settle(opened, stack, "route", split=True).edges[0][0]
        source.kind, source.switch = "switch", node
        # Metaflow needs two cases at least: a lone case gets an empty "otherwise" step
        bodies = [c.body for c in node.cases] + ([Sequence(())] if len(node.cases) < 2 else [])
        source.targets = [None] * len(bodies)
        edges: list[Edge] = []
        for i, body in enumerate(bodies):
            inner = self._node(body, Open([(source, i)]), stack)
            edges += self.settle(inner, stack, f"{source.name}_case_{i + 1}").edges
        return Open(edges)


def ancestors(steps: list[MFStep]) -> dict[str, frozenset[str]]:
    """Every step's strict ancestors (steps are in an order where parents come first)."""
    parents: dict[str, set[str]] = {s.name: set() for s in steps}
    for step in steps:
        for target in step.targets:
            if target is not None:
                parents[target].add(step.name)
    found: dict[str, frozenset[str]] = {}
    for step in _topological(steps, parents):
        direct = parents[step]
        found[step] = frozenset(direct).union(*(found[p] for p in direct))
    return found


def _topological(steps: list[MFStep], parents: dict[str, set[str]]) -> list[str]:
    order: list[str] = []
    done: set[str] = set()
    pending = [s.name for s in steps]
    while pending:
        ready = [s for s in pending if parents[s] <= done]
        if not ready:  # cannot happen for a graph built from a tree; never loop forever
            raise error("TP245", f"steps {pending} form a cycle", None)
        order += ready
        done |= set(ready)
        pending = [s for s in pending if s not in done]
    return order


def predecessors(steps: list[MFStep]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {s.name: [] for s in steps}
    for step in steps:
        for target in step.targets:
            if target is not None and step.name not in found[target]:
                found[target].append(step.name)
    return found


def why_added(step: MFStep) -> str:
    """Why the writer added ``step`` (it has no model step): the first line of its docstring."""
    if step.kind == "end":
        return "a Metaflow flow ends with an end step."
    if step.name == "start" and step.join is None:
        return "a Metaflow flow begins with a start step."
    if step.join is not None and step.join.kind == "foreach":
        return "Metaflow joins a foreach in a step of its own."
    if step.join is not None:
        return "Metaflow joins the branches of a split in a step of their own."
    if step.kind in ("split", "foreach", "switch"):
        return "Metaflow needs a step of its own to branch from here."
    return "Metaflow needs a plain step between a branch and its join."
