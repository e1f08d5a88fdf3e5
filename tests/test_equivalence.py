"""The test of record: each fixture runs in Metaflow, its Flyte conversion runs in Flyte, and the
end-step artifacts must equal the workflow outputs (see harness.normalize for what "equal" means).

Parametrized by conftest.pytest_generate_tests over every fixture with ``run != false`` and each
of its ``[[runs]]`` (ids like ``foreach_sum-defaults``); a broken case.toml, or no fixture at all,
gives a failing test rather than none.
"""

from __future__ import annotations

import pytest
from harness import assert_equivalent, run_flyte, run_metaflow, stage_fixture

FLYTE_MODULE = "flyte_wf.py"


def convert_to_flyte(source):
    """The Flyte conversion of ``source``; fails the test with the converter's diagnostics otherwise."""
    from transpile.api import Converted, convert_file

    result = convert_file(str(source), "flyte")
    if isinstance(result, Converted):
        return result
    diagnostics = getattr(result, "diagnostics", ())
    lines = [f"{d.severity}: {d.render(str(source))}" for d in diagnostics]
    lines = lines or [getattr(result, "reason", "")]
    pytest.fail(f"conversion to flyte gave {type(result).__name__}:\n  " + "\n  ".join(lines))


@pytest.mark.equivalence
def test_metaflow_and_flyte_results_match(equivalence_run, tmp_path):
    run = equivalence_run
    if run.problem:
        pytest.fail(f"{run.fixture_dir}: {run.problem}")
    converted = convert_to_flyte(run.fixture_dir / "metaflow.py")
    flyte_dir = tmp_path / "flyte"
    stage_fixture(run.fixture_dir, flyte_dir)
    (flyte_dir / FLYTE_MODULE).write_text(converted.code, encoding="utf-8")
    # Flyte first: it takes seconds where Metaflow takes one process per task.
    actual = run_flyte(flyte_dir / FLYTE_MODULE, run.params, flyte_dir)
    expected = run_metaflow(run.fixture_dir, run.flow, run.params, tmp_path / "metaflow")
    assert_equivalent(with_reported_losses(expected, converted), actual)


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
