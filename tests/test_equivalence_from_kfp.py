"""The test of record for KFP → Flyte: each fixture that starts life in KFP runs under kfp.local,
its Flyte conversion runs in Flyte, and the pipeline outputs must equal the workflow outputs
(see transpile.verify.values.normalize for what "equal" means).

Parametrized over conftest.cases("kfp") × each case's [[runs]]. A second, Flyte-only test reads
our KFP goldens (fixtures/<case>/expected/kfp.py) back, converts them to Flyte and runs them
against the Flyte goldens of the same flows.
"""

from __future__ import annotations

import pytest
from conftest import FIXTURES, cases, load_case
from harness import assert_equivalent, run_flyte
from staging import Side, converted_or_fail, source_and_conversion_agree

FLYTE_MODULE = "flyte_wf.py"
RUNS = [(case, run) for case in cases("kfp") if case.run for run in case.runs]
GOLDEN_RUNS = [
    (load_case(p.parents[1]), run)
    for p in sorted(FIXTURES.glob("*/expected/kfp.py"))
    if (p.parent / "flyte.py").is_file() and load_case(p.parents[1]).run
    for run in load_case(p.parents[1]).runs
]
FLYTE = Side("flyte", FLYTE_MODULE, run_flyte)


def test_there_are_kfp_fixtures():
    assert len(cases("kfp")) >= 3


@pytest.mark.equivalence
@pytest.mark.parametrize(
    ("case", "run"), RUNS, ids=[f"{case.name}-{run.name}" for case, run in RUNS]
)
def test_kfp_and_flyte_results_match(case, run, tmp_path):
    source_and_conversion_agree(case, run, tmp_path, "flyte")


def _golden_params():
    for case, run in GOLDEN_RUNS:
        yield pytest.param(case, run, id=f"{case.name}-{run.name}")


@pytest.mark.equivalence
@pytest.mark.parametrize(("case", "run"), list(_golden_params()))
def test_kfp_golden_read_back_runs_like_the_flyte_golden(case, run, tmp_path):
    converted = converted_or_fail(case.dir / "expected" / "kfp.py", "flyte")
    golden_code = (case.dir / "expected" / "flyte.py").read_text(encoding="utf-8")
    expected = FLYTE.results(case.dir, golden_code, run.params, tmp_path / "golden")
    actual = FLYTE.results(case.dir, converted.code, run.params, tmp_path / "ours")
    assert_equivalent(expected, actual, ("flyte golden", "kfp golden read back"))
