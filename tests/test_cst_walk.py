"""``reading.cst.walk``: the visitors see what libcst's own walk shows them, in the same order."""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from transpile.reading.cst import FIELD_ORDER, Together, walk

ROOT = Path(__file__).parents[1]
SOURCES = sorted(ROOT.glob("fixtures/**/*.py")) + sorted(ROOT.glob("src/transpile/**/*.py"))


def _libcst_order(kind: type) -> tuple[str, ...]:
    """The fields ``_visit_and_replace_children`` visits, in its order, read from its code."""
    function = ast.parse(textwrap.dedent(inspect.getsource(kind._visit_and_replace_children)))
    calls = [
        node
        for node in ast.walk(function)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id.startswith("visit_")
    ]
    fields: list[str] = []
    for call in sorted(calls, key=lambda node: (node.lineno, node.col_offset)):
        name = call.args[1].value  # type: ignore[attr-defined]
        if name not in fields:
            fields.append(name)
    return tuple(fields)


def test_field_order_is_the_installed_libcsts():
    kinds = {
        name: kind
        for name in dir(cst)
        if isinstance(kind := getattr(cst, name), type)
        and issubclass(kind, cst.CSTNode)
        and not inspect.isabstract(kind)
        and kind.__name__ == name
    }
    for name, fields in FIELD_ORDER.items():
        assert name in kinds
        assert fields == _libcst_order(kinds[name]), name


def _recorder(skip: frozenset[str]) -> cst.CSTVisitor:
    """A visitor recording every visit and leave; it does not descend into ``skip`` types."""
    events: list[tuple[str, str, int]] = []

    def visit(name):
        def method(self, node):
            events.append(("visit", name, id(node)))
            return name not in skip

        return method

    def leave(name):
        def method(self, node):
            events.append(("leave", name, id(node)))

        return method

    methods = {}
    for name in FIELD_ORDER:
        methods[f"visit_{name}"] = visit(name)
        methods[f"leave_{name}"] = leave(name)
    visitor = type("Recorder", (cst.CSTVisitor,), methods)()
    visitor.events = events
    return visitor


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_walk_shows_what_libcst_shows(path):
    try:
        module = cst.parse_module(path.read_text(encoding="utf-8"))
    except cst.ParserSyntaxError:
        pytest.skip("not parsed by libcst")
    skips = (frozenset(), frozenset({"Lambda", "Call"}), frozenset({"FunctionDef", "Subscript"}))
    expected = []
    for skip in skips:
        alone = _recorder(skip)
        module.visit(alone)
        expected.append(alone.events)
    together = [_recorder(skip) for skip in skips]
    walk(module, *together)
    assert [v.events for v in together] == expected
    libcst_together = [_recorder(skip) for skip in skips]
    module.visit(Together(*libcst_together))
    assert [v.events for v in libcst_together] == expected
