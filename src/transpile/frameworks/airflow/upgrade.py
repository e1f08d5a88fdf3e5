"""An Airflow 2 DAG file upgraded for Airflow 3 (``convert dag.py --to airflow``): the user's
file as written, with what Airflow 3 removed, moved or renamed changed, each change listed.

The changes are ruff's Airflow 3 rules (AIR301 removed, AIR302 moved to a provider, AIR311
and AIR312 suggested updates), which know the whole list of Airflow 3's removals and moves;
transpile applies their fixes (the unsafe ones too: they are the renames Airflow 3 asks for),
drops the Airflow imports the fixes left unused (an import of a removed module fails in Airflow
3 even unused), and names each change: info TP270 where ruff changed it, a lossy TP271 with a
TODO above the statement where it could not. The rest of the file is the user's, untouched but
for ruff's import order and format (every emitted file is format-clean).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import libcst as cst
from libcst.metadata import PositionProvider

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Span
from transpile.util.text import header, todo
from transpile.writing.render import SORT_IMPORTS, format_code, run_ruff_stdin

RULES = ["--select", "AIR3", "--exit-zero"]
ORIGIN = "an Airflow 2 DAG upgraded for Airflow 3"
STILL_WORKS = "It still works in Airflow 3.0 but is expected to be removed in a future version."
DAYS_AGO = "`airflow.utils.dates.days_ago` is removed"
# what ruff names without a fix and transpile changes itself: its message's start → the change
OWN_FIXES = {
    "`provide_context` is removed": (
        "the keyword is dropped (Airflow 2 already passed the context to every callable)"
    ),
    DAYS_AGO: 'days_ago(n) is pendulum.today("UTC").subtract(days=n), what it computed',
}


def upgrade(text: str, path: str) -> tuple[str, list[Diagnostic]] | None:
    """The file upgraded and the list of changes; None when Airflow 3 needs none."""
    found = sorted([*_findings(text, RULES), *_airflow_1_imports(text)], key=_where)
    if not found:
        return None
    fixed = run_ruff_stdin(["check", *RULES, "--fix", "--unsafe-fixes", "--quiet"], text)
    fixed = _own_fixes(fixed, _findings(fixed, RULES))
    fixed = _unused_airflow_imports_dropped(fixed)
    # imports sorted before the TODOs go in: sorting later would move an import from under its
    # TODO (the first import of a block does not take the comment above it along)
    fixed = run_ruff_stdin(SORT_IMPORTS, fixed)
    remaining = sorted([*_findings(fixed, RULES), *_airflow_1_imports(fixed)], key=_where)
    left = {(f["code"], f["message"]) for f in remaining}
    diagnostics = []
    for finding in found:
        span = _span(path, finding)
        what = f"Airflow 3: {_sentence(finding['message'])}"
        if (finding["code"], finding["message"]) in left:
            message = f"{what}; not changed ({finding['code']})"
            diagnostics.append(Diagnostic("TP271", "warning", message, span, lossy=True))
        else:
            own = next(
                (how for start, how in OWN_FIXES.items() if finding["message"].startswith(start)),
                None,
            )
            how = own or _sentence((finding.get("fix") or {}).get("message") or "changed")
            message = f"{what}; {how[0].lower()}{how[1:]} ({finding['code']})"
            diagnostics.append(Diagnostic("TP270", "info", message, span))
    code = _with_todos(fixed, remaining)
    code = f"{header(Path(path).name, ORIGIN)}\n{code}"
    return format_code(code), diagnostics


def _sentence(text: str) -> str:
    """ruff's message as one clause: without its "still works in 3.0" aside and end stops."""
    text = text.replace(STILL_WORKS, "")
    return text.strip().rstrip(";.").strip()


def _findings(code: str, rules: list[str]) -> list[dict]:
    """ruff's findings on ``code`` (as JSON), in source order."""
    out = run_ruff_stdin(["check", *rules, "--output-format", "json"], code)
    return sorted(json.loads(out or "[]"), key=_where)


def _where(finding: dict) -> tuple[int, int, str]:
    return finding["location"]["row"], finding["location"]["column"], finding["code"]


# Airflow 1 spellings ruff's rules do not name, which fail to import in Airflow 3 (and 2): a
# plugin's class from a package root, the old sensors module
AIRFLOW_1_ROOTS = {"airflow.operators", "airflow.sensors", "airflow.hooks", "airflow.executors"}
AIRFLOW_1_MODULES = {"airflow.operators.sensors"}


def _airflow_1_imports(code: str) -> list[dict]:
    """Findings, in ruff's JSON shape, for each Airflow 1 import: ``from airflow.operators
    import MyOperator`` (Airflow 1 put plugins' classes there) and ``airflow.operators.sensors``."""
    found = []
    for node in ast.walk(ast.parse(code)):
        if not isinstance(node, ast.ImportFrom) or node.level:
            continue
        if node.module in AIRFLOW_1_MODULES:
            names = [f"`{node.module}`"]
        elif node.module in AIRFLOW_1_ROOTS:
            names = [f"`{node.module}.{a.name}`" for a in node.names if a.name[:1].isupper()]
        else:
            continue
        for name in names:
            message = (
                f"{name} is an Airflow 1 import (a plugin's class, or a module gone since "
                "Airflow 2): import it from its own module or provider"
            )
            where = {"row": node.lineno, "column": node.col_offset + 1}
            end = {"row": node.end_lineno or node.lineno, "column": (node.end_col_offset or 0) + 1}
            found.append(
                {"code": "AIRFLOW1", "message": message, "location": where, "end_location": end}
            )
    return found


def _span(path: str, finding: dict) -> Span:
    start, end = finding["location"], finding["end_location"]
    return Span(path, start["row"], start["column"] - 1, end["row"], end["column"] - 1)


def _unused_airflow_imports_dropped(code: str, passes: int = 3) -> str:
    """``code`` without the imports from ``airflow`` that nothing uses any more (the user's own
    unused imports stay): ruff's F401 fixes, applied to those only."""
    found = _findings(code, ["--select", "F401", "--exit-zero"])
    edits = {
        (_offset(code, e["location"]), _offset(code, e["end_location"]), e["content"])
        for finding in found
        if finding["message"].startswith("`airflow.") and finding.get("fix")
        for e in finding["fix"]["edits"]
    }
    if not edits or not passes:
        return code
    applied_from = len(code) + 1
    for start, end, content in sorted(edits, reverse=True):
        if end <= applied_from:  # an edit overlapping one applied waits for the next pass
            code = code[:start] + content + code[end:]
            applied_from = start
    return _unused_airflow_imports_dropped(code, passes - 1)


def _offset(code: str, location: dict) -> int:
    """The character offset of ruff's 1-based row and column in ``code``."""
    lines = code.splitlines(keepends=True)
    return sum(len(line) for line in lines[: location["row"] - 1]) + location["column"] - 1


def _with_todos(code: str, findings: list[dict]) -> str:
    """``code`` with a TODO above each statement a finding is in, indented as the statement."""
    if not findings:
        return code
    tree = ast.parse(code)
    statements = [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    lines = code.splitlines(keepends=True)
    inserts: dict[int, list[str]] = {}
    for finding in findings:
        row = finding["location"]["row"]
        around = [s for s in statements if s.lineno <= row <= (s.end_lineno or s.lineno)]
        line = min(around, key=lambda s: (s.end_lineno or s.lineno) - s.lineno).lineno
        indent = lines[line - 1][: len(lines[line - 1]) - len(lines[line - 1].lstrip())]
        message = f"Airflow 3: {_sentence(finding['message'])} ({finding['code']})"
        inserts.setdefault(line, []).append(f"{indent}{todo('TP271', message)}\n")
    for line in sorted(inserts, reverse=True):
        lines[line - 1 : line - 1] = inserts[line]
    return "".join(lines)


def _own_fixes(code: str, findings: list[dict]) -> str:
    """``code`` with the changes of OWN_FIXES made where ruff found them (a finding's line and
    column): a ``provide_context=`` keyword argument dropped; ``days_ago(n)`` (midnight UTC n days
    ago) written with pendulum, which Airflow 3 depends on."""

    def spots(start: str) -> set[tuple[int, int]]:
        return {
            (f["location"]["row"], f["location"]["column"] - 1)
            for f in findings
            if f["message"].startswith(start)
        }

    keywords, days_ago = spots("`provide_context` is removed"), spots(DAYS_AGO)
    if not keywords and not days_ago:
        return code
    wrapper = cst.MetadataWrapper(cst.parse_module(code))
    return wrapper.visit(_OwnFixes(wrapper, keywords, days_ago)).code


class _OwnFixes(cst.CSTTransformer):
    """Drops the keyword arguments that start at ``keywords``, rewrites the ``days_ago(n)`` calls
    that start at ``days_ago`` ((line, 0-based column) each) and imports pendulum for them."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, wrapper, keywords: set[tuple[int, int]], days_ago: set[tuple[int, int]]):
        super().__init__()
        self.positions = wrapper.resolve(PositionProvider)
        self.keywords, self.days_ago = keywords, days_ago
        self.pendulum = False

    def _at(self, node: cst.CSTNode) -> tuple[int, int]:
        start = self.positions[node].start
        return start.line, start.column

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if self._at(original) in self.days_ago and _one_argument(updated):
            self.pendulum = True
            days = updated.args[0].value
            return _days_ago(days)
        kept = [
            new
            for old, new in zip(original.args, updated.args)
            if self._at(old) not in self.keywords
        ]
        if len(kept) == len(updated.args):
            return updated
        if kept and updated.args[-1] is not kept[-1]:
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(args=kept)

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if not self.pendulum or _imports_pendulum(updated):
            return updated
        body = list(updated.body)
        at = 0  # after the docstring and the __future__ imports
        while at < len(body) and _stays_first(body[at]):
            at += 1
        body.insert(at, cst.parse_statement("import pendulum\n"))
        return updated.with_changes(body=body)


def _one_argument(call: cst.Call) -> bool:
    """``days_ago(n)`` or ``days_ago(n=...)``: no hour, minute or other argument."""
    return (
        len(call.args) == 1
        and (call.args[0].keyword is None or call.args[0].keyword.value == "n")
        and not call.args[0].star
    )


def _days_ago(days: cst.BaseExpression) -> cst.Call:
    call = cst.parse_expression('pendulum.today("UTC").subtract(days=0)')
    assert isinstance(call, cst.Call)
    return call.with_changes(
        args=[cst.Arg(days, keyword=cst.Name("days"), equal=call.args[0].equal)]
    )


def _imports_pendulum(module: cst.Module) -> bool:
    return "import pendulum\n" in module.code.splitlines(keepends=True)


def _stays_first(statement: cst.CSTNode) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    if isinstance(small, cst.Expr) and isinstance(
        small.value, cst.SimpleString | cst.ConcatenatedString
    ):
        return True
    return (
        isinstance(small, cst.ImportFrom)
        and isinstance(small.module, cst.Name)
        and small.module.value == "__future__"
    )
