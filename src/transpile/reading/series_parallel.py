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
