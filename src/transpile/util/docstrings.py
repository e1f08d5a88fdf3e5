"""A pipeline's parameter descriptions in its docstring, as flytekit and KFP read them.

Metaflow keeps a parameter's description in ``Parameter(..., help=...)``. flytekit (through
``docstring_parser``) and the KFP compiler take the descriptions of a workflow's or pipeline's
inputs from a Google-style ``Args:`` section of its docstring, and show them in their UIs. The
writers put ``help=`` texts there, and the readers take them back; the rest of the docstring
stays as the user wrote it.

This is a small parser rather than ``docstring_parser`` itself: a reader must keep the other
sections of the docstring word for word, and needs the lines the ``Args:`` section spans, which
that library does not give.
"""

from __future__ import annotations

import re
from dataclasses import replace

HEADERS = ("Args:", "Arguments:", "Parameters:")
# ``name: text`` or ``name (type): text``; a name as Python spells a parameter
ENTRY = re.compile(r"^(?P<name>\*{0,2}[A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*:(?P<text>.*)$")


def args_section(helps: list[tuple[str, str]]) -> str:
    """An ``Args:`` section for ``(parameter, help)`` pairs (empty helps left out), or ""."""
    lines = [f"    {name}: {' '.join(text.split())}" for name, text in helps if text.strip()]
    return "\n".join(["Args:", *lines]) if lines else ""


def with_args(doc: str, helps: list[tuple[str, str]]) -> str:
    """``doc`` followed by the ``Args:`` section of ``helps`` (``doc`` alone when none)."""
    section = args_section(helps)
    return f"{doc.rstrip()}\n\n{section}" if section else doc


def split_args_section(doc: str | None) -> tuple[str | None, dict[str, str]]:
    """``doc`` without its ``Args:`` section (None when nothing else is left), and the
    description of each parameter the section names. A docstring without one is returned as
    it is, with no descriptions."""
    if not doc:
        return doc, {}
    lines = doc.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() in HEADERS), None)
    if start is None:
        return doc, {}
    base = _indent(lines[start])
    entries = _entry_indent(lines, start)
    helps: dict[str, str] = {}
    current: str | None = None
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if line.strip() and _indent(line) <= base:
            break  # the next section, or text after the list
        entry = ENTRY.match(line.strip()) if line.strip() else None
        if entry and (current is None or _indent(line) <= entries):
            current = entry["name"].lstrip("*")
            helps[current] = entry["text"].strip()
        elif line.strip() and current is not None:
            helps[current] = f"{helps[current]} {line.strip()}".strip()
        end += 1
    rest = "\n".join(lines[:start] + lines[end:]).strip()
    return (rest or None), helps


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _entry_indent(lines: list[str], start: int) -> int:
    """The indentation of the section's first entry: deeper lines continue an entry."""
    first = next((line for line in lines[start + 1 :] if line.strip()), "")
    return _indent(first)


def described(parameters, helps: dict[str, str]) -> tuple:
    """``parameters`` (model Parameters) with the descriptions of ``helps`` where they had none."""
    return tuple(replace(p, help=p.help or helps.get(p.name) or None) for p in parameters)
