"""The test of record for Flyte → KFP: each fixture that starts life in Flyte runs in Flyte, its KFP
conversion runs under kfp.local, and the workflow's outputs must equal the pipeline's outputs
(``harness.normalize`` says what "equal" means; output names must match too: NamedTuple fields,
or o0, o1... for unnamed Flyte outputs).
"""

from __future__ import annotations

import pytest
from conftest import cases
from harness import assert_equivalent, run_flyte, stage_fixture
from harness_kfp import run_kfp
from test_equivalence_kfp import KFP_MODULE, convert_to_kfp

RUNS = [(case, run) for case in cases("flyte") for run in case.runs]
FLYTE_MODULE = "flyte_workflow.py"  # not flyte.py: that name could shadow an installed `flyte`


@pytest.mark.equivalence
@pytest.mark.parametrize(
    ("case", "run"), RUNS, ids=[f"{case.name}-{run.name}" for case, run in RUNS]
)
def test_flyte_and_kfp_results_match(case, run, tmp_path):
    converted = convert_to_kfp(case.source)
    kfp_dir = tmp_path / "kfp"
    stage_fixture(case.dir, kfp_dir)
    (kfp_dir / KFP_MODULE).write_text(converted.code, encoding="utf-8")
    actual = run_kfp(kfp_dir / KFP_MODULE, run.params, kfp_dir)
    flyte_dir = tmp_path / "flyte"
    stage_fixture(case.dir, flyte_dir)
    (flyte_dir / FLYTE_MODULE).write_text(case.source.read_text(encoding="utf-8"), encoding="utf-8")
    expected = run_flyte(flyte_dir / FLYTE_MODULE, run.params, flyte_dir)
    assert_equivalent(expected, actual, ("flyte", "kfp"))


def test_every_flyte_case_has_runs():
    """The parametrization above is not empty: at least three fixtures start life in Flyte."""
    assert len(cases("flyte")) >= 3
    assert all(case.runs for case in cases("flyte"))
