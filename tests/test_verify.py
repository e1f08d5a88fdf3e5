"""``transpile verify``: the comparison, the command line, and runs that are the same, that differ
(deliberately broken conversions), that cannot run, and that are not stable."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path

import pytest

from transpile import api
from transpile.cli import run
from transpile.model.diagnostics import Diagnostic
from transpile.verify import check
from transpile.verify.check import Compared, compare, entry_function, typed_params, verdict_of
from transpile.verify.render import short_details
from transpile.verify.runs import error_line
from transpile.verify.values import normalize

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

TINY = """\
from metaflow import FlowSpec, Parameter, step


class TinyFlow(FlowSpec):
    n = Parameter("n", default=3, type=int)

    @step
    def start(self):
        self.base = self.n * 2
        self.next(self.left, self.right)

    @step
    def left(self):
        self.value = self.base + 1
        self.next(self.join)

    @step
    def right(self):
        self.value = self.base + 100
        self.next(self.join)

    @step
    def join(self, inputs):
        self.low = inputs.left.value
        self.high = inputs.right.value
        self.next(self.end)

    @step
    def end(self):
        self.total = self.low + self.high


if __name__ == "__main__":
    TinyFlow()
"""


def flow_file(tmp_path: Path, text: str, name: str = "flow.py") -> Path:
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def n(value):
    return normalize(value)


# --- comparing ---------------------------------------------------------------------------------


def test_compare_names_every_kind_of_difference():
    source = {"same": n(1), "typed": n(1), "gone": n("x"), "noise": n(0.1)}
    target = {"same": n(1), "typed": n(1.0), "extra": n([1]), "noise": n(0.2)}
    got = {c.name: c.status for c in compare(source, target, (), "flyte", frozenset({"noise"}))}
    assert got == {
        "same": "same",
        "typed": "differs",
        "gone": "only-source",
        "extra": "only-target",
        "noise": "unstable",
    }
    assert verdict_of(compare(source, target, (), "flyte")) == "differs"
    assert verdict_of(compare({"a": n(1)}, {"a": n(1)}, (), "kfp")) == "same"


def test_a_metaflow_target_is_compared_on_the_source_names_only():
    """The emitted flow's end step also shows intermediate artifacts; they are not results."""
    values = compare({"total": n(3)}, {"total": n(3), "base": n(1)}, (), "metaflow")
    assert [(c.name, c.status) for c in values] == [("total", "same")]


def test_only_differences_the_conversion_reports_are_accepted():
    tp220 = Diagnostic("TP220", "warning", "result 'pair' is a tuple; Flyte returns a list", None)
    values = compare({"pair": n((1, 2))}, {"pair": n([1, 2])}, (tp220,), "flyte")
    assert [(c.status, c.note) for c in values] == [("accepted", "a tuple as a list (TP220)")]
    unreported = compare({"pair": n((1, 2))}, {"pair": n([1, 2])}, (), "flyte")
    assert verdict_of(unreported) == "differs"


def test_parameters_are_typed_as_the_pipeline_declares_them():
    read = api.read_file(str(FIXTURES / "flyte_basket" / "flyte.py"))
    assert isinstance(read, api.Read)
    typed = typed_params(read.pipeline, {"quantities": "[5, 1]", "unit": "2", "tax": "0"})
    assert typed == {"quantities": [5, 1], "unit": 2.0, "tax": 0.0}
    assert type(typed["unit"]) is float
    with pytest.raises(check.VerifyError, match="no parameter 'colour'"):
        typed_params(read.pipeline, {"colour": "red"})
    with pytest.raises(check.VerifyError, match="parameter unit"):
        typed_params(read.pipeline, {"unit": "two"})


def test_the_entry_function_is_found_at_the_pipelines_line():
    text = "@a\n@b\ndef first():\n    pass\n\n\n@c\ndef second():\n    pass\n"
    assert entry_function(text, 1) == "first"
    assert entry_function(text, 8) == "second"


def test_a_failed_run_is_named_by_the_error_it_ended_with():
    stdout = (
        "2026-12-05 12:37:15.819 [17/start/1 (pid 11229)]     raise ValueError('boom')\n"
        "2026-12-05 12:37:15.819 [17/start/1 (pid 11229)] ValueError: boom from start\n"
        "2026-12-05 12:37:15.820 Workflow failed.\n"
    )
    stderr = "Validating your flow...\n    The graph looks good!\n    Step failure:\n"
    assert error_line(stdout, stderr) == "ValueError: boom from start"
    assert error_line("", "Traceback...\n  x\nKeyError: 'k'\n") == "KeyError: 'k'"
    assert error_line("", "just this\n") == "just this"
    validation = "Validating your flow...\n    Incompatible environment:\n    @pypi needs pypi\n"
    assert error_line("", validation) == "Incompatible environment: @pypi needs pypi"
    coloured = (
        "RuntimeError: Pipeline \x1b[95m'wf'\x1b[0m finished with status \x1b[91mFAILURE\x1b[0m."
    )
    assert error_line("", coloured) == "RuntimeError: Pipeline 'wf' finished with status FAILURE."


def test_details_keep_the_last_lines_of_each_output():
    details = "  cwd: /w\n  cmd: x\n--- stdout (tail) ---\n" + "\n".join(map(str, range(40)))
    details += "\n--- stderr (tail) ---\nE: boom\n"
    shown = short_details(details, keep=3)
    assert shown.splitlines() == [
        "  cwd: /w",
        "  cmd: x",
        "--- stdout (tail) ---",
        "37",
        "38",
        "39",
        "--- stderr (tail) ---",
        "E: boom",
    ]


# --- the command line, without running anything --------------------------------------------------


def test_help_says_verify_executes_the_code(capsys):
    assert run(["verify", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "This executes SRC and the converted code on this machine" in text
    assert "pip install 'transpile[verify]'" in text


def test_a_missing_framework_is_named_with_the_install_command(tmp_path, monkeypatch, capsys):
    path = flow_file(tmp_path, TINY)
    monkeypatch.setitem(check.RUNNERS, "flyte", "flytekit_that_is_not_installed")
    assert run(["verify", str(path), "--to", "flyte"]) == 2
    err = capsys.readouterr().err
    expected = (
        "verify needs flytekit_that_is_not_installed installed: pip install 'transpile[verify]'"
    )
    assert err.splitlines() == [f"{path}: {expected}"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "m=1"], "no parameter 'm' (parameters: n)"),
        (["-p", "n=three"], "parameter n: invalid literal for int()"),
        (["-p", "n"], "-p 'n': expected NAME=VALUE"),
    ],
)
def test_bad_parameters_are_one_line_and_exit_2(tmp_path, capsys, args, message):
    path = flow_file(tmp_path, TINY)
    assert run(["verify", str(path), "--to", "kfp", *args]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"{path}: ") and message in line


@pytest.mark.equivalence
def test_an_airflow_2_dag_that_airflow_3_cannot_load_names_the_import(capsys):
    """Airflow 3.3 removed airflow.operators.dummy: the run names the import it could not make
    (``airflow dags reserialize`` exits 0 on such a file; verify reads the error from its log)."""
    source = FIXTURES / "airflow2_operators" / "airflow.py"
    assert run(["verify", str(source), "--to", "kfp", "--source-runs", "1"]) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{source}: airflow → kfp: could not run the source (airflow): Airflow could not load "
        "af_dag.py: No module named 'airflow.operators.dummy'"
    )


RAISING_DAG = """\
from airflow.sdk import Param, dag, task


@task
def check(n: int) -> int:
    if n > 2:
        raise ValueError(f"n is {n}")
    return n


@dag(params={"n": Param(1, type="integer")})
def raising():
    check(n=3)


raising()
"""


@pytest.mark.equivalence
def test_an_airflow_task_that_raises_is_named_by_its_error(tmp_path, capsys):
    path = tmp_path / "dag.py"
    path.write_text(RAISING_DAG)
    assert run(["verify", str(path), "--to", "flyte", "--source-runs", "1"]) == 2
    first = capsys.readouterr().err.splitlines()[0]
    assert first == (
        f"{path}: airflow → flyte: could not run the source (airflow): airflow dags test raising "
        "failed (exit 1): ValueError: n is 3"
    )


@pytest.mark.equivalence
def test_an_airflow_dag_is_run_alone_whatever_lies_beside_it(tmp_path, capsys):
    """The folder is copied for the run, but Airflow parses only the DAG's file: a sibling
    defining the same dag_id, or one that fails to import, does not stop the run."""
    path = tmp_path / "dag.py"
    path.write_text(RAISING_DAG.replace("check(n=3)", "check(n=2)"))
    (tmp_path / "copy_of_dag.py").write_text(RAISING_DAG)
    (tmp_path / "broken.py").write_text("import not_installed_anywhere\n")
    assert run(["verify", str(path), "--to", "flyte", "--source-runs", "1"]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: airflow → flyte: same results")


def test_task_ids_are_matched_as_the_airflow_reader_names_steps():
    from transpile.frameworks.airflow.reader.dag_body import _identifier
    from transpile.verify.runs import _identifier as verify_identifier

    for name in ("load", "group.load", "2nd-step", "", "ünï"):
        assert verify_identifier(name) == _identifier(name)


def test_dag_ids_are_matched_as_the_airflow_reader_names_pipelines():
    """A dag_id starting with a digit (``001_hello``) is the pipeline ``dag_001_hello``."""
    from transpile.frameworks.airflow.reader.read import _identifier
    from transpile.verify.runs import _identifier as verify_identifier

    for name in ("etl", "001_hello", "my-dag.v2", "", "ünï"):
        assert verify_identifier(name, "dag_") == _identifier(name)


def test_an_airflow_runs_xcom_values_keep_a_whole_number_float(tmp_path):
    """SQLite gives a column declared JSON numeric affinity, which stores the JSON text 4.0 as
    the integer 4; the run's database keeps the text, as Postgres and MySQL keep the value."""
    import sqlite3

    from transpile.verify.runs import xcom_values_as_text

    database = tmp_path / "airflow.db"
    with sqlite3.connect(database) as db:
        db.execute('CREATE TABLE xcom (\n\t"key" VARCHAR(512) NOT NULL, \n\tvalue JSON\n)')
        db.execute('CREATE INDEX idx_xcom_key ON xcom ("key")')
        db.execute("INSERT INTO xcom VALUES ('before', '4.0')")
        assert db.execute("SELECT typeof(value) FROM xcom").fetchone() == ("integer",)
        db.execute("DELETE FROM xcom")
    xcom_values_as_text(database)
    xcom_values_as_text(database)  # once changed, left as it is
    with sqlite3.connect(database) as db:
        db.execute("INSERT INTO xcom VALUES ('after', '4.0')")
        assert db.execute("SELECT value, typeof(value) FROM xcom").fetchone() == ("4.0", "text")
        indexes = db.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
        assert indexes == [("idx_xcom_key",)]


def test_a_refused_file_cannot_be_verified(tmp_path, capsys):
    path = flow_file(tmp_path, "from metaflow import FlowSpec\n\nclass Broken(FlowSpec:\n")
    assert run(["verify", str(path), "--to", "flyte"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"{path}: cannot convert: ")


# --- running both sides ---------------------------------------------------------------------------


def verify_json(args: list[str], capsys) -> tuple[int, dict]:
    code = run(["verify", *args, "--format", "json", "--source-runs", "1"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.equivalence
def test_a_fixture_and_its_conversion_are_the_same(capsys):
    source = FIXTURES / "foreach_sum" / "metaflow.py"
    code, result = verify_json([str(source), "--to", "flyte", "-p", "n=4"], capsys)
    assert code == 0, result
    assert result["verdict"] == "same" and result["params"] == {"n": 4}
    values = {v["name"]: (v["status"], v["source"]) for v in result["values"]}
    assert values["total"] == ("same", {"int": 30})


def broken(replace: tuple[str, str]):
    """``convert_file`` whose output has ``replace`` applied: a conversion broken on purpose."""
    real = check.convert_file

    def convert(*args, **kwargs):
        converted = real(*args, **kwargs)
        old, new = replace
        assert old in converted.code, converted.code
        return dataclasses.replace(converted, code=converted.code.replace(old, new))

    return convert


BROKEN = [
    # a changed constant
    pytest.param(
        ("base + 100", "base + 101"), {"high": (106, 107), "total": (113, 114)}, id="const"
    ),
    # the join wired to the wrong producers
    pytest.param(
        (
            "join(left_value=value, right_value=value_2)",
            "join(left_value=value_2, right_value=value)",
        ),
        {"low": (7, 106), "high": (106, 7)},
        id="rewired",
    ),
    # a dropped step: left's result is never computed
    pytest.param(
        ("value = left(base=base)", "value = base"),
        {"low": (7, 6), "total": (113, 112)},
        id="dropped",
    ),
]


@pytest.mark.equivalence
@pytest.mark.parametrize(("edit", "differing"), BROKEN)
def test_a_broken_conversion_differs(tmp_path, monkeypatch, capsys, edit, differing):
    path = flow_file(tmp_path, TINY)
    monkeypatch.setattr(check, "convert_file", broken(edit))
    code, result = verify_json([str(path), "--to", "flyte"], capsys)
    assert code == 1 and result["verdict"] == "differs"
    found = {
        v["name"]: (int(v["source"]["int"]), int(v["target"]["int"]))
        for v in result["values"]
        if v["status"] == "differs"
    }
    assert found == differing


@pytest.mark.equivalence
def test_a_difference_is_shown_side_by_side(tmp_path, monkeypatch, capsys):
    path = flow_file(tmp_path, TINY)
    monkeypatch.setattr(check, "convert_file", broken(("low + high", "low + high + 1")))
    assert run(["verify", str(path), "--to", "kfp", "--source-runs", "1"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (f"{path}: metaflow → kfp: DIFFERENT results (2 same, 1 DIFFERS)")
    assert "  total: DIFFERS\n    metaflow: 113\n    kfp     : 114\n" in out


@pytest.mark.equivalence
def test_a_source_that_raises_cannot_be_verified(tmp_path, capsys):
    path = flow_file(
        tmp_path,
        TINY.replace(
            "self.base =", "if self.n:\n            raise KeyError('nope')\n        self.base ="
        ),
    )
    assert run(["verify", str(path), "--to", "flyte", "--source-runs", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    first = captured.err.splitlines()[0]
    assert first == (
        f"{path}: metaflow → flyte: could not run the source (metaflow): metaflow run of "
        "TinyFlow failed (exit 1): KeyError: 'nope'"
    )


NOISY = """\
import random
import time

from metaflow import FlowSpec, step


class NoisyFlow(FlowSpec):
    @step
    def start(self):
        self.noise = random.random()
        self.stamp = time.time()
        self.second = int(time.time())  # the second runs start later: a shell's `date`
        self.steady = sum(range(10))
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NoisyFlow()
"""


@pytest.mark.equivalence
def test_values_that_change_between_source_runs_are_not_compared(tmp_path, capsys):
    path = flow_file(tmp_path, NOISY)
    code = run(["verify", str(path), "--to", "kfp", "--format", "json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["source_runs"] == 2
    assert {v["name"]: v["status"] for v in result["values"]} == {
        "noise": "unstable",
        "stamp": "unstable",
        "second": "unstable",
        "steady": "same",
    }


@pytest.mark.equivalence
def test_a_flyte_source_verified_in_metaflow_with_markdown(tmp_path, capsys):
    source = FIXTURES / "flyte_basket" / "flyte.py"
    out = tmp_path / "proof.md"
    args = [str(source), "--to", "metaflow", "-p", "unit=2.5", "--source-runs", "1"]
    assert run(["verify", *args, "--format", "md", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("## Verification: flyte → metaflow\n\n**✅ Same results**")
    assert "parameters: unit=2.5." in text
    assert "| `o0` |" in text


def test_compared_values_render_absent_sides():
    from transpile.verify.render import as_text

    result = check.Verification(
        "f.py",
        "metaflow",
        "flyte",
        "differs",
        values=(Compared("gone", "only-source", n(None)),),
        source_runs=1,
    )
    assert as_text(result).splitlines()[2:] == [
        "  gone: only in the source",
        "    metaflow: None",
        "    flyte   : (absent)",
    ]


# --- the certificate: report --verify -------------------------------------------------------------


def test_without_verify_the_report_says_it_did_not_run(tmp_path, capsys):
    path = flow_file(tmp_path, TINY)
    assert run(["report", str(path), "--to", "flyte", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["verification"] is None
    assert run(["report", str(path), "--to", "flyte"]) == 0
    assert "(not verified by running)" in capsys.readouterr().out
    assert run(["report", str(path), "--to", "flyte", "-p", "n=2"]) == 2
    assert "-p/--params give parameters to --verify's runs" in capsys.readouterr().err


@pytest.mark.equivalence
def test_report_verify_puts_the_comparison_in_the_report(tmp_path, monkeypatch, capsys):
    path = flow_file(tmp_path, TINY)
    args = ["report", str(path), "--to", "kfp", "--verify", "-p", "n=2"]
    assert run(args) == 0
    text = capsys.readouterr().out
    assert "(not verified by running)" not in text
    assert "**Verified by running:** both pipelines ran locally and gave the same results" in text
    assert "Parameters: `n=2`. The source ran 2 times with the same results." in text
    assert "| `total` | `109` | `109` | same |" in text
    monkeypatch.setattr(check, "convert_file", broken(("low + high", "low - high")))
    assert run([*args, "--format", "json"]) == 1
    found = json.loads(capsys.readouterr().out)["verification"]
    assert found["verdict"] == "differs"
    (total,) = [v for v in found["values"] if v["name"] == "total"]
    assert (total["source_text"], total["target_text"], total["status"]) == (
        "109",
        "-99",
        "differs",
    )


# --- many files ---------------------------------------------------------------------------------


NEEDS_WHO = """\
from metaflow import FlowSpec, Parameter, step


class NeedsWhoFlow(FlowSpec):
    who = Parameter("who", type=str, required=True)

    @step
    def start(self):
        self.greeting = "hi " + self.who
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    NeedsWhoFlow()
"""


def test_a_required_parameter_must_be_given(tmp_path, capsys):
    path = flow_file(tmp_path, NEEDS_WHO)
    assert run(["verify", str(path), "--to", "flyte"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: parameter 'who' has no default: give it (-p who=VALUE)"
    ]


@pytest.mark.equivalence
def test_a_folder_is_verified_file_by_file_with_a_summary(tmp_path, capsys):
    tree = tmp_path / "tree"
    (tree / "team").mkdir(parents=True)
    (tree / "team" / "tiny.py").write_text(TINY, encoding="utf-8")
    (tree / "util.py").write_text("X = 1\n", encoding="utf-8")
    (tree / "basket.py").write_bytes((FIXTURES / "flyte_basket" / "flyte.py").read_bytes())
    out = tmp_path / "results"
    args = ["verify", str(tree), "--to", "flyte", "-o", str(out), "--source-runs", "1"]
    assert run([*args, "-j", "2"]) == 0
    err = capsys.readouterr().err
    assert "verified 3 files to flyte: 1 same, 0 differs, 0 error, 2 skipped" in err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"] == {"same": 1, "differs": 0, "error": 0, "skipped": 2}
    rows = {Path(f["path"]).name: (f["status"], f["report"]) for f in summary["files"]}
    assert rows == {
        "basket.py": ("skipped", None),
        "tiny.py": ("same", "team/tiny.txt"),
        "util.py": ("skipped", None),
    }
    assert "same results (3 same)" in (out / "team" / "tiny.txt").read_text(encoding="utf-8")
    (tree / "needs_who.py").write_text(NEEDS_WHO, encoding="utf-8")
    assert run([*args, "--force", "--format", "json"]) == 2
    err = capsys.readouterr().err
    assert f"  error    {tree / 'needs_who.py'}: parameter 'who' has no default" in err
    assert json.loads((out / "team" / "tiny.json").read_text())["verdict"] == "same"


def test_a_folder_needs_an_output_folder_and_no_parameters(tmp_path, capsys):
    assert run(["verify", str(tmp_path), "--to", "kfp"]) == 2
    assert "several files or a directory need -o DIR" in capsys.readouterr().err
    assert run(["verify", str(tmp_path), "--to", "kfp", "-o", "x", "-p", "a=1"]) == 2
    assert "take one SRC file" in capsys.readouterr().err


# --- runs as a cluster would run them -------------------------------------------------------------

CLUSTER_FLOW = """\
import os

from metaflow import FlowSpec, environment, retry, step


class ClusterFlow(FlowSpec):
    @environment(vars={"CLUSTER_GREETING": "hello"})
    @step
    def start(self):
        self.greeting = os.environ.get("CLUSTER_GREETING", "")
        self.next(self.flaky)

    @retry(times=1, minutes_between_retries=0)
    @step
    def flaky(self):
        if not os.path.exists("tried_once"):
            open("tried_once", "w").close()
            raise RuntimeError("first attempt fails")
        self.attempts = 2
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ClusterFlow()
"""


@pytest.mark.equivalence
@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_task_environment_and_retries_apply_as_on_a_cluster(tmp_path, capsys, target):
    """flytekit's local run sets no environment= variables and retries nothing; verify's Flyte
    run does both, as the task's container would (the capability table says the first)."""
    path = flow_file(tmp_path, CLUSTER_FLOW)
    code, result = verify_json([str(path), "--to", target], capsys)
    assert code == 0, result
    assert {v["name"]: v["source_text"] for v in result["values"]} == {
        "greeting": "'hello'",
        "attempts": "2",
    }


ONE_OUTPUT = """\
from kfp import dsl


@dsl.component
def shout(text: str) -> str:
    return text.upper()


@dsl.pipeline
def loud(text: str = "hi") -> str:
    return shout(text=text).output
"""


@pytest.mark.equivalence
def test_a_kfp_pipelines_one_output_is_its_results_name(tmp_path, capsys):
    path = flow_file(tmp_path, ONE_OUTPUT)
    code, result = verify_json([str(path), "--to", "flyte", "-p", "text=yo"], capsys)
    assert code == 0, result
    read = api.read_file(str(path))
    (only,) = read.pipeline.results
    assert [(v["name"], v["source_text"]) for v in result["values"]] == [(only.name, "'YO'")]


def test_a_source_that_calls_random_is_named_when_results_differ():
    assert check.CHANCE.findall("x = random.choice(xs)\ny = time.time()\n") == [
        "random.choice",
        "time.time",
    ]
    assert check.CHANCE.findall("import randomness\nrandom_seed = 3\n") == []


@pytest.mark.equivalence
def test_a_flyte_module_of_a_package_runs_through_its_launch_plan(tmp_path, capsys):
    """Relative imports work (the package is copied as itself) and the source runs through the
    LaunchPlan that names its workflow, with the plan's default inputs, as the conversion does."""
    package = tmp_path / "shop" / "flows"
    package.mkdir(parents=True)
    (tmp_path / "shop" / "__init__.py").write_text("", encoding="utf-8")
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "tasks.py").write_text(
        "from flytekit import task\n\n\n"
        "@task\n"
        "def total(price: float, count: int) -> float:\n"
        "    return price * count\n",
        encoding="utf-8",
    )
    source = package / "checkout.py"
    source.write_text(
        "from flytekit import LaunchPlan, workflow\n\n"
        "from .tasks import total\n\n\n"
        "@workflow\n"
        "def checkout(price: float, count: int = 1) -> float:\n"
        "    return total(price=price, count=count)\n\n\n"
        "plan = LaunchPlan.get_or_create(\n"
        '    checkout, name="checkout_plan", default_inputs={"price": 2.5, "count": 4}\n'
        ")\n",
        encoding="utf-8",
    )
    code, result = verify_json([str(source), "--to", "kfp"], capsys)
    assert code == 0, result
    assert [(v["source_text"], v["status"]) for v in result["values"]] == [("10.0", "same")]
    assert check.package_of(source) == (tmp_path / "shop", "shop/flows/checkout.py")


NO_OUTPUTS = """\
from kfp import dsl


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.component
def report(x: int, out: dsl.Output[dsl.Artifact]):
    with open(out.path, "w") as f:
        f.write(f"total {x}")


@dsl.pipeline
def totals(n: int = 3):
    first = add(a=n, b=2)
    report(x=first.output)
    add(a=first.output, b=10)
"""


def test_the_final_tasks_of_a_pipeline_without_outputs_are_its_results():
    read = api.read_text(NO_OUTPUTS, "p.py")
    finals = check.final_results(read.pipeline)
    assert [(r.name, r.refs[0].source, r.refs[0].name) for r in finals] == [
        ("report_out", "report", "out"),
        ("add_2_Output", "add_2", "Output"),
    ]
    with_outputs = dataclasses.replace(read.pipeline, results=finals)
    assert check.final_results(with_outputs) == ()  # a pipeline's own outputs come first


@pytest.mark.equivalence
@pytest.mark.parametrize("target", ["flyte", "metaflow"])
def test_a_kfp_pipeline_without_outputs_is_judged_by_its_final_tasks(tmp_path, capsys, target):
    """KFP runs keep every task's outputs (kfp.local's executor_output.json, artifact files):
    those of the final tasks are compared with the conversion's, which returns them."""
    path = flow_file(tmp_path, NO_OUTPUTS)
    code, result = verify_json([str(path), "--to", target, "-p", "n=4"], capsys)
    assert code == 0, result
    assert result["final_tasks"] == ["report.out", "add_2.Output"]
    shown = {v["name"]: (v["status"], v["source_text"]) for v in result["values"]}
    assert shown == {"add_2_Output": ("same", "16"), "report_out": ("same", "b'total 6'")}


@pytest.mark.equivalence
def test_a_final_task_computed_differently_differs(tmp_path, monkeypatch, capsys):
    path = flow_file(tmp_path, NO_OUTPUTS)
    real = check.frameworks.writer

    class Broken:  # the Flyte writer, with every task adding 1 more
        @staticmethod
        def write(pipeline):
            code, diagnostics = real("flyte").write(pipeline)
            return code.replace("a + b", "a + b + 1"), diagnostics

    def writer(name):
        return Broken if name == "flyte" else real(name)

    monkeypatch.setattr(check.frameworks, "writer", writer)
    code, result = verify_json([str(path), "--to", "flyte"], capsys)
    assert code == 1, result
    assert {v["name"]: v["status"] for v in result["values"]} == {
        "add_2_Output": "differs",
        "report_out": "differs",
    }


def test_a_workdir_inside_the_pipelines_folder_is_not_copied_into_itself(tmp_path, capsys):
    path = flow_file(tmp_path, NO_OUTPUTS)
    assert run(["verify", str(path), "--to", "flyte", "--workdir", str(path.parent)]) == 2
    assert "--workdir" in capsys.readouterr().err


def test_a_metaflow_target_runs_without_its_environment_decorators():
    """@pypi needs --environment=pypi and a package index: verify runs the steps here, as the
    KFP or Flyte source ran (its packages_to_install are not installed by a local run either)."""
    code = (
        "from metaflow import FlowSpec, pypi, step\n\n\nclass F(FlowSpec):\n"
        '    @pypi(\n        packages={"six": "1.16.0"},\n    )\n    @step\n'
        "    def start(self):\n        self.next(self.end)\n"
    )
    stripped, dropped = check.without_environments(code)
    assert dropped == ["@pypi"]
    assert "@pypi" not in stripped and "packages" not in stripped
    assert "    @step\n    def start(self):" in stripped
