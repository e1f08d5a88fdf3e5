"""A verification as text (a terminal), Markdown (a pull request) or JSON (tools, CI)."""

from __future__ import annotations

import json
import re
from typing import Any

from .check import Compared, Verification
from .values import render as python_text

SCHEMA_VERSION = 1
HEADLINES = {
    "same": "same results",
    "differs": "DIFFERENT results",
    "error": "could not run",  # followed by "the source (metaflow): <why>"
}
STATUS = {
    "same": "same",
    "differs": "DIFFERS",
    "only-source": "only in the source",
    "only-target": "only in the conversion",
    "unstable": "unstable",
    "accepted": "same, as reported",
}


def render(result: Verification, fmt: str) -> str:
    return {"json": as_json, "md": as_markdown}.get(fmt, as_text)(result)


def headline(result: Verification) -> str:
    what = f"{result.path}: {result.source} → {result.target}: {HEADLINES[result.verdict]}"
    if result.verdict == "error":
        return f"{what} {result.error}"
    counted = _counts(result) or "no results to compare: the pipeline exposes none"
    return f"{what} ({counted})"


def _counts(result: Verification) -> str:
    order = ("same", "accepted", "differs", "only-source", "only-target", "unstable")
    counts = {s: sum(c.status == s for c in result.values) for s in order}
    return ", ".join(f"{n} {STATUS[s]}" for s, n in counts.items() if n)


def _side(value: Compared, which: str) -> str:
    absent = "only-target" if which == "source" else "only-source"
    if value.status == absent:
        return "(absent)"
    return python_text(value.source if which == "source" else value.target)


def _params(result: Verification) -> str:
    if not result.params:
        return "defaults"
    return ", ".join(f"{k}={v!r}" for k, v in sorted(result.params.items()))


def as_text(result: Verification) -> str:
    lines = [headline(result), f"  parameters: {_params(result)}"]
    if result.verdict == "error":
        return "\n".join([*lines, short_details(result.details)]).rstrip() + "\n"
    if result.source_runs > 1:
        lines.append(f"  {_stability(result)}")
    if result.final_tasks:
        lines.append(f"  {_finals(result)}")
    lines += [f"  {note}" for note in result.notes]
    for value in result.values:
        note = f" ({value.note})" if value.note else ""
        lines.append(f"  {value.name}: {STATUS[value.status]}{note}")
        if value.status not in ("same", "accepted", "unstable"):
            lines.append(f"    {result.source:<8}: {_side(value, 'source')}")
            lines.append(f"    {result.target:<8}: {_side(value, 'target')}")
    if result.chance:
        lines.append(
            f"  the source calls {result.chance}: its runs may agree by chance; try --source-runs 5"
        )
    if result.verdict == "differs" and result.diagnostics:
        lines.append("  the conversion reported (one of these may explain the difference):")
        lines += [f"    {d.render(result.path)}" for d in _in_order(result)]
    return "\n".join(lines) + "\n"


def short_details(details: str, keep: int = 12) -> str:
    """The command, its folder and the last ``keep`` lines of each output tail."""
    parts = re.split(r"^(--- std(?:out|err) \(tail\) ---)$", details, flags=re.MULTILINE)
    shown = [parts[0].rstrip()]
    for title, body in zip(parts[1::2], parts[2::2]):
        tail = [line for line in body.strip("\n").splitlines()][-keep:]
        if tail:
            shown += [title, *tail]
    return "\n".join(shown)


def _in_order(result: Verification) -> list:
    return sorted(
        result.diagnostics, key=lambda d: (d.span.line, d.span.column) if d.span else (0, 0)
    )


def _finals(result: Verification) -> str:
    """What was compared for a KFP pipeline that returns nothing."""
    named = ", ".join(result.final_tasks)
    return (
        f"The pipeline has no outputs: compared its final tasks' outputs ({named}); the "
        "conversion ran returning them"
    )


def _stability(result: Verification) -> str:
    unstable = sum(c.status == "unstable" for c in result.values)
    runs = f"The source ran {result.source_runs} times"
    if not unstable:
        return f"{runs} with the same results"
    return f"{runs}: {unstable} value(s) changed between its runs and are not compared"


def as_markdown(result: Verification) -> str:
    verdict = {"same": "✅ Same results", "differs": "❌ Different results", "error": "⚠️ Not run"}
    lines = [
        f"## Verification: {result.source} → {result.target}",
        "",
        f"**{verdict[result.verdict]}** for `{result.path}`, parameters: {_params(result)}.",
        "",
    ]
    if result.verdict == "error":
        lines += [f"Could not run {result.error}", ""]
        return "\n".join(lines)
    lines += [
        f"Both pipelines ran locally; {_stability(result)}.",
        "",
        *([f"{_finals(result)}.", ""] if result.final_tasks else []),
        *[line for note in result.notes for line in (f"{note[:1].upper()}{note[1:]}.", "")],
        f"| Value | {result.source} | {result.target} | Result |",
        "| --- | --- | --- | --- |",
    ]
    for value in result.values:
        cells = [f"`{value.name}`", _cell(_side(value, "source")), _cell(_side(value, "target"))]
        status = STATUS[value.status] + (f" ({value.note})" if value.note else "")
        lines.append("| " + " | ".join([*cells, status]) + " |")
    if result.chance:
        lines += ["", f"The source calls {result.chance}: its runs may agree by chance."]
    if result.verdict == "differs" and result.diagnostics:
        lines += ["", "The conversion reported (one of these may explain the difference):", ""]
        lines += [f"- {_cell(d.render(result.path), 300)}" for d in _in_order(result)]
    return "\n".join(lines) + "\n"


def _cell(text: str, limit: int = 80) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def as_dict(result: Verification) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "path": result.path,
        "source": result.source,
        "target": result.target,
        "verdict": result.verdict,
        "exit_code": result.exit_code,
        "params": result.params,
        "source_runs": result.source_runs,
        "error": result.error or None,
        "diagnostics": [d.render(result.path) for d in result.diagnostics],
        "chance": result.chance or None,
        "headline": headline(result),
        "stability": _stability(result) if result.source_runs > 1 else None,
        "final_tasks": list(result.final_tasks) or None,
        "notes": list(result.notes),
        "values": [
            {
                "name": v.name,
                "status": v.status,
                "source": None if v.status == "only-target" else v.source,
                "target": None if v.status == "only-source" else v.target,
                "source_text": _side(v, "source"),
                "target_text": _side(v, "target"),
                "shown_status": STATUS[v.status],
                "note": v.note or None,
            }
            for v in result.values
        ],
    }


def as_json(result: Verification) -> str:
    return json.dumps(as_dict(result), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
