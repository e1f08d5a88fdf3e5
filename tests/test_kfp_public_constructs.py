"""KFP constructs found in public pipelines (kubeflow/pipelines samples and test data, and other
repositories' pipelines; issue 16): each is read and written as the KFP run means it, or refused
or noted at its line. The run-both-sides proofs are the kfp_wild_* fixtures."""

from __future__ import annotations

import sys
import textwrap

import pytest

from transpile.api import Converted, Failed, Read, convert_text, read_text

HEAD = (
    "from kfp import dsl\n\n\n@dsl.component\ndef add(a: int, b: int) -> int:\n    return a + b\n"
)


def source(body: str, extra: str = "") -> str:
    return HEAD + textwrap.dedent(extra) + "\n\n" + textwrap.dedent(body)


def converted(text: str, target: str) -> Converted:
    result = convert_text(text, "p.py", target)
    assert isinstance(result, Converted), getattr(result, "reason", result)
    return result


def codes(result) -> list[tuple[str, int]]:
    return [(d.code, d.span.line if d.span else 0) for d in result.diagnostics]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_kfp_v2_spelling_of_the_imports_is_kfp():
    text = source(
        """
        @dsl.pipeline
        def p(x: int = 1) -> int:
            return add(a=x, b=1).output
        """
    ).replace("from kfp import dsl", "from kfp.v2 import dsl\nfrom kfp.v2.dsl import component")
    read = read_text(text, "p.py", "kfp")
    assert isinstance(read, Read), read
    assert [s.name for s in read.pipeline.steps] == ["add"]


def test_module_code_that_compiles_or_submits_the_pipeline_is_left_out_saying_so():
    text = "import kfp\n" + source(
        """
        @dsl.pipeline
        def p(x: int = 1) -> int:
            return add(a=x, b=1).output


        client = kfp.Client(host="http://x")
        RUN = client.create_run_from_pipeline_func(p, arguments={})
        LIMIT = 3
        print("submitted")
        if LIMIT > 2:
            raise RuntimeError("the run took too long")
        """
    )
    for target in ("flyte", "metaflow"):
        result = converted(text, target)
        assert "Client" not in result.code and "create_run" not in result.code
        found = [d for d in result.diagnostics if d.code == "TP201"]
        lines = [line_of(text, "print("), line_of(text, "client = kfp"), line_of(text, "RUN = ")]
        assert [d.span.line for d in found] == lines, target
        assert "kfp" in found[1].message and "client" in found[2].message
        # code that binds nothing runs when KFP compiles the module, never in a component
        assert f"lines {lines[0]}, {lines[0] + 1}" in found[0].message
        # and a definition no step uses is not carried either (a component never sees it)
        assert "LIMIT = 3" not in result.code and "submitted" not in result.code


def test_module_definitions_a_step_uses_are_kept_with_what_they_use():
    text = "import os\n" + source(
        """
        ENDPOINT = os.environ["KFP_HOST"]
        SCALE = 3


        def scaled(x):
            return x * SCALE


        @dsl.component
        def use(x: int) -> int:
            return scaled(x)


        @dsl.pipeline
        def p(x: int = 1) -> int:
            return use(x=x).output
        """
    )
    result = converted(text, "flyte")
    assert "def scaled(x):" in result.code and "SCALE = 3" in result.code
    assert "ENDPOINT" not in result.code  # read by nothing a step runs


def test_every_pipeline_no_other_calls_but_the_entry_is_named():
    text = source(
        """
        @dsl.pipeline
        def first(x: int = 1):
            add(a=x, b=1)


        @dsl.pipeline
        def second(x: int = 2):
            add(a=x, b=2)
        """
    )
    result = converted(text, "flyte")
    notes = [d for d in result.diagnostics if d.code == "TP202"]
    assert len(notes) == 1 and notes[0].lossy
    assert "only pipeline second is converted" in notes[0].message
    assert "first" in notes[0].message
    assert notes[0].span.line == line_of(text, "@dsl.pipeline")  # where first is defined


def test_kubernetes_settings_on_a_task_are_noted_at_their_line():
    text = source(
        """
        @dsl.pipeline
        def p(x: int = 1) -> int:
            t = add(a=x, b=1)
            kubernetes.use_secret_as_env(t, secret_name="s", secret_key_to_env={"k": "K"})
            use_field_path_as_env(task=t, env_name="POD", field_path="metadata.name")
            return t.output
        """
    ).replace(
        "from kfp import dsl",
        "from kfp import dsl, kubernetes\nfrom kfp.kubernetes import use_field_path_as_env",
    )
    result = converted(text, "metaflow")
    notes = [(c, line) for c, line in codes(result) if c in ("TP202", "TP232")]
    lines = [line_of(text, "use_secret_as_env(t"), line_of(text, "use_field_path_as_env(task")]
    # the secret is @kubernetes(secrets=...), a TODO in Metaflow (it would run the step there)
    assert sorted(notes) == [("TP202", lines[1]), ("TP232", lines[0])]
    assert all(d.lossy for d in result.diagnostics if d.code in ("TP202", "TP232"))
    made = source(
        """
        @dsl.pipeline
        def p():
            pvc = kubernetes.CreatePVC(pvc_name_suffix="-x", size="1Gi")
            add(a=1, b=2)
        """
    ).replace("from kfp import dsl", "from kfp import dsl, kubernetes")
    kept = read_text(made, "p.py", "kfp")  # a volume is no step: left out, said at its line
    assert [s.name for s in kept.pipeline.steps] == ["add"]
    assert [(c, line) for c, line in codes(kept) if c == "TP202"] == [
        ("TP202", line_of(made, "CreatePVC"))
    ]


def test_a_chained_assignment_binds_every_name():
    text = source(
        """
        @dsl.pipeline
        def p(x: int = 1) -> int:
            t = u = add(a=x, b=2)
            return add(a=t.output, b=u.output).output
        """
    )
    read = read_text(text, "p.py", "kfp")
    assert isinstance(read, Read)
    assert read.pipeline.step("add_2").inputs[0].refs == read.pipeline.step("add_2").inputs[1].refs


def test_loop_items_with_fields_reach_the_step_whole():
    text = source(
        """
        @dsl.pipeline
        def p():
            with dsl.ParallelFor([{"a": 1, "b": 2}, {"a": 10, "b": 20}]) as item:
                add(a=item.a, b=item["b"])
                with dsl.If(item.a > 5):
                    add(a=item.b, b=0)
        """
    )
    read = read_text(text, "p.py", "kfp")
    assert isinstance(read, Read)
    step = read.pipeline.step("add")
    assert [i.name for i in step.inputs] == ["item"]
    assert step.body.startswith("a = item['a']\nb = item['b']\n")
    condition = next(s for s in read.pipeline.steps if s.name.endswith("_condition"))
    assert "item['a'] > 5" in condition.body


def test_a_retry_count_above_metaflows_maximum_is_that_maximum_saying_so():
    text = source(
        """
        @dsl.pipeline
        def p(x: int = 1) -> int:
            t = add(a=x, b=1)
            t.set_retry(num_retries=10)
            return t.output
        """
    )
    result = converted(text, "metaflow")
    assert "@retry(times=4, minutes_between_retries=0)" in result.code
    assert ("TP202", line_of(text, "set_retry")) in codes(result)
    flyte = converted(text, "flyte")
    assert "retries=10" in flyte.code  # Flyte has no such limit


def test_an_image_and_packages_make_one_image_spec():
    text = source(
        """
        @dsl.component(base_image="python:3.10-slim", packages_to_install=["pandas"])
        def size(n: int) -> int:
            return n

        @dsl.pipeline
        def p(x: int = 1) -> int:
            return size(n=x).output
        """
    )
    result = converted(text, "flyte")
    assert (
        'container_image=ImageSpec(base_image="python:3.10-slim", packages=["pandas"])'
        in result.code
    )


def test_a_process_exit_in_a_component_fails_only_its_flyte_task():
    text = "import sys\n" + source(
        """
        @dsl.component
        def check(n: int) -> int:
            if n > 0:
                sys.exit(3)
            if n < -5:
                sys.exit("too small")
            return n

        @dsl.pipeline
        def p(x: int = 1) -> int:
            return check(n=x).output
        """
    )
    result = converted(text, "flyte")
    assert "raise RuntimeError(3)" in result.code
    assert 'raise RuntimeError("too small")' in result.code
    assert "import sys" not in result.code  # nothing else used it
    assert any(d.code == "TP201" and "sys.exit" in d.message for d in result.diagnostics)
    namespace: dict = {}
    body = result.code.split("@task\ndef check(n: int) -> int:\n")[1].split("\n\n")[0]
    exec("def check(n):\n" + body, namespace)  # noqa: S102 - the body this test converted
    assert namespace["check"](0) == 0
    try:
        namespace["check"](2)
    except RuntimeError as exc:
        assert exc.args == (3,)
    else:
        raise AssertionError("no RuntimeError")


def test_a_test_against_true_is_a_test_not_a_name():
    text = source(
        """
        @dsl.component
        def flip(n: int) -> bool:
            return n % 2 == 0

        @dsl.pipeline
        def p(n: int = 2):
            f = flip(n=n)
            with dsl.If(f.output == True):
                add(a=1, b=1)
            with dsl.Else():
                add(a=2, b=2)
        """
    )
    for target in ("flyte", "metaflow"):
        result = converted(text, target)
        assert "True = " not in result.code
        assert "== True" in result.code


def test_an_early_return_keeps_a_rebound_parameter_and_a_builtin_named_parameter():
    text = source(
        """
        @dsl.component
        def normalize(input: str, scheme: str = "https") -> str:
            if input.startswith(scheme):
                return input
            input = f"{scheme}://{input}"
            return input

        @dsl.component
        def echo(input: str) -> str:
            print(input)
            return input

        @dsl.pipeline
        def p(host: str = "x.org") -> str:
            n = normalize(input=host)
            return echo(input=n.output).output
        """
    )
    read = read_text(text, "p.py", "kfp")
    assert isinstance(read, Read)
    scope: dict = {"input": "x.org"}
    exec(read.pipeline.step("normalize").body, scope)  # noqa: S102 - a body read from this test
    assert scope["Output"] == "https://x.org"
    scope = {"input": "hi"}
    exec(read.pipeline.step("echo").body, scope)  # noqa: S102
    assert "builtins" not in read.pipeline.step("echo").body
    assert scope["input"] == "hi"


def test_arguments_built_from_text_and_values():
    text = source(
        """
        @dsl.component
        def say(text: str) -> str:
            return text

        @dsl.pipeline
        def p(name: str = "w") -> str:
            suffix = "_v2"
            t = say(text="a" + suffix)
            u = say(text=f"{t.output}-{name}" + suffix)
            return say(text="%s/%s" % (u.output, name)).output
        """
    )
    read = read_text(text, "p.py", "kfp")
    assert isinstance(read, Read)
    steps = read.pipeline.steps
    assert steps[0].inputs == () and 'text = "a" + "_v2"' in steps[0].body
    first, second = (i.name for i in steps[1].inputs)
    assert steps[1].inputs[1].refs[0].kind == "param"
    scope = {first: "a_v2", second: "w"}
    exec(steps[1].body, scope)  # noqa: S102 - a body read from this test
    assert scope["text"] == "a_v2-w_v2"
    arithmetic = source(
        """
        @dsl.pipeline
        def p(x: int = 1):
            add(a=x * 2, b=1)
        """
    )
    refused = read_text(arithmetic, "p.py", "kfp")
    assert isinstance(refused, Failed) and codes(refused)[0][0] == "TP175"


YAML_COMPONENT = """
name: Repeat
description: Repeats a word.
inputs:
- {name: Word, type: String}
- {name: times, type: Integer, default: "2"}
outputs:
- {name: Result Text, type: String}
implementation:
  container:
    image: alpine
    command:
    - sh
    - -c
    - |
      mkdir -p "$(dirname "$2")"
      out=""; i=0
      while [ $i -lt $1 ]; do out="$out$0"; i=$((i+1)); done
      printf "%s" "$out" > "$2"
    - {inputValue: Word}
    - {inputValue: times}
    - {outputPath: Result Text}
"""


def test_a_component_loaded_from_yaml_text_runs_its_command(tmp_path):
    text = "from kfp import components\n" + source(
        f"""
        repeat_op = components.load_component_from_text({YAML_COMPONENT!r})


        @dsl.pipeline
        def p(word: str = "ab") -> str:
            r = repeat_op(word=word, times=3)
            return r.outputs["result_text"]
        """
    )
    read = read_text(text, "p.py", "kfp")
    assert isinstance(read, Read), read
    step = read.pipeline.step("repeat_op")
    assert [(o.name, o.type.expr) for o in step.outputs] == [("result_text", "str")]
    assert step.doc == "Repeats a word."
    scope: dict = {"word": "ab"}
    exec(step.body, scope)  # noqa: S102 - the command of the YAML above, with sh
    assert scope["result_text"] == "ababab"
    approximated = [d for d in read.diagnostics if d.code == "TP201"]
    assert approximated and approximated[0].lossy and "subprocess" in approximated[0].message


def test_a_component_file_is_read_from_the_source_tree_and_a_url_is_a_todo(tmp_path):
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "repeat.yaml").write_text(YAML_COMPONENT, encoding="utf-8")
    text = "import os\n\nimport kfp\n" + source(
        """
        HERE = os.path.dirname(__file__)
        repeat_op = kfp.components.load_component_from_file(os.path.join(HERE, "parts/repeat.yaml"))
        remote_op = kfp.components.load_component_from_url("https://example.org/c.yaml")


        @dsl.pipeline
        def p(word: str = "ab") -> str:
            r = repeat_op(word=word)
            far = remote_op(text=r.outputs["result_text"], mode="fast")
            return add(a=far.outputs["n"], b=1).output
        """
    )
    path = tmp_path / "p.py"
    path.write_text(text, encoding="utf-8")
    result = convert_text(text, str(path), "flyte")
    assert isinstance(result, Converted), result
    assert "subprocess.run" in result.code
    todo = [d for d in result.diagnostics if d.code == "TP202"]
    assert len(todo) == 1 and "https://example.org/c.yaml" in todo[0].message
    assert todo[0].span.line == line_of(text, "remote_op = ")
    assert "# TODO(transpile): TP202 component remote_op was not read" in result.code
    from transpile.util.syntax import undefined_names

    assert not undefined_names(result.code)
    missing = convert_text(text, str(tmp_path / "elsewhere" / "p.py"), "flyte")
    assert isinstance(missing, Converted)
    assert any("parts/repeat.yaml: no such file" in d.message for d in missing.diagnostics)


CONTAINER_PIPELINE = "from kfp import components\n" + source(
    f"""
        repeat_op = components.load_component_from_text({YAML_COMPONENT!r})


        @dsl.container_component
        def shout(text: str, loud: dsl.OutputPath(str)):
            return dsl.ContainerSpec(
                image="alpine",
                command=["sh", "-c", 'printf "%s!" "$0" | tr a-z A-Z > "$1"'],
                args=[text, loud],
            )


        @dsl.pipeline
        def containers(word: str = "ab") -> str:
            r = repeat_op(word=word, times=2)
            return shout(text=r.outputs["result_text"]).outputs["loud"]
        """
)


@pytest.mark.equivalence
def test_container_components_run_the_same_command_in_metaflow_and_flyte(tmp_path):
    """kfp.local's SubprocessRunner refuses container components (it needs Docker), so the
    KFP side is the value the commands compute: "ab" twice, shouted."""
    from harness import run_flyte, run_metaflow

    expected = {"loud": {"str": "ABAB!"}}  # the pipeline's one result, named as it is returned
    flyte = converted(CONTAINER_PIPELINE, "flyte")
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "flyte_wf.py").write_text(flyte.code, encoding="utf-8")
    assert run_flyte(tmp_path / "f" / "flyte_wf.py", {}, tmp_path / "f") == expected
    metaflow = converted(CONTAINER_PIPELINE, "metaflow")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "metaflow.py").write_text(metaflow.code, encoding="utf-8")
    ran = run_metaflow(tmp_path / "m", "Containers", {}, tmp_path / "run")
    assert ran["loud"] == expected["loud"]


def test_an_artifact_used_as_a_folder_travels_as_a_tar_of_its_files(tmp_path):
    text = source(
        """
        @dsl.component
        def write_folder(folder: dsl.Output[dsl.Artifact]):
            import os

            os.makedirs(folder.path)
            with open(os.path.join(folder.path, "a.txt"), "w") as f:
                f.write("hello")

        @dsl.component
        def read_folder(folder: dsl.Input[dsl.Artifact]) -> str:
            import os

            return ",".join(sorted(os.listdir(folder.path)))

        @dsl.component
        def read_file(data: dsl.Input[dsl.Artifact]) -> int:
            with open(data.path, "rb") as f:
                return len(f.read())

        @dsl.pipeline
        def p() -> str:
            w = write_folder()
            read_file(data=w.outputs["folder"])
            return read_folder(folder=w.outputs["folder"]).output
        """
    )
    read = read_text(text, "p.py", "kfp")
    assert isinstance(read, Read), read
    made = {}
    exec(read.pipeline.step("write_folder").body, made)  # noqa: S102 - bodies of this test
    packed = made["folder"]
    assert isinstance(packed, bytes) and packed.startswith(b"transpile-directory\n")
    scope = {"folder": packed}
    exec(read.pipeline.step("read_folder").body, scope)  # noqa: S102
    assert scope["Output"] == "a.txt"
    # a body that reads a file gets the bytes as a file, as before
    assert "tarfile" not in read.pipeline.step("read_file").body


def test_metrics_and_a_collected_list_of_artifacts():
    text = source(
        """
        @dsl.component
        def make(n: int, out: dsl.Output[dsl.Artifact], metrics: dsl.Output[dsl.Metrics]):
            with open(out.path, "w") as f:
                f.write("y" * n)
            metrics.log_metric("n", n)

        @dsl.component
        def total(parts: dsl.Input[List[dsl.Artifact]]) -> int:
            size = 0
            for part in parts:
                with open(part.path) as f:
                    size += len(f.read())
            return size

        @dsl.pipeline
        def p() -> int:
            with dsl.ParallelFor([1, 2]) as n:
                m = make(n=n)
            return total(parts=dsl.Collected(m.outputs["out"])).output
        """
    )
    read = read_text(text, "p.py", "kfp")
    assert isinstance(read, Read), read
    made = {"n": 2}
    exec(read.pipeline.step("make").body, made)  # noqa: S102 - bodies of this test
    assert made["out"] == b"yy" and made["metrics"] == b'{"n": 2}'
    assert read.pipeline.step("total").inputs[0].type.expr == "list[bytes]"
    scope = {"parts": [b"a", b"bcd"]}
    exec(read.pipeline.step("total").body, scope)  # noqa: S102
    assert scope["size"] == 4


def test_a_loop_over_a_field_of_an_outer_loops_item():
    text = source(
        """
        @dsl.component
        def show(msg: str, extra: Optional[str] = None) -> str:
            return f"{msg}/{extra}"

        @dsl.pipeline
        def p(rows: list = [{"cells": ["a", "b"], "name": "r1"}]):
            with dsl.ParallelFor(rows) as row:
                with dsl.ParallelFor(row.cells) as cell:
                    show(msg=row.name, extra=cell)
        """
    ).replace("from kfp import dsl", "from typing import Optional\n\nfrom kfp import dsl")
    read = read_text(text, "p.py", "kfp")
    assert isinstance(read, Read), read
    items = read.pipeline.step("loop_items")
    scope = {"item": {"cells": ["a", "b"], "name": "r1"}}
    exec(items.body, scope)  # noqa: S102 - a body read from this test
    assert scope["items"] == ["a", "b"]  # the inner loop runs over the field, not the item
    flyte = converted(text, "flyte")
    assert "extra: str | None" in flyte.code  # Optional[str] stays typed for map_task


def test_a_pipeline_returning_all_outputs_of_a_task():
    text = source(
        """
        @dsl.component
        def pair() -> NamedTuple("outputs", val1=str, val2=int):
            outputs = NamedTuple("outputs", val1=str, val2=int)
            return outputs("foo", 2)

        @dsl.pipeline
        def p() -> NamedTuple("outputs", val1=str, val2=int):
            task = pair()
            return task.outputs
        """
    ).replace("from kfp import dsl", "from typing import NamedTuple\n\nfrom kfp import dsl")
    read = read_text(text, "p.py", "kfp")
    assert isinstance(read, Read), read
    results = [(r.name, r.type.expr, r.refs[0].source) for r in read.pipeline.results]
    assert results == [("val1", "str", "pair"), ("val2", "int", "pair")]


def test_a_join_whose_body_imports_simplenamespace_itself_reads_back_whole():
    """The join's inputs shim uses SimpleNamespace; a body importing it later makes the name
    local to the step, so the shim imports it before it is used."""
    from transpile.util.syntax import undefined_names

    flow = textwrap.dedent(
        """
        from metaflow import FlowSpec, step


        class F(FlowSpec):
            @step
            def start(self):
                self.xs = [1, 2]
                self.next(self.each, foreach="xs")

            @step
            def each(self):
                self.y = self.input * 2
                self.next(self.join)

            @step
            def join(self, inputs):
                from types import SimpleNamespace

                self.total = sum(inp.y for inp in inputs)
                self.box = SimpleNamespace(total=self.total)
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    )
    for target in ("kfp", "flyte"):
        result = convert_text(flow, "f.py", target)
        assert isinstance(result, Converted), result
        assert not undefined_names(result.code), target
    read = read_text(flow, "f.py", "metaflow")
    assert isinstance(read, Read)
    body = read.pipeline.step("join").body
    assert body.index("from types import SimpleNamespace") < body.index("SimpleNamespace(y=")


def test_values_gathered_outside_the_loop_that_makes_them_are_refused_for_flyte():
    """KFP lets a pipeline collect an inner loop's outputs after an outer loop (a public test
    pipeline does): the Flyte writer cannot gather them there, and says so at the producer
    (was an internal KeyError)."""
    source = textwrap.dedent(
        """\
        from typing import List
        from kfp import dsl

        @dsl.component
        def double(num: int) -> int:
            return 2 * num

        @dsl.component
        def total(nums: List[List[int]]) -> int:
            return sum(sum(n) for n in nums)

        @dsl.pipeline
        def outer():
            with dsl.ParallelFor([1, 2]) as a:
                with dsl.ParallelFor([3, 4]) as b:
                    inner = double(num=b)
            with dsl.ParallelFor([0, 0]) as _:
                total(nums=dsl.Collected(inner.output))
        """
    )
    result = convert_text(source, "outer.py", "flyte")
    assert isinstance(result, Failed)
    assert [d.code for d in result.diagnostics if d.severity == "error"] == ["TP249"]
    assert result.reason.startswith("outer.py:16:")  # the producer


def test_a_process_exit_with_status_zero_ends_the_flyte_task_successfully():
    """`sys.exit(code)` with code 0 succeeds in KFP: the Flyte task returns (a public sample's
    retry component failed every time, exit 0 included, as `raise RuntimeError(code)`)."""
    text = "import sys\n" + source(
        """
        @dsl.component
        def finish(code: int):
            print("finishing")
            sys.exit(code)

        @dsl.component
        def early(n: int) -> int:
            if n == 0:
                sys.exit(0)
            return n

        @dsl.pipeline
        def p(x: int = 0):
            finish(code=x)
            early(n=x)
        """
    )
    result = converted(text, "flyte")
    namespace: dict = {}
    for name, signature in (("finish", "code"), ("early", "n")):
        body = result.code.split(f"def {name}(")[1].split(":\n", 1)[1].split("\n\n\n")[0]
        exec(f"def {name}({signature}):\n" + body, namespace)  # noqa: S102 - the converted body
    assert namespace["finish"](0) is None  # status 0: the task ends and succeeds
    for call in (lambda: namespace["finish"](2), lambda: namespace["early"](0)):
        try:
            call()
        except RuntimeError:
            pass
        else:
            raise AssertionError("no RuntimeError")
    assert namespace["early"](4) == 4
    assert "if code not in (None, 0):" in result.code
    assert "sys.exit(0) ended the task before it made its outputs" in result.code


NESTED_IFS = """\
from kfp import dsl


@dsl.component
def flip() -> str:
    return "heads"


@dsl.component
def number() -> int:
    return 7


@dsl.component
def say(text: str) -> str:
    return text


@dsl.pipeline
def nested():
    coin = flip()
    with dsl.If(coin.output == "heads"):
        n = number()
        with dsl.If(n.output > 5):
            say(text="big")
        with dsl.If(n.output <= 5):
            say(text="small")
"""


def test_a_case_going_on_after_its_own_conditional_is_noted_for_local_flyte_runs():
    """flytekit's local execution marks a conditional's whole case done when a conditional
    inside that case ends: what follows it never runs locally (a public sample crashed so)."""
    result = converted(NESTED_IFS, "flyte")
    notes = [d.message for d in result.diagnostics if "local Flyte run" in d.message]
    assert len(notes) == 1 and "runs nothing after that conditional" in notes[0]


PROBE = """\
from flytekit import conditional, task, workflow

RAN = []


@task
def mark(x: int) -> None:
    RAN.append(x)


@task
def one() -> str:
    return "1"


@workflow
def nothing() -> None:
    pass


@workflow
def case() -> None:
    k = one()
    conditional("k").if_(k == "1").then(mark(x=1)).else_().then(nothing())
    mark(x=2)  # after the case's own conditional


@workflow
def top() -> None:
    k = one()
    conditional("top").if_(k == "1").then(case()).else_().then(nothing())
"""


@pytest.mark.equivalence
def test_flytekit_locally_skips_what_follows_a_conditional_inside_a_case(tmp_path, monkeypatch):
    """The quirk the note above names, as flytekit 1.16.31 has it: called directly, the case
    runs both marks; run as a conditional's case, only the first."""
    import importlib.util

    path = tmp_path / "probe_conditional_case.py"
    path.write_text(PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = importlib.util.spec_from_file_location("probe_conditional_case", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "probe_conditional_case", module)
    spec.loader.exec_module(module)
    module.case()
    assert module.RAN == [1, 2]
    module.RAN.clear()
    module.top()
    assert module.RAN == [1]  # mark(x=2) never ran
