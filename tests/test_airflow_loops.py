"""Loops in an Airflow DAG body (issue 18): a ``for`` over constants is unrolled, task and group
ids computed from constants are folded (never evaluated), and what cannot be read statically is
refused at its line with the reason."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from transpile import api
from transpile.frameworks.airflow.reader.constants import NotConstant, fold
from transpile.frameworks.airflow.reader.dag_body import DagBody
from transpile.frameworks.airflow.reader.read import AirflowReader
from transpile.model.ir import task_steps

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _read(code: str):
    return api.read_text(textwrap.dedent(code), "dag.py", "airflow")


def _fold(text: str, **names):
    return fold(ast.parse(text, mode="eval").body, names)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("f\"t_{x}_{d['k']!r:>4}\"", "t_1_ 'v'"),
        ("'{0}_{1}_{k}'.format(x, d['k'], k='z')", "1_v_z"),
        ("'{0[k]}'.format(d)", "v"),
        ("'%s-%03d' % ('a', x)", "a-001"),
        ("'ab' + d['k'].upper() + 'Q'.lower()", "abVq"),
        ("[n for n in ()] if False else list(range(2, 8, 3))", [2, 5]),
        ("list(enumerate(['a', 'b'], 1))", [(1, "a"), (2, "b")]),
        ("list(zip((1, 2), 'xy'))", [(1, "x"), (2, "y")]),
        ("{'a': 1, **{'b': 2}}.items()", [("a", 1), ("b", 2)]),
        ("d.get('missing', 'dflt') + '_'.join(['p', 'q'])[1:]", "dflt_q"),
        ("'k' in d.keys() and not x == 2", True),
        ("-x * 3 // 2", -2),
        ("sorted({'b', 'a'}, reverse=True)", ["b", "a"]),
    ],
)
def test_the_folder_computes_constant_expressions(text, value):
    assert _fold(text, x=1, d={"k": "v"}) == value


@pytest.mark.parametrize(
    "text",
    [
        "make_id(x)",  # a call of the user's
        "x.__class__",  # attributes are not looked up
        "'{0.__class__}'.format(x)",  # nor in a format field
        "'{:>99999}'.format(x)",  # nor padded without bound
        "'%9999999s' % 'a'",
        "'a' * 100000",
        "range(10 ** 9)",
        "list(range(100000))",
        "unknown + 1",  # not a constant of the file
        "open('f').read()",
        "__import__('os')",
    ],
)
def test_the_folder_refuses_what_it_does_not_compute(text):
    with pytest.raises(NotConstant):
        _fold(text, x=1)


HOURS = """
    from airflow import DAG
    from airflow.operators.dummy_operator import DummyOperator

    dag = DAG(dag_id="hours", schedule_interval=None)
    with dag:
        last = DummyOperator(task_id="last")
        for hour in range(0, 3):
            read = DummyOperator(task_id="read_{}".format(hour))
            made = DummyOperator(task_id="made_%d" % hour)
            read >> made >> last
"""


def test_a_loop_over_a_range_makes_its_tasks_once_per_element():
    pipeline = _read(HOURS).pipeline
    names = [s.name for s in pipeline.steps]
    assert names == ["last", "read_0", "made_0", "read_1", "made_1", "read_2", "made_2"]
    flow = task_steps(pipeline.flow)
    for hour in range(3):
        assert flow.index(f"read_{hour}") < flow.index(f"made_{hour}") < flow.index("last")


TABLES = """
    from airflow.sdk import DAG, task
    from airflow.providers.standard.operators.python import PythonOperator

    def load(key, table):
        return key + table

    TABLES = [{"name": "users", "load": "full"}, {"name": "orders", "load": "delta"}]

    with DAG("tables", schedule=None) as dag:
        @task
        def count(table: str) -> int:
            return len(table)

        for table in TABLES:
            KEY = "raw/{0}/{1}.json".format(table["name"], table["load"].upper())
            if table["load"] == "full":
                loaded = PythonOperator(
                    task_id=f"load_{table['name']}",
                    python_callable=load,
                    op_kwargs={"key": KEY, "table": table["name"]},
                )
            else:
                loaded = PythonOperator(
                    task_id=f"append_{table['name']}",
                    python_callable=load,
                    op_kwargs={"key": KEY, "table": table["name"]},
                )
            loaded >> count(table["name"])
"""


def test_a_loop_over_dicts_binds_its_constants_and_takes_the_static_branch():
    read = _read(TABLES)
    pipeline = read.pipeline
    assert [s.name for s in pipeline.steps] == ["load_users", "count", "append_orders", "count__1"]
    assert pipeline.step("load_users").body == (
        "return_value = load(key='raw/users/FULL.json', table='users')\n"
    )
    assert "key='raw/orders/DELTA.json'" in pipeline.step("append_orders").body
    assert pipeline.step("count__1").body == "return_value = count_task(table='orders')\n"
    assert not [d for d in read.diagnostics if d.code == "TP202"]


def test_a_taskflow_task_called_per_iteration_gets_airflows_suffixed_ids():
    """Airflow names the second call of ``count`` count__1 (what a branch would name)."""
    text = textwrap.dedent(TABLES)
    tree = ast.parse(text)
    body = DagBody(AirflowReader(tree, "dag.py", text), {}, {}, None)
    body.read(tree.body[-1].body)
    assert body.task_ids == {
        "load_users": "load_users",
        "count": "count",
        "append_orders": "append_orders",
        "count__1": "count__1",
    }


def test_the_loops_fixture_reads_as_its_model():
    pipeline = _read((FIXTURES / "airflow_loops/airflow.py").read_text()).pipeline
    weighs = [s.name for s in pipeline.steps if "weigh" in s.name]
    assert weighs == [
        "load_north_weigh",
        "load_north_weigh__1",
        "load_south_weigh",
        "load_south_weigh__1",
    ]
    total = pipeline.step("total")
    assert [i.refs[0].source for i in total.inputs] == weighs
    assert total.body == (
        "return_value = total_task(values=[values_0, values_1, values_2, values_3])\n"
    )
    assert [i.type.expr for i in total.inputs] == ["int"] * 4
    assert "scale=2" in pipeline.step("load_north_weigh").body
    assert pipeline.step("label__1").body == "return_value = label_task(text='s5-SOUTH')\n"
    flow = task_steps(pipeline.flow)
    assert flow.index("check_0_first") < flow.index("check_1_second") < flow.index("total")
    assert flow.index("south_ready") < flow.index("load_south_extract_a")


REFUSED = """
    from airflow.sdk import DAG, TaskGroup, task
    from airflow.providers.standard.operators.empty import EmptyOperator

    @task
    def numbers() -> list:
        return [1, 2]

    with DAG("refused", schedule=None, params={{"n": 2}}) as dag:
        made = numbers()
        {loop}
"""


@pytest.mark.parametrize(
    ("loop", "line", "words"),
    [
        (
            "for i in [1, 2]:\n            if i: break",
            12,
            "break in a loop",
        ),
        (
            "for i in [1, 2]:\n            continue",
            12,
            "continue in a loop",
        ),
        (
            "for i in [1, 2]:\n            pass\n        else:\n            pass",
            11,
            "for ... else",
        ),
        ("for i in made:\n            pass", 11, "use .expand()"),
        ("for i in range(dag.params['n']):\n            pass", 11, "not a constant"),
        ("for i in numbers():\n            pass", 11, "a task's result"),
        ("for i in sorted(load()):\n            pass", 11, "not a constant of this file"),
        (
            "for i in [1, 2]:\n            EmptyOperator(task_id='same')",
            12,
            "'same' is made twice (made in each iteration of a loop)",
        ),
        (
            (
                "for i in [1, 2]:\n            with TaskGroup('g'):\n"
                "                EmptyOperator(task_id=f't{i}')"
            ),
            12,
            "group id 'g' is made twice",
        ),
        (
            "for a, b in [(1, 2), 3]:\n            pass",
            11,
            "does not unpack 3",
        ),
        (
            "kept = []\n        for i in [1, 2]:\n            kept.append(i)",
            13,
            "is not a task of this DAG",
        ),
    ],
    ids=[
        "break",
        "continue",
        "else",
        "task-variable",
        "dag-params",
        "task-call",
        "user-call",
        "duplicate-operator-id",
        "duplicate-group-id",
        "unpacking",
        "list-of-constants",
    ],
)
def test_what_a_loop_cannot_be_read_as_is_refused_at_its_line(loop, line, words):
    read = _read(REFUSED.format(loop=loop))
    assert isinstance(read, api.Failed), read
    (diagnostic,) = read.diagnostics
    assert diagnostic.code == "TP186"
    assert words in diagnostic.message
    assert diagnostic.span.line == line


def test_a_loop_over_a_dag_parameter_names_dynamic_task_mapping():
    code = """
        from airflow.sdk import dag, task

        @task
        def one(x: int) -> int:
            return x

        @dag(schedule=None)
        def param_loop(items: list = [1, 2]):
            for item in items:
                one(item)

        param_loop()
    """
    read = _read(code)
    assert isinstance(read, api.Failed)
    assert "DAG parameter items" in read.diagnostics[0].message
    assert ".expand()" in read.diagnostics[0].message


def test_ids_that_cannot_be_computed_keep_their_fallback_without_duplicate_steps():
    code = """
        import uuid
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator

        with DAG("fallback", schedule=None) as dag:
            for i in range(3):
                marker = EmptyOperator(task_id=str(uuid.uuid4()))
    """
    pipeline = _read(code).pipeline
    assert [s.name for s in pipeline.steps] == ["marker", "marker__1", "marker__2"]


def test_a_list_of_tasks_filled_in_a_loop_orders_with_chain_and_shift():
    code = """
        from airflow.sdk import DAG, chain
        from airflow.providers.standard.operators.empty import EmptyOperator

        with DAG("lists", schedule=None) as dag:
            first = EmptyOperator(task_id="first")
            last = EmptyOperator(task_id="last")
            lane = []
            row = []
            for name in ("a", "b", "c"):
                lane.append(EmptyOperator(task_id=f"lane_{name}"))
                row += [EmptyOperator(task_id=f"row_{name}")]
            chain(first, *lane)
            lane[-1] >> row >> last
    """
    pipeline = _read(code).pipeline
    flow = task_steps(pipeline.flow)
    assert flow.index("first") < flow.index("lane_a") < flow.index("lane_b") < flow.index("lane_c")
    assert all(flow.index("lane_c") < flow.index(f"row_{n}") < flow.index("last") for n in "abc")


CHANGED = """
    from airflow.sdk import DAG, task

    @task
    def show(keys: list) -> str:
        return ",".join(keys)

    with DAG("changed", schedule=None) as dag:
        keys = ["a"]
        count = 1
        count += 2
        show.override(task_id=f"show_{{count}}")(keys)
        {change}
        show(keys)
"""


def test_a_constant_updated_in_the_dag_body_takes_its_new_value():
    pipeline = _read(CHANGED.format(change="keys = keys + ['b']")).pipeline
    assert [s.name for s in pipeline.steps] == ["show_3", "show"]
    assert pipeline.step("show_3").body == "return_value = show_task(keys=['a'])\n"
    assert pipeline.step("show").body == "return_value = show_task(keys=['a', 'b'])\n"


@pytest.mark.parametrize(
    "change", ["keys.append('b')", "keys[0] = 'b'", "keys = sorted(set(keys))"]
)
def test_a_constant_changed_in_ways_not_folded_is_refused_where_a_task_reads_it(change):
    read = _read(CHANGED.format(change=change))
    assert isinstance(read, api.Failed), read
    (diagnostic,) = read.diagnostics
    assert diagnostic.code == "TP186" and "keys is computed in the DAG body" in diagnostic.message
    assert diagnostic.span.line == 14


def test_a_function_defined_in_a_loop_that_reads_its_element_is_refused():
    code = """
        from airflow.sdk import DAG, task

        with DAG("closure", schedule=None) as dag:
            for name in ["a", "b"]:
                @task
                def say() -> str:
                    return name
                say()
    """
    read = _read(code)
    assert isinstance(read, api.Failed), read
    (diagnostic,) = read.diagnostics
    assert "say is defined in the DAG body and reads name" in diagnostic.message
    assert diagnostic.span.line == 8
