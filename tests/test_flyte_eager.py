"""Issue 15: an ``@eager`` workflow whose body is straight-line code builds the same graph on
every run, so it is read as the ``@workflow`` it is equivalent to; one that branches, loops,
catches or checks at run time is refused at that statement, and only that pipeline: the file's
other entries convert. (flytekit 1.16's local runner cannot run an eager workflow, even the
flytesnacks example, so the proof here is that both spellings read as one model.)"""

from __future__ import annotations

import textwrap

import pytest
from staging import same_when_run

from transpile.api import Converted, Failed, Read, convert_text, read_text
from transpile.diff import diff_pipelines

TASKS = """
from flytekit import eager, task, workflow


@task
def add_one(x: int) -> int:
    return x + 1


@task
def double(x: int) -> int:
    return x * 2
"""

EAGER = TASKS + textwrap.dedent(
    """

    @eager
    async def inner(x: int) -> int:
        return await add_one(x=x)


    @eager
    async def outer(x: int = 3) -> int:
        once = await inner(x=x)
        twice = await double(x=once)
        return await add_one(x=twice)
    """
)

WORKFLOW = EAGER.replace("@eager\nasync def", "@workflow\ndef").replace("await ", "")


def read(text: str):
    result = read_text(text, "wf.py", "flyte")
    assert isinstance(result, Read), getattr(result, "reason", result)
    return result


def test_a_straight_line_eager_workflow_reads_as_its_workflow():
    eager, plain = read(EAGER), read(WORKFLOW)
    assert [s.name for s in eager.pipeline.steps] == ["inner_add_one", "double", "add_one"]
    same = diff_pipelines(plain.pipeline, eager.pipeline, "workflow.py", "eager.py")
    assert not same.differences
    notes = [d.message for d in eager.diagnostics if d.code == "TP201" and "@eager" in d.message]
    assert notes == [
        "@eager 'inner' builds the same graph on every run: read as a @workflow",
        "@eager 'outer' builds the same graph on every run: read as a @workflow",
    ]


@pytest.mark.parametrize("target", ["metaflow", "kfp", "airflow"])
def test_it_converts_with_no_await_left(target):
    result = convert_text(EAGER, "wf.py", target)
    assert isinstance(result, Converted), getattr(result, "reason", result)
    assert "await" not in result.code and "async" not in result.code


@pytest.mark.parametrize(
    ("body", "line", "why"),
    [
        ("    if out < 0:\n        return -1\n", "if out < 0:", "branches on a value at run time"),
        ("    for i in range(x):\n        out = out + i\n", "for i in range(x):", "loops at run time"),
        ("    try:\n        out = 1\n    except Exception:\n        out = 2\n", "try:",
         "catches a task's failure at run time"),
        ("    assert out > 0\n", "assert out > 0", "checks a value at run time"),
        ("    outs = await asyncio.gather(add_one(x=1))\n",
         "outs = await asyncio.gather(add_one(x=1))", "runs tasks side by side with asyncio"),
    ],
)  # fmt: skip
def test_a_graph_built_while_running_is_refused_at_its_statement(body, line, why):
    text = TASKS + (
        "\n\n@eager\nasync def dyn(x: int = 1) -> int:\n"
        "    out = await add_one(x=x)\n" + body + "    return await double(x=out)\n"
    )
    result = convert_text(text, "wf.py", "kfp")
    assert isinstance(result, Failed)
    (error,) = [d for d in result.diagnostics if d.severity == "error"]
    assert error.code == "TP163"
    assert error.message.startswith(f"@eager 'dyn' {why} (`{line}`)")
    assert text.splitlines()[error.span.line - 1].strip() == line


def test_only_the_refused_entry_fails_the_others_convert():
    text = EAGER + (
        "\n\n@eager\nasync def guarded(x: int = 1) -> int:\n"
        "    out = await add_one(x=x)\n    if out > 1:\n        return 0\n    return out\n"
    )
    result = convert_text(text, "wf.py", "kfp", every_entry=True)
    assert isinstance(result, Converted) and result.pipeline.name == "Outer"
    (note,) = [d for d in result.diagnostics if d.code == "TP202"]
    assert note.lossy and note.message.startswith(
        "pipeline guarded is not converted: TP163 @eager 'guarded' branches on a value"
    )
    assert text.splitlines()[note.span.line - 1].strip() == "if out > 1:"


@pytest.mark.equivalence
def test_the_eager_conversion_is_the_workflows_which_runs_the_same(tmp_path):
    eager, plain = convert_text(EAGER, "wf.py", "kfp"), convert_text(WORKFLOW, "wf.py", "kfp")
    assert isinstance(eager, Converted) and isinstance(plain, Converted)
    assert eager.code == plain.code
    same_when_run(WORKFLOW, "kfp", tmp_path, name="wf.py")
