"""A file holding several pipelines (issue 15, item 2; issue 16, item 6): ``convert -o`` writes
each entry to a module of its own (``out.py`` for the one a reader picks by default,
``out_<name>.py`` beside it for each other), in every direction; stdout holds one module, so
there the others are named (lossy), not written. The two entries of the fixture that are not
its default are proven by running both sides (the default runs in the equivalence tests)."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES
from output_checks import ruff
from staging import verified

from transpile.api import Converted, convert_text
from transpile.cli import cli
from transpile.util.fileio import entry_destination

THREE = FIXTURES / "flyte_three_entries" / "flyte.py"


def invoke(*args: str):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return result


def undefined_names(folder: Path) -> str:
    """ruff's F821-F823 findings over every module in ``folder``."""
    found = ""
    for module in sorted(folder.iterdir()):
        checked = ruff("check", "--select", "F821,F822,F823", code=module.read_text("utf-8"))
        found += "" if checked.returncode == 0 else f"{module.name}: {checked.stdout}"
    return found


@pytest.mark.parametrize("target", ["metaflow", "kfp", "airflow"])
def test_each_entry_of_a_file_is_a_module_of_its_own(tmp_path, target):
    out = tmp_path / "out" / "shop.py"
    result = invoke("convert", str(THREE), "--to", target, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "shop.py",
        "shop_daily.py",
        "shop_restock.py",
    ]
    assert "TP202" not in result.stderr
    assert "this file holds 3 pipelines: weekly is converted here, each of the others " in (
        result.stderr
    )
    for module in out.parent.iterdir():
        ast.parse(module.read_text(encoding="utf-8"))
    assert undefined_names(out.parent) == ""
    # each module holds its own entry only (count, the sub-workflow, is no module of its own)
    names = {"shop.py": "weekly", "shop_daily.py": "daily", "shop_restock.py": "restock"}
    for module, entry in names.items():
        text = (out.parent / module).read_text(encoding="utf-8").lower()
        assert entry in text
        assert all(other not in text for other in names.values() if other != entry)


def test_stdout_names_the_other_entries_as_not_converted():
    result = invoke("convert", str(THREE), "--to", "kfp")
    assert result.exit_code == 0
    assert "def weekly(" in result.stdout and "def daily(" not in result.stdout
    assert (
        "TP202 only workflow weekly is converted (the one a LaunchPlan names, else the last no "
        "other workflow calls); not converted: daily, restock (convert with -o FILE writes each "
        "to a module of its own, FILE_<name>.py; --entry NAME chooses one)"
    ) in result.stderr
    assert invoke("convert", str(THREE), "--to", "kfp", "--strict").exit_code == 1


def test_no_module_is_written_when_one_of_them_exists(tmp_path):
    out = tmp_path / "shop.py"
    taken = tmp_path / "shop_restock.py"
    taken.write_text("# mine\n")
    result = invoke("convert", str(THREE), "--to", "kfp", "-o", str(out))
    assert result.exit_code == 2
    assert f"refused to overwrite {taken} (use --force)" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop_restock.py"]
    assert taken.read_text() == "# mine\n"
    forced = invoke("convert", str(THREE), "--to", "kfp", "-o", str(out), "--force")
    assert forced.exit_code == 0 and "def restock(" in taken.read_text()


def test_check_compares_every_module(tmp_path):
    out = tmp_path / "shop.py"
    assert invoke("convert", str(THREE), "--to", "flyte", "-o", str(out)).exit_code == 2
    # Flyte is the source's own framework: nothing to write; use Metaflow
    assert invoke("convert", str(THREE), "--to", "metaflow", "-o", str(out)).exit_code == 0
    fresh = invoke("convert", str(THREE), "--to", "metaflow", "-o", str(out), "--check")
    assert fresh.exit_code == 0, fresh.stderr
    (tmp_path / "shop_daily.py").unlink()
    stale = invoke("convert", str(THREE), "--to", "metaflow", "-o", str(out), "--check")
    assert stale.exit_code == 1
    assert f"would rewrite {tmp_path / 'shop_daily.py'} (missing)" in stale.stderr


def test_a_batch_writes_each_entry_beside_the_mirrored_file(tmp_path):
    source = tmp_path / "src" / "jobs" / "shop.py"
    source.parent.mkdir(parents=True)
    source.write_text(THREE.read_text(encoding="utf-8"))
    out = tmp_path / "out"
    result = invoke("convert", str(tmp_path / "src"), "--to", "kfp", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (out / "jobs").iterdir()) == [
        "shop.py",
        "shop_daily.py",
        "shop_restock.py",
    ]
    single = tmp_path / "single.py"
    assert invoke("convert", str(source), "--to", "kfp", "-o", str(single)).exit_code == 0
    batch, alone = out / "jobs" / "shop_daily.py", tmp_path / "single_daily.py"
    assert batch.read_text() == alone.read_text()
    again = invoke("convert", str(tmp_path / "src"), "--to", "kfp", "-o", str(out), "--check")
    assert again.exit_code == 0, again.stderr


def test_an_entry_that_does_not_convert_is_named_and_the_others_are_written(tmp_path):
    text = textwrap.dedent(
        """
        from kfp import dsl


        @dsl.component
        def add(a: int, b: int) -> int:
            return a + b


        @dsl.pipeline
        def first(x: int = 1):
            add(a=x, b=1)


        @dsl.pipeline
        def broken(x: int = 1):
            while x:
                add(a=x, b=2)


        @dsl.pipeline
        def last(x: int = 3):
            add(a=x, b=3)
        """
    )
    result = convert_text(text, "p.py", "flyte", every_entry=True)
    assert isinstance(result, Converted) and result.pipeline.name == "Last"
    assert [name for name, _ in result.others] == ["first"]
    (note,) = [d for d in result.diagnostics if d.code == "TP202"]
    assert note.lossy and note.message.startswith("pipeline broken is not converted: TP")
    assert note.span is not None and note.span.line == 17  # at the refused statement


def test_several_dags_of_an_airflow_file_each_convert():
    text = textwrap.dedent(
        """
        from airflow.sdk import dag, task


        @dag(dag_id="first-dag.v1")
        def first():
            @task
            def one() -> int:
                return 1

            one()


        first()


        @dag
        def second():
            @task
            def two() -> int:
                return 2

            two()


        second()
        """
    )
    result = convert_text(text, "dags.py", "kfp", every_entry=True)
    assert isinstance(result, Converted)
    assert [name for name, _ in result.others] == ["second"]
    assert "return 1" in result.code and "return 2" in result.others[0][1].code
    plain = convert_text(text, "dags.py", "kfp")
    (note,) = [d for d in plain.diagnostics if d.code == "TP202"]
    assert note.lossy and note.span is not None and note.span.line == 17
    assert entry_destination("o/dags.py", "first-dag.v1") == "o/dags_first_dag_v1.py"


@pytest.mark.equivalence
@pytest.mark.parametrize(
    ("entry", "target", "params"),
    [
        ("daily", "kfp", {"counts": "5,5,1"}),
        ("restock", "metaflow", {"counts": "9,1,0,6", "minimum": 4}),
    ],
)
def test_an_entry_that_is_not_the_default_runs_the_same(entry, target, params, tmp_path):
    verified(THREE, target, params, tmp_path, entry=entry)


PLANS = textwrap.dedent(
    """
    from flytekit import LaunchPlan, task, workflow


    @task
    def scale(x: int, factor: int) -> int:
        return x * factor


    @workflow
    def scaled(x: int = 1, factor: int = 2) -> int:
        return scale(x=x, factor=factor)


    default = LaunchPlan.get_default_launch_plan(None, scaled)
    tripled = LaunchPlan.get_or_create(scaled, "tripled", fixed_inputs={"factor": 3})
    big = LaunchPlan.get_or_create(
        scaled, name="big", default_inputs={"x": 100}, max_parallelism=2
    )
    nightly = LaunchPlan.get_or_create(scaled, "nightly", default_inputs={"x": 7})
    """
)


def test_each_launch_plan_of_a_workflow_is_an_entry_of_its_own():
    """The workflow's module takes its last plan (nightly); every earlier plan with settings of
    its own is a module named after it, with its inputs; the default plan is none."""
    result = convert_text(PLANS, "plans.py", "kfp", every_entry=True)
    assert isinstance(result, Converted), result
    assert [name for name, _ in result.others] == ["tripled", "big"]
    assert "def scaled(x: int = 7, factor: int = 2)" in result.code
    tripled, big = (other for _, other in result.others)
    assert tripled.pipeline.name == "Tripled" and "def tripled(x: int = 1)" in tripled.code
    assert "factor = 3" in tripled.code  # a fixed input: a constant of the pipeline
    assert "def big(x: int = 100, factor: int = 2)" in big.code
    # a setting of a plan no target carries stays a TODO in that plan's module only
    assert "max_parallelism=2" in big.code and "max_parallelism" not in result.code
    assert not any(d.code == "TP202" and "LaunchPlan \"tripled\"" in d.message
                   for d in result.diagnostics)  # fmt: skip


def test_entry_names_a_launch_plan_and_an_unknown_one_lists_them():
    chosen = convert_text(PLANS, "plans.py", "kfp", entry="big")
    assert isinstance(chosen, Converted) and chosen.pipeline.name == "Big"
    assert not [d for d in chosen.diagnostics if "--entry" in d.message]
    missing = convert_text(PLANS, "plans.py", "kfp", entry="weekly")
    assert not isinstance(missing, Converted)
    assert "(found: scaled, tripled, big)" in missing.reason


def test_verify_names_the_entries_it_did_not_run(capsys):
    from transpile.cli import _name_unverified_entries

    _name_unverified_entries(str(THREE), "auto")
    assert capsys.readouterr().err == (
        f"{THREE}: verified weekly only, one of 3 pipelines in this file; verify each other "
        "with --entry NAME (daily, restock)\n"
    )
    _name_unverified_entries(str(FIXTURES / "flyte_wild_maps" / "flyte.py"), "auto")
    assert capsys.readouterr().err == ""


def test_a_launch_plan_name_that_is_no_identifier_names_a_valid_pipeline():
    """A plan named "1st run\\nimport os" converts to a pipeline ``plan1st_run...`` (its text
    never reaches the code as a statement); the module's file name is made safe too."""
    text = PLANS.replace('"tripled"', "\"1st run\\nimport os; os.system('x')\"")
    result = convert_text(text, "plans.py", "kfp", every_entry=True)
    assert isinstance(result, Converted), getattr(result, "reason", result)
    (name, other), _ = result.others
    assert name == "1st run\nimport os; os.system('x')"
    assert "def plan1st_run_import_os_os_system_x(x: int = 1)" in other.code
    assert "\nimport os" not in other.code
    assert ruff("check", "--select", "F821,F822,F823", code=other.code).returncode == 0
    assert entry_destination("o/p.py", name) == "o/p_1st_run_import_os__os_system__x__.py"
