"""The test of record: each fixture runs in Metaflow, its Flyte conversion runs in Flyte, and the
end-step artifacts must equal the workflow outputs (see harness.normalize for what "equal" means).

Parametrized by conftest.pytest_generate_tests over every fixture with ``run != false`` and each
of its ``[[runs]]`` (ids like ``foreach_sum-defaults``); a broken case.toml, or no fixture at all,
gives a failing test rather than none.
"""

from __future__ import annotations

import pytest
from harness import assert_equivalent, run_flyte, run_metaflow
from staging import Side, converted_or_fail, with_catch_as_text

FLYTE = Side("flyte", "flyte_wf.py", run_flyte)


@pytest.mark.equivalence
def test_metaflow_and_flyte_results_match(equivalence_run, tmp_path):
    run = equivalence_run
    if run.problem:
        pytest.fail(f"{run.fixture_dir}: {run.problem}")
    converted = converted_or_fail(run.fixture_dir / "metaflow.py", "flyte")
    # Flyte first: it takes seconds where Metaflow takes one process per task.
    actual = FLYTE.results(run.fixture_dir, converted.code, run.params, tmp_path / "flyte")
    expected = run_metaflow(run.fixture_dir, run.flow, run.params, tmp_path / "metaflow")
    expected = with_reported_losses(expected, converted)
    assert_equivalent(with_catch_as_text(expected, converted, actual), actual)


def with_reported_losses(expected: dict, converted) -> dict:
    """Metaflow's results as the conversion says Flyte returns them: the only accepted difference
    is a tuple the workflow returns as a list, and only where a TP220 diagnostic names it."""
    reported = {d.message.split("'")[1] for d in converted.diagnostics if d.code == "TP220"}
    adjusted = dict(expected)
    for name in reported:
        value = adjusted.get(name)
        assert isinstance(value, dict) and "tuple" in value, (
            f"TP220 names {name!r}, not a tuple result"
        )
        adjusted[name] = {"list": value["tuple"]}
    return adjusted
