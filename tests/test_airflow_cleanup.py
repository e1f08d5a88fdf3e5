"""A cleanup task (``trigger_rule="all_done"``, after every other task, reading only params)
runs in Airflow however the others ended: it stays the last step and is also the pipeline's
failure handler (the model's ``exit_hook``), which each target runs when a task fails."""

from __future__ import annotations

import ast

import pytest

from transpile.api import Read, read_text, write

CLEANUP = """\
import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import dag, task


def remove_scratch(folder):
    return f"removed {folder}"


@dag(start_date=pendulum.datetime(2024, 1, 1), schedule=None, params={"folder": "/tmp/s", "n": 3})
def with_cleanup():
    @task
    def load(params=None) -> int:
        return params["n"] * 2

    @task
    def report(total: int) -> str:
        return f"total {total}"

    clean = PythonOperator(
        task_id="clean",
        python_callable=remove_scratch,
        op_kwargs={"folder": "{{ params.folder }}"},
        trigger_rule="all_done",
    )
    report(load()) >> clean


with_cleanup()
"""


def _read(text: str) -> Read:
    read = read_text(text, "cleanup.py")
    assert isinstance(read, Read), read
    return read


def test_a_cleanup_task_is_the_last_step_and_the_failure_handler():
    read = _read(CLEANUP)
    (hook,) = [o for o in read.pipeline.options if o.kind == "exit_hook"]
    assert hook.args == (("on_error", "[clean_on_failure]"), ("inputs", "('folder', 'n')"))
    assert hook.span.line == 20  # clean = PythonOperator(
    assert [n.step for n in read.pipeline.flow.nodes][-1] == "clean"
    handler = next(d for d in read.pipeline.module.definitions if "def clean_on_failure(" in d)
    assert handler == (
        "def clean_on_failure(folder: str, n: int) -> None:\n"
        '    """Added by transpile: the cleanup task clean, run when the pipeline failed."""\n'
        "    remove_scratch(folder=str(folder))"
    )
    assert [d.code for d in read.diagnostics if "trigger_rule" in d.message] == ["TP201"]
    assert not [d for d in read.diagnostics if d.lossy]


@pytest.mark.parametrize("target", ["metaflow", "flyte"])
def test_the_targets_run_the_handler_when_the_run_fails(target):
    code, _ = write(target, _read(CLEANUP).pipeline)
    ast.parse(code)
    hook = "@exit_hook(on_error=[" if target == "metaflow" else "@workflow(on_failure="
    assert hook in code
    assert "remove_scratch(folder=str(folder))" in code


@pytest.mark.parametrize(
    "change",
    [
        # reads another task's result, which a failed run may not have
        (
            (
                "    clean = PythonOperator(",
                '    @task(trigger_rule="all_done")\n    def tidy(s: str) -> str:\n        return s\n\n    clean = PythonOperator(',
            ),
            ("report(load()) >> clean", "tidy(report(load()))\n    clean.set_upstream(load())"),
            ('trigger_rule="all_done",\n    )', ")"),
        ),
        # not after every other task
        (("report(load()) >> clean", "load() >> clean\n    report(5)"),),
    ],
)
def test_a_task_that_is_not_a_cleanup_keeps_its_note(change):
    text = CLEANUP
    for old, new in change:
        text = text.replace(old, new)
    read = _read(text)
    assert not [o for o in read.pipeline.options if o.kind == "exit_hook"]
    assert [d.code for d in read.diagnostics if "trigger_rule" in d.message] == ["TP189"]


TEARDOWN = """\
import pendulum
from airflow.sdk import dag, setup, task, teardown


@dag(start_date=pendulum.datetime(2024, 1, 1), schedule=None)
def with_teardown():
    @setup
    def make_cluster() -> str:
        return "c1"

    @task
    def work(cluster: str) -> str:
        return f"ran on {cluster}"

    @teardown
    def drop_cluster() -> None:
        print("dropped")

    cluster = make_cluster()
    work(cluster) >> drop_cluster()


with_teardown()
"""


def test_a_last_teardown_is_the_cleanup_and_its_own_failure_is_named():
    read = _read(TEARDOWN)
    (hook,) = [o for o in read.pipeline.options if o.kind == "exit_hook"]
    assert hook.args == (("on_error", "[drop_cluster_on_failure]"), ("inputs", "()"))
    codes = sorted(d.code for d in read.diagnostics if "drop_cluster" in d.message)
    assert codes == ["TP189", "TP201"]  # its own failure; the last step and the failure handler
    lossy = [d.message for d in read.diagnostics if d.lossy]
    expected = (
        "teardown 'drop_cluster' fails the target's run when it fails (Airflow's run does not "
        "fail for a teardown unless on_failure_fail_dagrun=True)"
    )
    assert lossy == [expected]
    failing = _read(TEARDOWN.replace("@teardown\n", "@teardown(on_failure_fail_dagrun=True)\n"))
    assert not [d for d in failing.diagnostics if d.lossy]


def test_a_cleanup_task_id_with_quotes_does_not_reach_the_handler_as_code():
    """The handler's docstring names the step (an identifier), not the raw task id."""
    read = _read(CLEANUP.replace('task_id="clean"', 'task_id="clean\\"\\"\\"x"'))
    handler = next(d for d in read.pipeline.module.definitions if "_on_failure(" in d)
    compile(handler, "handler.py", "exec")
    assert '"""x' not in handler
