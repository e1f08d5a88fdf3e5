"""An Airflow task with a ``trigger_rule`` other than ``all_success`` or the ``none_failed`` ones.

Why: Airflow can run a task when its upstream tasks failed, or any one of them finished
(``all_done``, ``one_failed``, ``one_success``...). Metaflow, Flyte and KFP run a step only
after every step before it succeeded; the nearest forms (an exit handler, a failure node) run
at the end of the whole pipeline, not in place. ``none_failed_min_one_success`` (and
``none_failed``) on the task that joins a branch's cases is what a switch's join means, and
is converted so. A teardown (``@teardown``, ``.as_teardown()``) has Airflow's rule
``all_done_setup_success``: it runs after failed tasks too, and its own failure does not fail the
run; converted, it runs only after the tasks before it succeed.

A cleanup task (``all_done`` or ``always``) that runs after every other task and reads only the
DAG's params is converted: it stays the last step and is also the pipeline's failure handler
(Metaflow ``@exit_hook``, Flyte ``on_failure``); where convert carries it so, this rule is
quiet (what a target still loses, convert-loses names).

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
# the rules the reader carries (what a switch's join means; the same as all_success otherwise)
CARRIED = {"all_success", "none_failed_min_one_success", "none_failed_or_skipped", "none_failed"}
DEFAULT = CARRIED | {rule.upper() for rule in CARRIED}

VALID = [
    """
from airflow.operators.empty import EmptyOperator

done = EmptyOperator(task_id="done", trigger_rule="all_success")
""",
    """
import pendulum
from airflow.sdk import dag, task

@dag(start_date=pendulum.datetime(2024, 1, 1), schedule=None)
def tidy():
    @task
    def work() -> int:
        return 1

    @task(trigger_rule="all_done")
    def cleanup() -> None:
        print("cleaned")

    work() >> cleanup()

tidy()
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
    """
from airflow.sdk import task, teardown

@teardown  # error
def drop():
    pass

@task
def work():
    pass

work().as_teardown()  # error
""",
]
TEARDOWN = (
    "a teardown runs in Airflow after failed tasks too (trigger rule all_done_setup_success); "
    "the other frameworks run it only when every upstream succeeded"
)


CLEANUP = {"all_done", "always"}


def check(unit: LintUnit) -> Iterator[Hit]:
    for where, _name, value in settings(unit, "trigger_rule"):
        rule = value.value if isinstance(value, ast.Constant) else ast.unparse(value)
        name = str(rule).split(".")[-1]
        if name in DEFAULT or (name.lower() in CLEANUP and _carried(unit, name.lower())):
            continue
        yield unit.hit(where, MESSAGE.format(rule=rule))
    for node in ast.walk(unit.tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "as_teardown"
        ):
            yield unit.hit(node, TEARDOWN)
        elif isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                full = unit.qualified(
                    decorator.func if isinstance(decorator, ast.Call) else decorator
                )
                if full and full.split(".")[0] == "airflow" and full.endswith(".teardown"):
                    yield unit.hit(decorator, TEARDOWN)


def _carried(unit: LintUnit, rule: str) -> bool:
    """Every conversion of the file is written, and none says this rule is not carried (the
    reader made its task the cleanup: the last step and the failure handler)."""
    conversions = unit.conversions.values()
    if not unit.targets or len(conversions) != len(unit.targets):
        return False  # nothing converted (no DAG in the file): nothing carried
    lost = f"trigger_rule={rule!r} is not carried"
    return all(
        not c.refused and not any(lost in message for *_, message in c.problems)
        for c in conversions
    )
