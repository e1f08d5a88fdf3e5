"""Issue 15: two ways dates differ between Flyte and the other targets are named where they
start, lossy (``--strict`` exit 1), instead of computing something else without a word: a
workflow input holding dates inside a container (JSON carries them as ISO text), and a naive
``datetime`` one Flyte task hands the next (flytekit makes it UTC-aware)."""

from __future__ import annotations

import textwrap

import pytest

from transpile.api import Converted, convert_text

SOURCE = textwrap.dedent(
    """
    from datetime import datetime

    from flytekit import task, workflow


    @task
    def latest(days: list[datetime]) -> str:
        return max(days).isoformat()


    @task
    def made() -> datetime:
        return datetime(2024, 5, 6, 7, 8)


    @task
    def show(when: datetime) -> str:
        return when.isoformat()


    @workflow
    def wf(days: list[datetime], day: datetime) -> tuple[str, str, str]:
        return latest(days=days), show(when=made()), show(when=day)
    """
)


def notes(target: str) -> list[tuple[int, str]]:
    result = convert_text(SOURCE, "wf.py", target)
    assert isinstance(result, Converted), getattr(result, "reason", result)
    return [(d.span.line, d.message) for d in result.diagnostics if d.code == "TP202" and d.lossy]


@pytest.mark.parametrize("target", ["metaflow", "kfp", "airflow"])
def test_dates_in_a_container_and_a_task_made_datetime_are_named(target):
    lines = SOURCE.splitlines()
    found = sorted(notes(target))
    assert [lines[line - 1].strip() for line, _ in found] == [
        "@task",  # made(): its result
        "def wf(days: list[datetime], day: datetime) -> tuple[str, str, str]:",
    ]
    assert found[0][1].startswith("made's result o0 is a datetime: Flyte hands the next task")
    assert found[1][1].startswith(
        "parameter 'days' (list[datetime]) travels as JSON: its dates and times reach the steps "
        "as ISO 8601 text"
    )


def test_a_plain_datetime_input_is_carried_without_a_note():
    """``day: datetime`` travels as ISO text made a datetime again (and UTC-aware) where read:
    exact, so only the two above are named."""
    assert all("'day'" not in message for _, message in notes("kfp"))
