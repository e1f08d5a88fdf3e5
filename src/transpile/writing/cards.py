"""Statements that fill a Metaflow card (``current.card.append(Markdown(...))``): a card is what
Metaflow's UI shows for a step, nothing a later step reads, and no other framework has
``current.card``.

Content a target can show exactly is carried (``carry_cards``): a ``Markdown`` component (its
text a literal or built from values when the step runs) or a ``Table`` of literals, appended or
extended to a card the statement names unambiguously under Metaflow's rules (the step's only
editable card, the one without an id, the one with ``customize=True``, or ``current.card[ID]``).
The writer says how it shows it (a Flyte Deck, a KFP Markdown artifact). Every other statement
that only calls a method of ``current.card`` (images, charts, ``refresh()``, a component built
elsewhere) is dropped, leaving a ``pass`` with a TODO in its place, instead of writing
``None.append(...)``, which fails when the task runs."""

from __future__ import annotations

import ast
import html
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import libcst as cst

from ..model.ir import Option
from ..util.text import todo

DROPPED = todo(
    "TP211", "a Metaflow card component (current.card) was added here; no card in this target"
)
EDITABLE = ("default", "blank")  # Metaflow's card types that take components from the step


@dataclass(frozen=True)
class Piece:
    """One component: ``markdown`` (``text`` is the code of its text, ``literal`` the text
    itself when the source wrote a plain string, already dedented as Metaflow does) or
    ``table`` (``rows`` and ``headers``, literals)."""

    kind: str
    text: str = ""
    literal: str | None = None
    rows: tuple[tuple[object, ...], ...] = ()
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Content:
    """What one statement adds to a card: ``card`` is that card's id (None: the card without an
    id); ``only``: it is the step's only card."""

    card: str | None
    only: bool
    pieces: tuple[Piece, ...]


Render = Callable[[Content], list[str]]


def without_card_statements(body: str) -> tuple[str, int]:
    """``body`` with each statement that only calls a method of ``current.card`` (or of one of
    its named cards) replaced, and how many were."""
    code, _, dropped = carry_cards(body, (), None)
    return code, dropped


def carry_cards(
    body: str, options: Sequence[Option], render: Render | None
) -> tuple[str, list[Content], int]:
    """``body`` with each card statement whose content ``render`` can show replaced by the
    statements ``render`` gives for it, and every other one dropped; the content carried and
    how many statements were dropped. ``options`` are the step's (its ``@card``s)."""
    if "current.card" not in body:
        return body, [], 0
    try:
        module = cst.parse_module(body)
    except cst.ParserSyntaxError:
        return body, [], 0
    carrier = _CardCarrier(_cards(options) if render else None, render)
    return module.visit(carrier).code, carrier.carried, carrier.dropped


def card_statements(
    node: cst.CSTNode, options: Sequence[Option]
) -> list[tuple[str, Content | None]]:
    """Each statement inside ``node`` (a step's function) that only fills a card: its first
    line, and the content a target with a per-task report can carry (None: nothing can)."""
    found: list[tuple[str, Content | None]] = []
    cards = _cards(options)
    empty = cst.Module([])

    class Collect(cst.CSTVisitor):
        def visit_SimpleStatementLine(self, line: cst.SimpleStatementLine) -> None:
            if _fills_card(line):
                text = empty.code_for_node(line.with_changes(leading_lines=[])).strip()
                found.append((text.splitlines()[0], _content(line, cards)))

    node.visit(Collect())
    return found


def markdown_table(piece: Piece) -> str:
    """A ``table`` piece as Markdown: each cell as its text, Markdown's punctuation escaped."""
    width = max([len(piece.headers), *(len(r) for r in piece.rows)])
    headers = [*piece.headers, *[""] * (width - len(piece.headers))]
    lines = [_row(headers), "|" + " --- |" * width]
    lines += [_row([*row, *[""] * (width - len(row))]) for row in piece.rows]
    return "\n".join(lines)


def html_table(piece: Piece) -> str:
    """A ``table`` piece as an HTML table: each cell as its text."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in piece.headers)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
        for row in piece.rows
    )
    header = f"<thead><tr>{head}</tr></thead>" if head else ""
    return f"<table>{header}<tbody>{rows}</tbody></table>"


def markdown_text(piece: Piece) -> str:
    """The code of a ``markdown`` piece's text, dedented as Metaflow's ``Markdown`` does
    (``textwrap`` must then be importable where it runs)."""
    if piece.literal is not None:
        return repr(piece.literal)
    return f"textwrap.dedent({piece.text})"


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(_escaped(c) for c in cells) + " |"


def _escaped(value: object) -> str:
    text = " ".join(str(value).splitlines())
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)  # every ASCII punctuation character


# which card -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Card:
    id: str | None
    editable: bool
    customize: bool


def _cards(options: Sequence[Option]) -> list[_Card] | None:
    """The step's ``@card``s, or None when one has an argument that is not a literal (a writer
    does not carry such a card)."""
    cards = []
    for option in options:
        if option.kind != "card":
            continue
        try:
            for _, value in option.args:
                ast.literal_eval(value)
            card_id = ast.literal_eval(option.arg("id", "None") or "None")
            kind = ast.literal_eval(option.arg("type", '"default"') or '"default"')
        except (ValueError, SyntaxError):
            return None
        if not (card_id is None or isinstance(card_id, str)) or not isinstance(kind, str):
            return None
        customize = option.arg("customize", "False") == "True"
        cards.append(_Card(card_id, kind in EDITABLE, customize))
    return cards


def _default(cards: list[_Card]) -> _Card | None:
    """The card ``current.card.append`` adds to (Metaflow's ``_finalize``)."""
    editable = [c for c in cards if c.editable]
    if len(editable) == 1:
        return editable[0]
    chosen = None
    unnamed = [c for c in editable if c.id is None]
    if len(unnamed) == 1:
        chosen = unnamed[0]
    customized = [c for c in editable if c.customize]
    return customized[0] if len(customized) == 1 else chosen


def _by_id(cards: list[_Card], key: str) -> _Card | None:
    matching = [c for c in cards if c.id == key]
    return matching[0] if len(matching) == 1 and matching[0].editable else None


# statements ------------------------------------------------------------------------------------
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


def _fills_card(line: cst.SimpleStatementLine) -> bool:
    return all(
        isinstance(small, cst.Expr)
        and isinstance(small.value, cst.Call)
        and _on_card(small.value.func)
        for small in line.body
    )


def _is_current_card(node: cst.BaseExpression) -> bool:
    return (
        isinstance(node, cst.Attribute)
        and node.attr.value == "card"
        and isinstance(node.value, cst.Name)
        and node.value.value == "current"
    )


def _content(line: cst.SimpleStatementLine, cards: list[_Card] | None) -> Content | None:
    """What the statement adds to which card, when all of it can be carried."""
    if cards is None or len(line.body) != 1:
        return None
    call = line.body[0].value  # type: ignore[attr-defined]
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in ("append", "extend"):
        return None
    card = _target(func.value, cards)
    if card is None or len(call.args) != 1 or call.args[0].keyword or call.args[0].star:
        return None
    argument = call.args[0].value
    if func.attr.value == "append":
        components = [argument]
    elif isinstance(argument, cst.List | cst.Tuple) and all(
        isinstance(e, cst.Element) for e in argument.elements
    ):
        components = [e.value for e in argument.elements]
    else:
        return None
    pieces = [_piece(c) for c in components]
    if any(p is None for p in pieces):
        return None
    return Content(card.id, len(cards) == 1, tuple(p for p in pieces if p is not None))


def _target(node: cst.BaseExpression, cards: list[_Card]) -> _Card | None:
    if _is_current_card(node):
        return _default(cards)
    if (
        isinstance(node, cst.Subscript)
        and _is_current_card(node.value)
        and len(node.slice) == 1
        and isinstance(node.slice[0].slice, cst.Index)
    ):
        key = _literal(node.slice[0].slice.value)
        return _by_id(cards, key) if isinstance(key, str) else None
    return None


def _piece(node: cst.BaseExpression) -> Piece | None:
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Name)):
        return None
    args = _arguments(node, ("text",) if node.func.value == "Markdown" else ("data", "headers"))
    if args is None:
        return None
    if node.func.value == "Markdown":
        text = args.get("text")
        if text is None:
            return None
        literal = _literal(text)
        if literal is not _NOT_LITERAL and not isinstance(literal, str):
            return None  # Markdown(None), a number: not text
        dedented = textwrap.dedent(literal) if isinstance(literal, str) else None
        return Piece("markdown", cst.Module([]).code_for_node(text), dedented)
    if node.func.value == "Table":
        return _table(args)
    return None


def _arguments(call: cst.Call, names: tuple[str, ...]) -> dict[str, cst.BaseExpression] | None:
    """The call's arguments by name (positional ones in ``names``' order), or None when it has
    others (``disable_updates`` aside: it changes nothing shown)."""
    found: dict[str, cst.BaseExpression] = {}
    for position, arg in enumerate(call.args):
        if arg.star:
            return None
        name = arg.keyword.value if arg.keyword else None
        if name is None:
            if position >= len(names):
                return None
            name = names[position]
        if name == "disable_updates":
            continue
        if name not in names or name in found:
            return None
        found[name] = arg.value
    return found


def _table(args: dict[str, cst.BaseExpression]) -> Piece | None:
    """A Table whose rows and headers are literals Metaflow accepts (a list of lists; a list of
    strings); its cells plain values, not components."""
    rows = _literal(args["data"]) if "data" in args else [[]]
    headers = _literal(args["headers"]) if "headers" in args else []
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        return None
    if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
        return None
    if not any(rows) and not headers:
        return None  # nothing to show
    return Piece("table", rows=tuple(tuple(r) for r in rows), headers=tuple(headers))


_NOT_LITERAL = object()


def _literal(node: cst.BaseExpression) -> object:
    """The value of a literal expression (strings, numbers, lists...), else _NOT_LITERAL."""
    try:
        return ast.literal_eval(cst.Module([]).code_for_node(node))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NOT_LITERAL


class _CardCarrier(cst.CSTTransformer):
    def __init__(self, cards: list[_Card] | None, render: Render | None) -> None:
        self.cards = cards
        self.render = render
        self.carried: list[Content] = []
        self.dropped = 0

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel:
        if not _fills_card(updated):
            return updated
        content = _content(updated, self.cards) if self.render else None
        if content is not None and self.render is not None:
            self.carried.append(content)
            lines = self.render(content)
            statements = list(cst.parse_module("\n".join(lines) + "\n").body)
            if statements:
                first = statements[0].with_changes(leading_lines=updated.leading_lines)
                return cst.FlattenSentinel([first, *statements[1:]])
        self.dropped += 1
        return updated.with_changes(
            body=[cst.Pass()],
            trailing_whitespace=cst.TrailingWhitespace(
                whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment(DROPPED)
            ),
        )
