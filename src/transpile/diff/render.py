"""``transpile diff`` output: text for terminals, Markdown for pull requests, JSON for tools.

JSON schema (``schema_version`` 1)::

    {"schema_version": 1, "same": bool,
     "a": {"path": str, "name": str, "framework": str}, "b": {...},
     "differences": [{"category": "step"|"edge"|"parameter"|"option"|"pipeline option",
                      "change": "added"|"removed"|"renamed"|"changed",
                      "subject": str, "before": str|null, "after": str|null}]}
"""

from __future__ import annotations

import json
from dataclasses import asdict

from . import PipelineDiff
from .compare import Difference

SCHEMA_VERSION = 1
FORMATS = ("text", "md", "json")


def render(result: PipelineDiff, fmt: str) -> str:
    """``result`` in ``fmt`` (one of ``FORMATS``), ending with a newline."""
    return {"text": render_text, "md": render_markdown, "json": render_json}[fmt](result)


def _title(result: PipelineDiff) -> str:
    a, b = result.a, result.b
    return f"{a.path} ({a.framework} {a.name}) vs {b.path} ({b.framework} {b.name})"


def _sentence(d: Difference) -> str:
    if d.change == "renamed":
        return f"step renamed: {d.before} -> {d.after}"
    if d.change == "changed":
        return f"{d.category} changed: {d.subject}: {d.before} -> {d.after}"
    value = d.before if d.change == "removed" else d.after
    shown = "" if value in (None, d.subject) else f" ({value})"
    return f"{d.category} {d.change}: {d.subject}{shown}"


def render_text(result: PipelineDiff) -> str:
    if result.same:
        return f"{_title(result)}: same structure\n"
    count = len(result.differences)
    lines = [f"{_title(result)}: {count} difference{'s' if count != 1 else ''}"]
    lines += [f"  {_sentence(d)}" for d in result.differences]
    return "\n".join(lines) + "\n"


def render_markdown(result: PipelineDiff) -> str:
    a, b = result.a, result.b
    lines = [f"## transpile diff\n\n`{a.path}` ({a.framework}) vs `{b.path}` ({b.framework})\n"]
    if result.same:
        return "\n".join([*lines, "**Same structure.**"]) + "\n"
    lines += ["| what | change | subject | A | B |", "| --- | --- | --- | --- | --- |"]
    for d in result.differences:
        cells = [d.category, d.change, d.subject, d.before or "", d.after or ""]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") if text else "—"


def render_json(result: PipelineDiff) -> str:
    document = {
        "schema_version": SCHEMA_VERSION,
        "same": result.same,
        "a": asdict(result.a),
        "b": asdict(result.b),
        "differences": [asdict(d) for d in result.differences],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
