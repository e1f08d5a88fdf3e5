"""A KubernetesPodOperator with a literal image, command and environment is a step that runs the
command with subprocess, its image the step's image (a lossy warning says where it runs); what
a literal cannot say stays a TODO step (TP188)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from transpile.api import Read, read_text

POD = """\
import pendulum
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG

with DAG("pods", start_date=pendulum.datetime(2024, 1, 1), schedule=None):
    train = KubernetesPodOperator(
        task_id="train",
        name="train-pod",
        image="python:3.11-slim",
        cmds=["{python}", "-c"],
        arguments=["import os; print('training', os.environ['EPOCHS'])"],
        env_vars={{"EPOCHS": "3"}},
        retries=2,{extra}
    )
"""


def _read(extra: str = "", python: str = "python") -> Read:
    read = read_text(POD.format(extra=extra, python=python), "pods.py")
    assert isinstance(read, Read), read
    return read


def test_a_pod_runs_its_command_with_its_environment(tmp_path):
    read = _read(python=sys.executable)
    step = read.pipeline.step("train")
    assert [(o.kind, o.args) for o in step.options if o.kind == "kubernetes"] == [
        ("kubernetes", (("image", "'python:3.11-slim'"),))
    ]
    assert [o.kind for o in step.options if o.kind == "retry"] == ["retry"]
    script = tmp_path / "step.py"
    script.write_text(step.body)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert done.stdout == "training 3\n"
    (note,) = [d for d in read.diagnostics if "KubernetesPodOperator" in d.message]
    assert (note.code, note.lossy) == ("TP201", True)
    assert "python:3.11-slim" in note.message


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("\n        container_resources=None,", "container_resources= of a KubernetesPodOperator"),
        ("\n        do_xcom_push=True,", "/airflow/xcom/return.json is not carried"),
    ],
)
def test_pod_settings_that_change_what_runs_are_named(extra, message):
    read = _read(extra)
    notes = [d for d in read.diagnostics if message in d.message]
    assert len(notes) == 1 and notes[0].code == "TP189" and notes[0].lossy


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('cmds=["python", "-c"],', ""),  # the image's own entrypoint
        ("'training'", "'{{ ds }}'"),  # a template only Airflow renders
        ('image="python:3.11-slim"', "image=IMAGE"),  # not a literal
    ],
)
def test_a_pod_a_literal_cannot_say_is_a_todo_step(old, new):
    text = POD.format(extra="", python="python").replace(old, new)
    read = read_text(text.replace("with DAG", "IMAGE = 'x' + 'y'\n\nwith DAG"), "pods.py")
    assert isinstance(read, Read), read
    assert "NotImplementedError" in read.pipeline.step("train").body
    assert [d.code for d in read.diagnostics if "KubernetesPodOperator" in d.message] == ["TP188"]
