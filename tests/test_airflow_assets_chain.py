"""A file of Airflow 3 ``@asset`` functions read as one pipeline: each asset a task after the
assets it is scheduled on, the first asset's schedule the pipeline's, and a cross-DAG pull of an
upstream asset's value a data edge."""

from __future__ import annotations

import pytest

from transpile.api import Failed, Read, read_text
from transpile.model.ir import task_steps

ASSETS = """\
from airflow.sdk import asset


@asset(schedule="@daily")
def extracted():
    return {"a": 23, "b": 19}


@asset(schedule=extracted)
def summed(context):
    data = context["ti"].xcom_pull(
        dag_id="extracted", task_ids="extracted", key="return_value", include_prior_dates=True
    )
    return data["a"] + data["b"]


@asset(schedule=[summed])
def described(context: dict) -> str:
    total = context["ti"].xcom_pull(
        dag_id="summed", task_ids=["summed"], include_prior_dates=True
    )[0]
    return f"sum {total}"
"""


def _read(text: str = ASSETS) -> Read:
    read = read_text(text, "assets.py")
    assert isinstance(read, Read), read
    return read


def test_the_assets_are_one_pipeline_in_schedule_order():
    read = _read()
    pipeline = read.pipeline
    assert pipeline.name == "assets"
    assert task_steps(pipeline.flow) == ["extracted", "summed", "described"]
    assert [(o.kind, o.args) for o in pipeline.options] == [
        ("schedule", (("cron", "'0 0 * * *'"),))  # the first asset's @daily
    ]
    (chain,) = [d for d in read.diagnostics if "DAGs of their own" in d.message]
    assert chain.lossy and chain.span.line == 4


def test_an_upstream_assets_value_is_a_data_edge():
    read = _read()
    summed = read.pipeline.step("summed")
    assert [(i.name, i.refs[0].source) for i in summed.inputs] == [("extracted_value", "extracted")]
    described = read.pipeline.step("described")
    assert [(i.name, i.refs[0].source) for i in described.inputs] == [("summed_value", "summed")]
    definitions = "\n\n".join(read.pipeline.module.definitions)
    assert "def summed_task(extracted_value):\n    data = extracted_value\n" in definitions
    assert "def described_task(summed_value) -> str:\n    total = summed_value\n" in definitions
    assert not [d for d in read.diagnostics if "task context" in d.message]
    namespace: dict = {}
    exec(definitions, namespace)  # noqa: S102  (the rewritten functions compute the chain)
    value = namespace["extracted_task"]()
    assert namespace["described_task"](summed_value=namespace["summed_task"](value)) == "sum 42"


def test_a_cron_schedule_of_the_first_asset_is_the_pipelines():
    read = _read(ASSETS.replace('schedule="@daily"', 'schedule="0 6 * * *"'))
    assert [(o.kind, o.args) for o in read.pipeline.options] == [
        ("schedule", (("cron", "'0 6 * * *'"),))
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("schedule=extracted)", "schedule=elsewhere)", "which is not an asset of this file"),
        ("schedule=[summed]", 'schedule="@hourly"', "start from 2 assets"),
    ],
)
def test_a_chain_that_is_not_one_pipeline_is_refused_at_its_line(old, new, message):
    failed = read_text(ASSETS.replace(old, new), "assets.py")
    assert isinstance(failed, Failed)
    (diagnostic,) = failed.diagnostics
    assert diagnostic.code == "TP186" and message in diagnostic.message


def test_a_pull_from_a_dag_that_is_no_asset_of_the_file_stays_named():
    text = ASSETS.replace(
        'dag_id="extracted", task_ids="extracted"', 'dag_id="other", task_ids="extracted"'
    )
    read = _read(text)
    assert read.pipeline.step("summed").inputs == ()
    assert [d.code for d in read.diagnostics if "task context" in d.message] == ["TP189"]
