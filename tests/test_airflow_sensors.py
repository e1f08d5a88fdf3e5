"""The Airflow reader's sensors, setup/teardown tasks and nested task groups.

A ``PythonSensor`` or ``@task.sensor`` is a step that polls its callable as Airflow's poke mode
does (defaults checked against Airflow's ``BaseSensorOperator``); other sensors stay a step that
raises with a TODO, naming the sensor. A setup is a task; a teardown a task after the tasks it
waits for, said lossy (TP189) at its line; ``with teardown:`` orders the block as Airflow's
context manager does. ``TaskGroup(parent_group=outer)`` nests as ``with outer:`` does."""

from __future__ import annotations

import textwrap
import time

import pytest

from transpile import api
from transpile.frameworks.airflow.reader.sensors import Poll, poll_body
from transpile.model.ir import Parallel, Sequence, Switch, Task

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


def test_a_task_sensors_override_sets_its_keywords():
    read = _read(
        """
        @task.sensor(poke_interval=1, timeout=20)
        def flag() -> bool:
            return True

        flag.override(task_id="later", timeout=timedelta(hours=1))()
        """
    )
    body = read.pipeline.step("later").body
    assert "time.sleep(1)" in body and "> 3600:" in body


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


def test_reading_a_sensors_value_that_airflow_does_not_push_is_refused():
    code = (
        HEAD
        + "from airflow.providers.standard.sensors.python import PythonSensor\n\n"
        + "@task\ndef show(x) -> None:\n    print(x)\n\n"
        + 'with DAG("d") as dag:\n'
        + '    wait = PythonSensor(task_id="wait", python_callable=ready, op_args=["in"])\n'
        + "    show(wait.output)\n"
    )
    read = api.read_text(code, "dag.py", "airflow")
    assert isinstance(read, api.Failed)
    (diagnostic,) = read.diagnostics
    assert diagnostic.code == "TP186" and "sensor wait" in diagnostic.message
    assert diagnostic.span.line == len(code.splitlines())


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


# setup and teardown
ST_HEAD = """\
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, TaskGroup, setup, task, teardown


@task
def work(x: int) -> int:
    return x + 1


@setup
def create() -> str:
    return "cluster"


@teardown
def delete(cluster: str) -> None:
    print("deleting", cluster)


"""


def _order(node) -> tuple[list[str], set[tuple[str, str]]]:
    """The flow's steps and the pairs (a, b) where a runs before b."""
    if isinstance(node, Task):
        return [node.step], set()
    if isinstance(node, Switch):
        found = [_order(c.body) for c in node.cases]
        return [s for f, _ in found for s in f], set().union(*(p for _, p in found))
    parts = [_order(p) for p in (node.nodes if isinstance(node, Sequence) else node.branches)]
    steps = [s for f, _ in parts for s in f]
    pairs = set().union(*(p for _, p in parts)) if parts else set()
    if isinstance(node, Sequence):
        for i, (first, _) in enumerate(parts):
            for later, _ in parts[i + 1 :]:
                pairs |= {(a, b) for a in first for b in later}
    assert isinstance(node, Sequence | Parallel)
    return steps, pairs


def _teardown_notes(read) -> list[tuple[int, bool, str]]:
    return [
        (d.span.line, d.lossy, d.message)
        for d in read.diagnostics
        if d.code == "TP189" and "teardown" in d.message
    ]


def test_as_setup_and_as_teardown_are_tasks_in_airflows_order():
    read = _read(
        """
        up = BashOperator(task_id="up", bash_command="echo up").as_setup()
        run = BashOperator(task_id="run", bash_command="echo run")
        down = BashOperator(task_id="down", bash_command="echo down").as_teardown(setups=up)
        up >> run >> down
        other = work(1)
        """,
        head=ST_HEAD,
    )
    steps, before = _order(read.pipeline.flow)
    assert sorted(steps) == ["down", "run", "up", "work"]
    assert {("up", "run"), ("run", "down"), ("up", "down")} <= before
    assert not any("work" in pair for pair in before)  # not ordered against the rest
    notes = _teardown_notes(read)
    assert [(line, lossy) for line, lossy, _ in notes] == [(_line(".as_teardown("), True)]
    assert "Airflow's run does not fail when it fails" in notes[0][2]
    # the teardown's trigger rule is said once, as a teardown
    assert [d.code for d in read.diagnostics] == ["TP189"]


def test_as_teardown_on_a_task_named_before():
    read = _read(
        """
        a = work(1)
        b = work(a)
        c = work(b)
        a >> b >> c.as_teardown(setups=a, on_failure_fail_dagrun=True)
        """,
        head=ST_HEAD,
    )
    _, before = _order(read.pipeline.flow)
    assert {("work", "work__1"), ("work__1", "work__2"), ("work", "work__2")} <= before
    ((line, lossy, message),) = _teardown_notes(read)
    assert line == _line("as_teardown") and lossy
    assert "teardown 'work__2'" in message
    assert "does not fail" not in message  # on_failure_fail_dagrun=True: it does fail


def test_setup_and_teardown_decorators_pass_data_and_order():
    read = _read(
        """
        cluster = create()
        done = work(1)
        end = delete(cluster)
        cluster >> done >> end
        """,
        head=ST_HEAD,
    )
    _, before = _order(read.pipeline.flow)
    assert {("create", "work"), ("work", "delete")} <= before
    delete = read.pipeline.step("delete")
    assert [r.source for i in delete.inputs for r in i.refs] == ["create"]
    assert [line for line, _, _ in _teardown_notes(read)] == [_line("end = delete(")]


def test_with_a_teardown_orders_the_block_between_the_setup_and_it():
    read = _read(
        """
        first = work(0)
        with delete(create()):
            a = work(1)
            b = work(a)
            c = work(2)
        last = work(3)
        first >> last
        """,
        head=ST_HEAD,
    )
    _, before = _order(read.pipeline.flow)
    # a and c have no upstream task: after the setup; b and c no downstream: before the teardown
    assert {("create", "work__1"), ("create", "work__3"), ("work__2", "delete")} <= before
    assert ("work__3", "delete") in before
    # the tasks made outside the block are not ordered by it
    for outside in ("work", "work__4"):
        assert not {(outside, "delete"), ("create", outside), ("delete", outside)} & before
    assert ("work", "work__4") in before
    assert [d.code for d in read.diagnostics] == ["TP189"]


def test_a_teardown_after_a_branch_runs_after_whichever_case_ran():
    read = _read(
        """
        s = create()
        chosen = pick(1)
        s >> chosen >> [work.override(task_id="a")(1), work.override(task_id="b")(2)] >> delete(s)
        """,
        head=ST_HEAD + "@task.branch\ndef pick(x: int) -> str:\n    return 'a' if x else 'b'\n\n\n",
    )
    flow = read.pipeline.flow
    assert isinstance(flow, Sequence) and flow.nodes[-1] == Task("delete")
    assert any(isinstance(n, Switch) for n in flow.nodes)


# task groups nested by parent_group=
PG_HEAD = """\
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, TaskGroup, task, task_group


@task
def one(x: int) -> int:
    return x + 1


"""


def test_parent_group_nests_as_with_outer_does():
    read = _read(
        """
        start = EmptyOperator(task_id="start")
        outer = TaskGroup("outer")
        other = TaskGroup("other", prefix_group_id=False)
        with other:
            with TaskGroup("inner", parent_group=outer) as inner:
                a = one(1)
            z = one(7)
        with TaskGroup("deep", parent_group=inner):
            b = one(a)

        @task_group(parent_group=other)
        def tg(v):
            return one(v)

        with outer:
            c = one(5)
            d = tg(c)
        end = EmptyOperator(task_id="end")
        start >> outer >> end
        start >> other >> end
        inner >> z
        """,
        head=PG_HEAD,
    )
    assert read.diagnostics == ()
    # the task ids Airflow 3.3 gives this DAG (its task_dict, checked once by running it)
    steps = [s.name for s in read.pipeline.steps]
    assert steps == [
        "start",
        "outer_inner_one",
        "one",
        "outer_inner_deep_one",
        "outer_one",
        "tg_one",
        "end",
    ]
    _, before = _order(read.pipeline.flow)
    # Airflow's upstream lists for the same DAG: outer's ends include its nested groups' tasks
    airflow = {
        "outer_inner_one": ["start"],
        "one": ["outer_inner_deep_one", "start"],
        "outer_inner_deep_one": ["outer_inner_one"],
        "outer_one": ["start"],
        "tg_one": ["outer_one", "start"],
        "end": ["one", "outer_inner_deep_one", "outer_one", "tg_one"],
    }
    assert {(u, t) for t, ups in airflow.items() for u in ups} <= before
    assert ("outer_inner_one", "outer_one") not in before
    assert ("outer_one", "outer_inner_one") not in before


def test_parent_group_that_is_not_a_group_is_refused_at_its_line():
    code = PG_HEAD + 'with DAG("d") as dag:\n    g = TaskGroup("g", parent_group=dag)\n'
    read = api.read_text(code, "dag.py", "airflow")
    assert isinstance(read, api.Failed)
    (diagnostic,) = read.diagnostics
    assert diagnostic.code == "TP186" and "parent_group=dag" in diagnostic.message
    assert diagnostic.span.line == len(code.splitlines())


def test_parent_group_the_dags_own_group_is_the_top():
    read = _read(
        """
        with TaskGroup("outer") as outer:
            with TaskGroup("top", parent_group=dag.task_group):
                a = one(1)
            b = one(2)
        a >> b
        """,
        head=PG_HEAD,
    )
    assert [s.name for s in read.pipeline.steps] == ["top_one", "outer_one"]  # as Airflow's ids
