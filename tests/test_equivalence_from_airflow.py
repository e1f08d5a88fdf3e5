"""The test of record for Airflow as a source: each fixture that starts life in Airflow runs with
``airflow dags test`` (``transpile verify``'s Airflow runner), its conversion runs in Metaflow,
Flyte and KFP, and the results must be the same: the XCom ``return_value`` of every task output
no other task reads, named as the reader names the pipeline's results (``<task>_result``, or
``<task>_<key>`` for several outputs).

The values worked out by hand from the fixtures' task functions stay as a second check of the
Airflow side. Airflow 3.3 cannot load an Airflow 2 file (``airflow.operators.dummy`` and
``schedule_interval`` are gone), so an Airflow 2 fixture's conversions are held to the values its
Airflow 3 twin (the same DAG in Airflow 3 spelling) computes when it runs here.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from conftest import FIXTURES, cases
from harness import normalize, run_flyte, run_kfp, run_metaflow
from staging import converted_or_fail, verified

EXPECTED = {
    # values 1..n; stats: total and count; squares x*x+1 summed in combine
    ("airflow_taskflow", "defaults"): {"combine_result": "34/10/4"},
    ("airflow_taskflow", "override"): {"combine_result": "17/6/3"},
    # left = 2*5*3, right = 7*1*3, add = 51, describe = label=51
    ("airflow3_operators", "defaults"): {"describe_result": "sum=51"},
    ("airflow3_operators", "override"): {"describe_result": "total=51"},
    ("airflow2_operators", "defaults"): {"describe_result": "sum=51"},
    ("airflow2_operators", "override"): {"describe_result": "total=51"},
    # doubled 2,4,6 shifted by 10: 12+14+16; labels of 1..3; weights 100+200; tags / doubled 2,4
    # shifted by 1: 3+5
    ("airflow_mapping", "defaults"): {"report_result": "42:#1,#2,#3:300:a1b2"},
    ("airflow_mapping", "override"): {"report_result": "8:#1,#2:300:a1b2"},
    # values 1..n; first = sum * factor, second = sum * 3; the branch takes the larger (inside
    # the verdict group); the join and publish wait for whichever case ran
    ("airflow_groups", "defaults"): {
        "compare_case_result": "second by 10",
        "publish_result": "published 20/30 over 4 (20)",
    },
    ("airflow_groups", "override"): {
        "compare_case_result": "first by 12",
        "publish_result": "published 30/18 over 3 (30)",
    },
    # loops: north rows 3 (a 3*2+1, b 3*3+1) scaled 2 = 14 + 20, south rows 5 scaled 1 = 11 + 16;
    # the labels in the order the loop appends them
    ("airflow_loops", "defaults"): {"report_result": "61 from N3-NORTH+S5-SOUTH"},
    # 3 + 4 apples and pears, pulled by a Jinja template: text; the bill 3 * 2 + 4 * 5
    ("airflow_mixed", "defaults"): {"describe_result": "7 fruits (str)", "bill_result": 26},
    # count = int("4") * 3 (the template renders text); the Bash step's last line (stderr's
    # "preparing" comes first in the same pipe); the short circuit passes, the branch picks big
    # (12 > 10) or small (6), and the summary waits for whichever ran
    ("airflow_classic", "defaults"): {
        "audit_result": "audit: 12 orders at stamped-5",
        "summary_result": "12 orders, stamped-5",
    },
    ("airflow_classic", "override"): {
        "audit_result": "audit: 6 orders at stamped-5",
        "summary_result": "6 orders, stamped-5",
    },
    ("airflow2_classic", "defaults"): {
        "audit_result": "audit: 12 orders at stamped-5",
        "summary_result": "12 orders, stamped-5",
    },
    ("airflow2_classic", "override"): {
        "audit_result": "audit: 6 orders at stamped-5",
        "summary_result": "6 orders, stamped-5",
    },
    # the sensors pass at once (7 >= 5; a PokeReturnValue of 7 * 3), doubled: 42, rendered into
    # the command with the label; the cleanup runs last with the label
    ("airflow_sensing", "defaults"): {
        "shout_result": "north: 42 in stock",
        "cleanup_result": "tidied north",
    },
    ("airflow_sensing", "override"): {
        "shout_result": "south: 42 in stock",
        "cleanup_result": "tidied south",
    },
    ("airflow2_sensing", "defaults"): {
        "shout_result": "north: 42 in stock",
        "cleanup_result": "tidied north",
    },
    ("airflow2_sensing", "override"): {
        "shout_result": "south: 42 in stock",
        "cleanup_result": "tidied south",
    },
}
# Airflow 2 fixtures Airflow 3.3 cannot load, and their Airflow 3 twins, which run
AIRFLOW3_TWIN = {
    "airflow2_operators": "airflow3_operators",
    "airflow2_classic": "airflow_classic",
    "airflow2_sensing": "airflow_sensing",
    "airflow2_taskflow": "airflow_taskflow",
    "airflow2_mapping": "airflow_mapping",
    "airflow2_groups": "airflow_groups",
}
for _old, _twin in AIRFLOW3_TWIN.items():  # a twin computes what its Airflow 3 DAG computes
    for (_case, _run), _values in list(EXPECTED.items()):
        if _case == _twin:
            EXPECTED.setdefault((_old, _run), _values)
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
    expected = {k: normalize(v) for k, v in EXPECTED[(case.name, run.name)].items()}
    if case.name in AIRFLOW3_TWIN:  # the twin's test runs the same DAG in Airflow
        converted = converted_or_fail(case.source, target)
        twin = FIXTURES / AIRFLOW3_TWIN[case.name] / "airflow.py"
        if _computation(converted.pipeline) == _computation(
            converted_or_fail(twin, target).pipeline
        ):
            return  # the same steps, flow and results as the twin, which runs in this test
        actual = _run(target, converted.code, run.params, tmp_path / target)
        assert {k: actual.get(k) for k in expected} == expected
        return
    result = verified(case.source, target, run.params, tmp_path, case.dir)
    airflow = {c.name: c.source for c in result.values}
    assert {k: airflow.get(k) for k in expected} == expected


def _computation(pipeline) -> dict:
    """The model without where it was read from (spans, docs): what the targets compute."""

    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in ("span", "doc")}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    return clean(dataclasses.asdict(pipeline))


def test_a_twin_that_reads_as_its_airflow_3_dag_is_recognised_and_one_that_does_not_is_not():
    by_name = {case.name: case for case in cases("airflow")}
    same = [
        converted_or_fail(by_name[n].source, "flyte").pipeline
        for n in ("airflow2_taskflow", "airflow_taskflow")
    ]
    assert _computation(same[0]) == _computation(same[1])
    other = [
        converted_or_fail(by_name[n].source, "flyte").pipeline
        for n in ("airflow2_classic", "airflow_classic")
    ]
    assert _computation(other[0]) != _computation(other[1])  # ti vs task_instance: run it


def test_every_airflow_run_has_expected_values():
    assert len(RUNS) >= 6
    assert all((case.name, run.name) in EXPECTED for case, run in RUNS)


def test_an_airflow_2_fixture_is_held_to_what_its_airflow_3_twin_computes():
    by_name = {case.name: case for case in cases("airflow")}
    for old, twin in AIRFLOW3_TWIN.items():
        runs, twin_runs = by_name[old].runs, by_name[twin].runs
        assert [(r.name, r.params) for r in runs] == [(r.name, r.params) for r in twin_runs]
        for r in runs:
            assert EXPECTED[(old, r.name)] == EXPECTED[(twin, r.name)]
        assert "from airflow.sdk import" in by_name[twin].source.read_text()
