"""A decorator or option a target cannot express exactly (``@batch``, ``@trigger``, ``@card``,
``@catch``, a timeout on KFP, ...).

Why: the converted pipeline would lose the setting, or do something else in its place (a Flyte
Deck instead of a Metaflow card, an exit handler instead of ``@catch``). The rule reads the
capability table that the writers use, so lint and conversion never disagree: a setting the
target supports only ``approximate``-ly or not at all (``none``) is flagged, with the table's note.

Instead: drop the option if the target does not need it, move the setting to the target's
platform configuration, or ignore the finding for that line once the difference is accepted.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from ...frameworks import capabilities, get
from ..unit import FUNCTIONS, Hit, LintUnit

CODE = "TP505"
NAME = "option-not-portable"
MESSAGE = "{spelling} {verdict} on {target}: {note}"
FRAMEWORKS = frozenset({"metaflow", "flyte", "kfp"})

# How the table's notes spell a setting: ``@retry(times=N)``, ``@task(timeout=...)``, ``set_retry(...)``
SPELLING = re.compile(r"(@[\w.]+|\bset_\w+)")
ARGUMENT = re.compile(r"(\w+)=|\|(\w+)")
NOTHING = (None, False, 0, "", "0", "0s")

VALID = [
    """
from metaflow import FlowSpec, retry, step

class Flow(FlowSpec):
    @retry(times=2, minutes_between_retries=0)
    @step
    def start(self):
        self.next(self.end)
""",
    """
from flytekit import task

@task(retries=2)
def train() -> int:
    return 1
""",
]
INVALID = [
    """
from metaflow import FlowSpec, batch, step, trigger

@trigger(event="data_ready")  # error
class Flow(FlowSpec):
    @batch(cpu=2)  # error
    @step
    def start(self):
        self.next(self.end)
""",
    """
from datetime import timedelta
import flytekit as fl

@fl.task(timeout=timedelta(minutes=5))  # error
def train() -> int:
    return 1
""",
]


@dataclass(frozen=True)
class Spelling:
    """One way a framework writes a capability: a decorator or a task method, with its arguments."""

    capability: str
    name: str  # the last part of the decorator's or method's name
    method: bool
    arguments: frozenset[str]
    gated: bool = False  # fires only when one of ``arguments`` is given

    def matches(self, arguments: dict[str, ast.expr]) -> bool:
        """Whether a call with these arguments (positional ones as ``_0``...) asks for it."""
        given = [arguments[a] for a in self.arguments if a in arguments]
        if self.gated:
            return any(_asks(v) for v in given)
        # an option switched off explicitly asks for nothing: set_caching_options(enable_caching=False)
        values = given or ([arguments["_0"]] if self.method and "_0" in arguments else [])
        return not values or any(_asks(v) for v in values)


@cache
def spellings(framework: str) -> tuple[Spelling, ...]:
    """The table's spellings for ``framework``. A name shared by several capabilities, or one that
    declares a step (``@task(timeout=...)``), fires only when the note's arguments are given."""
    found = [
        s for key, cap in capabilities().items() for s in _parse(key, cap.notes.get(framework))
    ]
    shared = Counter(s.name for s in found)
    return tuple(
        Spelling(s.capability, s.name, s.method, s.arguments, _gated(s, shared, framework))
        for s in found
    )


def _gated(spelling: Spelling, shared: Counter, framework: str) -> bool:
    declared = get(framework)
    declares = declared is not None and spelling.name in declared.declarations
    return bool(spelling.arguments) and (shared[spelling.name] > 1 or declares)


def _parse(key: str, note: str | None) -> Iterator[Spelling]:
    for match in SPELLING.finditer(note or ""):
        inside = _parenthesised(note or "", match.end())
        arguments = frozenset(a or b for a, b in ARGUMENT.findall(inside))
        name = match.group(1).lstrip("@").split(".")[-1]
        yield Spelling(key, name, not match.group(1).startswith("@"), arguments)


def _parenthesised(text: str, start: int) -> str:
    """The text between the parenthesis at ``start`` and its match ("" when there is none)."""
    if not text.startswith("(", start):
        return ""
    depth = 0
    for index in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return text[start + 1 : index]
    return text[start + 1 :]


def check(unit: LintUnit) -> Iterator[Hit]:
    for framework in sorted(unit.frameworks):
        table = spellings(framework)
        for node, name, keywords in _settings(unit, framework):
            for spelling in table:
                if spelling.name == name and spelling.matches(keywords):
                    yield from _verdicts(unit, _spot(node, keywords, spelling), spelling)


def _settings(unit: LintUnit, framework: str) -> Iterator[tuple[ast.AST, str, dict]]:
    """(node, name, keywords) for each framework decorator, and each ``set_*`` call (KFP)."""
    for node in ast.walk(unit.tree):
        if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
            for decorator in node.decorator_list:
                full = unit.qualified(decorator) or ""
                if full.split(".")[0] == _package(framework):
                    yield decorator, full.split(".")[-1], _keywords(decorator)
        elif framework == "kfp" and _is_task_setter(node):
            yield node, node.func.attr, _keywords(node)  # type: ignore[attr-defined]


def _spot(node: ast.AST, keywords: dict[str, ast.expr], spelling: Spelling) -> ast.AST:
    """The argument that asks for the setting (``cache=True``), else the decorator or call."""
    return next((keywords[a] for a in sorted(spelling.arguments) if a in keywords), node)


def _verdicts(unit: LintUnit, node: ast.AST, spelling: Spelling) -> Iterator[Hit]:
    capability = capabilities()[spelling.capability]
    shown = f".{spelling.name}()" if spelling.method else f"@{spelling.name}"
    for target in sorted(unit.targets):
        support = capability.support.get(target, "none")
        if support != "exact":
            verdict = "is only approximated" if support == "approximate" else "cannot be expressed"
            note = capability.notes.get(target, capability.summary)
            text = MESSAGE.format(spelling=shown, verdict=verdict, target=target, note=note)
            yield unit.hit(node, f"{text} ({capability.key})", target)


def _is_task_setter(node: ast.AST) -> bool:
    """``task.set_retry(...)`` and the like; the receiver's type is not known statically."""
    func = node.func if isinstance(node, ast.Call) else None
    return isinstance(func, ast.Attribute) and func.attr.startswith("set_")


def _keywords(node: ast.AST) -> dict[str, ast.expr]:
    if not isinstance(node, ast.Call):
        return {}
    positional = {f"_{i}": value for i, value in enumerate(node.args)}
    return positional | {k.arg: k.value for k in node.keywords if k.arg is not None}


def _asks(value: ast.expr) -> bool:
    """A literal 0, None, False or empty string asks for nothing (``minutes_between_retries=0``)."""
    return not (isinstance(value, ast.Constant) and value.value in NOTHING)


def _package(framework: str) -> str:
    declared = get(framework)
    return declared.package if declared else framework
