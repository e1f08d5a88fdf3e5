"""What each switch case of a pipeline is, in the words of its source: ``if mode == "fast"``.

The model keeps a switch as a value and the literal each case compares it with. A KFP chain
``dsl.If(a > 1)`` / ``dsl.Elif(...)`` / ``dsl.Else()`` (or ``dsl.Condition``) is not an equality on
one value, so its reader adds a step that computes the key of the branch to take (``'0'``, ``'1'``,
...): true to run, meaningless to read. The report finds, for each case, the ``with`` block of the
source that holds the case's tasks (tasks keep the span of their call), and labels the case with
that block's test as written. A flytekit ``conditional(...).if_(a > 1).then(...).else_()...``
that its reader turned into such a step (keys ``'case_1'``, ``'else'``) is labelled from the chain
at that step's span. Other switches are labelled with their case value as the reader kept it
(Metaflow's ``{"fast": self.fast}`` key), which is how the source spells it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..diff.options import literal
from ..model.ir import Pipeline, Switch, walk
from ..util.syntax import quiet_tree
from ..writing.graph import all_steps

BRANCHES = {"If": "if", "Elif": "elif", "Else": "else", "Condition": ""}
NO_MATCH = "no case matches"


@dataclass(frozen=True)
class Block:
    """One ``with dsl.If(test):`` (or Elif, Else, Condition) of the source."""

    word: str  # if, elif, else, or "" for dsl.Condition
    test: str | None
    first: int  # the body's lines
    last: int

    @property
    def label(self) -> str:
        if self.test is None:
            return self.word
        return f"{self.word} {self.test}" if self.word else self.test

    def holds(self, lines: set[int]) -> bool:
        return all(self.first <= line <= self.last for line in lines)


def case_labels(pipeline: Pipeline, source_text: str, path: str) -> dict[tuple[str, str, str], str]:
    """``(decider, case key, step) → label``: ``decider`` is the step holding the switch's value
    (a step can be in a case of several nested switches, each labels it its own way); ``step`` is
    a step of the case, or the decider for a case that runs nothing; ``case key`` is the case value
    as ``control_edges`` names it (``repr`` of its literal)."""
    tree = _tree(source_text)
    blocks, chains = _blocks(tree, source_text), _chains(tree, source_text)
    spans = {s.name: s.span for s in pipeline.steps}
    labels: dict[tuple[str, str, str], str] = {}
    for switch in (n for n in walk(pipeline.flow) if isinstance(n, Switch)):
        source = switch.condition.source
        decider = spans.get(source)
        chain = _chain_at(chains, decider) if decider and decider.file == path else {}
        for case in switch.cases:
            key = repr(literal(case.value))
            steps = sorted(all_steps(case.body))
            label = chain.get(case.value) or _label(steps, spans, blocks, path) or case.value
            if not steps:
                label = NO_MATCH if blocks and _synthetic(case.value) else label
                labels.setdefault((source, key, source), label)
            for step in steps:
                labels.setdefault((source, key, step), label)
    return labels


def _chain_at(chains: dict[int, dict[str, str]], span) -> dict[str, str]:
    """The conditional whose ``conditional(...)`` call starts within ``span`` (the statement)."""
    return next((c for line, c in chains.items() if span.line <= line <= span.end_line), {})


def _synthetic(value: str) -> bool:
    return value.strip("'\"").isdigit()


def _label(steps: list[str], spans: dict, blocks: list[Block], path: str) -> str | None:
    lines = {spans[s].line for s in steps if s in spans and spans[s].file == path}
    if not steps or len(lines) == 0:
        return None
    holding = [b for b in blocks if b.holds(lines)]
    if not holding:
        return None
    return min(holding, key=lambda b: b.last - b.first).label


def _tree(text: str) -> ast.Module | None:
    try:
        return quiet_tree(text)
    except (SyntaxError, ValueError):
        return None


def _blocks(tree: ast.Module | None, text: str) -> list[Block]:
    if tree is None:
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.With) or not node.items or not node.body:
            continue
        call = node.items[0].context_expr
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in BRANCHES:
            continue
        given = call.args[0] if call.args else _keyword(call, "condition")
        test = ast.get_source_segment(text, given) if given is not None else None
        if name != "Else" and test is None:
            continue
        first = node.body[0].lineno
        found.append(Block(BRANCHES[name], _one_line(test), first, node.end_lineno or first))
    return found


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _chains(tree: ast.Module | None, text: str) -> dict[int, dict[str, str]]:
    """flytekit conditionals by line (their statement's and their ``conditional(...)`` call's):
    the key the Flyte reader gives each clause (``'case_1'``, ..., ``'else'``) → its test."""
    if tree is None:
        return {}
    found: dict[int, dict[str, str]] = {}
    for statement in ast.walk(tree):
        if not isinstance(statement, (ast.Assign, ast.AnnAssign, ast.Expr, ast.Return)):
            continue
        for node in ast.walk(statement):
            links = []
            while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                links.append((node.func.attr, node.args))
                node = node.func.value
            root = node.func if isinstance(node, ast.Call) else None
            name = root.attr if isinstance(root, ast.Attribute) else getattr(root, "id", "")
            if name == "conditional" and links and node.lineno not in found:
                labels = _clauses(list(reversed(links)), text)  # the outermost call: all links
                found[node.lineno] = found.setdefault(statement.lineno, labels)
    return found


def _clauses(links: list[tuple[str, list[ast.expr]]], text: str) -> dict[str, str]:
    labels, pending, number = {}, "", 0
    for method, args in links:
        if method in ("if_", "elif_") and args:
            pending = f"{method.rstrip('_')} {_one_line(ast.get_source_segment(text, args[0]))}"
        elif method == "else_":
            pending = "else"
        elif method in ("then", "fail"):
            number += 1
            labels[repr("else" if pending == "else" else f"case_{number}")] = pending
    return labels


def _one_line(text: str | None) -> str | None:
    return None if text is None else " ".join(text.split())
