"""An Airflow ``xcom_pull`` whose ``task_ids`` is computed, not written out.

Why: transpile turns ``ti.xcom_pull(task_ids="extract")`` into a data edge from ``extract``. A
task id built at run time (``task_ids=f"load_{n}"``, a variable) names a producer nobody can see
in the source: the edge cannot be drawn, and the other frameworks pass data only along edges.

Instead: pass the value as a TaskFlow argument (``load(extract())``), or write the task id
literally (``task_ids="extract"``, ``task_ids=["a", "b"]``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import Hit, LintUnit

CODE = "TP517"
NAME = "airflow-computed-xcom"
MESSAGE = "xcom_pull reads from a task named at run time ({ids}); write the task id literally"
FRAMEWORKS = frozenset({"airflow"})

VALID = [
    """
from airflow.decorators import task

@task
def report(ti=None):
    rows = ti.xcom_pull(task_ids="extract")
    both = ti.xcom_pull(task_ids=["extract", "clean"])
    return len(rows) + len(both)
""",
]
INVALID = [
    """
from airflow.decorators import task

@task
def report(n: int, ti=None):
    rows = ti.xcom_pull(task_ids=f"extract_{n}")  # error
    return len(rows)
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    for node in ast.walk(unit.tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "xcom_pull"
        ):
            continue
        ids = next((k.value for k in node.keywords if k.arg == "task_ids"), None)
        if ids is None and node.args:
            ids = node.args[0]
        if ids is not None and not _literal_ids(ids):
            yield unit.hit(node, MESSAGE.format(ids=ast.unparse(ids)))


def _literal_ids(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.List | ast.Tuple):
        return all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts)
    return False
