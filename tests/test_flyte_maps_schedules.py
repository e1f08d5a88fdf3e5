"""Flyte shapes of issue 15 found in flytesnacks: map_task over several lists (zipped by a small
step, lengths checked as Flyte's array node checks them), LaunchPlan schedules beyond cron, and an
ImageSpec bound to a name. The run-both-sides proof is the flyte_wild_maps fixture (its
equivalence runs in Metaflow and KFP); its goldens are in fixtures/flyte_wild_maps/golden/, not
expected/ (other tests read a fixture's expected/ outputs as sources of their own)."""

from __future__ import annotations

import os
import textwrap

import pytest
from conftest import FIXTURES

from transpile.api import Converted, Failed, Read, convert_file, convert_text, read_text

HEAD = textwrap.dedent(
    """\
    import functools
    from datetime import timedelta

    from flytekit import CronSchedule, FixedRate, ImageSpec, LaunchPlan, map_task, task, workflow
    from flytekit.types.file import FlyteFile


    @task
    def cost(quantity: int, price: float, shipping: float) -> float:
        return quantity * price + shipping


    @task
    def prices() -> list[float]:
        return [1.5, 2.5]


    @task
    def pair() -> tuple[list[int], list[int]]:
        return [1], [2]


    @task
    def size(f: FlyteFile, n: int) -> int:
        return n
    """
)


def source(body: str) -> str:
    return HEAD + "\n\n" + textwrap.dedent(body)


def read(text: str) -> Read:
    result = read_text(text, "wf.py", "flyte")
    assert isinstance(result, Read), getattr(result, "reason", result)
    return result


def failure(text: str) -> Failed:
    result = read_text(text, "wf.py", "flyte")
    assert isinstance(result, Failed), "expected a refusal"
    return result


def converted(text: str, target: str) -> Converted:
    result = convert_text(text, "wf.py", target)
    assert isinstance(result, Converted), getattr(result, "reason", result)
    return result


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def codes(result) -> list[tuple[str, int]]:
    return [(d.code, d.span.line if d.span else 0) for d in result.diagnostics]


# map_task over several lists -------------------------------------------------------------------------
ZIPPED = source(
    """
    @workflow
    def wf(qs: list[int] = [1, 2], s: float = 0.5) -> list[float]:
        p = prices()
        partial_task = functools.partial(cost, shipping=s)
        return map_task(partial_task)(quantity=qs, price=p)
    """
)


def test_several_lists_are_zipped_by_a_step_and_the_map_runs_over_the_pairs():
    result = read(ZIPPED)
    pipeline = result.pipeline
    zipped = pipeline.step("cost_zip")
    assert [(i.name, i.type.expr) for i in zipped.inputs] == [
        ("quantity", "list[int]"),
        ("price", "list[float]"),
    ]
    assert zipped.outputs[0].type.expr == "list[tuple[int, float]]"
    body = pipeline.step("cost")
    assert body.body.startswith("quantity, price = item\n")
    assert [(i.name, i.type.expr, i.refs[0].kind) for i in body.inputs] == [
        ("item", "tuple[int, float]", "item"),
        ("shipping", "float", "param"),
    ]
    assert ("TP201", line_of(ZIPPED, "map_task(partial_task)")) in codes(result)


def _zip(pipeline, **lists):
    step = pipeline.step("cost_zip")
    scope = dict(lists)
    exec(step.body, {}, scope)  # noqa: S102 - the step's own code, as every target runs it
    return scope["items"]


def test_the_zip_step_pairs_equal_lists_and_fails_on_different_lengths_as_flyte_does():
    pipeline = read(ZIPPED).pipeline
    assert _zip(pipeline, quantity=[1, 2], price=[1.5, 2.5]) == [(1, 1.5), (2, 2.5)]
    # Flyte's array node fails the run ("input arrays have different lengths"); flytekit's
    # local run indexes past the shorter list or silently stops at the first one's length
    with pytest.raises(
        ValueError, match="input arrays have different lengths: quantity 1, price 2"
    ):
        _zip(pipeline, quantity=[1], price=[1.5, 2.5])


def test_a_literal_list_is_zipped_as_written_and_a_body_name_item_is_not_reused():
    text = source(
        """
        @task
        def tag(item: int, n: int) -> str:
            return f"{item}-{n}"


        @workflow
        def wf(ns: list[int] = [1, 2]) -> list[str]:
            return map_task(tag)(item=[7, 8], n=ns)
        """
    )
    pipeline = read(text).pipeline
    assert pipeline.step("tag_zip").body.startswith("item = [7, 8]\n")
    assert pipeline.step("tag").body.startswith("item, n = item_2\n")


@pytest.mark.parametrize("target", ["metaflow", "kfp"])
def test_zipped_maps_convert_without_undefined_names(target):
    code = converted(ZIPPED, target).code
    assert "list(zip(" in code
    assert "quantity, price = " in code


def test_several_lists_of_files_are_refused_at_the_map():
    text = source(
        """
        @workflow
        def wf(fs: list[FlyteFile], ns: list[int]) -> list[int]:
            return map_task(size)(f=fs, n=ns)
        """
    )
    result = failure(text)
    assert result.diagnostics[0].code == "TP160"
    assert result.diagnostics[0].span.line == line_of(text, "map_task(size)")


def test_a_map_with_every_input_fixed_is_refused_at_the_map():
    text = source(
        """
        @workflow
        def wf(q: int = 1) -> list[float]:
            return map_task(functools.partial(cost, quantity=q, price=1.0, shipping=2.0))()
        """
    )
    result = failure(text)
    assert result.diagnostics[0].code == "TP160"
    assert result.diagnostics[0].span.line == line_of(text, "return map_task")


def test_a_mapped_value_holding_several_outputs_is_refused_at_the_map():
    text = source(
        """
        @workflow
        def wf() -> list[float]:
            both = pair()
            return map_task(cost)(quantity=both, price=[1.0], shipping=[2.0])
        """
    )
    result = failure(text)
    assert result.diagnostics[0].code == "TP161"
    assert result.diagnostics[0].span.line == line_of(text, "return map_task")


# LaunchPlan schedules ---------------------------------------------------------------------------------
def plan(schedule: str, inputs: str = "n: int = 1") -> str:
    return source(
        f"""
        @task
        def show(n: int) -> int:
            return n


        @workflow
        def wf({inputs}) -> int:
            return show(n=1)


        lp = LaunchPlan.get_or_create(
            workflow=wf,
            name="lp",
            schedule={schedule},
        )
        """
    )


@pytest.mark.parametrize(
    ("duration", "metaflow", "kfp"),
    [
        ("timedelta(minutes=10)", '@schedule(cron="*/10 * * * *")', '"0 */10 * * * *"'),
        ("timedelta(hours=1)", "@schedule(hourly=True)", '"0 0 * * * *"'),
        ("timedelta(hours=6)", '@schedule(cron="0 */6 * * *")', '"0 0 */6 * * *"'),
        ("timedelta(days=1)", "@schedule(daily=True)", '"0 0 0 * * *"'),
        ("timedelta(weeks=1)", "@schedule(weekly=True)", '"0 0 0 * * 0"'),
    ],
)
def test_a_fixed_rate_becomes_the_schedule_of_that_period(duration, metaflow, kfp):
    text = plan(f"FixedRate(duration={duration})")
    result = converted(text, "metaflow")
    assert metaflow in result.code
    line = line_of(text, "schedule=FixedRate")
    assert ("TP201", line) in codes(result)  # clock-aligned, where Flyte counts from activation
    assert f"cron_expression={kfp}" in converted(text, "kfp").code


@pytest.mark.parametrize("duration", ["timedelta(minutes=7)", "timedelta(hours=5)", "delta"])
def test_a_fixed_rate_no_cron_can_say_is_named_at_its_line(duration):
    text = plan(f"FixedRate(duration={duration})").replace(
        "import functools", "delta = 1\nimport functools"
    )
    result = converted(text, "metaflow")
    assert "@schedule" not in result.code
    found = [d for d in result.diagnostics if d.code == "TP202" and "FixedRate" in d.message]
    assert found and found[0].lossy
    assert found[0].span.line == line_of(text, "schedule=FixedRate")


def test_a_cron_schedules_kickoff_input_is_named_as_lost():
    text = plan(
        'CronSchedule(schedule="0 3 * * *", kickoff_time_input_arg="when")',
        inputs="when: str, n: int = 1",
    )
    result = converted(text, "metaflow")
    assert '@schedule(cron="0 3 * * *")' in result.code
    found = [d for d in result.diagnostics if "kickoff_time_input_arg" in d.message]
    assert [(d.code, d.lossy, d.span.line) for d in found] == [
        ("TP202", True, line_of(text, "schedule=CronSchedule"))
    ]


# ImageSpec bound to a name ----------------------------------------------------------------------------
def test_an_image_spec_bound_to_a_name_gives_its_packages():
    text = source(
        """
        img = ImageSpec(
            packages=["tabulate==0.10.0"],
            python_version="3.11",
            env={"MODE": "x"},
            registry="ghcr.io/me",
        )
        alias = img


        @task(container_image=alias)
        def show(n: int) -> int:
            return n


        @workflow
        def wf(n: int = 1) -> int:
            return show(n=n)
        """
    )
    metaflow = converted(text, "metaflow")
    assert '@pypi(packages={"tabulate": "0.10.0"}, python="3.11")' in metaflow.code
    assert '@environment(vars={"MODE": "x"})' in metaflow.code  # the image's variables
    assert not [d for d in metaflow.diagnostics if "container_image" in d.message]
    named = [d.message for d in metaflow.diagnostics if "ImageSpec settings" in d.message]
    assert named == ["ImageSpec settings registry are not carried over"]
    assert 'packages_to_install=["tabulate==0.10.0"]' in converted(text, "kfp").code


# the fixture's goldens (read when written: see the module docstring of test_writer_output) -------
@pytest.mark.parametrize("target", ["metaflow", "kfp"])
def test_the_fixture_matches_its_reviewed_golden(target, monkeypatch):
    monkeypatch.chdir(FIXTURES.parent)
    result = convert_file("fixtures/flyte_wild_maps/flyte.py", target)
    assert isinstance(result, Converted), getattr(result, "reason", result)
    golden = FIXTURES / "flyte_wild_maps" / "golden" / f"{target}.py"
    if os.environ.get("TRANSPILE_UPDATE_GOLDENS"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(result.code, encoding="utf-8")
    assert result.code == golden.read_text(encoding="utf-8")
