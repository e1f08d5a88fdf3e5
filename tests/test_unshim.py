"""A join that only reads values from ``inputs`` gets plain lists and values, not the
``SimpleNamespace`` shim (issue 19, item 3); any other use of ``inputs`` keeps the shim."""

from __future__ import annotations

import textwrap

import pytest

from transpile import api
from transpile.util.syntax import undefined_names
from transpile.writing.unshim import without_shim

FOREACH = "inputs = [SimpleNamespace(r=r, x=x) for r in r_values]\n"
ZIPPED = "inputs = [SimpleNamespace(input=item, r=r, s=s) for item, r, s in zip(items, r_values, s_values)]\n"
BRANCHES = "inputs = [SimpleNamespace(n=a_n, s=a_s), SimpleNamespace(n=b_n, s=b_s)]\n"


def plain(shim: str, body: str) -> str:
    return without_shim(shim + textwrap.dedent(body))


@pytest.mark.parametrize(
    "shim, body, expected",
    [
        (FOREACH, "rs = [inp.r for inp in inputs]\n", "rs = list(r_values)\n"),
        (FOREACH, "total = sum(inp.r for inp in inputs)\n", "total = sum(r_values)\n"),
        (FOREACH, "top = max(i.r for i in inputs)\n", "top = max(r_values)\n"),
        (FOREACH, "n = len(inputs)\n", "n = len(r_values)\n"),
        (FOREACH, "first = inputs[0].r\n", "first = r_values[0]\n"),
        (FOREACH, "last = inputs[-1].r\n", "last = r_values[-1]\n"),
        (
            FOREACH,
            "big = [i.r * 2 for i in inputs if i.r > 1]\n",
            "big = [r * 2 for r in r_values if r > 1]\n",
        ),
        (
            ZIPPED,
            "by = {str(i.input): i.s for i in inputs}\n",
            "by = {str(item): s for item, s in zip(items, s_values)}\n",
        ),
        (
            ZIPPED,
            "rows = sorted(v for i in inputs for v in i.r)\n",
            "rows = sorted(v for r in r_values for v in r)\n",
        ),
        (
            FOREACH,
            "total = 0\nfor inp in inputs:\n    total += inp.r\n",
            "total = 0\nfor r in r_values:\n    total += r\n",
        ),
        (BRANCHES, "ns = [inp.n for inp in inputs]\n", "ns = [a_n, b_n]\n"),
        (BRANCHES, "ns = sorted(inp.n for inp in inputs)\n", "ns = sorted([a_n, b_n])\n"),
        (
            BRANCHES,
            "top = max(inp.s[0] for inp in inputs)\n",
            "top = max(s[0] for s in (a_s, b_s))\n",
        ),
        (BRANCHES, "second = inputs[1].n\n", "second = b_n\n"),
        (BRANCHES, "n = len(inputs)\n", "n = 2\n"),
        (
            BRANCHES,
            "for inp in inputs:\n    print(inp.n)\n",
            "for n in (a_n, b_n):\n    print(n)\n",
        ),
    ],
)
def test_a_plain_read_of_inputs_needs_no_shim(shim, body, expected):
    assert plain(shim, body) == expected


def test_a_value_handed_to_every_item_is_the_value_and_its_comment_stays():
    body = "# handed on\nx = inputs[0].x\nrs = [i.r for i in inputs]\n"
    assert plain(FOREACH, body) == "# handed on\nrs = list(r_values)\n"


@pytest.mark.parametrize(
    "shim, body",
    [
        (FOREACH, "best = min(inputs, key=lambda i: i.r)\n"),  # keeps an item
        (FOREACH, "for inp in inputs:\n    print(inp)\n"),  # the item itself
        (FOREACH, "r = 0\nfor inp in inputs:\n    r += inp.r\n"),  # the loop's name is in use
        (FOREACH, "for inp in inputs:\n    pass\nlast = inp.r\n"),  # the item after the loop
        (FOREACH, "rs = [r + i.r for i in inputs]\n"),  # reads another r than the loop's
        (FOREACH, "third = inputs[2].x\n"),  # a handed-on value at an index that may not exist
        (FOREACH, "rs = [getattr(i, 'r') for i in inputs]\n"),
        (FOREACH, "keep(inputs)\n"),
        (FOREACH, "rs = [i.q for i in inputs]\n"),  # no such field
        (BRANCHES, "pairs = [(i.n, i.s) for i in inputs]\n"),  # two fields of each branch
        (FOREACH, "inputs[0].x = 1\nrs = [i.r for i in inputs]\n"),  # the items are objects
        (FOREACH, "for inp in inputs:\n    inp.r += 1\n"),
        (BRANCHES, "n = 1\nfor inp in inputs:\n    print(inp.n)\n"),  # the loop's name in use
    ],
)
def test_any_other_use_keeps_the_shim(shim, body):
    text = shim + body
    assert without_shim(text) == text


JOIN_FLOW = """\
from metaflow import FlowSpec, step


class JoinFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.label = "n"
        self.next(self.square, foreach="items")

    @step
    def square(self):
        self.sq = self.input * self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.label = inputs[0].label
        self.total = sum(inp.sq for inp in inputs)
        self.by_item = {inp.input: inp.sq for inp in inputs}
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.mark.parametrize("target", ["flyte", "kfp", "airflow"])
def test_a_join_that_only_reads_values_is_written_without_the_shim(target):
    result = api.convert_text(JOIN_FLOW, "join.py", target)
    assert isinstance(result, api.Converted), result
    assert "SimpleNamespace" not in result.code
    assert "total = sum(sq_values)" in result.code
    assert not undefined_names(result.code)
