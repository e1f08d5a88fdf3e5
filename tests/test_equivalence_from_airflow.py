"""The test of record for Airflow as a source: each fixture that starts life in Airflow is converted
to Metaflow, Flyte and KFP, run there, and its results must equal what the Airflow DAG computes.

Airflow is not installed in the shared environment, so what the DAG computes is recorded here
(worked out from the fixture's task functions and reviewed by hand, not yet by `airflow dags
test`): the value of every task output no other task reads, named as the reader names the
pipeline's results (``<task>_result``, or ``<task>_<key>`` for several outputs).
"""

from __future__ import annotations

import re

import pytest
from conftest import cases
from harness import normalize, run_flyte, run_kfp, run_metaflow
from staging import converted_or_fail

EXPECTED = {
    # values 1..n; stats: total and count; squares x*x+1 summed in combine
    ("airflow_taskflow", "defaults"): {"combine_result": "34/10/4"},
    ("airflow_taskflow", "override"): {"combine_result": "17/6/3"},
    # left = 2*5*3, right = 7*1*3, add = 51, describe = label=51
    ("airflow2_operators", "defaults"): {"describe_result": "sum=51"},
    ("airflow2_operators", "override"): {"describe_result": "total=51"},
}
RUNS = [(case, run) for case in cases("airflow") for run in case.runs]


def _run(target: str, code: str, params: dict, workdir):
    workdir.mkdir(parents=True)
    if target == "metaflow":
        (workdir / "metaflow.py").write_text(code)
        flow = re.search(r"^class (\w+)\(FlowSpec\)", code, re.MULTILINE).group(1)
        return run_metaflow(workdir, flow, params, workdir / "run")
    module = workdir / f"{target}_pipeline.py"
    module.write_text(code)
    runner = run_flyte if target == "flyte" else run_kfp
    return runner(module, params, workdir / "run")


@pytest.mark.equivalence
@pytest.mark.parametrize("target", ["metaflow", "flyte", "kfp"])
@pytest.mark.parametrize(
    ("case", "run"), RUNS, ids=[f"{case.name}-{run.name}" for case, run in RUNS]
)
def test_conversion_computes_what_the_dag_computes(case, run, target, tmp_path):
    converted = converted_or_fail(case.source, target)
    actual = _run(target, converted.code, run.params, tmp_path / target)
    expected = {k: normalize(v) for k, v in EXPECTED[(case.name, run.name)].items()}
    assert {k: actual.get(k) for k in expected} == expected


def test_every_airflow_run_has_expected_values():
    assert len(RUNS) >= 4
    assert all((case.name, run.name) in EXPECTED for case, run in RUNS)
