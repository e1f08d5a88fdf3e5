"""The test of record for KFP: each fixture runs in Metaflow, its KFP conversion runs under
kfp.local (SubprocessRunner, no venv), and the end-step artifacts must equal the pipeline's
outputs (``transpile verify``'s own check).

Parametrized by conftest.pytest_generate_tests like test_equivalence.py: every fixture with
``run != false`` and each of its ``[[runs]]``. No difference is accepted: values KFP would change
(tuples, dataclasses, ints inside containers that the pipeline returns) travel as artifacts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, load_case
from harness import RunFailed, run_kfp, run_metaflow, stage_fixture
from staging import converted_or_fail, verified

KFP_MODULE = "kfp_pipeline.py"  # not kfp.py: a task's working folder comes first on sys.path
# Shapes only the KFP writer handles differently (no Flyte golden): tests/kfp_flows/<case>/.
KFP_FLOWS = sorted(p.parent for p in (Path(__file__).parent / "kfp_flows").glob("*/case.toml"))


def check_equivalent(fixture_dir: Path, params: dict, tmp_path: Path) -> None:
    verified(fixture_dir / "metaflow.py", "kfp", params, tmp_path)


@pytest.mark.equivalence
def test_metaflow_and_kfp_results_match(equivalence_run, tmp_path):
    run = equivalence_run
    if run.problem:
        pytest.fail(f"{run.fixture_dir}: {run.problem}")
    check_equivalent(run.fixture_dir, run.params, tmp_path)


@pytest.mark.equivalence
@pytest.mark.parametrize(
    ("case_dir", "run"),
    [(d, r) for d in KFP_FLOWS for r in load_case(d).runs],
    ids=lambda v: v.name,
)
def test_kfp_specific_shapes_match(case_dir, run, tmp_path):
    check_equivalent(case_dir, run.params, tmp_path)


@pytest.mark.equivalence
def test_a_switch_value_that_matches_no_case_fails_as_in_metaflow(tmp_path):
    fixture = FIXTURES / "switch_route"
    params = {"mode": "other"}
    converted = converted_or_fail(fixture / "metaflow.py", "kfp")
    kfp_dir = tmp_path / "kfp"
    stage_fixture(fixture, kfp_dir)
    (kfp_dir / KFP_MODULE).write_text(converted.code, encoding="utf-8")
    message = (
        "Switch condition variable 'route' has value 'other' "
        "which is not in the available cases: ['fast', 'slow', 'skip']"
    )
    with pytest.raises(RunFailed) as kfp_failure:
        run_kfp(kfp_dir / KFP_MODULE, params, kfp_dir)
    assert message in str(kfp_failure.value)
    with pytest.raises(RunFailed) as metaflow_failure:
        run_metaflow(fixture, "SwitchRouteFlow", params, tmp_path / "metaflow")
    assert message in str(metaflow_failure.value)
