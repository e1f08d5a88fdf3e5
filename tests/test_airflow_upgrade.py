"""``transpile convert dag.py --to airflow`` on an Airflow 2 file: the user's file upgraded for
Airflow 3 by ruff's AIR3 rules, each change listed (TP270), what it cannot change named with a
TODO at the statement (TP271, lossy); an Airflow 3 file is already there (TP006). The upgraded
fixture runs under Airflow 3.3 and computes what its Airflow 3 twin computes."""

from __future__ import annotations

import shutil
import textwrap

import pytest
from conftest import FIXTURES
from output_checks import ruff

from transpile import api
from transpile.cli import run as cli_run
from transpile.verify.values import normalize

OLD = FIXTURES / "airflow2_operators" / "airflow.py"
TWIN = FIXTURES / "airflow3_operators" / "airflow.py"


def _line_of(path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_the_airflow_2_fixture_upgrades_to_its_reviewed_golden():
    converted = api.convert_file(str(OLD), "airflow")
    assert isinstance(converted, api.Converted)
    golden = FIXTURES / "airflow2_operators" / "expected" / "airflow.py"
    assert converted.code == golden.read_text()
    assert not converted.lossy
    changes = [(d.code, d.span.line) for d in converted.diagnostics]
    assert changes == [
        ("TP270", _line_of(OLD, "@af_task")),
        ("TP270", _line_of(OLD, "@af_task") + 5),
        ("TP270", _line_of(OLD, "@dag(")),
        ("TP270", _line_of(OLD, "schedule_interval")),
        ("TP270", _line_of(OLD, 'DummyOperator(task_id="begin")')),
        ("TP270", _line_of(OLD, 'task_id="left"')),
        ("TP270", _line_of(OLD, 'task_id="right"')),
        ("TP270", _line_of(OLD, 'DummyOperator(task_id="done")')),
    ]
    schedule = next(d for d in converted.diagnostics if "schedule_interval" in d.message)
    assert "use `schedule` instead" in schedule.message
    for code in ("check", "format"):
        assert (
            ruff(code, *(["--check"] if code == "format" else []), code=converted.code).returncode
            == 0
        )


OLD_STYLE = """\
from airflow import DAG
from airflow.operators.python import PythonOperator
from airflow.utils.dates import days_ago


def hello(**context):
    print(context)


with DAG("old", start_date=days_ago(1, hour=5), schedule_interval=None) as dag:
    PythonOperator(task_id="hello", python_callable=hello, provide_context=True)
"""


def test_what_ruff_cannot_change_is_a_todo_at_its_statement_and_lossy(tmp_path, capsys):
    path = tmp_path / "old.py"
    path.write_text(OLD_STYLE)
    converted = api.convert_file(str(path), "airflow")
    assert converted.lossy
    todos = [d for d in converted.diagnostics if d.code == "TP271"]
    assert [(d.span.line, d.span.column + 1) for d in todos] == [(10, 28)]
    assert "days_ago" in todos[0].message
    dropped = next(d for d in converted.diagnostics if "provide_context" in d.message)
    assert (dropped.code, dropped.span.line, dropped.span.column + 1) == ("TP270", 11, 60)
    code = converted.code
    assert "schedule=None" in code and "schedule_interval" not in code
    assert "from airflow.sdk import DAG" in code
    assert 'PythonOperator(task_id="hello", python_callable=hello)\n' in code
    lines = code.splitlines()
    with_line = next(i for i, line in enumerate(lines) if line.startswith("with DAG("))
    assert lines[with_line - 1].startswith("# TODO(transpile): TP271 Airflow 3: `airflow.utils")
    assert "days_ago(1, hour=5)" in code  # only days_ago(n) is rewritten
    assert (
        cli_run(["convert", str(path), "--to", "airflow", "-o", str(tmp_path / "o.py"), "--strict"])
        == 1
    )


def test_an_airflow_3_file_has_nothing_to_upgrade(tmp_path):
    result = api.convert_file(str(TWIN), "airflow")
    assert isinstance(result, api.Failed)
    assert result.diagnostics[-1].code == "TP006"


def test_only_the_airflow_imports_left_unused_are_dropped(tmp_path):
    """The user's own unused import stays; the Airflow 2 import a fix left unused goes (a removed
    module fails to import in Airflow 3 even when nothing uses it)."""
    path = tmp_path / "dag.py"
    path.write_text(
        textwrap.dedent(
            """\
            import json
            from airflow.decorators import dag, task


            @task
            def one() -> int:
                return 1


            @dag(schedule_interval=None)
            def d():
                one()


            d()
            """
        )
    )
    code = api.convert_file(str(path), "airflow").code
    assert "import json" in code
    assert "airflow.decorators" not in code
    assert "from airflow.sdk import dag, task" in code


@pytest.mark.equivalence
def test_the_upgraded_dag_computes_what_its_airflow_3_twin_computes(tmp_path):
    from transpile.verify.runs import run_airflow

    code = api.convert_file(str(OLD), "airflow").code
    (tmp_path / "new").mkdir()
    upgraded = tmp_path / "new" / "dag.py"
    upgraded.write_text(code)
    (tmp_path / "twin").mkdir()
    twin = tmp_path / "twin" / "dag.py"
    shutil.copy(TWIN, twin)
    params = {"label": "total"}  # not the default: the upgrade keeps the DAG's params
    upgraded_xcoms = run_airflow(upgraded, params, cache=False)
    assert upgraded_xcoms == run_airflow(twin, params, cache=False)
    assert upgraded_xcoms["describe|return_value"] == normalize("total=51")


@pytest.mark.equivalence
@pytest.mark.parametrize(
    "name",
    [
        "airflow2_classic",
        "airflow2_sensing",
        "airflow2_taskflow",
        "airflow2_mapping",
        "airflow2_groups",
    ],
)
def test_each_upgraded_airflow_2_fixture_runs_in_airflow_3_and_computes_its_values(tmp_path, name):
    """The other Airflow 2 fixtures, upgraded, run under Airflow 3.3 and compute the values
    worked out by hand for their Airflow 3 twins (tests/test_equivalence_from_airflow.py)."""
    from test_equivalence_from_airflow import EXPECTED

    from transpile.verify.runs import airflow_results, run_airflow

    converted = api.convert_file(str(FIXTURES / name / "airflow.py"), "airflow")
    assert isinstance(converted, api.Converted), converted
    path = tmp_path / "dag.py"
    path.write_text(converted.code)
    read = api.read_file(str(path), "airflow")
    assert isinstance(read, api.Read), read
    got = airflow_results(run_airflow(path, {}, cache=False), read.pipeline)
    expected = {k: normalize(v) for k, v in EXPECTED[(name, "defaults")].items()}
    assert {k: got.get(k) for k in expected} == expected


def test_airflow_1_imports_ruff_does_not_name_are_todos_above_them(tmp_path):
    """A plugin's class from ``airflow.operators`` (Airflow 1) and ``airflow.operators.sensors``
    fail to import in Airflow 3 and ruff's rules do not name them: a TODO stays above each, after
    the imports are sorted (it would otherwise sit above another import)."""
    path = tmp_path / "old.py"
    path.write_text(
        "from airflow.operators import MyCopyOperator\n"
        "from airflow.operators.bash_operator import BashOperator\n"
        "from airflow.operators.sensors import ExternalTaskSensor\n\n"
        "tasks = (MyCopyOperator, BashOperator, ExternalTaskSensor)\n"
    )
    converted = api.convert_file(str(path), "airflow")
    assert [(d.code, d.span.line) for d in converted.diagnostics] == [
        ("TP271", 1),
        ("TP271", 3),
        ("TP270", 5),
    ]
    lines = converted.code.splitlines()
    for name in ("import MyCopyOperator", "operators.sensors import"):
        at = next(i for i, line in enumerate(lines) if name in line)
        assert lines[at - 1].startswith("# TODO(transpile): TP271 Airflow 3: `airflow.operators.")
    assert "from airflow.providers.standard.operators.bash import BashOperator" in lines


def test_days_ago_becomes_what_it_computed(tmp_path):
    """Airflow 2's days_ago(n) is midnight UTC today, n days back: pendulum's today("UTC")
    minus n days (pendulum is one of Airflow 3's dependencies)."""
    path = tmp_path / "dag.py"
    path.write_text(
        '"""A DAG."""\n\nfrom __future__ import annotations\n\n'
        + OLD_STYLE.replace("days_ago(1, hour=5)", "days_ago(2)")
    )
    converted = api.convert_file(str(path), "airflow")
    assert not converted.lossy
    code = converted.code
    assert 'start_date=pendulum.today("UTC").subtract(days=2)' in code
    assert "days_ago" not in code
    head = code.splitlines()[:6]
    assert head[1:5] == ['"""A DAG."""', "", "from __future__ import annotations", ""]
    assert "import pendulum" in code.splitlines()
    from datetime import datetime, timedelta, timezone

    import pendulum

    airflow_2 = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    assert pendulum.today("UTC").subtract(days=2) == airflow_2 - timedelta(days=2)
