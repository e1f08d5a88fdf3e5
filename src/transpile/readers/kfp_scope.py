"""State shared while a pipeline body is read: step drafts, scopes, source positions."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ..diagnostics import Diagnostic
from ..ir import Input, Output, Span, Step
from ._cst import SpanIndex, code
from .kfp_component import Component
from .kfp_flow import Handle, Item, Value
from .kfp_names import KfpNames
from .kfp_settings import Settings


@dataclass
class Draft:
    """A step while its pipeline is read: setters and ``.after`` still change it."""

    name: str
    span: Span
    inputs: list[Input]
    outputs: list[Output]
    body: str
    settings: Settings
    doc: str | None = None

    def step(self) -> Step:
        options = self.settings.finish()
        return Step(
            self.name,
            self.span,
            tuple(self.inputs),
            tuple(self.outputs),
            self.body,
            options,
            self.doc,
        )


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
