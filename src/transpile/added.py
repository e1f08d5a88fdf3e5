"""Steps a writer adds that the model did not have (Metaflow's start, end, joins and the plain steps
its graph rules ask for): the docstring that marks them, shared by the writer that adds them and
the reader that leaves them out again, so a pipeline comes back with its own steps."""

from __future__ import annotations

ADDED = "Added by transpile:"
RESULTS = "Results:"
HANDED_ON = f"# {ADDED}"  # the comment above a step's lines that only hand values on


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
