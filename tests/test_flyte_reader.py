"""The Flyte reader: one small workflow per construct, the errors it reports (with their lines), and
the structure it reads from every Flyte golden compared with what the Metaflow reader reads from
the fixture's source."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, cases
from structure_compare import facts, function_renames, tuple_output_renames

from transpile.api import Failed, Read, read_file, read_text
from transpile.cli import cli
from transpile.model.ir import Map, Parallel, Ref, Sequence, Switch, Task
from transpile.model.ir_json import to_json
from transpile.writing.passthrough import without_empty_ends

HEAD = "from flytekit import task, workflow\n"


def read(source: str, head: str = HEAD) -> Read:
    result = read_text(head + textwrap.dedent(source), "wf.py", "flyte")
    assert isinstance(result, Read), getattr(result, "reason", result)
    return result


def failure(source: str, head: str = HEAD) -> str:
    result = read_text(head + textwrap.dedent(source), "wf.py", "flyte")
    assert isinstance(result, Failed), result
    return result.reason


def codes(result: Read) -> list[str]:
    return [d.code for d in result.diagnostics]


# structure of the goldens ---------------------------------------------------------------------------
GOLDENS = sorted(
    p.parents[1].name
    for p in FIXTURES.glob("*/expected/flyte.py")
    if (p.parents[1] / "metaflow.py").exists()  # an Airflow fixture's goldens: read elsewhere
)


@pytest.mark.parametrize("case", GOLDENS)
def test_golden_reads_as_the_metaflow_source(case):
    source = read_file(str(FIXTURES / case / "metaflow.py"))
    golden = read_file(str(FIXTURES / case / "expected" / "flyte.py"))
    assert isinstance(source, Read) and isinstance(golden, Read)
    written, _ = without_empty_ends(source.pipeline)  # no task in Flyte (writing/passthrough.py)
    renames = tuple_output_renames(written, golden.pipeline)
    steps = function_renames(written, golden.pipeline)
    expected, actual = facts(written), facts(golden.pipeline, renames, steps)
    assert actual["flow"] == expected["flow"]
    assert actual == expected


def test_every_golden_is_compared():
    assert len(GOLDENS) >= 22


# tasks ----------------------------------------------------------------------------------------------
def test_single_return_of_a_local_names_the_output_after_it():
    result = read("""
        @task
        def greet(who: str) -> str:
            message = f"hi {who}"
            return message

        @workflow
        def hello(who: str = "you") -> str:
            return greet(who=who)
    """)
    step = result.pipeline.step("greet")
    assert [(o.name, o.type.expr) for o in step.outputs] == [("message", "str")]
    assert step.body == 'message = f"hi {who}"\n'
    assert step.inputs[0].refs == (Ref("param", "who", "who"),)
    assert result.pipeline.results[0].name == "o0"
    assert result.pipeline.results[0].refs == (Ref("output", "greet", "message"),)


def test_returned_expression_becomes_o0():
    step = read("""
        @task
        def double(x: int) -> int:
            return x * 2

        @workflow
        def wf(x: int) -> int:
            return double(x=x)
    """).pipeline.step("double")
    assert step.body == "o0 = x * 2\n"
    assert [o.name for o in step.outputs] == ["o0"]


def test_namedtuple_fields_are_outputs_and_attribute_access_refs():
    result = read("""
        from typing import NamedTuple

        class DivOut(NamedTuple):
            q: int
            r: int

        @task
        def div(a: int, b: int) -> DivOut:
            q, r = divmod(a, b)
            return DivOut(q=q, r=r)

        @task
        def show(q: int) -> str:
            return str(q)

        @workflow
        def wf(a: int = 7, b: int = 2) -> str:
            out = div(a=a, b=b)
            return show(q=out.r)
    """)
    div = result.pipeline.step("div")
    assert [o.name for o in div.outputs] == ["q", "r"]
    assert div.body == "q, r = divmod(a, b)\n"
    assert result.pipeline.step("show").inputs[0].refs == (Ref("output", "div", "r"),)
    assert "DivOut" not in "\n".join(result.pipeline.module.definitions)


def test_tuple_outputs_are_o0_o1_and_unpack():
    result = read("""
        @task
        def pair(x: int) -> tuple[int, str]:
            return x + 1, "one"

        @task
        def use(n: int, s: str) -> str:
            return s * n

        @workflow
        def wf(x: int = 1) -> str:
            n, s = pair(x=x)
            return use(n=n, s=s)
    """)
    pair = result.pipeline.step("pair")
    assert [o.name for o in pair.outputs] == ["o0", "o1"]
    assert pair.body == 'o0, o1 = x + 1, "one"\n'
    refs = [i.refs[0] for i in result.pipeline.step("use").inputs]
    assert refs == [Ref("output", "pair", "o0"), Ref("output", "pair", "o1")]


def test_early_return_keeps_its_meaning_in_a_nested_function():
    step = read("""
        @task
        def sign(x: int) -> str:
            if x < 0:
                return "negative"
            return "positive"

        @workflow
        def wf(x: int = 1) -> str:
            return sign(x=x)
    """).pipeline.step("sign")
    namespace = {"x": -3}
    exec(step.body, namespace)  # noqa: S102 (the body is the model's own plain Python)
    assert namespace["o0"] == "negative"
    assert step.body.startswith("def _body(x):\n")


def test_literal_arguments_and_unpassed_defaults_are_bound_in_the_body():
    step = read("""
        @task
        def scale(x: int, factor: int, offset: int = 5) -> int:
            return x * factor + offset

        @workflow
        def wf(x: int = 1) -> int:
            return scale(x=x, factor=3)
    """).pipeline.step("scale")
    assert [i.name for i in step.inputs] == ["x"]
    assert step.body == "factor = 3\noffset = 5\no0 = x * factor + offset\n"


def test_a_second_call_of_a_task_is_a_second_step():
    result = read("""
        @task
        def inc(x: int) -> int:
            return x + 1

        @workflow
        def wf(x: int = 0) -> int:
            a = inc(x=x)
            return inc(x=a)
    """)
    assert [s.name for s in result.pipeline.steps] == ["inc", "inc_2"]
    assert result.pipeline.step("inc_2").inputs[0].refs == (Ref("output", "inc", "o0"),)
    assert result.pipeline.flow == Sequence((Task("inc"), Task("inc_2")))


# options --------------------------------------------------------------------------------------------
def test_task_settings_become_options_in_metaflow_units():
    result = read(
        """
        from datetime import timedelta

        @fl.task(
            requests=fl.Resources(cpu="500m", mem="1Gi"),
            limits=fl.Resources(cpu="2", mem="1Gi", gpu="1"),
            retries=3,
            timeout=timedelta(minutes=5),
            cache=True,
            cache_version="2",
            environment={"MODE": "x"},
            container_image="python:3.12",
            secret_requests=[fl.Secret(group="db", key="pw")],
        )
        def work(x: int) -> int:
            return x

        @fl.workflow
        def wf(x: int = 1) -> int:
            return work(x=x)
        """,
        head="import flytekit as fl\n",
    )
    options = {o.kind: dict(o.args) for o in result.pipeline.step("work").options}
    assert options["resources"] == {"cpu": "2", "memory": "1073.741824", "gpu": "1"}  # 1Gi in MB
    assert options["retry"] == {"times": "3", "minutes_between_retries": "0"}
    assert options["timeout"] == {"minutes": "5"}
    assert options["cache"] == {"enabled": "True", "version": '"2"'}
    assert options["environment"] == {"vars": '{"MODE": "x"}'}
    assert options["kubernetes"] == {"image": '"python:3.12"'}
    assert options["secrets"]["sources"].startswith("[fl.Secret(")
    assert codes(result).count("TP201") == 2  # requests != limits, secret names


def test_image_spec_packages_become_pypi_and_conda():
    result = read("""
        from flytekit import ImageSpec

        @task(container_image=ImageSpec(packages=["pandas==2.2.0", "rich"], python_version="3.11",
                                        conda_packages=["six=1.16.0"], registry="ghcr.io/me"))
        def work(x: int) -> int:
            return x

        @workflow
        def wf(x: int = 1) -> int:
            return work(x=x)
    """)
    options = {o.kind: dict(o.args) for o in result.pipeline.step("work").options}
    assert options["pypi"] == {"packages": "{'pandas': '2.2.0', 'rich': ''}", "python": '"3.11"'}
    assert options["conda"] == {"packages": "{'six': '1.16.0'}"}
    assert "TP202" in codes(result)  # registry is not carried over


def test_unknown_task_setting_is_reported_not_dropped():
    result = read("""
        @task(interruptible=True)
        def work(x: int) -> int:
            return x

        @workflow
        def wf(x: int = 1) -> int:
            return work(x=x)
    """)
    assert result.pipeline.step("work").options == ()
    [diagnostic] = result.diagnostics
    assert diagnostic.code == "TP202" and "interruptible" in diagnostic.message
    assert diagnostic.span.line == 3


def test_launch_plan_schedule_names_the_entry_workflow():
    result = read("""
        from flytekit import CronSchedule, LaunchPlan

        @task
        def t(x: int) -> int:
            return x

        @workflow
        def nightly(x: int = 1) -> int:
            return t(x=x)

        @workflow
        def other(x: int = 2) -> int:
            return t(x=x)

        plan = LaunchPlan.get_or_create(
            nightly, name="nightly_plan", schedule=CronSchedule(schedule="0 3 * * *")
        )
    """)
    assert result.pipeline.name == "Nightly"
    [option] = result.pipeline.options
    assert (option.kind, dict(option.args)) == ("schedule", {"cron": '"0 3 * * *"'})


# workflows ------------------------------------------------------------------------------------------
def test_entry_is_the_last_workflow_not_called_by_another():
    result = read("""
        @task
        def t(x: int) -> int:
            return x

        @workflow
        def outer(x: int = 1) -> int:
            return inner(x=x)

        @workflow
        def inner(x: int) -> int:
            return t(x=x)
    """)
    assert result.pipeline.name == "Outer"
    assert [s.name for s in result.pipeline.steps] == ["inner_t"]


def test_ordering_operator_orders_without_data():
    result = read("""
        @task
        def a() -> None:
            print("a")

        @task
        def b() -> None:
            print("b")

        @workflow
        def wf() -> None:
            second = b()
            first = a()
            first >> second
    """)
    assert result.pipeline.flow == Sequence((Task("a"), Task("b")))
    assert result.pipeline.results == ()


def test_independent_tasks_after_one_upstream_are_parallel():
    flow = read("""
        @task
        def src() -> int:
            return 1

        @task
        def left(x: int) -> int:
            return x

        @task
        def right(x: int) -> int:
            return x

        @task
        def join(a: int, b: int) -> int:
            return a + b

        @workflow
        def wf() -> int:
            s = src()
            return join(a=left(x=s), b=right(x=s))
    """).pipeline.flow
    branches = (Sequence((Task("left"),)), Sequence((Task("right"),)))
    assert flow == Sequence((Task("src"), Parallel(branches), Task("join")))


def test_map_task_with_partial_over_an_input_list():
    result = read(
        """
        @task
        def square(x: int, k: int) -> int:
            return x * x * k

        @task
        def total(values: list[int]) -> int:
            return sum(values)

        @workflow
        def wf(xs: list[int] = [1, 2], k: int = 2) -> int:
            squares = map_task(partial(square, k=k))(x=xs)
            return total(values=squares)
        """,
        head="from functools import partial\nfrom flytekit import map_task, task, workflow\n",
    )
    pipeline = result.pipeline
    [node] = [n for n in pipeline.flow.nodes if isinstance(n, Map)]
    assert (node.split, node.collection, node.item_type.expr) == (
        "square_split",
        Ref("param", "xs", "xs"),
        "int",
    )
    inputs = {i.name: i for i in pipeline.step("square").inputs}
    assert inputs["x"].refs == (Ref("item", "square_split", "item"),)
    assert inputs["k"].refs == (Ref("param", "k", "k"),)
    values = pipeline.step("total").inputs[0]
    assert (values.mode, values.refs) == ("collected", (Ref("output", "square", "o0"),))


def test_plain_dynamic_loop_is_a_map_split_at_the_producer():
    pipeline = read(
        """
        @task
        def make(n: int) -> list[int]:
            return list(range(n))

        @task
        def work(x: int, i: int) -> int:
            return x * i

        @dynamic
        def each(items: list[int]) -> list[int]:
            out = []
            for i, item in enumerate(items):
                out.append(work(x=item, i=i))
            return out

        @workflow
        def wf(n: int = 3) -> list[int]:
            return each(items=make(n=n))
        """,
        head="from flytekit import dynamic, task, workflow\n",
    ).pipeline
    node = pipeline.flow.nodes[1]
    assert isinstance(node, Map) and node.split == "make"
    refs = [i.refs[0] for i in pipeline.step("work").inputs]
    assert refs == [Ref("item", "make", "item"), Ref("index", "make", "index")]


def test_equality_conditional_is_a_switch_and_values_after_it_are_oneof():
    pipeline = read(
        """
        @task
        def pick(mode: str) -> str:
            return mode

        @task
        def fast(x: int) -> int:
            return x

        @task
        def slow(x: int) -> int:
            return x * 10

        @workflow
        def wf(mode: str = "fast", x: int = 1) -> int:
            route = pick(mode=mode)
            return (
                conditional("route")
                .if_(route == "fast").then(fast(x=x))
                .elif_(route == "slow").then(slow(x=x))
                .else_().fail("no route")
            )
        """,
        head="from flytekit import conditional, task, workflow\n",
    ).pipeline
    switch = pipeline.flow.nodes[1]
    assert isinstance(switch, Switch) and switch.condition == Ref("output", "pick", "mode")
    assert [c.value for c in switch.cases] == ['"fast"', '"slow"']
    [result] = pipeline.results
    assert result.refs == (Ref("output", "fast", "x"), Ref("output", "slow", "o0"))


def test_comparison_conditional_gets_a_condition_step():
    result = read(
        """
        @task
        def big(x: int) -> str:
            return "big"

        @task
        def small(x: int) -> str:
            return "small"

        @workflow
        def wf(x: int = 1) -> str:
            return conditional("size").if_(x > 5).then(big(x=x)).else_().then(small(x=x))
        """,
        head="from flytekit import conditional, task, workflow\n",
    )
    step = result.pipeline.step("size_condition")
    namespace = {"x": 9}
    exec(step.body, namespace)  # noqa: S102 (the body is the model's own plain Python)
    assert namespace["branch"] == "case_1"
    assert "TP201" in codes(result)


def test_flytefile_input_is_a_file_parameter():
    pipeline = read(
        """
        import pathlib

        @task
        def count(data: FlyteFile) -> int:
            data = pathlib.Path(data.download()).read_text()
            return len(data)

        @workflow
        def wf(data: FlyteFile = FlyteFile("data.csv")) -> int:
            return count(data=data)
        """,
        head="from flytekit import task, workflow\nfrom flytekit.types.file import FlyteFile\n",
    ).pipeline
    [param] = pipeline.parameters
    assert (param.kind, param.type.expr, param.default) == ("file", "str", '"data.csv"')
    step = pipeline.step("count")
    assert step.inputs[0].type.expr == "str" and step.body == "o0 = len(data)\n"


def test_renamed_imports_are_resolved():
    pipeline = read(
        """
        @flytask
        def t(x: int) -> int:
            return x

        @flow
        def wf(x: int = 1) -> int:
            return t(x=x)
        """,
        head="from flytekit import task as flytask, workflow as flow\n",
    ).pipeline
    assert [s.name for s in pipeline.steps] == ["t"]


# errors ---------------------------------------------------------------------------------------------
ERRORS = [
    (
        "python-if",
        """
        @task
        def t(x: int) -> int:
            return x

        @workflow
        def wf(x: int = 1) -> int:
            y = t(x=x)
            if y:
                y = t(x=y)
            return y
        """,
        "wf.py:10:5: TP156",
    ),
    (
        "non-literal-argument",
        """
        @task
        def t(x: int) -> int:
            return x

        @workflow
        def wf(x: int = 1) -> int:
            return t(x=x + 1)
        """,
        "wf.py:9:5: TP151 `x + 1` is not a literal",
    ),
    (
        "missing-input",
        """
        @task
        def t(x: int, y: int) -> int:
            return x

        @workflow
        def wf(x: int = 1) -> int:
            return t(x=x)
        """,
        "wf.py:9:5: TP153 't' is called without its input 'y'",
    ),
    (
        "loop",
        """
        @task
        def t(x: int) -> int:
            return x

        @workflow
        def wf(xs: list[int]) -> None:
            for x in xs:
                t(x=x)
        """,
        "wf.py:9:5: TP157",
    ),
    (
        "unknown-call",
        """
        @workflow
        def wf(x: int = 1) -> int:
            return helper(x=x)
        """,
        "wf.py:5:5: TP151 `helper(...)` is not a @task",
    ),
    (
        "no-workflow",
        """
        @task
        def t(x: int) -> int:
            return x
        """,
        None,
    ),
]


@pytest.mark.parametrize(
    ("source", "expected"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_bad_input_gives_one_located_diagnostic(source, expected):
    result = read_text(HEAD + textwrap.dedent(source), "wf.py", "flyte")
    if expected is None:
        assert not isinstance(result, Read)
        return
    assert isinstance(result, Failed)
    assert result.reason.startswith(expected), result.reason


def test_dynamic_that_is_not_a_plain_loop_is_diagnosed():
    reason = failure(
        """
        @task
        def t(x: int) -> int:
            return x

        @dynamic
        def each(xs: list[int]) -> int:
            if len(xs) > 2:
                return t(x=xs[0])
            return t(x=0)

        @workflow
        def wf(xs: list[int] = [1]) -> int:
            return each(xs=xs)
        """,
        head="from flytekit import dynamic, task, workflow\n",
    )
    assert reason.startswith("wf.py:9:5: TP159 @dynamic 'each'")


# fixtures that start life in Flyte ------------------------------------------------------------------
def test_flyte_fixtures_read_cleanly():
    names = [case.name for case in cases("flyte")]
    assert {"flyte_basket", "flyte_climate", "flyte_table_stats"} <= set(names)
    for case in cases("flyte"):
        result = read_file(str(case.source))
        assert isinstance(result, Read), getattr(result, "reason", result)
        assert not [d for d in result.diagnostics if d.severity == "error"]


def test_table_stats_inlines_the_subworkflow_and_runs_three_tasks_in_parallel():
    pipeline = read_file(str(FIXTURES / "flyte_table_stats" / "flyte.py")).pipeline
    assert [s.name for s in pipeline.steps][:2] == ["prepare_load", "prepare_split"]
    parallel = pipeline.flow.nodes[2]
    assert isinstance(parallel, Parallel) and len(parallel.branches) == 3
    kinds = {o.kind for o in pipeline.step("prepare_split").options}
    assert kinds == {"resources", "retry", "cache"}
    assert [r.name for r in pipeline.results] == ["o0", "o1"]


def test_typing_spellings_become_the_model_spelling():
    result = read(
        """
        @task
        def pick(xs: List[int], d: Dict[str, int], name: Optional[str] = None) -> List[int]:
            return xs

        @workflow
        def wf(xs: List[int] = [1], d: typing.Dict[str, int] = {"a": 1}) -> List[int]:
            return pick(xs=xs, d=d).with_overrides(retries=2)
        """,
        head=HEAD + "import typing\nfrom typing import Dict, List, Optional\n",
    )
    step = result.pipeline.step("pick")
    assert [i.type.expr for i in step.inputs] == ["list[int]", "dict[str, int]"]
    assert step.outputs[0].type.expr == "list[int]"
    assert step.body == "name = None\n"
    assert [p.type.expr for p in result.pipeline.parameters] == ["list[int]", "dict[str, int]"]
    assert [d.code for d in result.diagnostics] == ["TP202"]  # with_overrides is reported


def test_reading_is_deterministic():
    path = str(FIXTURES / "flyte_climate" / "flyte.py")
    first, second = read_file(path), read_file(path)
    assert to_json(first.pipeline) == to_json(second.pipeline)


def test_cli_reports_bad_flyte_input_on_one_line_with_exit_2(tmp_path):
    source = tmp_path / "wf.py"
    body = "@task\ndef t(x: int) -> int:\n    return x\n\n@workflow\ndef wf(x: int = 1) -> int:\n"
    source.write_text(HEAD + body + "    return t(x=x + 1)\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["convert", str(source), "--to", "kfp"])
    assert result.exit_code == 2
    assert f"{source}:8:5: TP151" in result.output
    assert "Traceback" not in result.output


def test_inspect_shows_the_flyte_model(tmp_path):
    result = CliRunner().invoke(
        cli, ["inspect", str(FIXTURES / "flyte_basket" / "flyte.py"), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    model = json.loads(result.output)
    assert model["framework"] == "flyte" and model["name"] == "Basket"
