"""The test of record for Airflow as a target: each Metaflow, Flyte and KFP fixture the Airflow
writer converts runs in its own framework, its Airflow conversion runs with ``airflow dags test``
(``transpile verify``'s Airflow runner), and the results must be the same, with the defaults and
with each case's overridden parameters (switches as ``@task.branch``). What the writer cannot
write yet (issue 18: maps inside maps, maps of more than one task) is refused with TP260, and the
refused cases are listed here so that the list only shrinks.
"""

from __future__ import annotations

import re

import pytest
from conftest import cases
from output_checks import ruff
from staging import verified

from transpile.api import Converted, convert_file

# issue 18: the Airflow writer does not write maps nested in maps, maps whose body is several
# tasks (mapped task groups) or switches inside maps yet
REFUSED = {
    "foreach_multistep",
    "foreach_switch",
    "kfp_wild_loops",
    "nested_foreach",
    "wild_nested",
}
# Every case runs its first (default) parameters; these also run their overrides, which keeps
# the direction within the suite's time budget (each Airflow run is about 15 s)
OVERRIDDEN = {
    "linear_params",
    "foreach_sum",
    "kfp_parallel_collect",
    "flyte_wild_imperative",
    "switch_route",  # its overrides take the other cases
}
SOURCES = [case for fw in ("metaflow", "flyte", "kfp") for case in cases(fw) if case.run]


def _runs():
    for case in SOURCES:
        if case.name in REFUSED:
            continue
        for i, run in enumerate(case.runs):
            if i and case.name not in OVERRIDDEN:
                continue
            yield pytest.param(case, run, id=f"{case.name}-{run.name}")


RUNS = list(_runs())


@pytest.mark.equivalence
@pytest.mark.parametrize(("case", "run"), RUNS)
def test_the_airflow_conversion_computes_what_the_source_computes(case, run, tmp_path):
    verified(case.source, "airflow", run.params, tmp_path, case.dir)


@pytest.mark.parametrize("case", SOURCES, ids=[case.name for case in SOURCES])
def test_the_output_is_clean_and_only_the_listed_cases_are_refused(case):
    result = convert_file(str(case.source), "airflow")
    if case.name not in REFUSED:
        assert isinstance(result, Converted), result
        # the rules the source's own code breaks (user code is copied as it is), F821 never
        own = _rules(ruff("check", "--output-format", "concise", code=case.source.read_text()))
        ignored = ["--ignore", ",".join(sorted(own - {"F821"}))] if own - {"F821"} else []
        checked = ruff("check", *ignored, code=result.code)
        assert checked.returncode == 0, checked.stdout
        formatted = ruff("format", "--check", code=result.code)
        assert formatted.returncode == 0, formatted.stdout + formatted.stderr
        assert "from airflow.sdk import" in result.code
        assert re.search(
            r"^if __name__ == .__main__.:\n    \w+\.test\(\)$", result.code, re.MULTILINE
        )
    else:
        assert not isinstance(result, Converted)
        errors = [d.code for d in result.diagnostics if d.severity == "error"]
        assert errors == ["TP260"], result.diagnostics


def _rules(done) -> set[str]:
    return set(re.findall(r"^\S+:\d+:\d+: ([A-Z]+\d+)", done.stdout, re.MULTILINE))
