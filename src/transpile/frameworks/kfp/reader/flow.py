"""The flow tree of a KFP pipeline body: ordering, parallel branches, values passed around."""

from __future__ import annotations

from dataclasses import dataclass, field

from transpile.model.ir import Map, Node, Parallel, Ref, Sequence, Switch, Task, TypeRef
from transpile.reading.series_parallel import Tree, series_parallel


@dataclass
class Value:
    """What a pipeline-body expression stands for: references or a literal, and how they combine."""

    refs: tuple[Ref, ...] = ()
    type: TypeRef | None = None
    mode: str = "value"  # "value" | "collected" | "oneof"
    literal: str | None = None  # source text of a literal argument
    positions_of: Value | None = None  # our writer's foreach_positions(items=...) helper
    field: str | None = None  # ``item.a`` / ``item["a"]`` of a loop item (``type``: the item's)
    formatted: tuple[str, dict[str, Value]] | None = None  # f"{x}-y": (text, its values by name)


@dataclass
class Handle:
    """A name bound to a task (or an inlined pipeline): its outputs by KFP output key."""

    step: str | None
    outputs: dict[str, Value]
    single: Value | None
    item: Item | None = None


@dataclass
class Item:
    """One node of a body in source order, with the steps it holds and the steps it waits for."""

    node: Node
    steps: set[str]
    deps: set[str] = field(default_factory=set)


def ref_steps(refs: tuple[Ref, ...]) -> set[str]:
    return {r.source for r in refs if r.kind == "output"}


def steps_in(node: Node) -> list[str]:
    """Step names in flow order."""
    if isinstance(node, Task):
        return [node.step]
    if isinstance(node, Sequence):
        return [s for n in node.nodes for s in steps_in(n)]
    if isinstance(node, Parallel):
        return [s for n in node.branches for s in steps_in(n)]
    if isinstance(node, Map):
        return steps_in(node.body)
    if isinstance(node, Switch):
        return [s for c in node.cases for s in steps_in(c.body)]
    return []


def group(items: list[Item]) -> Item:
    """Several items as one: their steps, and what they wait for outside themselves."""
    steps = set().union(*(i.steps for i in items)) if items else set()
    deps = set().union(*(i.deps for i in items)) - steps if items else set()
    return Item(structure(items), steps, deps)


def structure(items: list[Item]) -> Node:
    """A Sequence in source order; runs of independent items become Parallel branches.

    A run starts with items that do not wait for each other; each later item that waits for
    exactly one branch (and nothing else of the run) extends that branch. A graph of nested
    sequences and branches keeps its nesting (see ``series_parallel``).
    """
    deps = {n: {m for m in range(n) if item.deps & items[m].steps} for n, item in enumerate(items)}
    tree = series_parallel(list(range(len(items))), deps)
    if tree is not None and len(items) > 1:
        return _tree_node(tree, items)
    nodes: list[Node] = []
    i = 0
    while i < len(items):
        branches, i = _run(items, i)
        if len(branches) == 1:
            nodes += [b.node for b in branches[0]]
        else:
            nodes.append(Parallel(tuple(_seq([b.node for b in br]) for br in branches)))
    return nodes[0] if len(nodes) == 1 else Sequence(tuple(nodes))


def _tree_node(tree: Tree, items: list[Item]) -> Node:
    if isinstance(tree, int):
        return items[tree].node
    kind, parts = tree
    nodes = [_tree_node(part, items) for part in parts]
    if kind == "par":
        return Parallel(tuple(nodes))
    flat = [m for n in nodes for m in (n.nodes if isinstance(n, Sequence) else (n,))]
    return Sequence(tuple(flat))


def _run(items: list[Item], start: int) -> tuple[list[list[Item]], int]:
    branches = [[items[start]]]
    j = start + 1
    while j < len(items) and not items[j].deps & _steps(branches):
        branches.append([items[j]])
        j += 1
    if len(branches) == 1:
        return branches, j
    while j < len(items):
        hit = [b for b in branches if items[j].deps & _steps([b])]
        if len(hit) != 1:
            break
        hit[0].append(items[j])
        j += 1
    return branches, j


def _steps(branches: list[list[Item]]) -> set[str]:
    return set().union(*(i.steps for b in branches for i in b))


def _seq(nodes: list[Node]) -> Node:
    return nodes[0] if len(nodes) == 1 else Sequence(tuple(nodes))
