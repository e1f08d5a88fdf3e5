"""The Airflow reader's sensors: a ``PythonSensor`` or ``@task.sensor`` is a step that polls its
callable as Airflow's poke mode does (defaults checked against Airflow's ``BaseSensorOperator``);
other sensors stay a step that raises with a TODO, naming the sensor."""

from __future__ import annotations

import textwrap
import time

import pytest

from transpile import api
from transpile.frameworks.airflow.reader.sensors import Poll, poll_body

HEAD = """\
from datetime import timedelta

from airflow.sdk import DAG, PokeReturnValue, task

INTERVAL = 5


def ready(path, limit=1):
    return path == "in" and limit > 0


"""


LAST: list[str] = []  # the last file read


def _read(body: str, head: str = HEAD, dag: str = 'DAG("d")'):
    code = head + f"\nwith {dag} as dag:\n" + textwrap.indent(textwrap.dedent(body), "    ")
    LAST[:] = [code]
    read = api.read_text(code, "dag.py", "airflow")
    assert not isinstance(read, api.Failed), read
    return read


def _codes(read) -> list[tuple[str, bool]]:
    return [(d.code, d.lossy) for d in read.diagnostics]


@pytest.mark.parametrize(
    "module",
    [
        "airflow.providers.standard.sensors.python",  # Airflow 3
        "airflow.sensors.python",  # Airflow 2
    ],
)
def test_python_sensor_polls_its_callable_with_its_arguments(module):
    read = _read(
        """
        wait = PythonSensor(
            task_id="wait",
            python_callable=ready,
            op_args=["in"],
            op_kwargs={"limit": 2},
            poke_interval=3,
            timeout=30,
        )
        """,
        head=HEAD + f"from {module} import PythonSensor\n",
    )
    assert _codes(read) == []
    step = read.pipeline.step("wait")
    assert step.outputs == ()  # a plain truthy value: Airflow pushes None
    body = step.body
    assert "_poked = ready(path='in', limit=2)" in body
    assert "time.sleep(3)" in body
    assert "time.monotonic() - _started > 30:" in body
    assert "raise TimeoutError(" in body


def test_python_sensor_defaults_are_airflows():
    read = _read(
        """
        wait = PythonSensor(task_id="wait", python_callable=ready, op_args=["in"])
        """,
        head=HEAD + "from airflow.providers.standard.sensors.python import PythonSensor\n",
    )
    body = read.pipeline.step("wait").body
    assert "time.sleep(60)" in body  # BaseSensorOperator(poke_interval=60)
    assert "> 604800:" in body  # [sensors] default_timeout: 7 days


def test_durations_and_constants_are_read_as_seconds():
    read = _read(
        """
        wait = PythonSensor(
            task_id="wait",
            python_callable=ready,
            op_args=["in"],
            poke_interval=INTERVAL * 2,
            timeout=timedelta(minutes=5, seconds=3),
        )
        """,
        head=HEAD + "from airflow.providers.standard.sensors.python import PythonSensor\n",
    )
    body = read.pipeline.step("wait").body
    assert "time.sleep(10)" in body
    assert "> 303:" in body


def test_default_args_set_a_sensors_keywords_and_its_own_win():
    read = _read(
        """
        wait = PythonSensor(task_id="wait", python_callable=ready, op_args=["in"], timeout=9)
        """,
        head=HEAD + "from airflow.providers.standard.sensors.python import PythonSensor\n",
        dag='DAG("d", default_args={"poke_interval": 2, "timeout": 100})',
    )
    body = read.pipeline.step("wait").body
    assert "time.sleep(2)" in body
    assert "> 9:" in body


def test_task_sensor_returns_its_poke_return_values_xcom_value():
    read = _read(
        """
        @task.sensor(poke_interval=1, timeout=20, mode="reschedule")
        def upstream() -> PokeReturnValue:
            return PokeReturnValue(is_done=True, xcom_value=21)

        @task
        def double(x: int) -> int:
            return 2 * x

        double(upstream())
        """
    )
    # mode="reschedule": the same result, said as information (not lossy)
    assert _codes(read) == [("TP201", False)]
    assert read.diagnostics[0].span.line == _line('mode="reschedule"')
    step = read.pipeline.step("upstream")
    assert [o.name for o in step.outputs] == ["return_value"]
    assert step.body.endswith(
        "return_value = _poked.xcom_value if isinstance(_poked, PokeReturnValue) else None\n"
    )
    assert "_poked = upstream_task()" in step.body
    definitions = read.pipeline.module.definitions
    shim = next(i for i, d in enumerate(definitions) if d.startswith("class PokeReturnValue:"))
    helper = next(i for i, d in enumerate(definitions) if "def upstream_task(" in d)
    assert shim < helper  # the helper's annotation names it when it is defined
    double = read.pipeline.step("double")
    assert [r.source for i in double.inputs for r in i.refs] == ["upstream"]


def _line(needle: str) -> int:
    """The line of the last file read that holds ``needle``."""
    return next(i for i, line in enumerate(LAST[0].splitlines(), 1) if needle in line)


def test_a_task_sensor_without_parentheses_and_a_bool_result():
    read = _read(
        """
        @task.sensor
        def flag() -> bool:
            return True

        flag()
        """
    )
    step = read.pipeline.step("flag")
    assert step.outputs == ()
    assert "time.sleep(60)" in step.body
    assert not any(d.startswith("class PokeReturnValue") for d in read.pipeline.module.definitions)


@pytest.mark.parametrize(
    ("keyword", "code"),
    [
        ("soft_fail=True", "TP189"),
        ("never_fail=True", "TP189"),
        ("retries=2", "TP189"),
        ("exponential_backoff=True", "TP201"),
    ],
)
def test_what_is_not_carried_is_said_at_its_line(keyword, code):
    read = _read(
        f"""
        wait = PythonSensor(
            task_id="wait",
            python_callable=ready,
            op_args=["in"],
            {keyword},
        )
        """,
        head=HEAD + "from airflow.providers.standard.sensors.python import PythonSensor\n",
    )
    found = [d for d in read.diagnostics if d.code == code]
    assert len(found) == 1, read.diagnostics
    assert found[0].lossy == (code == "TP189")
    if keyword != "retries=2":
        assert found[0].span.line == _line(keyword)
    assert "wait" in found[0].message


def test_retries_from_default_args_are_said_too():
    read = _read(
        """
        wait = PythonSensor(task_id="wait", python_callable=ready, op_args=["in"])
        """,
        head=HEAD + "from airflow.providers.standard.sensors.python import PythonSensor\n",
        dag='DAG("d", default_args={"retries": 1})',
    )
    assert [(d.code, d.lossy) for d in read.diagnostics] == [("TP189", True)]
    assert "retries" in read.diagnostics[0].message


def test_a_timeout_it_cannot_read_is_a_step_with_a_todo():
    read = _read(
        """
        wait = PythonSensor(
            task_id="wait", python_callable=ready, op_args=["in"], timeout=compute()
        )
        """,
        head=HEAD + "from airflow.providers.standard.sensors.python import PythonSensor\n",
    )
    assert _codes(read) == [("TP188", True)]
    assert "timeout=compute()" in read.diagnostics[0].message
    assert "TODO(transpile): TP188" in read.pipeline.step("wait").body


@pytest.mark.parametrize(
    ("module", "name", "args"),
    [
        ("airflow.providers.standard.sensors.filesystem", "FileSensor", "filepath='/data/x'"),
        ("airflow.providers.standard.sensors.external_task", "ExternalTaskSensor", "external_dag_id='o'"),
        ("airflow.providers.standard.sensors.time_delta", "TimeDeltaSensor", "delta=1"),
        ("airflow.providers.http.sensors.http", "HttpSensor", "endpoint='x'"),
    ],
)  # fmt: skip
def test_other_sensors_say_they_wait_for_something_outside(module, name, args):
    read = _read(
        f"""
        wait = {name}(task_id="wait", {args})
        """,
        head=HEAD + f"from {module} import {name}\n",
    )
    assert _codes(read) == [("TP188", True)]
    message = read.diagnostics[0].message
    assert message.startswith(f"{name} 'wait' waits for something outside the pipeline")
    assert "TODO(transpile): TP188" in read.pipeline.step("wait").body


def _run(body: str, namespace: dict) -> dict:
    """Runs a step body (as the targets run it, inside a function) with ``namespace``."""
    code = "def _step():\n" + textwrap.indent(body, "    ") + "    return locals()\n"
    exec(compile(code, "<step>", "exec"), namespace)  # noqa: S102 (the body this reader wrote)
    return namespace["_step"]()


@pytest.fixture
def clock(monkeypatch):
    """time.monotonic advanced by time.sleep, which does not wait."""
    now = [0.0]
    slept: list[float] = []
    monkeypatch.setattr(time, "monotonic", lambda: now[0])

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(time, "sleep", sleep)
    return slept


def test_the_body_pokes_until_true_sleeping_between(clock):
    answers = iter([False, 0, "yes"])
    body = poll_body("ready()", "wait", "ready", Poll(5, 100), None)
    _run(body, {"ready": lambda: next(answers)})
    assert clock == [5, 5]


def test_the_body_fails_after_the_timeout_as_airflow_checks_it(clock):
    calls = []
    body = poll_body("ready()", "wait", "ready", Poll(4, 10), None)
    with pytest.raises(TimeoutError, match="sensor wait timed out: ready was not true within 10"):
        _run(body, {"ready": lambda: calls.append(1)})
    # pokes at 0, 4, 8, 12: after 12 > 10 no more (Airflow checks after each poke)
    assert len(calls) == 4 and clock == [4, 4, 4]


def test_the_body_returns_the_xcom_value_and_silent_fail_pokes_again(clock):
    class Done:
        def __init__(self, is_done, xcom_value=None):
            self.is_done, self.xcom_value = is_done, xcom_value

        def __bool__(self):
            return bool(self.is_done)

    answers = iter([ValueError("not yet"), Done(False, 1), Done(True, 42)])

    def ready():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    body = poll_body("ready()", "wait", "ready", Poll(1, 100, silent=True), "Done")
    found = _run(body, {"ready": ready, "Done": Done})
    assert found["return_value"] == 42
    assert clock == [1, 1]
