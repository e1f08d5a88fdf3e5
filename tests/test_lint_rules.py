"""Each lint rule's own VALID and INVALID examples, and the contract every rule module keeps."""

from __future__ import annotations

import ast
import re

import pytest

from transpile import frameworks
from transpile.lint.config import LintConfig
from transpile.lint.engine import all_rules, lint_text
from transpile.lint.rules import option_not_portable

RULES = all_rules()
FRAMEWORKS = frameworks.names()
CAPABILITIES = frameworks.capabilities()
CASES = [
    pytest.param(rule, kind, source, id=f"{rule.CODE}-{kind}-{index}")
    for rule in RULES
    for kind in ("VALID", "INVALID")
    for index, source in enumerate(getattr(rule, kind))
]


def marked_lines(source: str) -> list[int]:
    """Lines of an INVALID example that end in ``# error``: where its findings must be."""
    return [n for n, line in enumerate(source.splitlines(), 1) if line.rstrip().endswith("# error")]


@pytest.mark.parametrize(("rule", "kind", "source"), CASES)
def test_examples(rule, kind, source):
    found = lint_text(source, "example.py", LintConfig())
    assert isinstance(found, list)
    lines = sorted({f.line for f in found if f.code == rule.CODE})
    expected = marked_lines(source) if kind == "INVALID" else []
    assert lines == expected
    if kind == "INVALID":
        assert expected, "an INVALID example must mark at least one line"


def test_rules_are_discovered_with_unique_stable_codes():
    codes = [rule.CODE for rule in RULES]
    assert len(RULES) >= 14
    assert codes == sorted(set(codes))
    assert all(re.fullmatch(r"TP5\d\d", code) for code in codes)
    assert len({rule.NAME for rule in RULES}) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.CODE)
def test_rule_module_contract(rule):
    paragraphs = rule.__doc__.strip().split("\n\n")
    assert len(paragraphs) >= 3, "what it flags, why, and what to write instead"
    assert paragraphs[1].startswith("Why:") and paragraphs[-1].startswith("Instead:")
    assert rule.FRAMEWORKS and rule.FRAMEWORKS <= set(FRAMEWORKS)
    assert getattr(rule, "TARGETS", frozenset()) <= set(FRAMEWORKS)
    assert rule.VALID and rule.INVALID and callable(rule.check) and rule.MESSAGE
    for source in (*rule.VALID, *rule.INVALID):
        ast.parse(source)


def decorated_flow(decorator: str) -> str:
    name = decorator.split("(")[0]
    return (
        f"from metaflow import FlowSpec, step, {name}\n\n"
        "class Flow(FlowSpec):\n"
        f"    @{decorator}\n"
        "    @step\n"
        "    def start(self):\n"
        "        self.next(self.end)\n"
    )


@pytest.mark.parametrize(
    ("decorator", "key"),
    [("catch", "catch"), ("card", "card"), ("timeout(seconds=5)", "timeout"), ("retry", "retry")],
)
def test_option_findings_follow_the_capability_table(decorator, key):
    found = lint_text(decorated_flow(decorator), "flow.py", LintConfig())
    flagged = {f.message.split(" on ")[1].split(":")[0] for f in found if f.code == "TP505"}
    capability = CAPABILITIES[key]
    assert flagged == {t for t in ("flyte", "kfp") if capability.support[t] != "exact"}
    for finding in (f for f in found if f.code == "TP505"):
        target = finding.message.split(" on ")[1].split(":")[0]
        assert capability.notes[target] in finding.message


def test_option_rule_reads_the_table_not_a_list(monkeypatch):
    """Marking a setting exact on both targets silences the rule: nothing is hard-coded."""
    card = CAPABILITIES["card"]
    exact = type(card)(card.key, card.summary, dict.fromkeys(card.support, "exact"), card.notes)
    monkeypatch.setitem(CAPABILITIES, "card", exact)
    option_not_portable.spellings.cache_clear()
    try:
        found = lint_text(decorated_flow("card"), "flow.py", LintConfig())
    finally:
        option_not_portable.spellings.cache_clear()
    assert [f for f in found if f.code == "TP505"] == []


def test_retry_delay_of_zero_asks_for_nothing_but_a_delay_is_flagged_for_flyte():
    quiet = lint_text(decorated_flow("retry(minutes_between_retries=0)"), "f.py", LintConfig())
    loud = lint_text(decorated_flow("retry(minutes_between_retries=5)"), "f.py", LintConfig())
    assert [f for f in quiet if f.code == "TP505"] == []
    assert [f.message.split(":")[0] for f in loud if f.code == "TP505"] == [
        "@retry cannot be expressed on flyte"
    ]


def test_kfp_timeout_from_flyte_is_flagged_only_for_kfp():
    source = (
        "from datetime import timedelta\nfrom flytekit import task\n\n"
        "@task(timeout=timedelta(minutes=1), retries=2)\ndef t() -> int:\n    return 1\n"
    )
    found = lint_text(source, "t.py", LintConfig())
    assert [(f.line, f.code, "kfp" in f.message) for f in found] == [(4, "TP505", True)]
    only_metaflow = lint_text(source, "t.py", LintConfig(targets=("metaflow",)))
    assert only_metaflow == []


def test_an_option_switched_off_asks_for_nothing():
    source = (
        "from kfp import dsl\n\n@dsl.component(base_image='python:3.11')\ndef c() -> int:\n"
        "    return 1\n\n@dsl.pipeline\ndef p():\n"
        "    c().set_caching_options(enable_caching=False)\n"
        "    c().set_caching_options(True)\n"
    )
    found = lint_text(source, "p.py", LintConfig(targets=("metaflow",)))
    assert [(f.line, f.code) for f in found] == [(10, "TP505")]
    assert "(cache)" in found[0].message
