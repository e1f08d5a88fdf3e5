"""State shared while a pipeline body is read: step drafts, scopes, source positions."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Span
from transpile.reading.cst import SpanIndex, code, code_lines

from .component import Component
from .flow import Handle, Item, Value
from .names import KfpNames


class Locator:
    """Source positions of statements inside one function, found in order.

    A statement is looked for after the line of code before it: after the last line of a simple
    statement (the line ``f(a)`` holds the first line of the ``f(`` below it, and ``x = f(``
    spreads over lines), after the first line of a compound one (its body comes next). Asked
    again for a statement, it answers as before."""

    def __init__(self, spans: SpanIndex, within: Span):
        self.spans, self.within, self.line = spans, within, within.line
        self.found: dict[int, tuple[cst.CSTNode, Span]] = {}

    def at(self, node: cst.CSTNode) -> Span:
        known = self.found.get(id(node))
        if known is not None:
            return known[1]
        text = code(node)
        start = Span(self.within.file, self.line, 0, self.within.end_line, 0)
        found = self.spans.find(text, start)
        self.found[id(node)] = (node, found)  # the node is kept, so its id is not reused
        if found is not start:
            compound = isinstance(node, cst.BaseCompoundStatement)
            self.line = found.line + (1 if compound else max(len(code_lines(text)), 1))
        return found


@dataclass
class Scope:
    values: dict[str, Value]
    handles: dict[str, Handle]
    prefix: str
    locator: Locator
    items: list[Item] = field(default_factory=list)


@dataclass
class Context:
    """What the whole module offers a pipeline body."""

    path: str
    names: KfpNames
    spans: SpanIndex
    components: dict[str, Component]
    pipelines: dict[str, cst.FunctionDef]
    tuples: dict[str, list]
    diagnostics: list[Diagnostic] = field(default_factory=list)


def body_of(node: cst.With | cst.FunctionDef) -> list[cst.BaseStatement]:
    """The statements of a ``with`` block or a function."""
    if isinstance(node.body, cst.IndentedBlock):
        return list(node.body.body)
    return [cst.SimpleStatementLine(list(node.body.body))]
