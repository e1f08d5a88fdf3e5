"""Flyte constructs found in public workflows (flyteorg/flytesnacks and other repositories; issue
15): each is read as the Flyte run means it, or noted or refused at its line. The run-both-sides
proofs are the flyte_wild_* fixtures."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from transpile.api import Converted, Failed, Read, convert_file, convert_text, read_text

HEAD = textwrap.dedent(
    """\
    import functools
    from dataclasses import dataclass

    from flytekit import LaunchPlan, dynamic, kwtypes, reference_task, task, workflow
    from flytekit.core.node_creation import create_node


    @dataclass
    class Config:
        size: int
        tag: str = "a"


    @task
    def double(x: int) -> int:
        return x * 2


    @task
    def add(a: int, b: int) -> int:
        return a + b


    @task
    def table() -> dict[str, list[int]]:
        return {"a": [1, 2], "b": [3]}


    @task
    def use(config: Config, n: int) -> str:
        return config.tag * (config.size + n)
    """
)


def source(body: str) -> str:
    return HEAD + "\n\n" + textwrap.dedent(body)


def read(text: str) -> Read:
    result = read_text(text, "wf.py", "flyte")
    assert isinstance(result, Read), getattr(result, "reason", result)
    return result


def converted(text: str, target: str) -> Converted:
    result = convert_text(text, "wf.py", target)
    assert isinstance(result, Converted), getattr(result, "reason", result)
    return result


def codes(result) -> list[tuple[str, int]]:
    return [(d.code, d.span.line if d.span else 0) for d in result.diagnostics]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def undefined_names(code: str, tmp_path) -> str:
    path = tmp_path / "out.py"
    path.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "F821", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout if done.returncode else ""


# reads into promises, constants built in the body ------------------------------------------------
def test_a_read_into_a_promise_becomes_one_step_that_computes_it():
    text = source(
        """
        @workflow
        def wf() -> int:
            t = table()
            return double(x=t["a"][1])
        """
    )
    result = read(text)
    step = result.pipeline.step("t_a_1")
    assert step.body == 'value = t["a"][1]\n'
    assert [i.type.expr for i in step.inputs] == ["dict[str, list[int]]"]
    assert step.outputs[0].type.expr == "int"  # dict value list[int], then its item
    assert ("TP201", line_of(text, 'double(x=t["a"][1])')) in codes(result)
    assert [s.name for s in result.pipeline.steps] == ["table", "t_a_1", "double"]


def test_a_dataclass_built_from_literals_is_a_constant_where_the_task_uses_it():
    text = source(
        """
        @workflow
        def wf(n: int = 1) -> str:
            return use(config=Config(size=2, tag="z"), n=n)
        """
    )
    body = read(text).pipeline.step("use").body
    assert body.startswith('config = Config(size=2, tag="z")\n')


def test_arithmetic_on_a_promise_stays_refused_as_flyte_refuses_it():
    text = source(
        """
        @workflow
        def wf(x: int = 1) -> int:
            return double(x=x * 3)
        """
    )
    result = read_text(text, "wf.py", "flyte")
    assert isinstance(result, Failed)
    assert "TP151" in result.reason and "Flyte computes nothing with a promise" in result.reason


def test_a_print_in_the_body_is_dropped_saying_so():
    text = source(
        """
        @workflow
        def wf(x: int = 1) -> int:
            print("building")
            return double(x=x)
        """
    )
    result = read(text)
    assert ("TP201", line_of(text, 'print("building")')) in codes(result)
    assert "print" not in result.pipeline.step("double").body


# partial, create_node ------------------------------------------------------------------------------
def test_a_partial_bound_to_a_name_is_the_task_with_those_arguments():
    text = source(
        """
        @workflow
        def wf(x: int = 1) -> int:
            plus_ten = functools.partial(add, b=10)
            return plus_ten(a=x)
        """
    )
    step = read(text).pipeline.step("add")
    assert step.body.startswith("b = 10\n")
    assert [i.name for i in step.inputs] == ["a"]


def test_create_node_outputs_are_its_attributes_and_rshift_orders_nodes():
    text = source(
        """
        @workflow
        def wf(x: int = 1) -> int:
            first = create_node(double, x=x)
            second = create_node(add, a=1, b=2)
            second >> first
            return first.o0
        """
    )
    pipeline = read(text).pipeline
    assert [s.name for s in pipeline.steps] == ["add", "double"]
    assert pipeline.results[0].refs[0].source == "double"


# plugin task objects and reference tasks -------------------------------------------------------------
PLUGIN = """
from flytekit.extras.sqlite3.task import SQLite3Config, SQLite3Task

query = SQLite3Task(
    name="tracks",
    query_template="select * from tracks limit {{.inputs.limit}}",
    inputs=kwtypes(limit=int),
    outputs=kwtypes(count=int),
    task_config=SQLite3Config(uri="x.db"),
)


@workflow
def wf(limit: int = 3) -> int:
    return double(x=query(limit=limit))
"""


@pytest.mark.parametrize("target", ["metaflow", "kfp"])
def test_a_plugin_task_object_is_a_stand_in_step_that_raises_at_its_spot(target, tmp_path):
    text = HEAD + PLUGIN
    result = converted(text, target)
    assert ("TP202", line_of(text, "double(x=query(limit=limit))")) in codes(result)
    assert result.lossy
    assert "# TODO(transpile): TP202 SQLite3Task 'query' is not carried over" in result.code
    assert "raise NotImplementedError(" in result.code
    assert "SQLite3Task(" not in result.code and "kwtypes" not in result.code
    assert undefined_names(result.code, tmp_path) == ""


def test_a_reference_task_is_a_stand_in_with_its_signature():
    text = source(
        """
        @reference_task(project="p", domain="d", name="other.normalize", version="1")
        def normalize(x: int, scale: float) -> int:
            ...


        @workflow
        def wf(x: int = 1) -> int:
            return double(x=normalize(x=x, scale=0.5))
        """
    )
    result = read(text)
    step = result.pipeline.step("normalize")
    assert [(i.name, i.type.expr) for i in step.inputs] == [("x", "int")]
    assert step.body.startswith("scale = 0.5\n")
    assert "raise NotImplementedError" in step.body
    assert [o.type.expr for o in step.outputs] == ["int"]


# modules of the same tree --------------------------------------------------------------------------
def test_tasks_imported_from_a_sibling_module_are_read_from_its_file(tmp_path):
    (tmp_path / "steps").mkdir()
    (tmp_path / "steps" / "__init__.py").write_text("")
    (tmp_path / "steps" / "math_tasks.py").write_text(
        textwrap.dedent(
            """\
            from flytekit import task

            OFFSET = 4


            def shift(v: int) -> int:
                return v + OFFSET


            @task
            def bump(v: int) -> int:
                return shift(v)
            """
        )
    )
    (tmp_path / "wf.py").write_text(
        textwrap.dedent(
            """\
            from flytekit import workflow

            try:
                from .steps.math_tasks import bump
            except ImportError:
                from steps.math_tasks import bump


            @workflow
            def wf(v: int = 1) -> int:
                return bump(v=bump(v=v))
            """
        )
    )
    result = convert_file(str(tmp_path / "wf.py"), "metaflow")
    assert isinstance(result, Converted), getattr(result, "reason", result)
    assert "math_tasks" not in result.code  # read, not imported
    assert "OFFSET = 4" in result.code and "def shift(v: int) -> int:" in result.code
    assert [s.name for s in result.pipeline.steps] == ["bump", "bump_2"]
    assert any(d.code == "TP201" and "math_tasks.py" in d.message for d in result.diagnostics)


def test_an_imported_task_whose_module_is_missing_is_refused_naming_the_import():
    text = "from flytekit import workflow\nfrom elsewhere import bump\n\n\n" + textwrap.dedent(
        """
        @workflow
        def wf(v: int = 1) -> int:
            return bump(v=v)
        """
    )
    result = read_text(text, "wf.py", "flyte")
    assert isinstance(result, Failed)
    assert "from elsewhere import bump" in result.reason and "TP151" in result.reason


# launch plans, several workflows, --entry ----------------------------------------------------------
def test_a_called_launch_plan_is_its_workflow_with_fixed_and_default_inputs():
    text = source(
        """
        @workflow
        def inner(a: int = 0, b: int = 0) -> int:
            return add(a=a, b=b)


        plan = LaunchPlan.get_or_create(inner, "p", fixed_inputs={"b": 5}, default_inputs={"a": 1})


        @workflow
        def wf(x: int = 2) -> tuple[int, int]:
            return plan(), plan(a=x)
        """
    )
    pipeline = read(text).pipeline
    assert [s.body.splitlines()[:2] for s in pipeline.steps] == [
        ["a = 1", "b = 5"],
        ["b = 5", "o0 = a + b"],
    ]
    assert [p.name for p in pipeline.parameters] == ["x"]


def test_the_entry_launch_plan_gives_defaults_and_fixed_inputs():
    text = source(
        """
        @workflow
        def wf(a: int = 1, b: int = 2) -> int:
            return add(a=a, b=b)


        plan = LaunchPlan.get_or_create(wf, "p", fixed_inputs={"b": 7}, default_inputs={"a": 4})
        """
    )
    result = read(text)
    assert [(p.name, p.default) for p in result.pipeline.parameters] == [("a", "4")]
    assert result.pipeline.step("add").body.startswith("b = 7\n")
    assert any("fixed input b=7" in d.message for d in result.diagnostics)


def test_running_the_pipeline_at_import_is_not_carried_over():
    text = source(
        """
        @workflow
        def wf(x: int = 1) -> int:
            return double(x=x)


        wf(x=3)
        print(wf(x=4))
        """
    )
    result = converted(text, "metaflow")
    assert "wf(x=3)" not in result.code and "print(wf(" not in result.code
    assert [c for c, _ in codes(result)].count("TP201") == 2


THREE = source(
    """
    @workflow
    def first(x: int = 1) -> int:
        return double(x=x)


    @workflow
    def second(x: int = 2) -> int:
        return double(x=x)


    @workflow
    def third(x: int = 3) -> int:
        return add(a=x, b=1)
    """
)


def test_a_file_with_three_workflows_names_the_ones_not_converted():
    result = read(THREE)
    assert result.pipeline.name == "Third"
    found = [d for d in result.diagnostics if d.code == "TP202"]
    assert len(found) == 1 and "not converted: first, second" in found[0].message
    assert "--entry" in found[0].message


def test_entry_chooses_the_workflow_and_an_unknown_entry_is_refused():
    chosen = read_text(THREE, "wf.py", "flyte", entry="first")
    assert isinstance(chosen, Read) and chosen.pipeline.name == "First"
    missing = read_text(THREE, "wf.py", "flyte", entry="fourth")
    assert isinstance(missing, Failed)
    assert "TP007" in missing.reason and "found: first, second, third" in missing.reason


def test_entry_on_the_command_line(tmp_path):
    path = tmp_path / "three.py"
    path.write_text(THREE)
    run = [sys.executable, "-m", "transpile", "convert", str(path), "--to", "kfp"]
    ok = subprocess.run([*run, "--entry", "second"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "def second(" in ok.stdout
    bad = subprocess.run([*run, "--entry", "nope"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().endswith(
        "TP007 --entry nope: no such pipeline in this file (found: first, second, third)"
    )


def test_workflow_settings_without_a_reader_are_named_not_dropped():
    text = source(
        """
        @workflow
        def clean_wf(x: int) -> None:
            double(x=x)


        @workflow(on_failure=clean_wf, failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)
        def wf(x: int = 1) -> int:
            return double(x=x)
        """
    ).replace("LaunchPlan,", "LaunchPlan, WorkflowFailurePolicy,")
    found = [d for d in read(text).diagnostics if d.code == "TP202" and d.lossy]
    assert any("on_failure=clean_wf" in d.message and "does not run" in d.message for d in found)
    assert any("failure_policy=" in d.message for d in found)


# @dynamic --------------------------------------------------------------------------------------------
def test_a_dynamic_loop_over_range_of_its_input_is_a_map_over_a_made_list():
    text = source(
        """
        @dynamic
        def fan(n: int) -> list[int]:
            out = []
            for i in range(n):
                out.append(double(x=i))
            return out


        @workflow
        def wf(n: int = 3) -> list[int]:
            return fan(n=n)
        """
    )
    result = read(text)
    step = result.pipeline.step("range_n")
    assert step.body == "value = list(range(n))\n"
    assert step.outputs[0].type.expr == "list[int]"


# dates ---------------------------------------------------------------------------------------------
def test_a_datetime_parameter_is_iso_text_in_metaflow_read_back_as_a_datetime():
    text = "import datetime\n" + source(
        """
        @task
        def year(when: datetime.datetime) -> int:
            return when.year


        @workflow
        def wf(when: datetime.datetime = datetime.datetime(2024, 5, 6)) -> int:
            return year(when=when)
        """
    )
    code = converted(text, "metaflow").code
    assert "default=datetime.datetime(2024, 5, 6).isoformat(), type=str" in code
    # UTC-aware where a task reads it, as flytekit hands a task a datetime (issue 15)
    read = "datetime.datetime.fromisoformat(self.when)"
    flat = "".join(code.split())  # the formatter breaks the long expression over lines
    assert f"{read}.replace(tzinfo={read}.tzinfo or datetime.timezone.utc)".replace(" ", "") in flat
    assert ".year" in flat.split("fromisoformat(self.when).tzinfo", 1)[1][:60]


# the imperative API ----------------------------------------------------------------------------------
def test_an_imperative_workflow_is_read_as_the_workflow_it_builds():
    text = source(
        """
        from flytekit import Workflow

        built = Workflow(name="built")
        built.add_workflow_input("x", int)
        one = built.add_entity(double, x=built.inputs["x"])
        two = built.add_entity(add, a=one.outputs["o0"], b=built.inputs["x"])
        built.add_workflow_output("total", two.outputs["o0"])
        """
    )
    result = read(text)
    pipeline = result.pipeline
    assert pipeline.name == "Built"
    assert [(p.name, p.type.expr) for p in pipeline.parameters] == [("x", "int")]
    assert [s.name for s in pipeline.steps] == ["double", "add"]
    assert [(r.name, r.type.expr, r.refs[0].source) for r in pipeline.results] == [
        ("total", "int", "add")
    ]
    assert not any("add_entity" in d for d in pipeline.module.definitions)


def test_a_step_named_like_a_result_yields_the_name_in_metaflow():
    text = source(
        """
        @workflow
        def wf(x: int = 1) -> typing.NamedTuple("Out", [("double", int)]):
            return double(x=x),
        """
    ).replace("import functools", "import functools\nimport typing")
    result = converted(text, "metaflow")
    assert "def double_step(self):" in result.code and "self.double = " in result.code


# files -------------------------------------------------------------------------------------------------
FILES = """
import tempfile
from pathlib import Path

from flytekit import task, workflow
from flytekit.types.file import FlyteFile


@task
def make(text: str) -> FlyteFile:
    path = Path(tempfile.mkdtemp()) / "a.txt"
    path.write_text(text)
    return FlyteFile(path=str(path))


@task
def size(f: FlyteFile) -> int:
    return len(Path(f.download()).read_text())


@workflow
def wf(text: str = "abc") -> int:
    return size(f=make(text=text))
"""


def test_a_flytefile_between_tasks_travels_as_bytes_with_a_local_flytefile_class():
    pipeline = read(FILES).pipeline
    made, sized = pipeline.step("make"), pipeline.step("size")
    assert [o.type.expr for o in made.outputs] == ["bytes"]
    assert made.body.rstrip().endswith(
        "o0 = b'transpile-file\\n' + _name + b'\\n' + _flyte_file.read()"
    )
    assert [i.type.expr for i in sized.inputs] == ["bytes"]
    assert "f = FlyteFile(_path)" in sized.body  # under its own name, in a folder of its own
    assert any(d.startswith("class FlyteFile(os.PathLike):") for d in pipeline.module.definitions)
    assert "import os" in pipeline.module.imports


def test_a_shell_task_runs_its_script_with_bash_and_its_files_in_and_out():
    text = (
        FILES.replace(
            "from flytekit import task, workflow",
            "from flytekit import kwtypes, task, workflow\nfrom flytekit.extras.tasks.shell import OutputLocation, ShellTask",
        )
        .replace(
            "@workflow",
            """shout = ShellTask(
    name="shout",
    script="tr a-z A-Z < {inputs.src} > {outputs.out}",
    inputs=kwtypes(src=FlyteFile),
    output_locs=[OutputLocation(var="out", var_type=FlyteFile, location="{inputs.src}.up")],
)


@workflow""",
        )
        .replace("return size(f=make(text=text))", "return size(f=shout(src=make(text=text)))")
    )
    result = read(text)
    step = result.pipeline.step("shout")
    assert "subprocess.run(['bash', '-c', script], check=True)" in step.body
    assert "script = script.replace('{inputs.src}', str(src))" in step.body
    assert "out = '{inputs.src}.up'.replace('{inputs.src}', str(src))" in step.body
    assert [(o.name, o.type.expr) for o in step.outputs] == [("out", "bytes")]
    assert any(d.code == "TP201" and "bash" in d.message and d.lossy for d in result.diagnostics)


# on_failure ------------------------------------------------------------------------------------------
def test_on_failure_becomes_an_exit_hook_called_with_the_inputs_metaflow_renamed():
    text = source(
        """
        @task
        def clean_up(name: str, x: int) -> None:
            print("cleaning", name, x)


        @workflow(on_failure=clean_up)
        def wf(name: str = "a", x: int = 1) -> int:
            return double(x=x)
        """
    )
    result = converted(text, "metaflow")
    assert "@exit_hook(on_error=[clean_up_on_error])" in result.code
    assert "    clean_up(name=params.name_, x=params.x)" in result.code
    assert "def clean_up(name: str, x: int) -> None:" in result.code
    kfp = converted(text, "kfp")
    # a pipeline with results: KFP refuses them from inside an ExitHandler (test_failure_handlers.py)
    assert any(
        d.code == "TP202" and "on_failure=clean_up is not carried" in d.message and d.lossy
        for d in kfp.diagnostics
    )


@pytest.mark.equivalence
def test_the_failure_handler_runs_in_metaflow_as_in_flyte(tmp_path):
    """The test of record for on_failure: a run that fails leaves the handler's note in Flyte
    and in the Metaflow conversion, with the same text."""
    import os
    from pathlib import Path

    fixture = Path(__file__).parents[1] / "fixtures" / "flyte_wild_failure" / "flyte.py"
    env = {**os.environ, "USER": "tester", "HOME": str(tmp_path)}
    flyte_dir, metaflow_dir = tmp_path / "flyte", tmp_path / "metaflow"
    flyte_dir.mkdir()
    metaflow_dir.mkdir()
    (flyte_dir / "flyte_workflow.py").write_text(fixture.read_text())
    call = "import flyte_workflow as m\ntry:\n    m.guarded(name='late', limit=9)\nexcept Exception as e:\n    print(type(e).__name__)"
    flyte = subprocess.run(
        [sys.executable, "-c", call],
        cwd=flyte_dir,
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "ValueError" in flyte.stdout, flyte.stderr[-2000:]
    result = convert_file(str(fixture), "metaflow")
    assert isinstance(result, Converted)
    (metaflow_dir / "flow.py").write_text(result.code)
    run = [sys.executable, "flow.py", "--no-pylint", "run", "--name_", "late", "--limit", "9"]
    metaflow = subprocess.run(
        run, cwd=metaflow_dir, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert metaflow.returncode != 0, metaflow.stderr[-2000:]
    expected = (flyte_dir / "failed_late.txt").read_text()
    assert expected == "late failed over 9"
    assert (metaflow_dir / "failed_late.txt").read_text() == expected


# module-level idioms -----------------------------------------------------------------------------------
def test_imports_guarded_by_an_image_spec_are_plain_imports():
    text = source(
        """
        from flytekit import ImageSpec

        image = ImageSpec(packages=["numpy"])
        if image.is_container():
            import math


        @workflow
        def wf(x: int = 1) -> int:
            return double(x=x)
        """
    ).replace("return x * 2", "return int(math.sqrt(x * 4))")
    result = converted(text, "metaflow")
    assert "\nimport math\n" in result.code and "is_container" not in result.code


def test_a_flytekit_type_alias_travels_as_any_saying_so(tmp_path):
    text = source(
        """
        from flytekit import StructuredDataset

        Table = typing.Annotated[StructuredDataset, kwtypes(a=int)]


        @task
        def rows(t: Table) -> int:
            return 1


        @task
        def make() -> Table:
            return None


        @workflow
        def wf() -> int:
            return rows(t=make())
        """
    ).replace("import functools", "import functools\nimport typing")
    result = converted(text, "metaflow")
    assert "kwtypes" not in result.code and "StructuredDataset" not in result.code
    assert any(d.code == "TP202" and "Table" in d.message and d.lossy for d in result.diagnostics)
    assert undefined_names(result.code, tmp_path) == ""


def test_a_parameter_default_keeps_the_imports_it_uses():
    text = "import os\n" + source(
        """
        @workflow
        def wf(path: str = os.path.join("a", "b"), x: int = 1) -> int:
            return double(x=x)
        """
    )
    code = converted(text, "kfp").code
    assert code.startswith("# Generated") and "\nimport os\n" in code


def test_a_task_returned_by_a_workflow_without_outputs_still_runs():
    text = source(
        """
        @workflow
        def wf(x: int = 1):
            return double(x=x)
        """
    )
    assert [s.name for s in read(text).pipeline.steps] == ["double"]


def test_a_dynamic_loop_that_carries_a_value_between_iterations_is_refused_not_mapped():
    text = source(
        """
        @dynamic
        def fold(n: int) -> int:
            total = double(x=0)
            for i in range(n):
                total = add(a=total, b=i)
            return total


        @workflow
        def wf(n: int = 3) -> int:
            return fold(n=n)
        """
    )
    result = read_text(text, "wf.py", "flyte")
    assert isinstance(result, Failed)
    assert f"wf.py:{line_of(text, 'total = add(a=total, b=i)')}:" in result.reason
    assert "TP159" in result.reason and "carries total" in result.reason


def test_the_union_sdk_spelling_and_resources_keyword_are_read():
    text = textwrap.dedent(
        """\
        import union


        @union.task(resources=union.Resources(cpu=2, mem="500M"))
        def double(x: int) -> int:
            return x * 2


        @union.workflow
        def wf(x: int = 1) -> int:
            return double(x=x)
        """
    )
    result = read_text(text, "wf.py")  # detected by its import, as flytekit is
    assert isinstance(result, Read), getattr(result, "reason", result)
    options = {o.kind: dict(o.args) for o in result.pipeline.step("double").options}
    assert options["resources"] == {"cpu": "2", "memory": "500"}


def test_a_sibling_module_python_cannot_read_is_refused_naming_it(tmp_path):
    (tmp_path / "helpers.py").write_text(
        "from flytekit import task\nx = f'{'a'}'\n\n@task\ndef t(v: int) -> int:\n    return v\n"
    )
    (tmp_path / "wf.py").write_text(
        "from flytekit import workflow\nfrom helpers import t\n\n\n@workflow\ndef wf(v: int = 1) -> int:\n    return t(v=v)\n"
    )
    result = convert_file(str(tmp_path / "wf.py"), "kfp")
    if sys.version_info >= (3, 12):  # nested quotes in f-strings are valid there
        assert isinstance(result, Converted)
        return
    assert isinstance(result, Failed) and "TP003 helpers.py:2: syntax error" in result.reason
