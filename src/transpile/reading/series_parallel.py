"""Nested sequences and parallel branches from a dependency graph, when the graph has that form.

Flyte and KFP pipelines are graphs; the model's flow is a tree. A graph made only of sequences and
parallel branches (series-parallel) has exactly one such tree: an item every other item runs
before or after is a point of the sequence, and what lies between two such points splits into the
groups that never wait for each other, each a branch, decomposed the same way. A graph of another
form (two branches that cross-feed) gives None, and the reader keeps its own grouping.
"""

from __future__ import annotations

Tree = int | tuple[str, tuple["Tree", ...]]  # an item, ("seq", parts) or ("par", branches)


def series_parallel(order: list[int], deps: dict[int, set[int]]) -> Tree | None:
    """The tree of ``order`` (items in an order that respects ``deps``), or None."""
    if not order:
        return None
    reach: dict[int, set[int]] = {}
    for item in order:
        direct = deps.get(item, set()) & set(order)
        reach[item] = set(direct).union(*(reach[d] for d in direct))
    return _sequence(order, reach)


def _sequence(items: list[int], reach: dict[int, set[int]]) -> Tree | None:
    """``items`` cut where everything before the cut runs before everything after it (an item
    every other item runs before or after is such a segment of its own; two branches that all
    feed two others are two segments, each parallel)."""
    if len(items) == 1:
        return items[0]
    parts: list[Tree | None] = []
    segment: list[int] = []
    for k, item in enumerate(items):
        segment.append(item)
        before = set(items[: k + 1])
        if k + 1 == len(items) or all(before <= reach[j] for j in items[k + 1 :]):
            parts.append(segment[0] if len(segment) == 1 else _parallel(segment, reach))
            segment = []
    if None in parts:
        return None
    return parts[0] if len(parts) == 1 else ("seq", tuple(parts))  # type: ignore[arg-type]


def _parallel(items: list[int], reach: dict[int, set[int]]) -> Tree | None:
    if len(items) == 1:
        return items[0]
    groups = _independent(items, reach)
    if len(groups) == 1:
        return None  # neither a sequence nor separate branches
    branches = [_sequence(g, reach) for g in groups]
    if any(b is None for b in branches):
        return None
    return ("par", tuple(branches))  # type: ignore[arg-type]


def _independent(items: list[int], reach: dict[int, set[int]]) -> list[list[int]]:
    """The items in groups no item of another group waits for, in the order of their first item."""
    group = {item: item for item in items}

    def root(item: int) -> int:
        while group[item] != item:
            item = group[item]
        return item

    for item in items:
        for earlier in reach[item] & set(items):
            group[root(earlier)] = root(item)
    found: dict[int, list[int]] = {}
    for item in items:
        found.setdefault(root(item), []).append(item)
    return list(found.values())


def tightened(order: list[int], deps: dict[int, set[int]]) -> tuple[Tree, dict[int, set[int]]]:
    """A tree for any graph: the graph's own when it is series-parallel, else one that keeps
    every dependency and adds as few orderings as it can (a branch that feeds another branch
    makes the two segments of a sequence, cut where the fewest items wait for more than they
    did). Also what each item now waits for that it did not (empty for a series-parallel graph).
    """
    reach: dict[int, set[int]] = {}
    for item in order:
        direct = deps.get(item, set()) & set(order)
        reach[item] = set(direct).union(*(reach[d] for d in direct))
    tree = _tighten(order, reach)
    added: dict[int, set[int]] = {}
    for item, before in _waits(tree).items():
        extra = before - reach[item]
        if extra:
            added[item] = extra
    return tree, added


def _tighten(items: list[int], reach: dict[int, set[int]]) -> Tree:
    if len(items) == 1:
        return items[0]
    segments = _segments(items, reach)
    if len(segments) > 1:
        parts = [_tighten(s, reach) for s in segments]
        flat = [p for part in parts for p in _steps_of(part)]
        return ("seq", tuple(flat))
    groups = _independent(items, reach)
    if len(groups) > 1:
        return ("par", tuple(_tighten(g, reach) for g in groups))
    before, after = _cut(items, reach)
    flat = [
        p for part in (_tighten(before, reach), _tighten(after, reach)) for p in _steps_of(part)
    ]
    return ("seq", tuple(flat))


def _segments(items: list[int], reach: dict[int, set[int]]) -> list[list[int]]:
    """``items`` cut where everything before the cut runs before everything after it."""
    found: list[list[int]] = []
    segment: list[int] = []
    for k, item in enumerate(items):
        segment.append(item)
        before = set(items[: k + 1])
        if k + 1 == len(items) or all(before <= reach[j] for j in items[k + 1 :]):
            found.append(segment)
            segment = []
    return found


def _cut(items: list[int], reach: dict[int, set[int]]) -> tuple[list[int], list[int]]:
    """Two non-empty parts, the first closed under what its items wait for, chosen by the
    longest chain leading to each item so the fewest orderings are added (the earliest such cut
    on a tie)."""
    inside = set(items)
    depth: dict[int, int] = {}
    for item in items:  # in an order that respects the dependencies
        depth[item] = max((depth[d] + 1 for d in reach[item] & inside), default=0)
    best: tuple[int, int] | None = None
    for level in range(1, max(depth.values()) + 1):
        before = {i for i in items if depth[i] < level}
        cost = sum(len(before - reach[i]) for i in items if depth[i] >= level)
        if best is None or cost < best[0]:
            best = (cost, level)
    assert best is not None  # a connected group of two or more items has two depths
    level = best[1]
    return [i for i in items if depth[i] < level], [i for i in items if depth[i] >= level]


def _steps_of(tree: Tree) -> list[Tree]:
    """A sequence's parts (a sequence nested in a sequence is flattened), else the tree."""
    if isinstance(tree, tuple) and tree[0] == "seq":
        return list(tree[1])
    return [tree]


def _waits(tree: Tree, before: frozenset[int] = frozenset()) -> dict[int, set[int]]:
    """For each item of ``tree``, the items the tree makes it wait for."""
    if isinstance(tree, int):
        return {tree: set(before)}
    kind, parts = tree
    found: dict[int, set[int]] = {}
    done = set(before)
    for part in parts:
        found |= _waits(part, frozenset(done) if kind == "seq" else before)
        if kind == "seq":
            done |= _items(part)
    return found


def _items(tree: Tree) -> set[int]:
    if isinstance(tree, int):
        return {tree}
    return set().union(*(_items(p) for p in tree[1]))
