"""The tree a dependency graph nests into (reading/series_parallel.py)."""

from __future__ import annotations

import itertools

import pytest

from transpile.reading.series_parallel import series_parallel, tightened


def _waits(tree, before=frozenset()):
    """What the tree makes each item wait for (written here, not taken from the module)."""
    if isinstance(tree, int):
        return {tree: set(before)}
    kind, parts = tree
    found, done = {}, set(before)
    for part in parts:
        found |= _waits(part, frozenset(done) if kind == "seq" else before)
        if kind == "seq":
            done |= set(_waits(part))
    return found


def _closure(order, deps):
    reach = {}
    for item in order:
        reach[item] = set(deps.get(item, set())).union(*(reach[d] for d in deps.get(item, ())))
    return reach


def test_a_series_parallel_graph_keeps_its_own_tree_and_adds_nothing():
    deps = {1: {0}, 2: {0}, 3: {1, 2}}
    tree, added = tightened([0, 1, 2, 3], deps)
    assert tree == series_parallel([0, 1, 2, 3], deps) == ("seq", (0, ("par", (1, 2)), 3))
    assert added == {}


def test_an_n_shaped_graph_becomes_two_parallel_blocks_and_names_the_one_added_wait():
    # a -> c, a -> d, b -> d: c did not wait for b
    tree, added = tightened([0, 1, 2, 3], {2: {0}, 3: {0, 1}})
    assert series_parallel([0, 1, 2, 3], {2: {0}, 3: {0, 1}}) is None
    assert tree == ("seq", (("par", (0, 1)), ("par", (2, 3))))
    assert added == {2: {1}}


def test_only_the_part_that_crosses_is_tightened():
    # nordic 0 -> parsed 2; european 1; comparison 3 <- {2, 1}; borders 4 <- 2;
    # report 5 <- {2, 3, 4}; cleanup 6 on its own
    deps = {2: {0}, 3: {2, 1}, 4: {2}, 5: {2, 3, 4}}
    tree, added = tightened(list(range(7)), deps)
    assert tree == (
        "par",
        (("seq", (("par", (("seq", (0, 2)), 1)), ("par", (3, 4)), 5)), 6),
    )
    assert added == {4: {1}}


@pytest.mark.parametrize("seed", range(40))
def test_every_dependency_is_kept_and_only_the_named_waits_are_added(seed):
    """Random graphs over 7 items: the tree keeps each dependency, and what an item waits for
    beyond its dependencies is exactly what ``added`` names."""
    import random

    rng = random.Random(seed)
    order = list(range(7))
    deps = {j: {i for i in range(j) if rng.random() < 0.35} for j in order}
    tree, added = tightened(order, deps)
    waits = _waits(tree)
    assert sorted(waits) == order  # every item once
    reach = _closure(order, deps)
    for item in order:
        assert reach[item] <= waits[item]
        assert waits[item] - reach[item] == added.get(item, set())


def test_every_graph_of_four_items_nests():
    order = [0, 1, 2, 3]
    pairs = list(itertools.combinations(order, 2))
    for chosen in itertools.product([False, True], repeat=len(pairs)):
        deps: dict[int, set[int]] = {}
        for (i, j), on in zip(pairs, chosen):
            if on:
                deps.setdefault(j, set()).add(i)
        tree, added = tightened(order, deps)
        if series_parallel(order, deps) is not None:
            assert added == {}, deps
        assert sorted(_waits(tree)) == order
