"""A step while its pipeline body is read."""

from __future__ import annotations

from dataclasses import dataclass

from transpile.model.ir import Input, Output, Span, Step

from .settings import Settings


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
