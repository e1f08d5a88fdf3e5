"""Asset (Airflow 2: Dataset) schedules as the model's trigger, and back: a DAG scheduled on
assets runs when they are updated; Metaflow's nearest form is ``@trigger`` on events of those
names, and a flow's plain-string ``@trigger`` becomes an Asset schedule."""

from __future__ import annotations

import pytest

from transpile.api import Read, read_text, write

DAG_TEXT = """\
import pendulum
from {module} import DAG, {asset}, task

with DAG("fresh", start_date=pendulum.datetime(2024, 1, 1), schedule={schedule}):

    @task
    def load() -> int:
        return 1

    load()
"""


def _read(schedule: str, module: str = "airflow.sdk", asset: str = "Asset") -> Read:
    text = DAG_TEXT.format(module=module, asset=asset, schedule=schedule)
    read = read_text(text, "fresh.py")
    assert isinstance(read, Read), read
    return read


@pytest.mark.parametrize(
    ("schedule", "module", "asset", "args"),
    [
        ('[Asset("s3://orders/raw")]', "airflow.sdk", "Asset", (("event", "'s3://orders/raw'"),)),
        ('Asset(name="orders")', "airflow.sdk", "Asset", (("event", "'orders'"),)),
        (
            '[Dataset("orders"), Dataset(uri="prices")]',
            "airflow.datasets",
            "Dataset",
            (("events", "['orders', 'prices']"),),
        ),
    ],
)
def test_an_asset_schedule_is_a_trigger(schedule, module, asset, args):
    text = DAG_TEXT.format(module=module, asset=asset, schedule=schedule)
    if module != "airflow.sdk":
        text = text.replace(f"from {module} import DAG, {asset}, task", (
            f"from airflow import DAG\nfrom airflow.decorators import task\nfrom {module} import {asset}"
        ))  # fmt: skip
    read = read_text(text, "fresh.py")
    assert isinstance(read, Read), read
    (option,) = [o for o in read.pipeline.options if o.kind == "trigger"]
    assert option.args == args
    (note,) = [d for d in read.diagnostics if "updated" in d.message]
    assert (note.code, note.severity, note.lossy) == ("TP202", "info", False)


@pytest.mark.parametrize(
    "schedule", ['Asset("a") | Asset("b")', '[Asset(f"x{1}")]', '[Asset("a"), "@daily"]']
)
def test_an_asset_schedule_the_targets_cannot_say_is_named(schedule):
    read = _read(schedule)
    assert not [o for o in read.pipeline.options if o.kind == "trigger"]
    assert [d.code for d in read.diagnostics if d.lossy and "schedule" in d.message] == ["TP202"]


def test_to_metaflow_the_trigger_is_a_trigger_decorator():
    code, _ = write("metaflow", _read('[Asset("orders")]').pipeline)
    assert '@trigger(event="orders")' in code
    assert "from metaflow import" in code and "trigger" in code.split("from metaflow import")[1]


FLOW = """\
from metaflow import FlowSpec, step, trigger


@trigger({args})
class FreshFlow(FlowSpec):
    @step
    def start(self):
        self.n = 1
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    FreshFlow()
"""


@pytest.mark.parametrize(
    ("args", "schedule"),
    [
        ('event="orders"', 'schedule=[Asset("orders")]'),
        ("events=['orders', 'prices']", 'schedule=[Asset("orders"), Asset("prices")]'),
    ],
)
def test_a_flow_trigger_on_named_events_is_an_asset_schedule(args, schedule):
    read = read_text(FLOW.format(args=args), "fresh.py")
    assert isinstance(read, Read), read
    code, diagnostics = write("airflow", read.pipeline)
    assert f"@dag({schedule}" in code
    assert "from airflow.sdk import Asset, dag, task" in code
    assert "TODO" not in code
    (note,) = [d for d in diagnostics if d.code == "TP202"]
    assert note.severity == "info" and "Asset schedule" in note.message


def test_a_trigger_with_a_payload_mapping_is_not_carried():
    args = "event={'name': 'orders', 'parameters': {'n': 'count'}}"
    read = read_text(FLOW.format(args=args), "fresh.py")
    assert isinstance(read, Read), read
    code, _ = write("airflow", read.pipeline)
    assert "schedule=None" in code
    assert "# TODO(transpile): TP202 @trigger on the flow is not carried over" in code
