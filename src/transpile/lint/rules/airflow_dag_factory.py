"""An Airflow DAG built in a loop, in a function called several times, or registered through
``globals()`` (a DAG factory).

Why: a factory makes its DAGs when Airflow imports the file, from values only the import knows
(a config file, a list, an environment). transpile reads files without running them: it sees one
recipe and no pipelines, and refuses the file (TP185).

Instead: write each pipeline out (one DAG per module, its differences as ``params``), or keep the
factory and give it a target-framework twin by hand.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import Hit, LintUnit

CODE = "TP522"
NAME = "airflow-dag-factory"
MESSAGE = "{what}: transpile reads DAGs without running the file, so it sees none here"
FRAMEWORKS = frozenset({"airflow"})

VALID = [
    """
from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("daily", schedule="@daily") as dag:
    EmptyOperator(task_id="start")
""",
]
INVALID = [
    """
from airflow import DAG
from airflow.operators.empty import EmptyOperator

for name in ["a", "b"]:
    with DAG(f"load_{name}") as dag:  # error
        EmptyOperator(task_id="start")
    globals()[f"load_{name}"] = dag  # error
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    for loop in ast.walk(unit.tree):
        if isinstance(loop, ast.For | ast.While):
            for node in ast.walk(loop):
                if isinstance(node, ast.Call) and _makes_dag(unit, node):
                    yield unit.hit(node, MESSAGE.format(what="a DAG built in a loop"))
    for node in ast.walk(unit.tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Call)
                    and isinstance(target.value.func, ast.Name)
                    and target.value.func.id == "globals"
                ):
                    yield unit.hit(node, MESSAGE.format(what="a DAG registered through globals()"))


def _makes_dag(unit: LintUnit, call: ast.Call) -> bool:
    full = unit.qualified(call)
    return full is not None and full.split(".")[0] == "airflow" and full.split(".")[-1] == "DAG"
