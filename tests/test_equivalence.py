"""The test of record: each fixture runs in Metaflow, its Flyte conversion runs in Flyte, and the
end-step artifacts must equal the workflow outputs: ``transpile verify``'s own check
(transpile.verify.check; values.normalize says what "equal" means).

Parametrized by conftest.pytest_generate_tests over every fixture with ``run != false`` and each
of its ``[[runs]]`` (ids like ``foreach_sum-defaults``); a broken case.toml, or no fixture at all,
gives a failing test rather than none.
"""

from __future__ import annotations

import pytest
from staging import verified


@pytest.mark.equivalence
def test_metaflow_and_flyte_results_match(equivalence_run, tmp_path):
    run = equivalence_run
    if run.problem:
        pytest.fail(f"{run.fixture_dir}: {run.problem}")
    verified(run.fixture_dir / "metaflow.py", "flyte", run.params, tmp_path)
