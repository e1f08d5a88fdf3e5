"""From the calls of a workflow body and their dependencies to a structured flow.

A Flyte workflow is a graph; the model's flow is a tree of sequences and parallel branches. Items
run in topological order (source order where the graph leaves a choice); where several items are
ready at once, each starts a parallel branch that collects the items depending on it alone, and
the branches end where an item depends on more than one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transpile.model.diagnostics import error
from transpile.model.ir import Node, Parallel, Sequence, Span, Step, task_steps
from transpile.reading.series_parallel import Tree, series_parallel


@dataclass
class Item:
    """One node of a body (a task call, a map or a switch) and the items it must follow."""

    id: int
    node: Node
    deps: set[int] = field(default_factory=set)


def structure(items: list[Item], span: Span) -> Sequence:
    """The items as a Sequence, with Parallel branches where independent items are ready together."""
    ordered = _topological(items, span)
    tree = series_parallel([i.id for i in ordered], {i.id: i.deps for i in ordered})
    if tree is not None:  # nested as the workflow nests them
        return Sequence(tuple(_nodes(tree, {i.id: i.node for i in ordered})))
    return Sequence(tuple(_build(ordered)))


def _nodes(tree: Tree, nodes: dict[int, Node]) -> list[Node]:
    if isinstance(tree, int):
        return [nodes[tree]]
    kind, parts = tree
    if kind == "seq":
        return [n for part in parts for n in _nodes(part, nodes)]
    return [Parallel(tuple(Sequence(tuple(_nodes(part, nodes))) for part in parts))]


def _topological(items: list[Item], span: Span) -> list[Item]:
    ids = {item.id for item in items}
    placed: list[Item] = []
    done: set[int] = set()
    pending = list(items)
    while pending:
        ready = next((i for i in pending if (i.deps & ids) <= done), None)
        if ready is None:
            raise error("TP158", "the workflow's `>>` orderings form a cycle", span)
        placed.append(ready)
        done.add(ready.id)
        pending.remove(ready)
    return placed


def _build(items: list[Item]) -> list[Node]:
    ids = {item.id for item in items}
    reach = _closure(items, ids)
    out: list[Node] = []
    rest = list(items)
    while rest:
        left = {i.id for i in rest}
        roots = [i for i in rest if not (reach[i.id] & left)]
        if len(roots) == 1:
            out.append(roots[0].node)
            rest.remove(roots[0])
            continue
        branches = _branches(rest, roots, reach)
        out.append(Parallel(tuple(Sequence(tuple(_build(b))) for b in branches)))
        taken = {i.id for b in branches for i in b}
        rest = [i for i in rest if i.id not in taken]
    return out


def _branches(rest: list[Item], roots: list[Item], reach: dict[int, set[int]]) -> list[list[Item]]:
    branches = {root.id: [root] for root in roots}
    for item in rest:
        if item.id in branches:
            continue
        hit = [head for head in branches if head in reach[item.id]]
        if len(hit) != 1:
            break  # depends on several branches: the branches end before it
        branches[hit[0]].append(item)
    return list(branches.values())


def _closure(items: list[Item], ids: set[int]) -> dict[int, set[int]]:
    """Every item's transitive dependencies within ``items`` (they come in topological order)."""
    reach: dict[int, set[int]] = {}
    for item in items:
        direct = item.deps & ids
        reach[item.id] = set(direct).union(*(reach[d] for d in direct))
    return reach


def in_flow_order(steps: list[Step], flow: Node) -> list[Step]:
    """The steps in the order the flow first reaches them."""
    order = task_steps(flow)
    return sorted(steps, key=lambda s: order.index(s.name) if s.name in order else len(order))
