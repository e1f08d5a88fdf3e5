"""Renderings of a lint report: ruff-style text, JSON, SARIF 2.1.0, GitHub workflow commands."""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

import click

from .. import __version__
from ..util.text import one_line
from .engine import FileError, Finding, LintReport, all_rules, rule_targets

FORMATS = ("text", "json", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# A finding fails the hook (exit 1), so every format calls it an error: SARIF's level and the
# GitHub annotation's command are the same word.
LEVEL = "error"
# Where each rule is explained: its row in the README's rule table (anchor: the code, lowercase)
README_URL = "https://github.com/transpile-dev/transpile/blob/main/README.md"


def render(report: LintReport, fmt: str, colour: bool = False, quiet: bool = False) -> str:
    if fmt == "text":
        return text(report, colour, quiet)
    return {"json": as_json, "sarif": sarif, "github": github}[fmt](report)


def text(report: LintReport, colour: bool = False, quiet: bool = False) -> str:
    """``path:line:col: CODE message`` per finding, then a count (unless ``quiet``), as ruff
    prints them; on a terminal the path is bold and the code red, as in ruff."""
    lines = [_finding_line(f, colour) for f in report.findings]
    if report.findings and not quiet:
        noun = "finding" if len(report.findings) == 1 else "findings"
        lines.append(f"Found {len(report.findings)} {noun}.")
    return "".join(f"{line}\n" for line in lines)


def _finding_line(finding: Finding, colour: bool) -> str:
    path, code = one_line(finding.path), finding.code
    message = one_line(finding.message)
    if colour:
        path = click.style(path, bold=True)
        code = click.style(code, fg="red", bold=True)
    separator = click.style(":", fg="cyan") if colour else ":"
    where = separator.join((path, str(finding.line), str(finding.column)))
    return f"{where}{separator} {code} {message}"


def statistics(report: LintReport, fmt: str) -> str:
    """How many findings each rule has, most first (ruff's ``--statistics``): text or JSON."""
    names = {f.code: f.name for f in report.findings}
    counts = sorted(Counter(f.code for f in report.findings).items(), key=lambda c: (-c[1], c[0]))
    if fmt == "json":
        rows = [{"code": c, "name": names[c], "count": n} for c, n in counts]
        return json.dumps(rows, indent=2) + "\n"
    width = max((len(str(n)) for _, n in counts), default=1)
    return "".join(f"{n:>{width}}\t{c}\t{names[c]}\n" for c, n in counts)


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
                "helpUri": help_uri(rule),
                "help": {"text": description(rule), "markdown": markdown(rule)},
                "defaultConfiguration": {"level": LEVEL},
                "properties": {"tags": tags(rule)},
            }
            for rule in rules
        ],
    }


def _result(finding: Finding, rule_index: int) -> dict:
    return {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": LEVEL,
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
        f"::{LEVEL} title=transpile {f.code},file={_property(f.path)},line={f.line},col={f.column}"
        f"::{_data(f.code + ' ' + f.message)}\n"
        for f in report.findings
    )


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")


def help_uri(rule: ModuleType) -> str:
    return f"{README_URL}#{rule.CODE.lower()}"


def tags(rule: ModuleType) -> list[str]:
    """``portability``, the frameworks the rule reads, and ``to-FW`` for each it concerns."""
    targets = [f"to-{t}" for t in sorted(rule_targets(rule))]
    return ["portability", *sorted(rule.FRAMEWORKS), *targets]


def summary(rule: ModuleType) -> str:
    """The first sentence of the rule's docstring, on one line, in Markdown (not reST)."""
    first = (rule.__doc__ or "").strip().split("\n\n")[0]
    return _plain(" ".join(first.split()))


def description(rule: ModuleType) -> str:
    """The whole docstring, paragraphs kept, lines joined, in Markdown (not reST)."""
    paragraphs = (rule.__doc__ or "").strip().split("\n\n")
    return "\n\n".join(_plain(" ".join(p.split())) for p in paragraphs)


def markdown(rule: ModuleType) -> str:
    """The rule's page: its code and name as a heading, what it reads, then its explanation."""
    return f"## {rule.CODE} `{rule.NAME}`\n\nReads: {_scope(rule)}\n\n{description(rule)}\n"


def explain(rule: ModuleType, colour: bool = False) -> str:
    """``transpile rule CODE``: the rule's page for a terminal."""
    title = f"{rule.CODE} ({rule.NAME})"
    heading = click.style(title, bold=True) if colour else title
    return f"{heading}\n\nReads: {_scope(rule)}\n\n{description(rule)}\n"


@cache
def rule_named(code: str) -> ModuleType | None:
    return next((r for r in all_rules() if r.CODE == code.upper()), None)


def _plain(text: str) -> str:
    """reST literals (double backquotes) as Markdown code spans (one)."""
    return re.sub(r"``(.+?)``", r"`\1`", text)


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
        flags = summary(rule).replace("|", "\\|")
        anchor = f'<a id="{rule.CODE.lower()}"></a>'
        lines.append(f"| {anchor}`{rule.CODE}` | `{rule.NAME}` | {_scope(rule)} | {flags} |")
    return "".join(f"{line}\n" for line in lines)


def _scope(rule: ModuleType) -> str:
    sources = ", ".join(sorted(rule.FRAMEWORKS))
    targets = rule_targets(rule)
    return f"{sources} → {', '.join(sorted(targets))}" if targets else sources
