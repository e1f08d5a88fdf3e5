"""The Airflow reader's task groups (flattened, ids prefixed as Airflow prefixes them, groups as
ends of ``>>``) and branching tasks (switches checked against Airflow's skip and trigger rules):
what each shape reads as, and each refusal at its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from transpile import api
from transpile.model.ir import Sequence, Switch, task_steps, walk

FIXTURES = Path(__file__).parents[1] / "fixtures"
HEAD = """\
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import BranchPythonOperator, ShortCircuitOperator
from airflow.sdk import DAG, TaskGroup, task, task_group


@task
def one(x: int) -> int:
    return x + 1


@task
def show(x: int) -> None:
    print(x)


"""


def _read(body: str, functions: str = ""):
    code = HEAD + textwrap.dedent(functions) + '\nwith DAG("d") as dag:\n'
    code += textwrap.indent(textwrap.dedent(body), "    ")
    return api.read_text(code, "dag.py", "airflow")


def _line_of(code: str, needle: str) -> int:
    return next(i for i, line in enumerate(code.splitlines(), 1) if needle in line)


def test_groups_prefix_task_ids_and_stand_for_their_ends():
    read = _read(
        """
        start = EmptyOperator(task_id="start")
        with TaskGroup("outer") as outer:
            a = one(1)
            with TaskGroup("inner") as inner:
                b = one(a)
                c = show(b)
            with TaskGroup("flat", prefix_group_id=False):
                d = one(2)
        end = EmptyOperator(task_id="end")
        start >> outer >> end
        """
    )
    pipeline = read.pipeline
    assert set(task_steps(pipeline.flow)) == {
        "start", "outer_one", "outer_inner_one", "outer_inner_show", "one", "end"
    }  # fmt: skip
    flow = pipeline.flow
    assert isinstance(flow, Sequence)
    assert flow.nodes[0].step == "start" and flow.nodes[-1].step == "end"
    assert not read.diagnostics


def test_a_task_group_function_called_twice_with_a_constant_and_a_task():
    read = _read(
        """
        first = twice(one(1), 10)
        second = twice(first, 20)
        show(second)
        """,
        """
        @task_group
        def twice(x, step):
            return one(one(x) + 0 if False else one(x))
        """,
    )
    assert isinstance(read, api.Failed)  # a computed argument: refused as before
    read = _read(
        """
        first = twice(one(1), 10)
        second = twice(first, 20)
        show(second)
        """,
        """
        @task
        def add(x: int, y: int) -> int:
            return x + y


        @task_group
        def twice(x, step):
            return add(add(x, step), step)
        """,
    )
    pipeline = read.pipeline
    assert task_steps(pipeline.flow) == [
        "one", "twice_add", "twice_add__1", "twice__1_add", "twice__1_add__1", "show"
    ]  # fmt: skip
    assert "y=10" in pipeline.step("twice_add").body
    assert "y=20" in pipeline.step("twice__1_add__1").body
    assert pipeline.step("show").inputs[0].refs[0].source == "twice__1_add__1"


def test_the_fixture_reads_as_three_switches():
    read = api.read_text(
        (FIXTURES / "airflow_groups/airflow.py").read_text(), "airflow.py", "airflow"
    )
    switches = [n for n in walk(read.pipeline.flow) if isinstance(n, Switch)]
    assert [(s.condition.source, [c.value for c in s.cases]) for s in switches] == [
        ("compare", ["'verdict.first_wins'", "'verdict.second_wins'", "'tie'"]),
        ("maybe_round", ["'rounded'", "'publish'"]),
        ("large_enough", ["True", "False"]),
    ]
    assert switches[1].cases[1].body == Sequence(())  # straight to the join
    assert "compare_case_result" in [r.name for r in read.pipeline.results]
    assert not {"large_enough_proceed", "compare_result"} & {r.name for r in read.pipeline.results}


BRANCH = """
@task.branch
def pick(x: int) -> str:
{body}


@task
def a() -> None:
    pass


@task
def b() -> None:
    pass


@task(trigger_rule="{rule}")
def join() -> int:
    return 1
"""
SHAPE = """
p = pick(3)
p >> [a(), b()] >> join()
"""


def _branch(body: str, rule: str = "none_failed_min_one_success", shape: str = SHAPE):
    functions = BRANCH.format(body=textwrap.indent(textwrap.dedent(body), "    "), rule=rule)
    code = HEAD + functions + '\nwith DAG("d") as dag:\n' + textwrap.indent(shape, "    ")
    return code, api.read_text(code, "dag.py", "airflow")


def test_a_branch_of_literal_ids_is_a_switch_before_its_join():
    _, read = _branch('return "a" if x > 2 else "b"')
    flow = read.pipeline.flow
    assert [type(n).__name__ for n in flow.nodes] == ["Task", "Switch", "Task"]
    assert [c.value for c in flow.nodes[1].cases] == ["'a'", "'b'"]
    assert not [d for d in read.diagnostics if d.severity != "info"]


def test_a_computed_id_is_checked_when_the_run_takes_it():
    _, read = _branch('return "ab"[x % 2]')
    assert [d.code for d in read.diagnostics] == ["TP188"]
    body = read.pipeline.step("pick").body
    assert "TODO(transpile): TP188" in body and "isinstance(return_value, str)" in body


@pytest.mark.parametrize(
    ("body", "rule", "shape", "needle", "message"),
    [
        ('return ["a", "b"]', None, SHAPE, 'return ["a", "b"]', "several task ids"),
        ("return None", None, SHAPE, "return None", "returns None"),
        ('if x:\n    return "a"', None, SHAPE, "def pick", "may end without"),
        ('return "c"', None, SHAPE, "p = pick(3)", "not a task right after it"),
        ('return "a"', "all_success", SHAPE, "p = pick(3)", "join is skipped in Airflow"),
        (
            'return "b"',
            None,
            "p = pick(3)\nx = a()\np >> [x, b()]\nx >> join()\n",
            "p = pick(3)",
            "join is skipped in Airflow",
        ),
    ],
    ids=["several", "none", "falls-through", "unknown-id", "all-success-join", "reads-a-case"],
)
def test_a_branch_it_cannot_express_is_refused_at_its_line(body, rule, shape, needle, message):
    code, read = _branch(body, rule or "none_failed_min_one_success", shape)
    assert isinstance(read, api.Failed), read
    diagnostic = read.diagnostics[0]
    assert diagnostic.code == "TP188", diagnostic
    assert message in diagnostic.message, diagnostic.message
    assert diagnostic.span.line == _line_of(code, needle)


def test_a_join_reading_a_case_result_is_refused():
    functions = '\n@task(trigger_rule="none_failed")\ndef join2(v):\n    return v\n'
    code = HEAD + BRANCH.format(body='    return "b"', rule="none_failed") + functions
    code += '\nwith DAG("d") as dag:\n    p = pick(3)\n    r = one(1)\n    q = b()\n'
    code += "    p >> [r, q]\n    j = join2(r)\n    q >> j\n"
    read = api.read_text(code, "dag.py", "airflow")
    assert isinstance(read, api.Failed), read
    assert "reads the result of one" in read.diagnostics[0].message


def test_a_short_circuit_is_a_switch_with_an_empty_case():
    read = _read(
        """
        gate = ShortCircuitOperator(task_id="gate", python_callable=bool, op_args=[1])
        gate >> show(one(1))
        """
    )
    flow = read.pipeline.flow
    assert isinstance(flow.nodes[-1], Switch)
    assert [c.value for c in flow.nodes[-1].cases] == ["True", "False"]
    assert flow.nodes[-1].cases[1].body == Sequence(())
    assert "proceed = bool(return_value)" in read.pipeline.step("gate").body


def test_refused_at_the_spot():
    code = HEAD + (
        "@task_group\ndef g(x):\n    return one(x)\n\n\n"
        "@task.short_circuit(ignore_downstream_trigger_rules=False)\ndef s():\n    return 1\n\n\n"
        'with DAG("d") as dag:\n    g.expand(x=[1, 2])\n'
    )
    read = api.read_text(code, "dag.py", "airflow")
    assert isinstance(read, api.Failed)
    assert read.diagnostics[0].code == "TP188"
    assert read.diagnostics[0].span.line == _line_of(code, "ignore_downstream")
    code = code.replace("(ignore_downstream_trigger_rules=False)", "")
    read = api.read_text(code, "dag.py", "airflow")
    assert read.diagnostics[0].code == "TP187"
    assert read.diagnostics[0].span.line == _line_of(code, "g.expand")


@pytest.mark.parametrize("target", ["metaflow", "flyte", "kfp"])
def test_the_fixture_converts_to_its_reviewed_golden(target):
    source = FIXTURES / "airflow_groups" / "airflow.py"
    converted = api.convert_file(str(source), target)
    golden = (FIXTURES / "airflow_groups" / "expected" / f"{target}.py").read_text()
    assert converted.code == golden


def test_a_mapped_branch_is_refused_at_its_line():
    code = HEAD + BRANCH.format(body='    return "a"', rule="none_failed")
    code += '\nwith DAG("d") as dag:\n    pick.expand(x=[1, 2]) >> [a(), b()]\n'
    read = api.read_text(code, "dag.py", "airflow")
    assert isinstance(read, api.Failed)
    assert read.diagnostics[0].code == "TP187"
    assert read.diagnostics[0].span.line == _line_of(code, "pick.expand")


def test_a_join_rule_from_default_args_or_the_enum_counts():
    from_defaults = HEAD + BRANCH.format(body='    return "a"', rule="all_success").replace(
        '@task(trigger_rule="all_success")', "@task"
    )
    with_defaults = from_defaults + (
        '\nwith DAG("d", default_args={"trigger_rule": "none_failed_min_one_success"}) as dag:\n'
        + textwrap.indent(SHAPE, "    ")
    )
    assert isinstance(api.read_text(with_defaults, "dag.py", "airflow"), api.Read)
    without = from_defaults + '\nwith DAG("d") as dag:\n' + textwrap.indent(SHAPE, "    ")
    assert isinstance(api.read_text(without, "dag.py", "airflow"), api.Failed)
    enum = HEAD.replace(
        "from airflow.sdk import",
        "from airflow.utils.trigger_rule import TriggerRule\nfrom airflow.sdk import",
    ) + BRANCH.format(body='    return "a"', rule="x").replace(
        '@task(trigger_rule="x")', "@task(trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)"
    )
    enum += '\nwith DAG("d") as dag:\n' + textwrap.indent(SHAPE, "    ")
    assert isinstance(api.read_text(enum, "dag.py", "airflow"), api.Read)


AIRFLOW2_IMPORTS = """\
from airflow.decorators import dag, task, task_group
from airflow.operators.dummy import DummyOperator as EmptyOperator
from airflow.operators.python import ShortCircuitOperator
from airflow.utils.task_group import TaskGroup
"""


def test_the_airflow_2_spelling_reads_as_the_fixture():
    text = (FIXTURES / "airflow_groups/airflow.py").read_text()
    start = text.index("from airflow.providers")
    end = text.index("\n\n\n", start)
    old = text[:start] + AIRFLOW2_IMPORTS + text[end:]
    new_model = api.read_text(text, "airflow.py", "airflow").pipeline
    old_model = api.read_text(old, "airflow.py", "airflow").pipeline
    assert old_model.flow == new_model.flow
    assert [(s.name, s.inputs, s.outputs, s.body) for s in old_model.steps] == [
        (s.name, s.inputs, s.outputs, s.body) for s in new_model.steps
    ]
    assert old_model.results == new_model.results


def _retries(pipeline, step: str) -> str | None:
    found = [o for o in pipeline.step(step).options if o.kind == "retry"]
    return found[0].arg("times") if found else None


def test_a_groups_default_args_reach_the_tasks_made_in_it():
    """Airflow merges a TaskGroup's default_args over the DAG's when it builds each operator in
    the group (inner groups over outer ones, the task's own arguments over both), whether the
    task is made under ``with group:`` or given ``task_group=group``."""
    read = _read(
        """
        outer = TaskGroup("outer", default_args={"retries": 2})
        with outer:
            a = one(1)
            with TaskGroup("inner", default_args={"retries": 4}):
                b = one.override(task_id="b", retries=1)(a)
                c = one(b)
        d = one.override(task_group=outer, task_id="d")(c)
        e = EmptyOperator(task_id="e", task_group=outer)
        f = one(d)
        d >> e
        """
    )
    pipeline = read.pipeline
    assert _retries(pipeline, "outer_one") == "2"
    assert _retries(pipeline, "outer_inner_b") == "1"
    assert _retries(pipeline, "outer_inner_one") == "4"
    assert _retries(pipeline, "outer_d") == "2"  # the task id takes the group's prefix
    assert "outer_e" in task_steps(pipeline.flow)
    assert _retries(pipeline, "one") is None  # made outside: the DAG has no default_args
    assert not [d for d in read.diagnostics if d.code == "TP189"]


def test_a_task_group_keyword_that_names_no_group_is_refused_at_its_line():
    code = (
        HEAD
        + 'with DAG("d") as dag:\n    group = object()\n    one.override(task_group=group)(1)\n'
    )
    read = api.read_text(code, "dag.py", "airflow")
    assert isinstance(read, api.Failed)
    assert read.diagnostics[0].span.line == _line_of(code, "task_group=group")
