"""An Airflow sensor (``FileSensor``, ``ExternalTaskSensor``, ``@task.sensor``...).

Why: a sensor is a task that waits, polling until something outside the DAG is true (a file, a
partition, another DAG's run). Metaflow, Flyte and KFP steps compute and return; none of them
has a step that waits on the world, so a converted sensor would be a step that never waits.

A ``PythonSensor`` or ``@task.sensor`` is converted to a step that polls its callable as
Airflow's poke mode does (sleeping ``poke_interval``, failing after ``timeout``): it holds a
worker while it waits, and a sensor's ``soft_fail`` and retries after a timeout are not carried.

Instead: start the pipeline when the condition holds (a Metaflow ``@trigger``, a Flyte launch
plan or KFP recurring run fired by the event), or poll inside a task with a timeout.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import Hit, LintUnit
from ._airflow import airflow_calls

CODE = "TP520"
NAME = "airflow-sensor"
MESSAGE = "{name} waits on something outside the pipeline; no other framework has a waiting step"
POLLING = (
    "{name} becomes a step that polls its callable (sleeping between pokes, holding a worker); "
    "soft_fail and retries after a timeout are not carried"
)
FRAMEWORKS = frozenset({"airflow"})

VALID = [
    """
from airflow.decorators import task

@task
def load():
    return 1
""",
]
INVALID = [
    """
from airflow.decorators import task
from airflow.sensors.filesystem import FileSensor

wait = FileSensor(task_id="wait", filepath="/data/ready")  # error

@task.sensor(poke_interval=60)  # error
def ready():
    return True
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    for call, name in airflow_calls(unit):
        last = name.split(".")[-1]
        if last == "PythonSensor" or name.endswith("task.sensor"):
            yield unit.hit(call, POLLING.format(name=last if last != "sensor" else "@task.sensor"))
        elif last.endswith("Sensor"):
            yield unit.hit(call, MESSAGE.format(name=last))
    for node in ast.walk(unit.tree):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                full = unit.qualified(decorator)
                if not isinstance(decorator, ast.Call) and full and full.endswith("task.sensor"):
                    yield unit.hit(decorator, POLLING.format(name="@task.sensor"))
