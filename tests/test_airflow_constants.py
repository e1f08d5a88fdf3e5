"""The Airflow reader follows the constants a DAG names (``default_args=``, ``params=``,
``schedule=``) to the top of the DAG file or of a module of the project's own package: the
``src/`` layout and relative imports, read statically, names resolved in the module that holds
them; what it cannot read is a diagnostic pointing into the file and line that stopped it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from transpile import api
from transpile.reading.siblings import module_path

RUFF = Path(sys.executable).with_name("ruff")

CONFIG = """
    import os
    from datetime import timedelta
    from typing import Any

    import pendulum
    from airflow.utils.trigger_rule import TriggerRule

    RETRIES = 4
    OUTPUT_BASE = "/tmp/out"

    DEFAULT_ARGS: dict[str, Any] = {
        "owner": "me",
        "retries": RETRIES,
        "retry_delay": timedelta(seconds=90),
        "execution_timeout": pendulum.duration(minutes=2),
    }
    BUILT = dict(os.environ)
    FROM_ENV = {"retries": int(os.environ.get("R", "1"))}
    PARAMS = {"n": RETRIES, "label": "x", "sizes": [1, 2]}
    BAD_PARAMS = {"n": len("abc")}
    SCHEDULE = "@daily"
    RULED = {"trigger_rule": TriggerRule.ALL_DONE}


    def stamp() -> str:
        return "t"
"""

DAG = """
    from airflow.sdk import DAG, task
    from airflow.providers.standard.operators.bash import BashOperator

    from mypkg.config import {names}

    RETRIES = 9  # the DAG file's own: not the one the config's dict names
    timedelta = None

    @task
    def one() -> str:
        return stamp() + OUTPUT_BASE

    with DAG(dag_id="shared", {keywords}):
        one() >> BashOperator(task_id="hello", bash_command="echo hi")
"""


def _project(tmp_path: Path, names: str, keywords: str, config: str = CONFIG) -> Path:
    """A project in the src layout: ``src/mypkg/config.py`` and ``dags/dag.py`` importing it."""
    package = tmp_path / "src" / "mypkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "config.py").write_text(textwrap.dedent(config))
    (tmp_path / "dags").mkdir()
    dag = tmp_path / "dags" / "dag.py"
    dag.write_text(textwrap.dedent(DAG.format(names=names, keywords=keywords)))
    return dag


def _read(dag: Path):
    read = api.read_file(str(dag), "airflow")
    assert isinstance(read, api.Read), read
    return read


def _retry(step) -> tuple[str | None, str | None]:
    retry = next((o for o in step.options if o.kind == "retry"), None)
    return (retry.arg("times"), retry.arg("minutes_between_retries")) if retry else (None, None)


def _rendered(read, dag: Path, code: str) -> list[str]:
    return [d.render(str(dag)) for d in read.diagnostics if d.code == code]


def test_the_src_layout_package_is_found_beside_a_folder_above(tmp_path):
    dag = _project(tmp_path, "DEFAULT_ARGS", "default_args=DEFAULT_ARGS")
    found = module_path(str(dag), "mypkg.config")
    assert found == (tmp_path / "src" / "mypkg" / "config.py").resolve()
    assert module_path(str(dag), "mypkg.absent") is None
    assert module_path(str(dag), "config", 1) is None  # relative: beside the file only


def test_default_args_from_the_package_set_every_task_s_options(tmp_path):
    dag = _project(tmp_path, "DEFAULT_ARGS, OUTPUT_BASE, stamp", "default_args=DEFAULT_ARGS")
    read = _read(dag)
    for name in ("one", "hello"):  # a TaskFlow task and a BashOperator step
        step = read.pipeline.step(name)
        assert _retry(step) == ("4", "2")  # RETRIES of the config, not the DAG file's 9
        timeout = next(o for o in step.options if o.kind == "timeout")
        assert timeout.arg("seconds") == "120"  # pendulum.duration as the config imports it
    assert not [d for d in read.diagnostics if d.code == "TP189"]
    # the 90 s rounded up to 2 minutes: named at the config's line, in the config's file
    assert _rendered(read, dag, "TP201") == [
        f"{dag.parent}/../src/mypkg/config.py:15:20: TP201 retry_delay of 90 s became 2 minute(s)"
    ]


@pytest.mark.parametrize("target", ["flyte", "kfp", "metaflow"])
def test_the_outputs_import_the_package_s_helpers_and_define_every_name(tmp_path, target):
    dag = _project(tmp_path, "DEFAULT_ARGS, OUTPUT_BASE, stamp", "default_args=DEFAULT_ARGS")
    result = api.convert_file(str(dag), target)
    assert isinstance(result, api.Converted), result
    assert "from mypkg.config import OUTPUT_BASE, stamp" in result.code  # DEFAULT_ARGS unused
    out = tmp_path / f"{target}_out.py"
    out.write_text(result.code)
    checked = subprocess.run(
        [RUFF, "check", "--isolated", "--no-cache", "--select", "F,E9", str(out)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout


@pytest.mark.parametrize(
    ("names", "keywords", "line", "column", "reason"),
    [
        ("BUILT", "default_args=BUILT", 18, 14, "os.environ is not a dict literal"),
        ("FROM_ENV", "default_args=FROM_ENV", 19, 24, "retries int(os.environ.get('R', '1'))"),
        ("ABSENT", "default_args=ABSENT", 0, 0, "ABSENT is not bound at the top of config.py"),
    ],
)
def test_what_cannot_be_read_is_named_where_reading_stopped(
    tmp_path, names, keywords, line, column, reason
):
    dag = _project(tmp_path, f"{names}, OUTPUT_BASE, stamp", keywords)
    read = _read(dag)
    assert _retry(read.pipeline.step("one")) == (None, None)
    notes = [d for d in read.diagnostics if d.code == "TP189"]
    assert len(notes) == 1 and reason in notes[0].message and notes[0].lossy, notes
    rendered = notes[0].render(str(dag))
    if line:  # in the config: the expression it could not read
        assert rendered.startswith(f"{dag.parent}/../src/mypkg/config.py:{line}:{column}: ")
    else:  # the import line of the DAG file names what is missing
        assert rendered.startswith(f"{dag}:5:1: "), rendered


def test_a_dict_the_dag_file_changes_after_importing_it_is_not_read(tmp_path):
    dag = _project(tmp_path, "DEFAULT_ARGS, OUTPUT_BASE, stamp", "default_args=DEFAULT_ARGS")
    text = dag.read_text().replace("timedelta = None\n", 'DEFAULT_ARGS["retries"] = 0\n')
    dag.write_text(text)
    read = _read(dag)
    assert _retry(read.pipeline.step("one")) == (None, None)
    notes = [d.render(str(dag)) for d in read.diagnostics if d.code == "TP189"]
    expected = (
        f"{dag}:8:1: TP189 default_args DEFAULT_ARGS: DEFAULT_ARGS is changed in dag.py (line "
        "8): the retries, retry delays, timeouts and trigger rules it may set are not carried"
    )
    assert notes == [expected]


def test_params_and_schedule_named_from_the_package_are_read_as_literals(tmp_path):
    dag = _project(
        tmp_path, "PARAMS, SCHEDULE, OUTPUT_BASE, stamp", "params=PARAMS, schedule=SCHEDULE"
    )
    pipeline = _read(dag).pipeline
    assert [(p.name, p.default) for p in pipeline.parameters] == [
        ("n", "4"),  # the config's RETRIES
        ("label", "'x'"),
        ("sizes", "[1, 2]"),
    ]
    assert pipeline.options[0].arg("cron") == "'0 0 * * *'"
    dag = _project(tmp_path / "bad", "BAD_PARAMS, OUTPUT_BASE, stamp", "params=BAD_PARAMS")
    failed = api.read_file(str(dag), "airflow")
    assert isinstance(failed, api.Failed)
    assert failed.diagnostics[0].render(str(dag)) == (
        f"{dag.parent}/../src/mypkg/config.py:21:20: TP186 DAG params must be a dict literal "
        "(len('abc') is not a literal)"
    )


SETTINGS = """
    from pendulum import duration

    BASE = dict(retries=2, retry_delay=duration(minutes=5), trigger_rule="all_done")
"""

RELATIVE = """
    from typing import Any

    from airflow.sdk import DAG, task
    from pendulum import duration

    from . import settings
    from .settings import BASE

    ARGS: dict[str, Any] = {default_args}

    @task
    def one() -> int:
        return 1

    with DAG(dag_id="relative", default_args=ARGS):
        one()
"""


@pytest.mark.parametrize(
    ("default_args", "expected"),
    [
        ('{**BASE, "retries": 3}', ("3", "5")),
        ("dict(BASE, retries=1)", ("1", "5")),
        ('BASE | {"retry_delay": duration(minutes=1)}', ("2", "1")),
        ('{"retries": 3, **BASE}', ("2", "5")),
        ("settings.BASE.copy()", ("2", "5")),  # the module's attribute
        ('{**BASE, "retry_delay": later(minutes=1)}', ("2", "5")),  # not a timedelta
    ],
)
def test_a_dict_merged_from_a_relative_import_keeps_airflow_s_order(
    tmp_path, default_args, expected
):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(textwrap.dedent(SETTINGS))
    dag = package / "dag.py"
    dag.write_text(textwrap.dedent(RELATIVE.format(default_args=default_args)))
    read = _read(dag)
    assert _retry(read.pipeline.step("one")) == expected
    if "later" in default_args:  # named in the DAG file, where it is written
        notes = [d.render(str(dag)) for d in read.diagnostics if d.code == "TP201"]
        assert notes == [
            f"{dag}:10:48: TP201 retry_delay is not a literal timedelta: the default wait"
        ]
    else:
        assert not [d for d in read.diagnostics if d.code == "TP201"]
    # a trigger rule the model does not carry (all_done) is named where the settings set it
    notes = [d.render(str(dag)) for d in read.diagnostics if d.code == "TP189"]
    assert notes == [f"{package}/settings.py:4:70: TP189 trigger_rule='all_done' is not carried"]


def test_a_task_s_own_retries_named_from_the_package_are_its_constant(tmp_path):
    dag = _project(tmp_path, "RETRIES as TRIES, OUTPUT_BASE, stamp", "schedule=None")
    dag.write_text(dag.read_text().replace("@task\n", "@task(retries=TRIES)\n"))
    read = _read(dag)
    assert _retry(read.pipeline.step("one")) == ("4", "5")  # Airflow's default wait: 5 minutes
    result = api.convert_file(str(dag), "flyte")
    assert isinstance(result, api.Converted), result
    assert "@task(retries=4)" in result.code and "import RETRIES" not in result.code


def test_a_trigger_rule_of_the_package_is_read_as_airflow_s_enum(tmp_path):
    dag = _project(tmp_path, "RULED, OUTPUT_BASE, stamp", "default_args=RULED")
    read = _read(dag)
    notes = [d.render(str(dag)) for d in read.diagnostics if d.code == "TP189"]
    assert notes == [  # read (all_done), named where the config sets it
        f"{dag.parent}/../src/mypkg/config.py:23:26: TP189 trigger_rule='all_done' is not carried"
    ]


def test_lint_and_the_report_name_a_spot_in_the_package_not_that_line_of_the_dag(tmp_path):
    """A diagnostic at config.py:15 was listed by lint and the report as the DAG file's line 15
    (a line of the DAG that says nothing of retries)."""
    from transpile.lint.config import LintConfig
    from transpile.lint.engine import lint_text
    from transpile.report.model import build

    dag = _project(tmp_path, "DEFAULT_ARGS, OUTPUT_BASE, stamp", "default_args=DEFAULT_ARGS")
    findings = lint_text(dag.read_text(), str(dag), LintConfig(targets=("kfp",)))
    about = [f for f in findings if "retry_delay of 90 s" in f.message]
    assert [(f.line, f.code) for f in about] == [(1, "TP516")]
    assert "in ../src/mypkg/config.py:15:20: retry_delay" in about[0].message
    converted = api.convert_file(str(dag), "kfp")
    rows = build(dag.read_text(), converted, "kfp")["diagnostics"]
    row = next(r for r in rows if r["code"] == "TP201")
    assert (row["line"], row["column"]) == (None, None)
    assert row["message"].startswith("in ../src/mypkg/config.py:15:20: ")


@pytest.mark.parametrize("change", ['PARAMS["sizes"].append(3)', "PARAMS.setdefault('m', 1)"])
def test_params_the_dag_file_changes_in_place_are_not_read_as_written(tmp_path, change):
    """A list inside the dict changed in place (or the dict itself): the literal in the config
    is not what Airflow sees, so it is not taken."""
    dag = _project(tmp_path, "PARAMS, OUTPUT_BASE, stamp", "params=PARAMS")
    dag.write_text(dag.read_text().replace("timedelta = None\n", f"{change}\n"))
    failed = api.read_file(str(dag), "airflow")
    assert isinstance(failed, api.Failed), failed
    assert "PARAMS is changed in dag.py (line 8)" in failed.diagnostics[0].message
