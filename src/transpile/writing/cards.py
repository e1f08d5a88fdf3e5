"""Statements that only fill a Metaflow card (``current.card.append(Markdown(...))``): a card is
what Metaflow's UI shows for a step, nothing a later step reads, and no other framework has
``current.card``. Writers drop such statements, each leaving a ``pass`` with a TODO in its place,
instead of writing ``None.append(...)``, which fails when the task runs."""

from __future__ import annotations

import libcst as cst

from ..util.text import todo

DROPPED = todo(
    "TP211", "a Metaflow card component (current.card) was added here; no card in this target"
)


def without_card_statements(body: str) -> tuple[str, int]:
    """``body`` with each statement that only calls a method of ``current.card`` (or of one of
    its named cards) replaced, and how many were."""
    if "current.card" not in body:
        return body, 0
    try:
        module = cst.parse_module(body)
    except cst.ParserSyntaxError:
        return body, 0
    dropper = _CardDropper()
    return module.visit(dropper).code, dropper.dropped


def _on_card(node: cst.BaseExpression) -> bool:
    """Whether ``node`` is ``current.card`` or reached from it (``current.card["log"]``,
    ``current.card.components``)."""
    while isinstance(node, cst.Attribute | cst.Subscript | cst.Call):
        if isinstance(node, cst.Attribute) and node.attr.value == "card":
            value = node.value
            if isinstance(value, cst.Name) and value.value == "current":
                return True
        node = node.func if isinstance(node, cst.Call) else node.value
    return False


class _CardDropper(cst.CSTTransformer):
    def __init__(self) -> None:
        self.dropped = 0

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        if not all(
            isinstance(small, cst.Expr)
            and isinstance(small.value, cst.Call)
            and _on_card(small.value.func)
            for small in updated.body
        ):
            return updated
        self.dropped += 1
        return updated.with_changes(
            body=[cst.Pass()],
            trailing_whitespace=cst.TrailingWhitespace(
                whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment(DROPPED)
            ),
        )
