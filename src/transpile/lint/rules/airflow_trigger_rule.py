"""An Airflow task with a ``trigger_rule`` other than ``all_success``.

Why: Airflow can run a task when its upstream tasks failed, were skipped, or any one of them
finished (``all_done``, ``one_failed``, ``none_failed``...). Metaflow, Flyte and KFP run a step
only after every step before it succeeded; the nearest forms (an exit handler, a failure node)
run at the end of the whole pipeline, not in place.

Instead: keep cleanup that must always run in a final step the target runs on failure (Flyte
``on_failure``, KFP ``dsl.ExitHandler``), or handle the failure inside the upstream task.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import Hit, LintUnit
from ._airflow import settings

CODE = "TP519"
NAME = "airflow-trigger-rule"
MESSAGE = "trigger_rule={rule}: the other frameworks run a step only when every upstream succeeded"
FRAMEWORKS = frozenset({"airflow"})
DEFAULT = {"all_success", "ALL_SUCCESS"}

VALID = [
    """
from airflow.operators.empty import EmptyOperator

done = EmptyOperator(task_id="done", trigger_rule="all_success")
""",
]
INVALID = [
    """
from airflow.decorators import task
from airflow.utils.trigger_rule import TriggerRule

@task(trigger_rule=TriggerRule.ALL_DONE)  # error
def cleanup():
    pass

default_args = {"trigger_rule": "one_failed"}  # error
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    for where, _name, value in settings(unit, "trigger_rule"):
        rule = value.value if isinstance(value, ast.Constant) else ast.unparse(value)
        if str(rule).split(".")[-1] not in DEFAULT:
            yield unit.hit(where, MESSAGE.format(rule=rule))
