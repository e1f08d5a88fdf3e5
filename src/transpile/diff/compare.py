"""Compare two pipeline structures: steps matched by name, then by body similarity."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, replace
from typing import Literal

from ..writing.render import identifier
from .options import comparable
from .structure import WILDCARD, Edge, ParameterShape, Shape

RENAME_SIMILARITY = 0.6  # difflib ratio of normalised bodies above which a step counts as renamed
Category = Literal["step", "edge", "parameter", "option", "pipeline option"]
Change = Literal["added", "removed", "renamed", "changed"]


@dataclass(frozen=True)
class Difference:
    """One structural difference; ``before`` is A's value, ``after`` is B's."""

    category: Category
    change: Change
    subject: str
    before: str | None = None
    after: str | None = None


def compare(a: Shape, b: Shape) -> tuple[Difference, ...]:
    """Every structural difference from ``a`` to ``b``, in a stable order."""
    b = _respelled(b, writer_spellings(a, b))
    renames = match_renames(a, b)
    b_names = {new: old for old, new in renames.items()}
    differences = [Difference("step", "renamed", old, old, new) for old, new in renames.items()]
    differences += _steps(a, b, renames)
    differences += _edges(a.edges, {_renamed(e, b_names) for e in b.edges})
    differences += _parameters(a.parameters, b.parameters)
    for step in sorted(set(a.steps) & {b_names.get(s, s) for s in b.steps}):
        new = renames.get(step, step)
        differences += _options("option", step, a.step_options[step], b.step_options[new], a, b)
    differences += _options("pipeline option", "pipeline", a.options, b.options, a, b)
    return tuple(differences)


def match_renames(a: Shape, b: Shape) -> dict[str, str]:
    """A's step → B's step for steps present on one side only whose bodies are alike."""
    removed = sorted(set(a.steps) - set(b.steps))
    added = sorted(set(b.steps) - set(a.steps))
    scored = sorted(
        ((-_similarity(a.steps[old], b.steps[new]), old, new) for old in removed for new in added),
    )
    renames: dict[str, str] = {}
    for score, old, new in scored:
        if -score >= RENAME_SIMILARITY and old not in renames and new not in renames.values():
            renames[old] = new
    return dict(sorted(renames.items()))


def writer_spellings(a: Shape, b: Shape) -> dict[str, str]:
    """B's step → A's step where B's name is how a writer spells A's when the name is taken
    (``sum`` → ``sum_step``, ``class`` → ``class_``): the same step, not a rename."""
    spellings: dict[str, str] = {}
    for old in sorted(set(a.steps) - set(b.steps)):
        pattern = re.compile(rf"{re.escape(identifier(old))}(_step)?_*")
        found = [new for new in sorted(set(b.steps) - set(a.steps)) if pattern.fullmatch(new)]
        if found and found[0] not in spellings:
            spellings[found[0]] = old
    return spellings


def _respelled(shape: Shape, names: dict[str, str]) -> Shape:
    if not names:
        return shape
    return replace(
        shape,
        steps={names.get(k, k): v for k, v in shape.steps.items()},
        edges=frozenset(_renamed(e, names) for e in shape.edges),
        step_options={names.get(k, k): v for k, v in shape.step_options.items()},
    )


def _similarity(body_a: str, body_b: str) -> float:
    return difflib.SequenceMatcher(None, body_a, body_b, autojunk=False).ratio()


def _steps(a: Shape, b: Shape, renames: dict[str, str]) -> list[Difference]:
    removed = sorted(set(a.steps) - set(b.steps) - set(renames))
    added = sorted(set(b.steps) - set(a.steps) - set(renames.values()))
    return [Difference("step", "removed", s, s, None) for s in removed] + [
        Difference("step", "added", s, None, s) for s in added
    ]


def _renamed(edge: Edge, names: dict[str, str]) -> Edge:
    return Edge(names.get(edge.source, edge.source), names.get(edge.target, edge.target), edge.kind)


DATA_INTO = "data into "


def _inputs_named_alike(a: frozenset[Edge] | set[Edge], b: set[Edge]) -> tuple[set, set]:
    """Both edge sets with each data edge naming the input it fills only where the consumer's
    inputs have the same names on both sides (a writer's ``x_`` for a taken ``x`` is ``x``):
    then a join fed by two producers swapped differs; where the names differ (KFP's ``Output_2``
    against another framework's ``describe_Output``), the edge is ``data``, producer to
    consumer."""

    def spelled(edge: Edge) -> Edge:
        if not edge.kind.startswith(DATA_INTO):
            return edge
        return replace(edge, kind=DATA_INTO + edge.kind[len(DATA_INTO) :].rstrip("_"))

    a, b = {spelled(e) for e in a}, {spelled(e) for e in b}

    def inputs(edges: set[Edge]) -> dict[str, set[str]]:
        named: dict[str, set[str]] = {}
        for e in edges:
            if e.kind.startswith(DATA_INTO):
                named.setdefault(e.target, set()).add(e.kind)
        return named

    left, right = inputs(a), inputs(b)
    unlike = {t for t in left.keys() | right.keys() if left.get(t) != right.get(t)}

    def plain(edges: set[Edge]) -> set[Edge]:
        return {
            replace(e, kind="data") if e.target in unlike and e.kind.startswith(DATA_INTO) else e
            for e in edges
        }

    return plain(a), plain(b)


def _edges(a: frozenset[Edge], b: set[Edge]) -> list[Difference]:
    def order(e: Edge) -> tuple[str, str, str]:
        return (e.source, e.target, e.kind)

    a, b = _inputs_named_alike(a, b)

    removed = [
        Difference("edge", "removed", e.label(), e.label()) for e in sorted(a - b, key=order)
    ]
    added = [
        Difference("edge", "added", e.label(), None, e.label()) for e in sorted(b - a, key=order)
    ]
    return removed + added


def _parameters(a: dict[str, ParameterShape], b: dict[str, ParameterShape]) -> list[Difference]:
    found = [Difference("parameter", "removed", n, _show(a[n])) for n in sorted(set(a) - set(b))]
    found += [
        Difference("parameter", "added", n, None, _show(b[n])) for n in sorted(set(b) - set(a))
    ]
    for name in sorted(set(a) & set(b)):
        if not _same_parameter(a[name], b[name]):
            found.append(Difference("parameter", "changed", name, _show(a[name]), _show(b[name])))
    return found


def _same_parameter(a: ParameterShape, b: ParameterShape) -> bool:
    types_agree = WILDCARD in (a.type, b.type) or a.type == b.type
    return types_agree and _same_value(a.default, b.default) and a.required == b.required


def _same_value(a: object, b: object) -> bool:
    """Equal values; JSON text equals the value it holds (KFP and Flyte pass JSON as ``str``)."""
    if a == b:
        return True
    if isinstance(a, str) != isinstance(b, str):
        text, value = (a, b) if isinstance(a, str) else (b, a)
        try:
            return json.loads(text) == value
        except ValueError:
            return False
    return False


def _show(p: ParameterShape) -> str:
    return f"{p.type} required" if p.required else f"{p.type} = {p.default!r}"


def _options(
    category: Category, owner: str, a: dict[str, object], b: dict[str, object], sa: Shape, sb: Shape
) -> list[Difference]:
    found = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key) and comparable(key, sa.framework, sb.framework):
            before = None if key not in a else repr(a[key])
            after = None if key not in b else repr(b[key])
            change: Change = (
                "added" if before is None else "removed" if after is None else "changed"
            )
            found.append(Difference(category, change, f"{owner}: {key}", before, after))
    return found
