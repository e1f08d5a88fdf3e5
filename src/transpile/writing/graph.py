"""Pure questions about the structured flow of a pipeline model, shared by writers."""

from __future__ import annotations

from ..model.ir import Map, Node, Ref, Step, Switch, Task, children, walk

Key = tuple[str, str, str]


def key(ref: Ref) -> Key:
    return (ref.kind, ref.source, ref.name)


def all_steps(node: Node) -> frozenset[str]:
    """Every step inside ``node``, nested maps included."""
    return frozenset(n.step for n in walk(node) if isinstance(n, Task))


def direct_steps(node: Node) -> frozenset[str]:
    """The steps of ``node`` that are not inside a map nested in it."""
    if isinstance(node, Task):
        return frozenset({node.step})
    if isinstance(node, Map):
        return frozenset()
    return frozenset().union(*(direct_steps(c) for c in children(node)))


def maps(node: Node) -> list[Map]:
    return [n for n in walk(node) if isinstance(n, Map)]


def refs_in(node: Node, steps: dict[str, Step]) -> list[Ref]:
    """Every reference a node's steps, maps and switches read, in flow order."""
    refs: list[Ref] = []
    for n in walk(node):
        if isinstance(n, Task):
            refs += [r for i in steps[n.step].inputs for r in i.refs]
        elif isinstance(n, Map):
            refs.append(n.collection)
        elif isinstance(n, Switch):
            refs.append(n.condition)
    return refs


def free_refs(node: Node, steps: dict[str, Step]) -> list[Ref]:
    """References read inside ``node`` that are bound outside it (parameters, earlier outputs).

    The item and index of a map are bound by the map itself, so they are free only outside it.
    """
    inside = all_steps(node)
    splits = {m.split for m in maps(node)}
    free: list[Ref] = []
    for ref in refs_in(node, steps):
        if ref.kind in ("item", "index") and ref.source in splits:
            continue
        if ref.kind == "output" and ref.source in inside:
            continue
        if ref not in free:
            free.append(ref)
    return free


def map_of(node: Node, split: str) -> Map | None:
    return next((m for m in maps(node) if m.split == split), None)
