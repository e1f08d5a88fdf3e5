"""The test of record for Flyte → KFP: each fixture that starts life in Flyte runs in Flyte, its KFP
conversion runs under kfp.local, and the workflow's outputs must equal the pipeline's outputs
(``transpile.verify.values.normalize`` says what "equal" means; output names must match too: NamedTuple fields,
or o0, o1... for unnamed Flyte outputs).
"""

from __future__ import annotations

import pytest
from conftest import cases
from staging import source_and_conversion_agree

RUNS = [(case, run) for case in cases("flyte") for run in case.runs]


@pytest.mark.equivalence
@pytest.mark.parametrize(
    ("case", "run"), RUNS, ids=[f"{case.name}-{run.name}" for case, run in RUNS]
)
def test_flyte_and_kfp_results_match(case, run, tmp_path):
    source_and_conversion_agree(case, run, tmp_path, "kfp")


def test_every_flyte_case_has_runs():
    """The parametrization above is not empty: at least three fixtures start life in Flyte."""
    assert len(cases("flyte")) >= 3
    assert all(case.runs for case in cases("flyte"))
