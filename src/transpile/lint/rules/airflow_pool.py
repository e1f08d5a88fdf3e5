"""An Airflow ``pool`` or ``pool_slots`` setting on a task.

Why: a pool caps how many tasks run at once across every DAG of an Airflow installation (a
database, a licence). The other frameworks have no shared pools: a converted pipeline runs its
steps as soon as their inputs are ready, however many other runs hold the same resource.

Instead: limit parallelism inside the pipeline (KFP ``ParallelFor(parallelism=)``, Flyte
``map_task(concurrency=)``, Metaflow ``--max-workers``), or guard the resource in the task.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import Hit, LintUnit
from ._airflow import settings

CODE = "TP521"
NAME = "airflow-pool"
MESSAGE = "{name}={value}: Airflow pools limit tasks across DAGs; no other framework has them"
FRAMEWORKS = frozenset({"airflow"})

VALID = [
    """
from airflow.operators.bash import BashOperator

load = BashOperator(task_id="load", bash_command="echo load", retries=2)
""",
]
INVALID = [
    """
from airflow.operators.bash import BashOperator

load = BashOperator(task_id="load", bash_command="echo load", pool="warehouse")  # error
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    for where, name, value in settings(unit, "pool", "pool_slots"):
        yield unit.hit(where, MESSAGE.format(name=name, value=ast.unparse(value)))
