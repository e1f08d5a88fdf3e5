"""What a writer adds that the model did not have, marked so that the reader of its output leaves
it out again and a pipeline comes back with its own steps: Metaflow's start, end, joins and the
plain steps its graph rules ask for (a docstring), and the workflow the Flyte writer makes of a
switch case (a docstring; the case's steps keep their own names)."""

from __future__ import annotations

import re

ADDED = "Added by transpile:"
RESULTS = "Results:"
HANDED_ON = f"# {ADDED}"  # the comment above a step's lines that only hand values on


def case_doc(value: str, condition: str) -> str:
    """The docstring of the workflow a writer makes of one case of a switch."""
    return f"The {value} case of the switch on {condition}."


def is_case_doc(doc: str | None) -> bool:
    return re.fullmatch(r"The .+ case of the switch on \w+\.", (doc or "").strip()) is not None


def added_doc(why: str, results: tuple[str, ...] | None = None) -> str:
    """The docstring of an added step; an added end step also names the pipeline's results."""
    text = f"{ADDED} {why}"
    if results is not None:
        text += f"\n\n{RESULTS} {', '.join(results) or 'none'}."
    return text


def is_added(doc: str | None) -> bool:
    return bool(doc) and doc.lstrip().startswith(ADDED)  # type: ignore[union-attr]


def listed_results(doc: str | None) -> tuple[str, ...] | None:
    """The result names an added end step's docstring lists (None when it lists none)."""
    for line in (doc or "").splitlines():
        line = line.strip()  # the docstring as written, indented
        if line.startswith(RESULTS):
            names = line[len(RESULTS) :].strip().rstrip(".")
            return () if names == "none" else tuple(n.strip() for n in names.split(","))
    return None
