"""Airflow 2's ways of passing data between classic operators, read as data edges: a callable's
``ti.xcom_pull(task_ids="...")`` becomes a parameter of the function, ``"{{ params.n }}"`` the
parameter rendered as text, a BashOperator's last line its result; tasks made after
``dag = DAG(...)`` are the DAG's, not module definitions; a branching DAG whose plain part does
not nest gets the waits that nest it."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from transpile.api import Read, read_text

HEAD = """\
import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

"""
TAIL = """
with DAG("pulls", start_date=pendulum.datetime(2024, 1, 1), schedule=None, params={"n": 4}):
    load = PythonOperator(task_id="load", python_callable=load_rows)
    use = PythonOperator(task_id="use", python_callable=use_rows, op_kwargs={"k": 2})
    load >> use
"""
LOAD = "def load_rows():\n    return [1, 2, 3]\n\n\n"


def _read(use: str) -> Read:
    read = read_text(HEAD + LOAD + use + TAIL, "pulls.py")
    assert isinstance(read, Read), read
    return read


def _definition(read: Read, name: str) -> str:
    return next(d for d in read.pipeline.module.definitions if d.startswith(f"def {name}("))


def _context_notes(read: Read) -> list[str]:
    return [d.message for d in read.diagnostics if "task context" in d.message]


@pytest.mark.parametrize(
    ("use", "rewritten"),
    [
        (  # the task instance by name
            "def use_rows(ti, k):\n    rows = ti.xcom_pull(task_ids='load')\n    return len(rows) * k\n",
            "def use_rows(load_value, k):\n    rows = load_value\n    return len(rows) * k\n",
        ),
        (  # ti=None, as TaskFlow-era code writes it; key given as the return value
            (
                "def use_rows(k, ti=None):\n"
                "    return len(ti.xcom_pull('load', key='return_value')) * k\n"
            ),
            "def use_rows(k, load_value=None):\n    return len(load_value) * k\n",
        ),
        (  # through **context, which stays for what else it holds
            (
                "def use_rows(k, **context):\n"
                "    rows = context['ti'].xcom_pull(task_ids='load', key=None)\n"
                "    return len(rows) * k\n"
            ),
            "def use_rows(k, load_value, **context):\n    rows = load_value\n    return len(rows) * k\n",
        ),
    ],
)
def test_a_pull_through_the_task_instance_becomes_a_parameter(use, rewritten):
    read = _read(use)
    assert _definition(read, "use_rows") == rewritten.rstrip("\n")
    step = read.pipeline.step("use")
    (pulled,) = [i for i in step.inputs if i.name == "load_value"]
    assert [(r.kind, r.source, r.name) for r in pulled.refs] == [("output", "load", "return_value")]
    assert "load_value=load_value" in step.body
    assert _context_notes(read) == []
    ast.parse(rewritten)


@pytest.mark.parametrize(
    "use",
    [
        # the task instance used for something else too: left as written, and named
        (
            "def use_rows(ti, k):\n    ti.xcom_push(key='k', value=k)\n"
            "    return ti.xcom_pull(task_ids='load')\n"
        ),
        # a key of its own: not the task's result
        "def use_rows(ti, k):\n    return ti.xcom_pull(task_ids='load', key='rows')\n",
        # a computed task id
        "def use_rows(ti, k):\n    return ti.xcom_pull(task_ids=f'lo{k}')\n",
    ],
)
def test_a_pull_the_reader_cannot_follow_is_left_and_named(use):
    read = _read(use)
    assert _definition(read, "use_rows") == use.rstrip("\n")
    assert [i.name for i in read.pipeline.step("use").inputs] == []
    assert _context_notes(read) == [
        (
            "use_rows reads Airflow's task context (ti), which is not carried: only the DAG's "
            "params reach it"
        )
    ]


def test_a_pull_of_a_task_that_is_not_in_the_dag_is_refused_at_the_task():
    use = "def use_rows(ti, k):\n    return ti.xcom_pull(task_ids='elsewhere')\n"
    failed = read_text(HEAD + LOAD + use + TAIL, "pulls.py")
    assert not isinstance(failed, Read)
    (diagnostic,) = failed.diagnostics
    assert (diagnostic.code, diagnostic.span.line) == ("TP186", 14)
    assert diagnostic.message == (
        "use pulls the result of 'elsewhere', which is not a task of this DAG"
    )


def test_a_pull_of_a_task_made_later_in_the_file_is_resolved():
    use = "def use_rows(ti, k):\n    return ti.xcom_pull(task_ids='load') * k\n"
    tail = TAIL.replace(
        '    load = PythonOperator(task_id="load", python_callable=load_rows)\n', ""
    ).replace(
        "    load >> use\n",
        '    load = PythonOperator(task_id="load", python_callable=load_rows)\n    load >> use\n',
    )
    read = read_text(HEAD + LOAD + use + tail, "pulls.py")
    assert isinstance(read, Read), read
    (pulled,) = read.pipeline.step("use").inputs
    assert [(r.source, r.name) for r in pulled.refs] == [("load", "return_value")]


def test_a_pulling_taskflow_function_gets_its_pulls_as_parameters():
    text = HEAD.replace("PythonOperator", "PythonOperator\nfrom airflow.sdk import task") + (
        LOAD
        + "@task\ndef use_rows(ti=None):\n    return sum(ti.xcom_pull(task_ids='load'))\n"
        + TAIL.replace(
            '    use = PythonOperator(task_id="use", python_callable=use_rows, op_kwargs={"k": 2})\n',
            "    use = use_rows()\n",
        )
    )
    read = read_text(text, "pulls.py")
    assert isinstance(read, Read), read
    helper = next(d for d in read.pipeline.module.definitions if "def use_rows_task(" in d)
    assert helper == "def use_rows_task(load_value=None):\n    return sum(load_value)"
    assert "use_rows_task(load_value=load_value)" in read.pipeline.step("use_rows").body


def test_a_params_template_is_the_parameter_as_text():
    text = (HEAD + LOAD + "def use_rows(k):\n    return k * 2\n" + TAIL).replace(
        'op_kwargs={"k": 2}', 'op_kwargs={"k": "{{ params.n }}"}'
    )
    read = read_text(text, "pulls.py")
    assert isinstance(read, Read), read
    step = read.pipeline.step("use")
    (k,) = step.inputs
    assert (k.name, k.type.expr, [(r.kind, r.source) for r in k.refs]) == (
        "k",
        "int",
        [("param", "n")],
    )
    assert "use_rows(k=str(k))" in step.body
    assert not [d for d in read.diagnostics if "Jinja" in d.message]
    other = read_text(text.replace("{{ params.n }}", "{{ params.missing }}"), "pulls.py")
    assert [d.code for d in other.diagnostics if "Jinja" in d.message] == ["TP189"]


CLASSIC = """\
import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, task

dag = DAG("classic", start_date=pendulum.datetime(2024, 1, 1), schedule=None)
LIMIT = 3

stamp = BashOperator(task_id="stamp", bash_command="echo one; echo two", dag=dag)


@task(dag=dag)
def shout(text: str) -> str:
    return text.upper()[:LIMIT]


loud = shout(stamp.output)
"""


def test_tasks_made_after_a_dag_object_are_not_module_definitions(tmp_path):
    read = read_text(CLASSIC, "classic.py")
    assert isinstance(read, Read), read
    definitions = read.pipeline.module.definitions
    assert "LIMIT = 3" in definitions
    assert not [d for d in definitions if "shout(stamp.output)" in d or "BashOperator" in d]
    (text,) = read.pipeline.step("shout").inputs
    assert [(r.source, r.name) for r in text.refs] == [("stamp", "return_value")]


def test_a_bash_step_returns_the_last_line_airflow_pushes(tmp_path):
    """The body run as it is: stdout and stderr in one pipe, the last line without its end."""
    read = read_text(CLASSIC.replace("echo one; echo two", "echo one; echo 'two  ' >&2"), "c.py")
    body = read.pipeline.step("stamp").body
    script = tmp_path / "run.py"
    script.write_text(body + "print(repr(return_value))\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "'two'"
    quiet = read_text(
        CLASSIC.replace("loud = shout(stamp.output)", "stamp >> shout('x')").replace(
            "dag=dag)\n\n\n@task", "dag=dag, do_xcom_push=False)\n\n\n@task"
        ),
        "c.py",
    )
    assert isinstance(quiet, Read), quiet
    assert quiet.pipeline.step("stamp").outputs == ()
    assert quiet.pipeline.step("stamp").body.endswith("check=True)\n")


BRANCHING = """\
import pendulum
from airflow.sdk import dag, task


@dag(start_date=pendulum.datetime(2024, 1, 1), schedule=None)
def crossing():
    @task
    def a() -> int:
        return 1

    @task
    def b() -> int:
        return 2

    @task
    def c(x: int) -> int:
        return x

    @task
    def d(x: int, y: int) -> int:
        return x + y

    @task.branch
    def choose(x: int, y: int) -> str:
        return "e"

    @task
    def e() -> int:
        return 5

    first = a()
    second = b()
    third = c(first)
    fourth = d(first, second)
    choose(third, fourth) >> e()


crossing()
"""


def test_a_branching_dag_whose_plain_part_does_not_nest_gets_added_waits():
    read = read_text(BRANCHING, "crossing.py")
    assert isinstance(read, Read), read
    waits = [d for d in read.diagnostics if d.code == "TP191"]
    assert len(waits) == 1 and waits[0].lossy
    assert waits[0].message.startswith("c now also waits for b:")
    assert waits[0].span.line == 33  # third = c(first)


def test_reading_a_branching_tasks_value_is_named():
    text = BRANCHING.replace(
        "choose(third, fourth) >> e()", "pick = choose(third, fourth)\n    pick >> e()\n    c(pick)"
    ).replace("def c(x: int) -> int", "def c(x: int | str) -> int | str")
    read = read_text(text, "crossing.py")
    assert isinstance(read, Read), read
    (note,) = [d for d in read.diagnostics if "branching task" in d.message]
    assert note.code == "TP189" and note.lossy
    assert "Airflow 3 pushes no value" in note.message


TEMPLATED = """\
import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, task

with DAG("templated", start_date=pendulum.datetime(2024, 1, 1), schedule=None, params={"s": "X"}):
    @task
    def produce() -> int:
        return 41

    made = produce()
    show = BashOperator(task_id="show", bash_command=COMMAND)
    made >> show
"""


def test_a_bash_command_with_templates_the_pipeline_has_is_rendered_in_the_step(tmp_path):
    command = (
        'echo "{{ task.task_id }}@{{ dag.dag_id }} {{ params.s }}/${HOME:+h} '
        "{{ ti.xcom_pull(task_ids='produce') }}\""
    )
    read = read_text(TEMPLATED.replace("COMMAND", repr(command)), "t.py")
    assert isinstance(read, Read), read
    step = read.pipeline.step("show")
    assert [(i.name, [(r.kind, r.source) for r in i.refs]) for i in step.inputs] == [
        ("s", [("param", "s")]),
        ("produce_value", [("output", "produce")]),
    ]
    assert """f'echo "show@templated {s}/${{HOME:+h}} {produce_value}"'""" in step.body
    script = tmp_path / "step.py"
    script.write_text(f"s = 'X'\nproduce_value = 41\n{step.body}print(repr(return_value))\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "'show@templated X/h 41'"


@pytest.mark.parametrize(
    "command", ["echo {{ ds }}", "echo {{ params.missing }}", "{% if x %}echo{% endif %}"]
)
def test_a_bash_command_with_another_template_stays_a_todo_step(command):
    read = read_text(TEMPLATED.replace("COMMAND", repr(command)), "t.py")
    assert isinstance(read, Read), read
    assert "NotImplementedError" in read.pipeline.step("show").body


FLAVOURS = """\
import pendulum
from airflow.sdk import dag, task


@dag(start_date=pendulum.datetime(2024, 1, 1), schedule=None)
def flavours():
    @task.virtualenv(requirements=["six==1.16.0", "attrs"], python_version="3.11")
    def total() -> int:
        return 6

    @task.bash
    def announce(value: int) -> str:
        return f"echo 'total is {value}'; echo done-$(( {value} * 2 ))"

    announce(total())


flavours()
"""


def test_a_bash_task_runs_the_command_its_function_returns(tmp_path):
    read = read_text(FLAVOURS, "f.py")
    assert isinstance(read, Read), read
    step = read.pipeline.step("announce")
    assert [(o.name, o.type.expr) for o in step.outputs] == [("return_value", "str")]
    helper = next(d for d in read.pipeline.module.definitions if "def announce_task(" in d)
    script = tmp_path / "step.py"
    script.write_text(f"{helper}\n\nvalue = 6\n{step.body}print(repr(return_value))\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["total is 6", "done-12", "'done-12'"]


def test_a_virtualenv_task_installs_its_requirements_in_the_targets():
    read = read_text(FLAVOURS, "f.py")
    assert isinstance(read, Read), read
    (packages,) = [o for o in read.pipeline.step("total").options if o.kind == "pypi"]
    assert packages.args == (("packages", "{'six': '1.16.0', 'attrs': ''}"),)
    notes = [d.message for d in read.diagnostics if "virtualenv" in d.message]
    assert notes == ["@task.virtualenv(python_version=...) is not carried"]


def test_a_bash_step_runs_in_a_new_temporary_folder_as_airflow_runs_it(tmp_path):
    read = read_text(CLASSIC.replace("echo one; echo two", "basename $(pwd)"), "c.py")
    script = tmp_path / "run.py"
    script.write_text(read.pipeline.step("stamp").body + "print(repr(return_value))\n")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.splitlines()[-1].startswith("'airflowtmp")


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ('cwd="/", env={"GREETING": "hi"}', "'/? hi'"),  # env replaces the environment
        ('env={"GREETING": "hi"}, append_env=True', "'airflowtmp? hi set'"),
    ],
)
def test_a_bash_steps_literal_folder_and_environment_are_carried(tmp_path, settings, expected):
    command = 'echo "$(basename $(pwd) | cut -c1-10)? $GREETING ${HOME:+set}"'
    text = CLASSIC.replace('bash_command="echo one; echo two", dag=dag', (
        f"bash_command={command!r}, {settings}, dag=dag"
    ))  # fmt: skip
    read = read_text(text, "c.py")
    assert isinstance(read, Read), read
    assert not [d for d in read.diagnostics if "is not carried" in d.message]
    script = tmp_path / "run.py"
    script.write_text(read.pipeline.step("stamp").body + "print(repr(return_value))\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == expected


VENV_OPERATOR = """\
import pendulum
from airflow.providers.standard.operators.python import PythonVirtualenvOperator
from airflow.sdk import DAG, task


def stats() -> str:
    return "ok"


with DAG("venv", start_date=pendulum.datetime(2024, 1, 1), schedule=None):
    made = PythonVirtualenvOperator(
        task_id="made", python_callable=stats, requirements=["numpy>=1.26"], retries=1
    )

    @task
    def report(text: str) -> str:
        return text.upper()

    report(made.output)
"""


def test_a_virtualenv_operator_is_a_python_step_with_its_packages():
    read = read_text(VENV_OPERATOR, "v.py")
    assert isinstance(read, Read), read
    made = read.pipeline.step("made")
    assert [(o.kind, o.args) for o in made.options if o.kind == "pypi"] == [
        ("pypi", (("packages", "{'numpy>=1.26': ''}"),))
    ]
    assert not [d for d in read.diagnostics if "not carried" in d.message]
    (text,) = read.pipeline.step("report").inputs
    assert [(r.source, r.name) for r in text.refs] == [("made", "return_value")]


def test_reading_the_result_of_a_task_that_is_not_converted_is_refused_there():
    text = VENV_OPERATOR.replace("PythonVirtualenvOperator(", "ExternalPythonOperator(").replace(
        "import PythonVirtualenvOperator", "import ExternalPythonOperator"
    )
    failed = read_text(text, "v.py")
    assert not isinstance(failed, Read)
    (diagnostic,) = failed.diagnostics
    assert diagnostic.code == "TP188" and diagnostic.span.line == 19  # report(made.output)
    assert diagnostic.message == (
        "report reads the result of made, which is not converted (a step that raises with a TODO)"
    )
