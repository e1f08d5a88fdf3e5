"""State shared while a pipeline body is read: step drafts, scopes, source positions."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Span
from transpile.reading.cst import SpanIndex, code

from .component import Component
from .flow import Handle, Item, Value
from .names import KfpNames


class Locator:
    """Source positions of statements inside one function, found in order."""

    def __init__(self, spans: SpanIndex, within: Span):
        self.spans, self.within, self.line = spans, within, within.line

    def at(self, node: cst.CSTNode) -> Span:
        text = code(node).strip().splitlines()
        start = Span(self.within.file, self.line, 0, self.within.end_line, 0)
        found = self.spans.find(text[0] if text else "", start)
        self.line = found.line
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
