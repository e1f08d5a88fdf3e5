"""The Airflow reader: the model read from each Airflow fixture (Airflow 2 and 3 spellings), what
it refuses or marks, and the outputs of ``convert --from airflow`` (ruff-clean, F821-free)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from transpile import api
from transpile.model.ir import Map, Sequence, task_steps, walk

FIXTURES = Path(__file__).parents[1] / "fixtures"
AIRFLOW = sorted(FIXTURES.glob("*/airflow.py"))
RUFF = Path(sys.executable).with_name("ruff")


def _read(code: str, path: str = "dag.py"):
    return api.read_text(textwrap.dedent(code), path, "airflow")


def test_taskflow_fixture_reads_as_its_model():
    read = _read((FIXTURES / "airflow_taskflow/airflow.py").read_text())
    pipeline = read.pipeline
    assert pipeline.name == "taskflow_stats"
    assert [(p.name, p.type.expr, p.default) for p in pipeline.parameters] == [("n", "int", "4")]
    assert task_steps(pipeline.flow) == ["numbers", "stats", "square", "combine"]
    maps = [n for n in pipeline.flow.nodes if isinstance(n, Map)]
    assert maps and maps[0].split == "numbers" and maps[0].item_type.expr == "int"
    combine = pipeline.step("combine")
    assert [(i.name, i.mode, i.refs[0].name) for i in combine.inputs] == [
        ("squares", "collected", "return_value"),
        ("total", "value", "total"),
        ("count", "value", "count"),
    ]
    assert [o.name for o in pipeline.step("stats").outputs] == ["total", "count"]
    retry = pipeline.step("numbers").options[0]
    assert retry.kind == "retry" and retry.arg("times") == "2"
    assert retry.arg("minutes_between_retries") == "1"
    assert pipeline.options[0].arg("cron") == "'0 6 * * *'"
    assert [r.name for r in pipeline.results] == ["combine_result"]


def test_airflow2_fixture_reads_as_its_model():
    pipeline = _read((FIXTURES / "airflow2_operators/airflow.py").read_text()).pipeline
    assert pipeline.name == "operators_demo"
    assert [(p.name, p.default) for p in pipeline.parameters] == [("label", "'sum'")]
    assert task_steps(pipeline.flow) == ["begin", "left", "right", "add", "describe", "done"]
    assert pipeline.step("left").body == "return_value = scaled(base=2, factor=5)\n"
    assert [i.refs[0].source for i in pipeline.step("add").inputs] == ["left", "right"]
    assert pipeline.step("add").options[0].arg("seconds") == "600"
    assert pipeline.options[0].arg("cron") == "'0 * * * *'"


MINIMAL = """
    import airflow.sdk as sdk
    from {module} import {name} as op

    with sdk.DAG("d") as d:
        @sdk.task
        def one() -> int:
            return 1

        a = one()
        b = op(task_id="b", {args})
        a >> b
"""


@pytest.mark.parametrize(
    ("module", "name", "args"),
    [
        ("airflow.operators.bash", "BashOperator", "bash_command='scripts/load.sh'"),
        (
            "airflow.providers.standard.operators.bash",
            "BashOperator",
            "bash_command='echo {{ ds }}'",
        ),
        ("airflow.providers.cncf.kubernetes.operators.pod", "KubernetesPodOperator", "image='x'"),
        ("airflow.providers.standard.sensors.time_delta", "TimeDeltaSensor", "delta=1"),
    ],
)
def test_an_operator_it_cannot_convert_is_a_step_with_a_todo(module, name, args):
    read = _read(MINIMAL.format(module=module, name=name, args=args))
    assert [d.code for d in read.diagnostics] == ["TP188"]
    assert read.diagnostics[0].span.line == 11  # the b = op(...) line
    assert "TODO(transpile): TP188" in read.pipeline.step("b").body


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import os\n", "TP005"),
        (
            "from airflow import DAG\nfor i in range(3):\n    DAG(f'd{i}')\n",
            "TP185",
        ),
        (
            "from airflow import DAG\nglobals()['x'] = DAG('d')\n",
            "TP185",
        ),
        (
            (
                "from airflow.decorators import dag, task\n@task\ndef t(x): return x\n"
                "@dag\ndef d():\n    a = t(1)\n    b = t(a + 1)\n"
            ),
            "TP186",
        ),
    ],
    ids=["no-dag", "dag-factory-loop", "dag-factory-globals", "computed-argument"],
)
def test_refused_with_a_code_and_a_line(code, expected):
    read = _read(code)
    if expected == "TP005":  # not an Airflow file: skipped, as for the other readers
        assert isinstance(read, api.Skipped), read
        return
    assert isinstance(read, api.Failed), read
    assert read.diagnostics[0].code == expected


def test_a_trigger_rule_is_named_not_carried():
    code = MINIMAL.format(
        module="airflow.sdk",
        name="PythonOperator",
        args="python_callable=len, trigger_rule='one_failed'",
    )
    read = _read(code.replace("op(task_id", "op(op_args=[[1]], task_id"))
    assert "TP189" in [d.code for d in read.diagnostics]


def test_a_map_over_a_mapped_task_maps_over_its_gathered_results():
    pipeline = _read((FIXTURES / "airflow_mapping/airflow.py").read_text()).pipeline
    gathered = pipeline.step("double_gathered")
    assert [(i.name, i.mode, i.refs[0].source) for i in gathered.inputs] == [
        ("values", "collected", "double")
    ]
    assert gathered.body == "return_value = list(values)\n"
    assert gathered.doc.startswith("Added by transpile:")
    maps = {n.body.step: n for n in walk(pipeline.flow) if isinstance(n, Map)}
    assert maps["shift"].collection.source == "double_gathered"
    assert maps["shift"].item_type.expr == "int"
    # expand_kwargs: one task per dict, given as keyword arguments
    tag = pipeline.step("tag")
    assert [(i.name, i.refs[0].kind) for i in tag.inputs] == [("kwargs", "item")]
    assert tag.body == "return_value = tag_task(**kwargs)\n"
    assert maps["tag"].collection.source == "tag_items"
    # `-> None` on a task that returns: Airflow pushes the value, so it is an output
    assert [o.type.expr for o in pipeline.step("report").outputs] == ["typing.Any"]


NESTED_CALLS = """
    from airflow.sdk import dag, task

    @task
    def nums():
        return [1, 2]

    @task
    def sq(x: int) -> int:
        return x * x

    @task
    def total(values: list[int]):
        return sum(values)

    @task
    def show(n: int) -> str:
        return str(n)

    @dag(schedule=None)
    def nested():
        show(total(sq.expand(x=nums())))

    nested()
"""


def test_tasks_called_in_arguments_are_tasks_typed_by_their_readers():
    """``show(total(sq.expand(x=nums())))``: four tasks (was one step calling the others as
    plain functions); a return value without an annotation takes its readers' type."""
    pipeline = _read(NESTED_CALLS).pipeline
    assert task_steps(pipeline.flow) == ["nums", "sq", "total", "show"]
    types = {s.name: s.outputs[0].type.expr for s in pipeline.steps}
    assert types == {"nums": "list[int]", "sq": "int", "total": "int", "show": "str"}
    assert pipeline.step("show").body == "return_value = show_task(n=n)\n"


MIXED_OPERATORS = """
    from airflow.sdk import dag, task
    from airflow.providers.standard.operators.python import PythonOperator

    @dag(schedule=None)
    def mixed():
        def _first():
            return "hello"

        first_B = PythonOperator(task_id="first_B", python_callable=_first)
        first_result = first_B.output

        @task
        def second_B(value):
            return f"{value} again"

        second_B(first_result)

    mixed()
"""


def test_a_callable_defined_in_the_dag_body_and_an_output_alias_are_read():
    """A plain function in the DAG body (a PythonOperator's callable) is a module helper, and
    ``x = op.output`` names the operator's result (both were TP202, then undefined names)."""
    read = _read(MIXED_OPERATORS)
    assert [d.code for d in read.diagnostics] == []
    pipeline = read.pipeline
    assert task_steps(pipeline.flow) == ["first_B", "second_B"]
    assert pipeline.step("second_B").inputs[0].refs[0].source == "first_B"
    assert any(d.startswith("def _first():") for d in pipeline.module.definitions)
    converted = api.convert_text(textwrap.dedent(MIXED_OPERATORS), "dag.py", "metaflow")
    assert isinstance(converted, api.Converted), converted
    assert "def first_b(self):" in converted.code  # Metaflow refuses capitals in step names
    codes = {d.code for d in converted.diagnostics}
    assert "TP252" not in codes and "TP230" in codes


CONSTANT_MAP = """
    from airflow.sdk import dag, task

    SOURCES = ["a", "bb"]

    @task
    def size(name: str) -> int:
        return len(name)

    @task
    def total(values: list[int]) -> int:
        return sum(values)

    @dag(schedule=None)
    def consts():
        total(size.expand(name=SOURCES))

    consts()
"""


def test_a_map_over_a_constant_maps_over_a_small_step_returning_it():
    """``expand(name=SOURCES)``: was TP187 (a task result needed)."""
    pipeline = _read(CONSTANT_MAP).pipeline
    items = pipeline.step("size_items")
    assert items.body == "return_value = SOURCES\n" and items.doc.startswith("Added by")
    assert items.outputs[0].type.expr == "list[str]"  # the mapped argument's annotation
    maps = [n for n in walk(pipeline.flow) if isinstance(n, Map)]
    assert [(m.collection.source, m.body.step) for m in maps] == [("size_items", "size")]


TEMPLATED_KWARGS = """
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.python import PythonOperator

    def _make():
        return 42

    def _show(value, day):
        return f"{value} on {day}"

    with DAG(dag_id="templated", schedule=None):
        make = PythonOperator(task_id="make", python_callable=_make)
        show = PythonOperator(
            task_id="show",
            python_callable=_show,
            op_kwargs={"value": "{{ ti.xcom_pull(task_ids='make') }}", "day": "{{ ds }}"},
        )
        make >> show
"""


def test_a_templated_xcom_pull_is_a_data_edge_and_other_templates_are_named():
    """Airflow renders ``"{{ ti.xcom_pull(task_ids='make') }}"`` as the text of make's result
    (was passed on as the template's own text, with no diagnostic)."""
    read = _read(TEMPLATED_KWARGS)
    show = read.pipeline.step("show")
    assert [(i.name, i.refs[0].source) for i in show.inputs] == [("value", "make")]
    assert show.body == "return_value = _show(value=str(value), day='{{ ds }}')\n"
    notes = [d for d in read.diagnostics if d.code == "TP189"]
    assert len(notes) == 1 and "'{{ ds }}'" in notes[0].message and notes[0].span.line == 16


DEFAULT_ARGS_BY_NAME = """
    from datetime import timedelta

    from airflow.sdk import DAG, task
    from {module} import SHARED

    ARGS = {{"retries": 3, "retry_delay": timedelta(minutes=2)}}

    @task
    def one() -> int:
        return 1

    with DAG(dag_id="named", schedule=None, default_args={name}):
        one()
"""


def test_default_args_by_name_are_read_from_a_module_dict_or_named():
    pipeline = _read(DEFAULT_ARGS_BY_NAME.format(module="shared", name="ARGS")).pipeline
    retry = pipeline.step("one").options[0]
    assert (retry.kind, retry.arg("times"), retry.arg("minutes_between_retries")) == (
        "retry",
        "3",
        "2",
    )
    read = _read(DEFAULT_ARGS_BY_NAME.format(module="shared", name="SHARED"))
    assert read.pipeline.step("one").options == ()
    notes = [d for d in read.diagnostics if d.code == "TP189"]
    assert len(notes) == 1 and "default_args SHARED" in notes[0].message and notes[0].lossy


CROSS = """
    from airflow.sdk import DAG, cross_downstream
    from airflow.providers.standard.operators.empty import EmptyOperator

    with DAG(dag_id="cross", schedule=None):
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b")
        x = EmptyOperator(task_id="x")
        y = EmptyOperator(task_id="y")
        cross_downstream([a, b], [x, y])
"""


def test_cross_downstream_is_two_parallel_blocks_in_sequence():
    """Every task of the first list before every task of the second (was TP202 and the edges
    lost; then TP190: the graph reader needed one task between two parallel blocks)."""
    read = _read(CROSS)
    assert [d.code for d in read.diagnostics] == []
    flow = read.pipeline.flow
    assert isinstance(flow, Sequence) and [type(n).__name__ for n in flow.nodes] == [
        "Parallel",
        "Parallel",
    ]
    assert [task_steps(n) for n in flow.nodes] == [["a", "b"], ["x", "y"]]


def test_a_multi_asset_file_is_refused_naming_the_asset():
    """Airflow 3's ``@asset`` files are one pipeline (tests/test_airflow_assets_chain.py);
    ``@multi_asset`` is refused at its decorator."""
    code = """
        from airflow.sdk import multi_asset

        @multi_asset(schedule="@daily", outlets=[])
        def raw():
            return [1]
    """
    read = _read(code)
    assert isinstance(read, api.Failed)
    assert [(d.code, d.span.line) for d in read.diagnostics] == [("TP186", 4)]


CONTEXT_READS = """
    from airflow.sdk import dag, task

    @task
    def first(**context):
        return context["params"]["n"]

    @task
    def second(x, ti=None, **context):
        return x + context["ti"].map_index

    @dag(schedule=None, params={"n": 1})
    def ctx():
        second(first())

    ctx()
"""


def test_a_task_reading_airflow_s_context_is_named_at_its_definition():
    read = _read(CONTEXT_READS)
    notes = [d for d in read.diagnostics if d.code == "TP189"]
    assert [(d.span.line, d.message.split(" (")[0]) for d in notes] == [
        (9, "second reads Airflow's task context")
    ]
    assert "(ti, **context)" in notes[0].message and notes[0].lossy


TWO_DYNAMIC_MAPS = """
    from airflow.sdk import dag, task

    @task
    def items():
        return [1, 2]

    @task
    def left(x):
        return x + 1

    @task
    def right(x):
        return x * 3

    @task
    def both(a: list[int], b: list[int]) -> int:
        return sum(a) + sum(b)

    @dag(schedule=None)
    def twice():
        values = items()
        lefts = left.expand(x=values)
        rights = right.expand(x=values)
        both(lefts, rights)

    twice()
"""


def test_two_maps_over_one_untyped_list_in_flyte_get_two_names():
    """Flyte writes a map over an untyped list as a ``@dynamic`` named after the list; two maps
    over one list were one name twice (TP247)."""
    result = api.convert_text(textwrap.dedent(TWO_DYNAMIC_MAPS), "dag.py", "flyte")
    assert isinstance(result, api.Converted), result
    assert "def items_foreach(" in result.code and "def items_foreach_step(" in result.code


@pytest.mark.parametrize("target", ["metaflow", "flyte", "kfp"])
@pytest.mark.parametrize("source", AIRFLOW, ids=[p.parent.name for p in AIRFLOW])
def test_converted_output_is_ruff_clean(source, target, tmp_path):
    result = api.convert_file(str(source), target)
    assert isinstance(result, api.Converted), result
    out = tmp_path / f"{target}_out.py"
    out.write_text(result.code)
    checked = subprocess.run(
        [RUFF, "check", "--no-cache", str(out)], check=False, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout
    undefined = subprocess.run(
        [RUFF, "check", "--no-cache", "--select", "F821", str(out)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert undefined.returncode == 0, undefined.stdout


@pytest.mark.parametrize("command", ["convert", "report"])
def test_airflow_3_to_airflow_is_one_line_and_exit_2(command):
    """An Airflow 3 DAG has nothing to upgrade (tests/test_airflow_upgrade.py has the Airflow 2
    ones): refused as already in its target framework."""
    source = str(FIXTURES / "airflow3_operators" / "airflow.py")
    done = subprocess.run(
        [sys.executable, "-m", "transpile", command, source, "--to", "airflow"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"{source}: TP006 source is already airflow"]


SHELL_DAG = """\
from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, task

with DAG("shell_steps", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    prepare = BashOperator(task_id="prepare", bash_command="echo preparing && test 2 -gt 1")
    stamped = BashOperator(task_id="stamped", bash_command="echo {{ ds }}")

    @task
    def count() -> int:
        return 3

    total = count()
    prepare >> total
    stamped >> total
"""


def test_a_bash_operator_with_a_plain_command_runs_it_with_bash():
    """A literal command becomes a step that runs it (was a TP188 stub); a templated one, which
    only Airflow renders, stays a stub that says so."""
    from transpile.api import Read, read_text

    read = read_text(SHELL_DAG, "shell.py")
    assert isinstance(read, Read), read
    steps = {s.name: s for s in read.pipeline.steps}
    assert steps["prepare"].body == (
        "import subprocess\nimport tempfile\n\n"
        'with tempfile.TemporaryDirectory(prefix="airflowtmp") as cwd:  # as Airflow runs it\n'
        '    done = subprocess.run(["bash", "-c", '
        "'echo preparing && test 2 -gt 1'], cwd=cwd, stdout=subprocess.PIPE, "
        "stderr=subprocess.STDOUT, check=False)\n"
        'output = done.stdout.decode(errors="backslashreplace")\n'
        'print(output, end="")\n'
        "done.check_returncode()\n"
        'return_value = output.removesuffix("\\n").split("\\n")[-1].rstrip()\n'
    )  # Airflow pushes the last line the command writes (stdout and stderr) as its XCom
    assert [(o.name, o.type.expr) for o in steps["prepare"].outputs] == [("return_value", "str")]
    assert "NotImplementedError" in steps["stamped"].body
    assert [d.code for d in read.diagnostics if "stamped" in d.message] == ["TP188"]


@pytest.mark.equivalence
@pytest.mark.parametrize("target", ["flyte", "metaflow"])
def test_a_bash_step_computes_the_same(tmp_path, target):
    from staging import same_when_run

    text = SHELL_DAG.replace(
        '    stamped = BashOperator(task_id="stamped", bash_command="echo {{ ds }}")\n', ""
    )
    text = text.replace("    stamped >> total\n", "")
    result = same_when_run(text, target, tmp_path, "shell.py")
    assert {v.name for v in result.values} == {"count_result", "prepare_result"}


CROSSING = """\
from airflow.sdk import dag, task


@task
def nordic() -> list[int]:
    return [1, 2]


@task
def european() -> list[int]:
    return [3]


@task
def parse(xs: list[int]) -> list[int]:
    return sorted(xs)


@task
def compare(xs: list[int], ys: list[int]) -> int:
    return len(xs) - len(ys)


@task
def borders(xs: list[int]) -> int:
    return sum(xs)


@dag(schedule=None)
def crossing():
    parsed = parse(nordic())
    everyone = european()
    compare(parsed, everyone)
    borders(parsed)


crossing()
"""


def test_a_graph_that_does_not_nest_is_tightened_naming_each_added_wait():
    """``borders`` waits only for ``parse``, ``compare`` for ``parse`` and ``european``: no
    nesting of sequences and branches has both (was TP190); the model makes ``borders`` wait
    for ``european`` too, and says so at ``borders``' call, as not exact."""
    read = _read(CROSSING)
    assert isinstance(read, api.Read), read
    assert [(d.code, d.span.line, d.lossy) for d in read.diagnostics] == [("TP191", 34, True)]
    assert "borders now also waits for european" in read.diagnostics[0].message
    flow = read.pipeline.flow
    assert [task_steps(n) for n in flow.nodes] == [
        ["nordic", "parse", "european"],
        ["compare", "borders"],
    ]


def test_a_dag_without_tasks_is_refused_at_its_line():
    read = _read("from airflow.sdk import dag\n\n\n@dag(schedule=None)\ndef empty():\n    pass\n")
    assert isinstance(read, api.Failed), read
    assert [(d.code, d.span.line) for d in read.diagnostics] == [("TP190", 4)]
    assert "has no tasks" in read.diagnostics[0].message


def test_a_class_called_with_a_task_id_is_a_task_whatever_its_name():
    """A plugin's operator not named ...Operator (was dropped without a word, leaving a DAG of
    no tasks): a step that raises with a TODO, as for other operators not converted."""
    code = (
        "from airflow import DAG\nfrom airflow.operators import CreateConnections\n"
        "from plugins.x import Make\n\n"
        "dag = DAG('d', schedule=None)\n"
        "a = CreateConnections(task_id='create', key='k', dag=dag)\n"
        "b = Make(task_id='make', dag=dag)\n"
        "a >> b\n"
    )
    read = _read(code)
    assert isinstance(read, api.Read), read
    assert [(d.code, d.span.line) for d in read.diagnostics] == [("TP188", 6), ("TP188", 7)]
    assert [s.name for s in read.pipeline.steps] == ["create", "make"]
    assert "TODO(transpile): TP188" in read.pipeline.step("make").body


TWO_DAGS = """\
from airflow import DAG
from airflow.operators.empty import EmptyOperator

first = DAG("first", schedule=None)
a = EmptyOperator(task_id="same", dag=first)

second = DAG("second", schedule=None)
b = EmptyOperator(task_id="start", dag=second)
c = EmptyOperator(task_id="same", dag=second)
b >> c
"""


@pytest.mark.parametrize(("entry", "steps"), [("first", ["same"]), ("second", ["start", "same"])])
def test_tasks_made_with_dag_naming_another_dag_are_that_dag_s(entry, steps):
    """After ``first = DAG(...)`` the module's statements were all read as first's: second's
    ``same`` was first's ``same`` made twice (refused, TP186)."""
    read = api.read_text(TWO_DAGS, "dags.py", "airflow", entry=entry)
    assert isinstance(read, api.Read), read
    assert [s.name for s in read.pipeline.steps] == steps


OUTSIDE = """\
from airflow.providers.docker.operators.docker import DockerOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, task

build = BashOperator(task_id="build", bash_command="echo built")


@task
def images() -> list[str]:
    return ["a", "b"]


with DAG("outside", schedule=None):
    found = images()
    check = DockerOperator.partial(task_id="check", command="true").expand(image=found)
    build >> found
"""


def test_an_operator_made_outside_the_dag_and_a_mapped_operator_not_converted_are_tasks():
    """``build`` is made at the module's top and joins the DAG through ``>>`` (as Airflow puts
    it in the DAG); a mapped DockerOperator is one step that raises with a TODO (both were
    refused: "is not a task of this DAG")."""
    read = _read(OUTSIDE)
    assert isinstance(read, api.Read), read
    assert [s.name for s in read.pipeline.steps] == ["images", "check", "build"]
    assert [(d.code, d.span.line) for d in read.diagnostics if d.code == "TP188"] == [("TP188", 15)]
    assert "DockerOperator (mapped)" in read.diagnostics[0].message
    assert task_steps(read.pipeline.flow) == ["build", "images", "check"]
