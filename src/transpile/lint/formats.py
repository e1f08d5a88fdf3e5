"""Renderings of a lint report: ruff-style text, JSON, SARIF 2.1.0, GitHub workflow commands."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

from .. import __version__
from ..util.text import one_line
from .engine import FileError, Finding, LintReport, all_rules, rule_targets

FORMATS = ("text", "json", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render(report: LintReport, fmt: str) -> str:
    return {"text": text, "json": as_json, "sarif": sarif, "github": github}[fmt](report)


def text(report: LintReport) -> str:
    """``path:line:col: CODE message`` per finding, then a count, as ruff prints them."""
    lines = [
        one_line(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}") for f in report.findings
    ]
    if report.findings:
        noun = "finding" if len(report.findings) == 1 else "findings"
        lines.append(f"Found {len(report.findings)} {noun}.")
    return "".join(f"{line}\n" for line in lines)


def as_json(report: LintReport) -> str:
    rows = [
        {
            "code": f.code,
            "name": f.name,
            "message": f.message,
            "path": f.path,
            "line": f.line,
            "column": f.column,
        }
        for f in report.findings
    ]
    return json.dumps(rows, indent=2) + "\n"


def sarif(report: LintReport) -> str:
    """One SARIF 2.1.0 run; rules are described from their docstrings, results point at them."""
    rules = all_rules()
    index = {rule.CODE: i for i, rule in enumerate(rules)}
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": _driver(rules)},
                "results": [_result(f, index[f.code]) for f in report.findings],
                "invocations": [_invocation(report.errors)],
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _driver(rules: tuple[ModuleType, ...]) -> dict:
    return {
        "name": "transpile",
        "version": __version__,
        "rules": [
            {
                "id": rule.CODE,
                "name": rule.NAME,
                "shortDescription": {"text": summary(rule)},
                "fullDescription": {"text": description(rule)},
                "help": {"text": description(rule)},
                "defaultConfiguration": {"level": "warning"},
            }
            for rule in rules
        ],
    }


def _result(finding: Finding, rule_index: int) -> dict:
    return {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": "warning",
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": quote(Path(finding.path).as_posix())},
                    "region": {"startLine": finding.line, "startColumn": finding.column},
                }
            }
        ],
    }


def _invocation(errors: tuple[FileError, ...]) -> dict:
    """Files that could not be linted become tool notifications: the run was not complete."""
    return {
        "executionSuccessful": not errors,
        "toolExecutionNotifications": [
            {
                "level": "error",
                "message": {"text": f"{e.path}:{e.line}:{e.column}: {e.code} {e.message}"},
            }
            for e in errors
        ],
    }


def github(report: LintReport) -> str:
    """GitHub Actions workflow commands: each finding becomes an annotation on the pull request."""
    return "".join(
        f"::error title=transpile {f.code},file={_property(f.path)},line={f.line},col={f.column}"
        f"::{_data(f.code + ' ' + f.message)}\n"
        for f in report.findings
    )


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")


def summary(rule: ModuleType) -> str:
    """The first sentence of the rule's docstring, on one line."""
    first = (rule.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(first.split())


def description(rule: ModuleType) -> str:
    """The whole docstring, paragraphs kept, lines joined."""
    paragraphs = (rule.__doc__ or "").strip().split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def rules_text() -> str:
    lines = []
    for rule in all_rules():
        scope = _scope(rule)
        lines.append(f"{rule.CODE}  {rule.NAME:<26} {scope:<34} {summary(rule)}")
    return "".join(f"{line}\n" for line in lines)


def rules_json() -> str:
    rows = [
        {
            "code": rule.CODE,
            "name": rule.NAME,
            "frameworks": sorted(rule.FRAMEWORKS),
            "targets": sorted(rule_targets(rule)),
            "summary": summary(rule),
            "description": description(rule),
        }
        for rule in all_rules()
    ]
    return json.dumps(rows, indent=2) + "\n"


def rules_markdown() -> str:
    """The README's rule table, generated from the rule docstrings."""
    lines = ["| code | name | source → concerns | flags |", "| --- | --- | --- | --- |"]
    for rule in all_rules():
        flags = summary(rule).replace("``", "`").replace("|", "\\|")
        lines.append(f"| `{rule.CODE}` | `{rule.NAME}` | {_scope(rule)} | {flags} |")
    return "".join(f"{line}\n" for line in lines)


def _scope(rule: ModuleType) -> str:
    sources = ", ".join(sorted(rule.FRAMEWORKS))
    targets = rule_targets(rule)
    return f"{sources} → {', '.join(sorted(targets))}" if targets else sources
