"""An option as its source wrote it: ``@retry(times=2)``, ``task.set_memory_limit("2Gi")``.

The model keeps options in one set of units (memory in MB, cpu as a number, retries as times), so
``mem="512Mi"`` is ``memory=536.870912`` there: right for the writers, not what the engineer typed
and will search for. The report shows the source's own text at the option's span instead.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from ..model.ir import Option
from ..util.syntax import quiet_tree

LONGEST = 120
# an option read from one keyword of a decorator that carries several (flytekit's @task): the
# keywords each kind comes from, so the row shows its own and not the whole decorator
KEYWORDS = {
    "resources": ("requests", "limits", "resources"),
    "retry": ("retries",),
    "timeout": ("timeout",),
    "cache": ("cache", "cache_version"),
    "environment": ("environment",),
    "pypi": ("container_image",),
    "conda": ("container_image",),
    "kubernetes": ("container_image",),
    "secrets": ("secret_requests",),
    "card": ("enable_deck",),
}


def as_written(option: Option, text: str, path: str) -> str | None:
    """The source text of ``option`` on one line, or None when it is not in ``text``."""
    span = option.span
    if span.file != path or span.line < 1:
        return None
    decorator = _decorators(text).get((span.line, span.column + 1))
    if decorator is not None:
        return _shorten("@" + _decorator_text(decorator, option, text))
    lines = text.splitlines()[span.line - 1 : span.end_line]
    if not lines:
        return None
    if span.end_line == span.line:
        lines = [lines[0][span.column : span.end_column]]
    else:
        lines = [lines[0][span.column :], *lines[1:-1], lines[-1][: span.end_column]]
    return _shorten(" ".join(" ".join(lines).split())) or None


def _decorator_text(decorator: ast.expr, option: Option, text: str) -> str:
    whole = ast.get_source_segment(text, decorator) or ""
    spans_more = option.span.end_line > (decorator.end_lineno or 0)
    if not spans_more or not isinstance(decorator, ast.Call):
        return whole  # the decorator is the option (Metaflow's @retry(...))
    wanted = KEYWORDS.get(option.kind, ())
    own = [k for k in decorator.keywords if k.arg in wanted]
    if not own or len(own) == len(decorator.keywords):
        return whole
    func = ast.get_source_segment(text, decorator.func) or ""
    parts = [ast.get_source_segment(text, k) or "" for k in own]
    return f"{func}({', '.join(parts)}, …)"


@lru_cache(maxsize=4)
def _decorators(text: str) -> dict[tuple[int, int], ast.expr]:
    """Every decorator of the module by (line, column of what follows the ``@``)."""
    try:
        tree = quiet_tree(text)
    except (SyntaxError, ValueError):
        return {}
    found: dict[tuple[int, int], ast.expr] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:
                found[(decorator.lineno, decorator.col_offset)] = decorator
    return found


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"
