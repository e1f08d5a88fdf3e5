"""What counts as changing an artifact in place (reading/mutation.py): each form of change, through
aliases, through module helpers, and the read-only uses that must not count."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from transpile.reading.mutation import MutationScan, immutable, mutating_helpers


def _self_root(node: cst.BaseExpression) -> str | None:
    if (
        isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.value.value == "self"
    ):
        return node.attr.value
    return None


def mutated(body: str, module: str = "") -> list[str]:
    helpers = mutating_helpers(cst.parse_module(textwrap.dedent(module)))
    scan = MutationScan(_self_root, helpers)
    cst.parse_module(textwrap.dedent(body)).visit(scan)
    return sorted(scan.mutated)


@pytest.mark.parametrize(
    "body",
    [
        "self.x[0] = 1",
        "self.x.field = 1",
        "self.x['a']['b'] = 1",
        "self.x[0] += 1",
        "del self.x['a']",
        "self.x.append(1)",
        "self.x.sort()",
        "self.x.attr.update({})",
        "self.x.fit([1], [2])",
        "self.x.drop(columns=['a'], inplace=True)",
        "rows = self.x\nrows.append(1)",
        "rows = self.x\nrows += [1]",
        "part = self.x['a']\npart.clear()",
        "for row in self.x:\n    row['v'] = 1",
        "for i, row in enumerate(self.x):\n    row.pop('v')",
        "[row.update(v=1) for row in self.x]",
        "import random\nrandom.shuffle(self.x)",
        "self.x.get('a').append(1)",
    ],
)
def test_changes_in_place(body):
    assert mutated(body) == ["x"]


@pytest.mark.parametrize(
    "body",
    [
        "self.x = [1]",  # a write, not a change in place
        "y = self.x.copy()\ny.append(1)",
        "n = len(self.x)",
        "s = self.x.keys()",
        "d = self.x.groupby('a').sum()",
        "t = self.x.upper()",
        "rows = list(self.x)\nrows.append(1)",  # a new list
        "rows = self.x\nrows = []\nrows.append(1)",  # the alias is rebound first
        "for row in other:\n    row['v'] = 1",
        "print(self.x)",
        "self.x.drop(columns=['a'])",
    ],
)
def test_leaves_unchanged(body):
    assert mutated(body) == []


def test_module_helpers_that_mutate_a_parameter_mutate_the_argument():
    module = """
        def tag(rows, label):
            for row in rows:
                row["tag"] = label

        def tag_all(items):
            tag(items, "x")

        def fresh(rows):
            rows = list(rows)
            rows.append(1)
            return rows
    """
    assert mutating_helpers(cst.parse_module(textwrap.dedent(module))) == {
        "tag": frozenset({0, "rows"}),
        "tag_all": frozenset({0, "items"}),
    }
    assert mutated("tag_all(self.x)", module) == ["x"]
    assert mutated("tag(label=self.y, rows=self.x)", module) == ["x"]
    assert mutated("fresh(self.x)", module) == []


def test_values_of_immutable_types_cannot_change():
    assert immutable("int") and immutable("tuple[int, str]") and immutable("str")
    assert not immutable("list[int]") and not immutable(None) and not immutable("typing.Any")
