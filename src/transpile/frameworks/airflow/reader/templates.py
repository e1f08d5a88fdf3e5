"""A ``bash_command`` with Jinja templates the conversion can render itself.

Airflow renders a BashOperator's command from the run's context before running it. The
templates whose value the pipeline has are rendered the same way in the step: ``{{ params.n }}``
(a parameter), ``{{ ti.xcom_pull(task_ids='t') }}`` (a task's result), each as ``str()`` of the
value as Jinja does, and ``{{ task.task_id }}`` / ``{{ dag.dag_id }}`` (known when reading). The
command becomes an f-string built as an AST (so any quotes, backslashes and braces of the shell
text are escaped correctly). Another template (``{{ ds }}``, macros, ``{% ... %}``) is not.
"""

from __future__ import annotations

import ast
import re

EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
PARAM = re.compile(r"params(?:\.(?P<attr>\w+)|\[\s*(?P<q>['\"])(?P<key>\w+)(?P=q)\s*\])")
PULL = re.compile(
    r"(?:ti|task_instance)\.xcom_pull\(\s*(?:task_ids\s*=\s*)?(?P<q>['\"])(?P<task>[^'\"]+)"
    r"(?P=q)\s*\)"
)

Part = tuple[str, str]  # ("text", text), ("param", name), ("pull", task id)


def template_parts(text: str, task_id: str, dag_id: str) -> list[Part] | None:
    """The command as text and rendered values, or None when a template is not one of those
    the conversion renders (or there is none)."""
    if "{%" in text or "{#" in text or "{{" not in text:
        return None
    parts: list[Part] = []
    at = 0
    for found in EXPRESSION.finditer(text):
        parts.append(("text", text[at : found.start()]))
        at = found.end()
        inner = found.group(1).strip()
        if inner == "task.task_id":
            parts.append(("text", task_id))
        elif inner == "dag.dag_id":
            parts.append(("text", dag_id))
        elif (param := PARAM.fullmatch(inner)) is not None:
            parts.append(("param", param.group("attr") or param.group("key")))
        elif (pull := PULL.fullmatch(inner)) is not None:
            parts.append(("pull", pull.group("task")))
        else:
            return None
    parts.append(("text", text[at:]))
    return [p for p in parts if p != ("text", "")]


def fstring(parts: list[tuple[str, str | None]]) -> str:
    """An f-string: each ("text", t) as itself, each (kind, name) as ``{name}``."""
    values: list[ast.expr] = []
    for kind, value in parts:
        if kind == "text":
            values.append(ast.Constant(value))
        else:
            values.append(ast.FormattedValue(ast.Name(value, ast.Load()), -1, None))
    return ast.unparse(ast.JoinedStr(values))
