"""Lint agrees with convert: no file that ``transpile convert --to T`` refuses, or writes with a
lossy diagnostic, lints clean for ``T`` (issue 17). Checked on every fixture, every lint fixture
and 150 mutated flows (the broken files a real repository holds)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from mutations import mutated_sources

from transpile import api, frameworks
from transpile.lint.config import LintConfig
from transpile.lint.engine import lint_text
from transpile.lint.unit import LintUnit
from transpile.util.fileio import MAX_SOURCE_BYTES, SourceError, source_text
from transpile.writing.render import formatting_deferred

ROOT = Path(__file__).parents[1]
FIXTURES = sorted(
    p for fw in frameworks.readable() for p in (ROOT / "fixtures").glob(f"*/{fw}.py")
) + sorted((ROOT / "fixtures" / "lint").glob("*.py"))
MUTATED = mutated_sources(sorted((ROOT / "fixtures").glob("*/metaflow.py")), 150, seed=17)


def verdicts(text: str, path: str) -> list[tuple[str, str, bool]]:
    """(target, what convert does, whether lint is clean for that target) per writable target."""
    found = []
    for target in sorted(set(frameworks.writable()) - imported(text)):
        with formatting_deferred():
            # as `convert -o` writes it: every pipeline of a file of several, each a module
            result = api.convert_text(text, path, target, every_entry=True)
        if isinstance(result, api.Skipped) or (
            isinstance(result, api.Failed) and result.diagnostics[-1].code == "TP006"
        ):
            continue  # not a pipeline, or already the target: nothing to agree on
        if isinstance(result, api.Failed):
            outcome = f"refused: {result.reason}"
        elif result.lossy:
            outcome = "lossy: " + next(d.code for d in result.diagnostics if d.lossy)
        else:
            outcome = "exact"
        linted = lint_text(text, path, LintConfig(targets=(target,)))
        found.append((target, outcome, isinstance(linted, list) and not linted))
    return found


def imported(text: str) -> set[str]:
    """The frameworks the file imports (lint checks the others), none when it does not parse."""
    try:
        return set(LintUnit("-", ast.parse(text)).frameworks)
    except (SyntaxError, ValueError):
        return set()


def disagreements(text: str, path: str) -> list[str]:
    return [
        f"{target}: convert {outcome}, lint clean"
        for target, outcome, clean in verdicts(text, path)
        if clean and outcome != "exact"
    ]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixtures_lint_as_convert_does(path):
    assert disagreements(path.read_text(encoding="utf-8"), str(path)) == []


def test_mutated_flows_lint_as_convert_does():
    problems, refused = [], 0
    for name, data in MUTATED:
        try:
            text = source_text(data, MAX_SOURCE_BYTES)
        except SourceError:
            continue  # neither reads it: both say so (exit 2)
        found = verdicts(text, name)
        refused += any(outcome.startswith("refused") for _, outcome, _ in found)
        problems += [f"{name}: {p}" for p in disagreements(text, name)]
    assert problems == []
    assert refused >= 30  # the mutations do break flows: the check is not vacuous


def test_a_refusal_lint_did_not_know_is_reported(tmp_path):
    """A flow convert refuses for a reason no ast rule looks for (a step without a transition):
    lint names the spot, convert's code and the targets."""
    flow = (ROOT / "fixtures" / "lint" / "metaflow_foreach_clean.py").read_text()
    assert lint_text(flow, "flow.py", LintConfig()) == []
    broken = flow.replace("        self.next(self.end)\n", "", 1)
    found = lint_text(broken, "flow.py", LintConfig())
    assert [(f.code, f.name) for f in found] == [("TP515", "convert-refuses")]
    assert "convert --to flyte, kfp refuses this: TP102" in found[0].message
