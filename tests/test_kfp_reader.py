"""The KFP reader, construct by construct: small pipeline sources → facts of the model."""

from __future__ import annotations

import textwrap

import pytest
from kfp_structure import shape

from transpile.api import Failed, Read, Skipped, read_text
from transpile.model.ir import Map, Parallel, Ref, Sequence, Switch, Task
from transpile.model.ir_json import to_json

HEADER = (
    "from typing import NamedTuple\n\nfrom kfp import dsl\n"
    "from kfp.dsl import Dataset, Input, Output\n\n"
)
COMPONENTS = """
@dsl.component(base_image="python:3.11")
def load(n: int) -> list[int]:
    return list(range(n))


@dsl.component(base_image="python:3.11")
def double(x: int, scale: int = 2) -> int:
    result = x * scale
    return result


@dsl.component(base_image="python:3.11")
def total(values: list[int]) -> int:
    return sum(values)


@dsl.component(base_image="python:3.11")
def say(text: str) -> str:
    return text
"""


def read(pipeline_src: str, extra: str = "") -> Read:
    text = HEADER + textwrap.dedent(extra) + COMPONENTS + "\n\n" + textwrap.dedent(pipeline_src)
    result = read_text(text, "p.py", "kfp")
    assert isinstance(result, Read), getattr(result, "reason", result)
    return result


def failure(pipeline_src: str, extra: str = "") -> tuple[str, int]:
    """The error code and line of a source the reader refuses."""
    text = HEADER + textwrap.dedent(extra) + COMPONENTS + "\n\n" + textwrap.dedent(pipeline_src)
    result = read_text(text, "p.py", "kfp")
    assert isinstance(result, Failed), result
    diagnostic = result.diagnostics[0]
    line = diagnostic.span.line if diagnostic.span else 0
    return diagnostic.code, text.splitlines()[line - 1].strip() if line else ""


def run_body(body: str, **inputs) -> dict:
    """Execute a neutral step body; its locals afterwards."""
    scope = dict(inputs)
    exec(compile(body, "<body>", "exec"), scope)  # noqa: S102 - bodies built by the test itself
    return scope


# components ---------------------------------------------------------------------------------
def test_single_output_is_named_after_the_returned_local_and_literals_are_bound():
    pipeline = read(
        """
        @dsl.pipeline
        def p(n: int = 3):
            double(x=n)
        """
    ).pipeline
    step = pipeline.step("double")
    assert [(o.name, o.type.expr) for o in step.outputs] == [("result", "int")]
    assert [(i.name, i.refs) for i in step.inputs] == [("x", (Ref("param", "n", "n"),))]
    assert run_body(step.body, x=5)["result"] == 10  # scale's default bound in the body


def test_expression_returns_and_named_tuples_become_output_assignments():
    extra = """
    class Pair(NamedTuple):
        low: int
        high: int


    @dsl.component
    def split(x: int) -> NamedTuple("Out", [("q", int), ("r", int)]):
        q = x // 3
        return q, x % 3


    @dsl.component
    def bounds(x: int) -> Pair:
        return Pair(low=x - 1, high=x + 1)
    """
    pipeline = read(
        """
        @dsl.pipeline
        def p(n: int = 7):
            split(x=n)
            bounds(x=n)
            load(n=n)
        """,
        extra,
    ).pipeline
    assert [o.name for o in pipeline.step("split").outputs] == ["q", "r"]
    assert {k: run_body(pipeline.step("split").body, x=7)[k] for k in "qr"} == {"q": 2, "r": 1}
    assert [o.name for o in pipeline.step("bounds").outputs] == ["low", "high"]
    assert run_body(pipeline.step("bounds").body, x=7)["high"] == 8
    assert [o.name for o in pipeline.step("load").outputs] == ["Output"]
    assert run_body(pipeline.step("load").body, n=2)["Output"] == [0, 1]


def test_early_returns_keep_their_behaviour():
    extra = """
    @dsl.component
    def sign(x: int) -> str:
        if x < 0:
            return "negative"
        return "positive"
    """
    step = read("@dsl.pipeline\ndef p(n: int = 1):\n    sign(x=n)\n", extra).pipeline.step("sign")
    assert step.outputs[0].name == "Output"
    assert run_body(step.body, x=-4)["Output"] == "negative"
    assert run_body(step.body, x=4)["Output"] == "positive"


def test_decorator_image_and_packages_become_options():
    extra = """
    @dsl.component(base_image="python:3.12-slim", packages_to_install=["pandas==2.2", "rich"])
    def fancy(x: int) -> int:
        return x
    """
    step = read("@dsl.pipeline\ndef p():\n    fancy(x=1)\n", extra).pipeline.step("fancy")
    options = {o.kind: dict(o.args) for o in step.options}
    assert options["kubernetes"] == {"image": "'python:3.12-slim'"}
    assert options["pypi"] == {"packages": "{'pandas': '2.2', 'rich': ''}"}


# pipeline bodies ----------------------------------------------------------------------------
def test_outputs_after_and_repeated_calls():
    read_result = read(
        """
        @dsl.pipeline
        def p(n: int = 3) -> int:
            load_task = load(n=n)
            first = double(x=n)
            second = double(x=first.output, scale=5)
            say_task = say(text="hi")
            say_task.after(second)
            total_task = total(values=load_task.output)
            return total_task.output
        """
    )
    pipeline = read_result.pipeline
    assert [s.name for s in pipeline.steps] == ["load", "total", "double", "double_2", "say"]
    second = pipeline.step("double_2")
    assert second.inputs[0].refs == (Ref("output", "double", "result"),)
    assert "scale = 5" in second.body
    assert pipeline.results[0].name == "Output"
    assert pipeline.results[0].refs == (Ref("output", "total", "Output"),)
    # load → total and double → double_2 → say do not wait for each other
    assert isinstance(pipeline.flow, Parallel)
    assert [[n.step for n in b.nodes] for b in pipeline.flow.branches] == [
        ["load", "total"],
        ["double", "double_2", "say"],
    ]


def test_settings_map_to_options_in_metaflow_units():
    pipeline = read(
        """
        @dsl.pipeline
        def p():
            t = double(x=1).set_cpu_limit("500m").set_memory_limit("2Gi")
            t.set_memory_request("1G")
            t.set_retry(num_retries=3, backoff_duration="120s")
            t.set_env_variable(name="MODE", value="fast")
            t.set_caching_options(enable_caching=True)
            t.set_display_name("Double it")
        """
    )
    options = {o.kind: dict(o.args) for o in pipeline.pipeline.step("double").options}
    assert options["resources"] == {"cpu": "0.5", "memory": "2147.483648"}
    assert options["retry"] == {"times": "3", "minutes_between_retries": "2"}
    assert options["environment"] == {"vars": "{'MODE': 'fast'}"}
    assert options["cache"] == {"enabled": "True"}
    codes = [(d.code, d.span.line) for d in pipeline.diagnostics]
    assert codes == [("TP201", pipeline.pipeline.step("double").span.line + 5)]


def test_caching_off_is_the_model_default():
    pipeline = read(
        "@dsl.pipeline\ndef p():\n    t = say(text='a')\n"
        "    t.set_caching_options(enable_caching=False)\n"
    ).pipeline
    assert pipeline.step("say").options == ()


def test_parameters_defaults_and_entry_pipeline():
    result = read(
        """
        @dsl.pipeline
        def inner(k: int) -> int:
            return double(x=k).output


        @dsl.pipeline
        def outer(who: str, n: int = 3, items: list[int] = [1, 2]):
            inner(k=n)
            say(text=who)
        """
    )
    pipeline = result.pipeline
    assert pipeline.name == "Outer"
    facts = [(p.name, p.type.expr, p.default, p.required, p.kind) for p in pipeline.parameters]
    assert facts == [
        ("who", "str", None, True, "value"),
        ("n", "int", "3", False, "value"),
        ("items", "list[int]", "[1, 2]", False, "json"),
    ]
    assert [s.name for s in pipeline.steps] == ["inner_double", "say"]
    assert pipeline.step("inner_double").inputs[0].refs == (Ref("param", "n", "n"),)


def test_nested_pipeline_results_are_wired_through():
    pipeline = read(
        """
        @dsl.pipeline
        def twice(k: int, scale: int = 3) -> int:
            a = double(x=k, scale=scale)
            b = double(x=a.output)
            return b.output


        @dsl.pipeline
        def main(n: int = 1):
            t = twice(k=n)
            say(text=t.output)
        """
    ).pipeline
    assert [s.name for s in pipeline.steps] == ["twice_double", "twice_double_2", "say"]
    assert "scale = 3" in pipeline.step("twice_double").body
    assert pipeline.step("say").inputs[0].refs == (Ref("output", "twice_double_2", "result"),)


# loops ---------------------------------------------------------------------------------------
def test_parallel_for_over_a_parameter_with_collected_results():
    read_result = read(
        """
        @dsl.pipeline
        def p(xs: list[int] = [1, 2]):
            with dsl.ParallelFor(items=xs, parallelism=2) as x:
                d = double(x=x)
            total(values=dsl.Collected(d.output))
        """
    )
    pipeline = read_result.pipeline
    loop = pipeline.flow.nodes[0]
    assert isinstance(loop, Map)
    assert (loop.split, loop.collection, loop.item_type.expr) == (
        "double_split",
        Ref("param", "xs", "xs"),
        "int",
    )
    assert pipeline.step("double").inputs[0].refs == (Ref("item", "double_split", "item"),)
    collected = pipeline.step("total").inputs[0]
    assert (collected.mode, collected.refs) == ("collected", (Ref("output", "double", "result"),))
    # parallelism; total's list[int] arrives in KFP with floats inside
    assert [d.code for d in read_result.diagnostics] == ["TP201", "TP202"]


def test_parallel_for_over_a_task_output_and_a_literal_list():
    pipeline = read(
        """
        @dsl.pipeline
        def p():
            l = load(n=3)
            with dsl.ParallelFor(items=l.output) as x:
                double(x=x)
            with dsl.ParallelFor(items=["a", "b"]) as word:
                say(text=word)
        """
    ).pipeline
    # the loop over the literal list waits for nothing: it is a branch of its own beside load's
    assert shape(pipeline.flow) == (
        "parallel([load, map output:load.Output at load(double)]"
        " | [loop_items, map output:loop_items.items at loop_items(say)])"
    )
    literal = pipeline.step("loop_items")
    assert run_body(literal.body)["items"] == ["a", "b"]
    assert pipeline.flow.branches[1].nodes[1].item_type.expr == "str"


# branches -------------------------------------------------------------------------------------
def test_equality_tests_on_one_value_switch_on_it_directly():
    read_result = read(
        """
        @dsl.pipeline
        def p(mode: str = "a"):
            with dsl.If(mode == "a"):
                a = say(text="A")
            with dsl.Elif(mode == "b"):
                b = say(text="B")
            total(values=[1])
            say(text=dsl.OneOf(a.output, b.output))
        """
    )
    pipeline = read_result.pipeline
    assert (
        shape(pipeline.flow) == 'parallel([switch mode.mode("a": say | "b": say_2), say_3] | total)'
    )
    switch = pipeline.flow.branches[0].nodes[0]
    assert isinstance(switch, Switch)
    assert switch.condition == Ref("param", "mode", "mode")
    assert [c.value for c in switch.cases] == ['"a"', '"b"']
    merged = pipeline.step("say_3").inputs[0]
    assert merged.mode == "oneof"
    assert merged.refs == (Ref("output", "say", "text"), Ref("output", "say_2", "text"))
    # without dsl.Else no case may match; dsl.OneOf then fails in KFP as the switch does (no
    # note); total's list[int] arrives in KFP with floats inside
    assert [d.code for d in read_result.diagnostics] == ["TP202"]
    assert "'values: list[int]' of component 'total'" in read_result.diagnostics[0].message


def test_without_else_and_one_of_a_value_matching_no_case_skips_the_branches():
    """KFP runs no branch; the model's switch gets an empty case for that (a run with no
    match would fail otherwise)."""
    read_result = read(
        """
        @dsl.pipeline
        def p(mode: str = "a"):
            with dsl.If(mode == "a"):
                say(text="A")
            with dsl.Elif(mode == "b"):
                say(text="B")
            total(values=[1])
        """
    )
    switch = read_result.pipeline.flow.branches[0].nodes[1]
    assert isinstance(switch, Switch)
    assert [c.value for c in switch.cases] == ["'0'", "'1'", "'2'"]
    assert switch.cases[2].body == Sequence(())
    condition = read_result.pipeline.step("say_condition")
    assert run_body(condition.body, mode="c")["branch"] == "2"
    assert run_body(condition.body, mode="b")["branch"] == "1"


def test_else_and_other_tests_go_through_a_condition_step():
    read_result = read(
        """
        @dsl.pipeline
        def p(n: int = 3):
            d = double(x=n)
            with dsl.If(d.output > 10):
                big = say(text="big")
            with dsl.Else():
                small = say(text="small")
        """
    )
    pipeline = read_result.pipeline
    condition = pipeline.step("say_condition")
    assert condition.inputs[0].refs == (Ref("output", "double", "result"),)
    name = condition.inputs[0].name
    assert run_body(condition.body, **{name: 12})["branch"] == "0"
    assert run_body(condition.body, **{name: 2})["branch"] == "1"
    switch = pipeline.flow.nodes[-1]
    assert switch.condition == Ref("output", "say_condition", "branch")
    assert [c.value for c in switch.cases] == ["'0'", "'1'"]
    assert [d.severity for d in read_result.diagnostics] == ["info"]


# exit handler, artifacts, containers ---------------------------------------------------------
def test_exit_task_becomes_the_last_step_and_the_failure_handler():
    """KFP runs the exit task after every run: the last step when the run succeeds, a failure
    handler (the pipeline's exit_hook option) when it fails (tests/test_failure_handlers.py)."""
    read_result = read(
        """
        @dsl.pipeline
        def p():
            bye = say(text="bye")
            with dsl.ExitHandler(exit_task=bye):
                l = load(n=2)
                total(values=l.output)
        """
    )
    assert [s.name for s in read_result.pipeline.steps] == ["load", "total", "say"]
    assert isinstance(read_result.pipeline.flow, Sequence)
    assert [o.kind for o in read_result.pipeline.options] == ["exit_hook"]
    assert read_result.pipeline.options[0].arg("on_error") == "[say_on_failure]"
    found = [(d.code, d.lossy) for d in read_result.diagnostics]
    assert found == [("TP201", False), ("TP202", True)], read_result.diagnostics  # 2nd: ints


def _file_handover(extra: str, n: int, reader: str, param: str, output: str):
    """The pipeline where ``write(n=n)`` hands its file ``output`` to ``reader``'s ``param``."""
    source = f"""
        @dsl.pipeline
        def p():
            w = write(n={n})
            {reader}({param}=w.outputs["{output}"])
        """
    return read(source, extra).pipeline


def test_dataset_artifacts_travel_as_file_bytes(tmp_path):
    extra = """
    @dsl.component
    def write(n: int, out: Output[Dataset]):
        with open(out.path, "w") as f:
            f.write("x" * n)


    @dsl.component
    def size(data: Input[Dataset]) -> int:
        with open(data.path) as f:
            return len(f.read())
    """
    pipeline = _file_handover(extra, 4, "size", "data", "out")
    writer, reader = pipeline.step("write"), pipeline.step("size")
    assert [(o.name, o.type.expr) for o in writer.outputs] == [("out", "bytes")]
    assert reader.inputs[0].refs == (Ref("output", "write", "out"),)
    assert "kfp" not in writer.body and "kfp" not in reader.body
    produced = run_body(writer.body)["out"]
    assert produced == b"xxxx"
    assert run_body(reader.body, data=produced)["Output"] == 4


def test_our_writers_pickle_idiom_reads_back_as_values():
    extra = """
    @dsl.component(additional_funcs=[save_value])
    def make(pair_out: Output[Artifact]) -> int:
        pair = (1, "a")
        save_value(pair, pair_out.path)
        return 3


    @dsl.component(additional_funcs=[load_value])
    def use(pair: Input[Artifact]) -> str:
        pair = load_value(pair.path)
        return str(pair)
    """
    pipeline = read(
        """
        @dsl.pipeline
        def p():
            m = make()
            use(pair=m.outputs["pair_out"])
        """,
        "from kfp.dsl import Artifact\n\n\ndef save_value(v, p):\n    pass\n\n\n"
        "def load_value(p):\n    pass\n" + textwrap.dedent(extra),
    ).pipeline
    assert [o.name for o in pipeline.step("make").outputs] == ["Output", "pair"]
    assert pipeline.step("use").inputs[0].refs == (Ref("output", "make", "pair"),)
    assert "load_value" not in pipeline.step("use").body
    assert pipeline.module.definitions == ()


def test_a_container_component_runs_its_command_and_an_importer_is_a_todo():
    extra = """
    @dsl.container_component
    def echo(text: str, n: int, out: dsl.OutputPath(str)):
        return dsl.ContainerSpec(
            image="alpine",
            command=["sh", "-c", 'printf "%s %s" "$0" "$1" > "$2"'],
            args=[text, n, out],
        )

    @dsl.container_component
    def computed(text: str):
        return dsl.ContainerSpec(image=IMAGE, command=COMMAND + [text])
    """
    read_result = read(
        """
        @dsl.pipeline
        def p():
            echo(text="hi", n=2)
            computed(text="x")
            dsl.importer(artifact_uri="gs://b/data.csv", artifact_class=Dataset)
        """,
        extra,
    )
    steps = read_result.pipeline.steps
    assert [s.name for s in steps] == ["echo", "computed", "importer"]
    # the same command, run with subprocess; the output file read back as the str it holds
    assert run_body(steps[0].body)["out"] == "hi 2"
    assert steps[0].outputs[0].type.expr == "str"
    # a command known only when the pipeline runs stays a TODO
    assert all("raise NotImplementedError" in s.body for s in steps[1:])
    assert [o.name for o in steps[0].outputs] == ["out"]
    codes = [(d.code, d.lossy) for d in read_result.diagnostics]
    assert codes == [("TP201", True), ("TP202", True), ("TP202", True)]


def test_an_importer_of_a_parameter_is_a_file_parameter():
    extra = """
    @dsl.component
    def head(data: Input[Dataset]) -> str:
        with open(data.path) as f:
            return f.readline()
    """
    pipeline = read(
        """
        @dsl.pipeline
        def p(path: str = "data.csv"):
            f = dsl.importer(artifact_uri=path, artifact_class=Dataset, reimport=True)
            head(data=f.output)
        """,
        extra,
    ).pipeline
    assert pipeline.parameters[0].kind == "file"
    assert pipeline.step("head").inputs[0].refs == (Ref("param", "path", "path"),)
    assert run_body(pipeline.step("head").body, data="a,b\nc\n")["Output"] == "a,b\n"


# errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "code", "line"),
    [
        ("    d = double(x=n)\n    if d.output > 1:\n        say(text='x')\n", "TP176", "if"),
        ("    for i in [1, 2]:\n        double(x=i)\n", "TP177", "for"),
        ("    double(n)\n", "TP174", "double(n)"),
        ("    helper(x=n)\n", "TP175", "helper(x=n)"),
        ("    total()\n", "TP173", "total()"),
        ("    double(x=n, y=1)\n", "TP173", "double(x=n, y=1)"),
        ("    say(text=n * 2)\n", "TP175", "say(text=n * 2)"),
    ],
)
def test_errors_name_the_line(body, code, line):
    found = failure(f"@dsl.pipeline\ndef p(n: int = 1):\n    load(n=n)\n{body}")
    assert found[0] == code
    assert found[1].startswith(line)


def test_a_module_without_a_pipeline_is_skipped_and_cli_errors_exit_2(tmp_path):
    result = read_text(HEADER + COMPONENTS, "p.py", "kfp")
    assert isinstance(result, Skipped)
    from click.testing import CliRunner

    from transpile.cli import cli

    bad = tmp_path / "bad.py"
    bad.write_text(HEADER + COMPONENTS + "\n@dsl.pipeline\ndef p():\n    double(1)\n")
    outcome = CliRunner().invoke(cli, ["convert", str(bad), "--to", "flyte"])
    assert outcome.exit_code == 2
    assert f"{bad}:" in outcome.output and "TP174" in outcome.output
    assert "Traceback" not in outcome.output


def test_reading_is_deterministic():
    source = """
    @dsl.pipeline
    def p(xs: list[int] = [1, 2]):
        with dsl.ParallelFor(items=xs) as x:
            d = double(x=x)
        total(values=dsl.Collected(d.output))
    """
    assert to_json(read(source).pipeline) == to_json(read(source).pipeline)
    assert isinstance(read(source).pipeline.flow.nodes[1], Task)


# the KFP fixtures ------------------------------------------------------------------------------
KFP_FIXTURE_DIAGNOSTICS = {
    "kfp_datasets": [],
    "kfp_if_else": [("TP201", 54), ("TP201", 62)],
    # the exit task: last step and failure handler; the handler guards more than the ExitHandler
    "kfp_nested_settings": [("TP201", 62), ("TP202", 62)],
    "kfp_parallel_collect": [("TP201", 46)],
}


@pytest.mark.parametrize("case", sorted(KFP_FIXTURE_DIAGNOSTICS))
def test_kfp_fixtures_convert_to_flyte_with_the_expected_diagnostics(case):
    from conftest import FIXTURES

    from transpile.api import Converted, convert_file

    converted = convert_file(str(FIXTURES / case / "kfp.py"), "flyte")
    assert isinstance(converted, Converted), getattr(converted, "reason", converted)
    found = [(d.code, d.span.line) for d in converted.diagnostics if d.code.startswith("TP2")]
    assert found[: len(KFP_FIXTURE_DIAGNOSTICS[case])] == KFP_FIXTURE_DIAGNOSTICS[case]
    compile(converted.code, case, "exec")


def test_nested_settings_fixture_options():
    from conftest import FIXTURES

    from transpile.api import read_file

    pipeline = read_file(str(FIXTURES / "kfp_nested_settings" / "kfp.py")).pipeline
    names = [s.name for s in pipeline.steps]
    assert names[-1] == "describe" and names.index("announce") == 3
    scale = {o.kind: dict(o.args) for o in pipeline.step("prepare_scale_2").options}
    assert scale == {
        "retry": {"times": "2", "minutes_between_retries": "0"},
        "resources": {"cpu": "0.5", "memory": "2147.483648"},
    }
    assert "factor = 5" in pipeline.step("prepare_scale_2").body


def test_cache_option_reaches_flyte():
    from transpile.api import Converted, convert_text

    source = (
        HEADER
        + COMPONENTS
        + "\n@dsl.pipeline\ndef p():\n    say(text='a').set_caching_options(enable_caching=True)\n"
    )
    converted = convert_text(source, "p.py", "flyte")
    assert isinstance(converted, Converted)
    assert 'cache=True, cache_version="1.0"' in converted.code


def test_pipeline_settings_placeholders_and_empty_pipelines_are_reported():
    read_result = read(
        """
        @dsl.pipeline(name="x", description="About.", pipeline_root="gs://b")
        def p():
            say(text=dsl.PIPELINE_JOB_ID_PLACEHOLDER)
        """
    )
    assert read_result.pipeline.doc == "About."
    assert "text = ''" in read_result.pipeline.step("say").body
    assert sorted(d.code for d in read_result.diagnostics) == ["TP201", "TP202"]
    assert failure("@dsl.pipeline\ndef p():\n    pass\n")[0] == "TP184"


def test_path_parameters_are_plain_file_paths():
    extra = """
    @dsl.component
    def write(n: int, out_path: dsl.OutputPath(str)):
        with open(out_path, "w") as f:
            f.write(str(n))


    @dsl.component
    def read_back(in_path: dsl.InputPath(str)) -> int:
        with open(in_path) as f:
            return int(f.read())
    """
    pipeline = _file_handover(extra, 42, "read_back", "in_path", "out_path")
    produced = run_body(pipeline.step("write").body)["out_path"]
    assert produced == "42"  # an OutputPath(str) is a str parameter in KFP, not a file's bytes
    assert pipeline.step("write").outputs[0].type.expr == "str"
    assert pipeline.step("read_back").inputs[0].type.expr == "str"
    assert run_body(pipeline.step("read_back").body, in_path=produced)["Output"] == 42


def test_typed_path_parameters_are_read_as_kfp_reads_them():
    extra = """
    @dsl.component
    def write(n: int, count: dsl.OutputPath(int), flag: dsl.OutputPath(bool),
              words: dsl.OutputPath(List[str])):
        with open(count, "w") as f:
            f.write(str(n))
        with open(flag, "w") as f:
            f.write("True")
        with open(words, "w") as f:
            f.write('["a", "b"]')


    @dsl.component
    def read_back(in_path: dsl.InputPath(list)) -> str:
        with open(in_path) as f:
            return f.read()
    """
    pipeline = _file_handover(extra, 7, "read_back", "in_path", "words")
    outputs = pipeline.step("write").outputs
    assert [(o.name, o.type.expr) for o in outputs] == [
        ("count", "int"),
        ("flag", "bool"),
        ("words", "list[str]"),
    ]
    produced = run_body(pipeline.step("write").body)
    assert (produced["count"], produced["flag"], produced["words"]) == (7, True, ["a", "b"])
    back = run_body(pipeline.step("read_back").body, in_path=["a", "b"])["Output"]
    assert back == '["a", "b"]'  # a value other than text reaches the file as JSON


def test_a_class_each_component_defines_moves_to_the_module():
    cls = "    @dataclass\n    class Point:\n        x: int\n"
    extra = (
        "@dsl.component\ndef make(x: int) -> int:\n    from dataclasses import dataclass\n\n"
        f"{cls}\n    return Point(x).x\n\n\n"
        "@dsl.component\ndef show(x: int) -> str:\n    from dataclasses import dataclass\n\n"
        f"{cls}\n    return repr(Point(x))\n"
    )
    pipeline = read(
        "@dsl.pipeline\ndef p():\n    m = make(x=1)\n    show(x=m.output)\n", extra
    ).pipeline
    assert pipeline.module.definitions == ("@dataclass\nclass Point:\n    x: int",)
    assert "from dataclasses import dataclass" in pipeline.module.imports
    assert all("class Point" not in s.body for s in pipeline.steps)


def test_outputs_named_like_builtins_the_body_uses_stay_exact():
    extra = """
    @dsl.component
    def order(xs: list[int]) -> NamedTuple("Out", [("sorted", list[int]), ("str", str)]):
        ordered = sorted(xs)
        return ordered, str(len(xs))
    """
    step = read("@dsl.pipeline\ndef p():\n    order(xs=[3, 1])\n", extra).pipeline.step("order")
    scope = run_body(step.body)
    assert (scope["sorted"], scope["str"]) == ([1, 3], "2")


def test_an_artifact_saved_twice_is_one_output_holding_the_last_value():
    """Found by the mutated-input test: a line of our writer's idiom written twice made two
    outputs of one name, and the Flyte writer a call repeating a keyword (TP900)."""
    from pathlib import Path

    golden = Path(__file__).parent.parent / "fixtures/wild_tutorial/expected/kfp.py"
    line = "    save_value(best, best_out.path)\n"
    text = golden.read_text(encoding="utf-8")
    assert text.count(line) == 1
    read = read_text(text.replace(line, line + line), "twice.py")
    assert isinstance(read, Read), read
    step = next(s for s in read.pipeline.steps if s.name == "per_genre")
    assert [o.name for o in step.outputs].count("best") == 1
