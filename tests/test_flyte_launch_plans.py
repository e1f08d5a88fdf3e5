"""Issue 15: what a Flyte LaunchPlan sets that no target carries (notifications, labels,
parallelism, another plan of the same workflow, a schedule's kickoff input...) is a
``# TODO(transpile)`` at the flow class / pipeline / DAG, with the diagnostic at the setting's
line and ``--strict`` exit 1; a ``datetime`` or ``date`` workflow input travels as ISO 8601 text
to KFP and Airflow and is made a date again where a step reads it (the two framework runs)."""

from __future__ import annotations

import ast
import textwrap

import pytest
from click.testing import CliRunner
from staging import same_when_run

from transpile.api import Converted, convert_text
from transpile.cli import cli

SOURCE = textwrap.dedent(
    """\
    from datetime import date, datetime

    from flytekit import (
        Annotations,
        CronSchedule,
        Email,
        LaunchPlan,
        Labels,
        WorkflowExecutionPhase,
        task,
        workflow,
    )


    @task
    def stamp(when: datetime, day: date, shift: int) -> str:
        return f"{when.strftime('%Y-%m-%d %H:%M')} {day.isoformat()} {day.weekday() + shift}"


    @workflow
    def daily(when: datetime, day: date = date(2024, 2, 29), shift: int = 0) -> str:
        return stamp(when=when, day=day, shift=shift)


    quiet = LaunchPlan.get_or_create(
        daily, "quiet", default_inputs={"when": datetime(2020, 1, 1)}, max_parallelism=2
    )
    loud = LaunchPlan.get_or_create(
        workflow=daily,
        name="loud",
        default_inputs={"when": datetime(2024, 5, 6, 7, 8)},
        fixed_inputs={"shift": 3},
        schedule=CronSchedule(
            schedule="0 6 * * *",
            kickoff_time_input_arg="when",
        ),
        notifications=[
            Email(
                phases=[WorkflowExecutionPhase.FAILED],
                recipients_email=["team@example.com"],
            )
        ],
        labels=Labels({"team": "data"}),
        annotations=Annotations({"owner": "me"}),
        max_parallelism=4,
    )
    """
)

LINES = SOURCE.splitlines()


def line_of(text: str, start: int = 1) -> int:
    """The first line (1-based, from ``start``) that holds ``text``."""
    return next(n for n, line in enumerate(LINES, 1) if n >= start and text in line)


LOUD = line_of('name="loud"')
# each lost setting: (what the diagnostic names, the line it points at)
LOST = [  # ("quiet", the other plan of the workflow, is an entry of its own: test_entries.py)
    ('"loud" kickoff_time_input_arg="when"', line_of("kickoff_time_input_arg", LOUD)),
    ('"loud" notifications=[Email(phases=', line_of("notifications=", LOUD)),
    ('"loud" labels=Labels({"team": "data"})', line_of("labels=", LOUD)),
    ('"loud" annotations=Annotations({"owner": "me"})', line_of("annotations=", LOUD)),
    ('"loud" max_parallelism=4', line_of("max_parallelism=4", LOUD)),
]
# where the TODOs stand: just above what the launch plan deploys
HOLDER = {"metaflow": "@schedule(", "kfp": "@dsl.pipeline", "airflow": "@dag("}


def converted(target: str, text: str = SOURCE) -> Converted:
    result = convert_text(text, "plans.py", target)
    assert isinstance(result, Converted), getattr(result, "diagnostics", result)
    return result


@pytest.mark.parametrize("target", ["metaflow", "kfp", "airflow"])
def test_every_lost_launch_plan_setting_is_a_todo_above_the_pipeline(target):
    result = converted(target)
    lines = result.code.splitlines()
    holder = next(n for n, line in enumerate(lines) if line.startswith(HOLDER[target]))
    todos = [line for line in lines if line.startswith("# TODO(transpile): TP202 LaunchPlan")]
    # Airflow gives a scheduled run its time (the logical date): the kickoff input is carried
    lost = [item for item in LOST if target != "airflow" or "kickoff" not in item[0]]
    # one TODO a setting, in the source's order, together right above the flow / pipeline / DAG
    assert len(todos) == len(lost), todos
    assert lines[holder - len(todos) : holder] == todos
    for todo, (what, _) in zip(todos, lost):
        assert what in todo
    found = [
        d for d in result.diagnostics if d.message.startswith("LaunchPlan") and d.code == "TP202"
    ]
    assert [(d.lossy, d.span.line) for d in found] == [(True, line) for _, line in lost]
    for diagnostic, (what, _) in zip(found, lost):
        assert what in diagnostic.message
    if target == "airflow":
        assert 'else get_current_context()["logical_date"]' in result.code
        assert '"when": Param(None, type=["null", "string"])' in result.code
    else:
        assert "kickoff_time_input_arg" in todos[0] and "must set input" in todos[0]
    # what does carry over: the last plan's default, fixed input and cron
    assert "3" in result.code and "0 6 * * *" in result.code
    assert not any("max_parallelism=2" in line for line in lines)  # "quiet" is another entry
    (note,) = [d for d in result.diagnostics if d.code == "TP202" and "--entry" in d.message]
    assert "not converted: quiet" in note.message and note.lossy
    assert note.span.line == line_of("quiet = LaunchPlan")
    assert "TP202" not in " ".join(
        d.message for d in result.diagnostics if d.span and d.span.line == 1
    )


def test_strict_exits_1_on_a_lost_launch_plan_setting(tmp_path):
    path = tmp_path / "plans.py"
    path.write_text(SOURCE, encoding="utf-8")
    result = CliRunner().invoke(cli, ["convert", str(path), "--to", "kfp", "--strict"])
    assert result.exit_code == 1, result.stderr
    assert f"plans.py:{line_of('max_parallelism=4', LOUD)}:5: TP202 LaunchPlan" in result.stderr


def test_date_inputs_are_iso_text_in_kfp_and_airflow():
    kfp = converted("kfp").code
    assert "when: str = '2024-05-06T07:08:00', day: str = '2024-02-29'" in kfp.replace('"', "'")
    assert "when = _datetime.fromisoformat(when)" in kfp
    assert "day = _date.fromisoformat(day)" in kfp
    assert "import json" not in kfp
    airflow = converted("airflow", SOURCE.replace('kickoff_time_input_arg="when",', "")).code
    assert 'Param("2024-05-06T07:08:00", type="string")' in airflow
    assert 'datetime.fromisoformat(params["when"])' in airflow
    assert 'date.fromisoformat(params["day"])' in airflow
    metaflow = converted("metaflow").code
    assert "datetime.fromisoformat(self.when)" in metaflow
    for code in (kfp, airflow, metaflow):
        ast.parse(code)


def test_a_date_default_worked_out_at_import_stays_so_and_is_named():
    """``datetime.now()`` as a default: Flyte works it out when it registers the workflow; KFP
    when the module is compiled (info), Airflow at every parse of the DAG file (lossy)."""
    text = SOURCE.replace("datetime(2024, 5, 6, 7, 8)", "datetime.now()")
    text = text.replace('kickoff_time_input_arg="when",', "")  # see the Airflow kickoff above
    for target, lossy in (("kfp", False), ("airflow", True)):
        result = converted(target, text)
        assert "datetime.now().isoformat()" in result.code
        (note,) = [d for d in result.diagnostics if "defaults to datetime.now()" in d.message]
        assert (note.code, note.lossy, note.span.line) == ("TP201", lossy, line_of("def daily"))


RUN = textwrap.dedent(
    """\
    from datetime import date, datetime

    from flytekit import Email, LaunchPlan, WorkflowExecutionPhase, task, workflow


    @task
    def later(when: datetime, hours: int) -> datetime:
        return when.replace(hour=when.hour + hours)


    @task
    def stamp(when: datetime, moved: datetime, day: date) -> str:
        return f"{when.isoformat()} {moved.strftime('%H:%M')} {day.weekday()}"


    @workflow
    def daily(when: datetime, day: date = date(2024, 2, 29), hours: int = 2) -> str:
        return stamp(when=when, moved=later(when=when, hours=hours), day=day)


    plan = LaunchPlan.get_or_create(
        workflow=daily,
        name="daily_plan",
        default_inputs={"when": datetime(2024, 5, 6, 7, 8)},
        notifications=[Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["a@b.c"])],
    )
    """
)


@pytest.mark.equivalence
@pytest.mark.parametrize("target", ["kfp", "airflow"])
def test_date_inputs_run_the_same_in_the_target(target, tmp_path):
    """A datetime and a date input (a LaunchPlan default and a workflow default), a datetime a
    task hands to another: Flyte and the target give the same text."""
    result = same_when_run(RUN, target, tmp_path, "daily.py")
    assert "2024-05-06T07:08:00+00:00 09:08 3" in str(result.values)  # UTC-aware, as Flyte
