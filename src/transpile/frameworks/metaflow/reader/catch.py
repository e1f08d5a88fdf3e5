"""@catch(var=...) carried out by the step itself: its body runs in a ``try``.

Metaflow runs the step (after any @retry attempts); when it raises, the flow goes on: the
artifacts set before the exception are kept, ``var`` holds the exception, and the artifacts the
step had not set yet stay unset. Here ``var`` is None on success and the exception as text
(``module.Type: message``, what Metaflow's MetaflowExceptionWrapper shows without a stack trace)
on failure; an artifact the step had not set yet is None.
"""

from __future__ import annotations

import textwrap

from transpile.model.ir import Option


def catch_body(body: str, var: str | None, unset: list[str], taken: set[str]) -> str:
    """``body`` inside a try whose except keeps going as @catch does."""
    caught = "exception"
    while caught in taken:
        caught += "_"
    lines = []
    if var is not None:
        lines.append(f"{var} = None  # what @catch stores on success")
    lines += [f"{name} = None  # unset if the step fails first" for name in unset]
    lines.append("try:")
    lines.append(textwrap.indent(body.rstrip("\n") or "pass", "    "))
    lines.append(f"except Exception as {caught}:  # noqa: BLE001 - @catch: the flow goes on")
    text = f'f"{{type({caught}).__module__}}.{{type({caught}).__name__}}: {{{caught}}}"'
    lines.append(f"    {var} = {text}" if var is not None else "    pass")
    return "\n".join(lines) + "\n"


def in_body(option: Option) -> Option:
    """The @catch option marked as carried out by the body: writers note it, and write no
    decorator or TODO for it."""
    return Option(option.kind, (*option.args, ("in_body", "True")), option.span)
