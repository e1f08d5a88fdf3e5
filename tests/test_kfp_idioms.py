"""Our KFP writer's idioms read back as what they stand for (issues 4 and 8): typed pickled
values, artifacts renamed around builtins, and JSON parameters taken as text."""

from __future__ import annotations

import textwrap

from transpile.api import Read, read_text
from transpile.model.ir import Ref
from transpile.writing.types import declarable

HEADER = """\
import json
from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Artifact, Input, Output


def save_value(value, path):
    pass


def load_value(path):
    pass


"""


def read(source: str) -> Read:
    result = read_text(HEADER + textwrap.dedent(source), "p.py", "kfp")
    assert isinstance(result, Read), getattr(result, "reason", result)
    return result


def run_body(body: str, **inputs) -> dict:
    """Execute a neutral step body; its locals afterwards."""
    scope = dict(inputs)
    exec(compile(body, "<body>", "exec"), scope)  # noqa: S102 - bodies built by the test itself
    return scope


PICKLED = """
@dsl.component(additional_funcs=[load_value, save_value])
def configure(values: Input[Artifact], err_out: Output[Artifact], len_out: Output[Artifact]):
    values: list[int] = load_value(values.path)
    err: str | None
    note: str
    err = None
    note = "kept"
    len_ = len(values)
    save_value(err, err_out.path)
    save_value(len_, len_out.path)


@dsl.component(additional_funcs=[save_value])
def start(values_out: Output[Artifact]):
    values = [1, 2]
    save_value(values, values_out.path)


@dsl.component(additional_funcs=[load_value])
def end(len: Input[Artifact]) -> int:
    len = load_value(len.path)
    return len


@dsl.pipeline
def p():
    s = start()
    c = configure(values=s.outputs["values_out"])
    end(len=c.outputs["len_out"])
"""


def test_pickled_values_take_the_types_the_writer_annotated():
    pipeline = read(PICKLED).pipeline
    configure = pipeline.step("configure")
    assert [(i.name, i.type.expr) for i in configure.inputs] == [("values", "list[int]")]
    assert {o.name: o.type.expr for o in configure.outputs}["err"] == "str | None"
    assert "err: str" not in configure.body and "load_value" not in configure.body
    assert "note: str" in configure.body  # a bare annotation of the step's own local stays


def test_an_artifact_renamed_around_a_builtin_keeps_the_outputs_name():
    pipeline = read(PICKLED).pipeline
    outputs = {o.name: o.var for o in pipeline.step("configure").outputs}
    assert outputs == {"err": "err", "len": "len_"}
    assert pipeline.step("end").inputs[0].refs == (Ref("output", "configure", "len"),)


def test_an_artifact_named_like_another_output_is_named_after_its_local():
    pipeline = read(
        """
        @dsl.component(additional_funcs=[save_value])
        def make(y_out: Output[Artifact]) -> NamedTuple("Outputs", [("y", int)]):
            x = [1]
            save_value(x, y_out.path)
            return (2,)


        @dsl.pipeline
        def p():
            make()
        """
    ).pipeline
    assert [(o.name, o.var) for o in pipeline.step("make").outputs] == [("y", "y"), ("x", "x")]


JSON_TEXT = """
@dsl.component
def middle(options: str, n: int) -> int:
    import json

    # JSON text: a dict or list parameter would turn its ints into floats
    options = json.loads(options)
    level = options.get("level", 0) * n
    return level


@dsl.component
def say(text: str) -> str:
    return text
"""


def test_json_text_parameters_read_back_as_json_parameters():
    pipeline = read(
        JSON_TEXT
        + textwrap.dedent(
            """
        @dsl.pipeline
        def p(options: str = '{"mode": "fast", "level": 2}'):
            middle(options=options, n=3)
        """
        )
    ).pipeline
    (options,) = pipeline.parameters
    assert (options.kind, options.type.known) == ("json", False)
    assert options.default == "{'mode': 'fast', 'level': 2}"
    middle = pipeline.step("middle")
    assert not middle.inputs[0].type.known
    assert "json" not in middle.body
    assert run_body(middle.body, options={"level": 2}, n=3)["level"] == 6


def test_json_text_stays_text_where_a_component_takes_it_as_text():
    pipeline = read(
        JSON_TEXT
        + textwrap.dedent(
            """
        @dsl.pipeline
        def p(options: str = '{"level": 2}'):
            middle(options=options, n=3)
            say(text=options)
        """
        )
    ).pipeline
    assert [(p.kind, p.type.expr) for p in pipeline.parameters] == [("value", "str")]
    middle = pipeline.step("middle")
    assert middle.inputs[0].type.expr == "str"
    assert run_body(middle.body, options='{"level": 2}', n=3)["level"] == 6


def test_json_text_from_a_task_output_or_a_literal_is_parsed_in_the_body():
    pipeline = read(
        JSON_TEXT
        + textwrap.dedent(
            """
        @dsl.pipeline
        def p():
            said = say(text='{"level": 1}')
            middle(options=said.output, n=3)
            middle(options='{"level": 5}', n=1)
        """
        )
    ).pipeline
    fed, literal = pipeline.step("middle"), pipeline.step("middle_2")
    assert fed.inputs[0].type.expr == "str"
    assert run_body(fed.body, options='{"level": 1}', n=3)["level"] == 3
    assert run_body(literal.body, n=1)["level"] == 5


def test_only_fully_known_types_unhidden_by_a_local_are_declared():
    assert declarable("str | None", set())
    assert declarable("list[Stats]", {"Stats"})
    assert not declarable("list[typing.Any]", set())
    assert not declarable("list[Stats]", set())
