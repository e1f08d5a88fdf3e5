"""``transpile report``: what converting one pipeline to another framework did, step by step.

The report is built once as plain data (``model.build``) and rendered as Markdown (with Mermaid
pictures), one standalone HTML page (inline SVG and CSS, fetching nothing) or JSON.

JSON schema, ``schema_version`` 1 (every key is always present; lines are 1-based)::

    schema_version  1
    source          {path, framework, name}              the file read and its pipeline
    target          {path, framework, written,           path: the name the report gives the
                     command}                            converted file; written: false (report
                                                         writes none); command: the convert
                                                         command that writes it, whose lines the
                                                         report gives
    summary         {steps, parameters, artifacts,       counts in the source pipeline
                     options: {mapped, approximated,     each decorator/option by what it became
                               todo, dropped},
                     unknown_types,                      outputs whose type fell back to Any
                     todo_markers,                       "# TODO(transpile)" lines in the output
                     diagnostics: {error, warning, info}, lossy}
    next_steps      [{line, todo, code, message,         what is left for a human: each TODO line of
                      source_line}]                      the converted file and each lossy
                                                         diagnostic, by ``line`` in the converted
                                                         file (todo: a TODO marker is there, else
                                                         the task of its step or the pipeline)
    steps           [{source, source_line, role,         source step → its task in the converted file
                      target, target_line}]              (null when the writer made none of that
                                                         name); a FlowSpec's @step methods count
    parameters      [{name, type, origin, default, required, line}]
    artifacts       [{step, direction: input|output, name, type, origin, from: [ref]}]
                    origin is TypeRef.origin: annotation, parameter, default, literal,
                    constructor, helper, inferred or fallback
    options         [{owner: step|"pipeline", kind, args, written, line, status,
                      diagnostics: [code],
                      capabilities: [{key, support: exact|approximate|none, note}]}]
                    args: as the model keeps them (memory in MB...); written: the source's own
                    text of the option (``set_memory_limit("2Gi")``), null when not found
                    status: mapped | approximated | todo (a TODO left for a human) | dropped
    diagnostics     [{code, severity, message, line, column, lossy}]
    dag             {before, after}: {nodes: [{step, label, join}],
                     edges: [{source, target, label}], boxes: [{label, members}], mermaid}
                    a switch edge's label is its case: the test as the source wrote it
                    (``if mode == "fast"``, ``else``) or the value the case compares with
    code            [{step, source, target}]             the step's source and its converted task
    verification    null, or with --verify what running both found (verify's JSON: verdict
                    same|differs|error, params, values [{name, status, source, target,
                    source_text, target_text, ...}], error)
"""

from __future__ import annotations

from .. import api

FORMATS = ("md", "html", "json")


def build_report(
    path: str, target: str, source: str = "auto", verification: dict | None = None
) -> dict | api.Failed | api.Skipped:
    """The report's data for converting ``path`` to ``target``, or why there is none;
    ``verification``: what ``transpile verify`` found running both (its JSON form)."""
    from .model import build

    text = api.load_text(path)  # read once: converted, then shown step by step
    if isinstance(text, api.Failed):
        return text
    converted = api.convert_text(text, path, target, source)
    if not isinstance(converted, api.Converted):
        return converted
    report = build(text, converted, target)
    report["verification"] = verification
    return report


def render(report: dict, fmt: str) -> str:
    """``report`` as ``fmt`` (one of ``FORMATS``)."""
    from . import formats

    return formats.RENDERERS[fmt](report)
