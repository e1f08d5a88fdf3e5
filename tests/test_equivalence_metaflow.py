"""Metaflow → model → Metaflow runs the same: each fixture runs as written and as the Metaflow
writer emits it, both under Metaflow, and their end-step artifacts must be equal. Fixtures that
start in Flyte or KFP run there and as the emitted Metaflow flow: the pipeline's results must be
equal.

Parametrized by conftest.pytest_generate_tests over every Metaflow fixture with ``run != false``
and each of its ``[[runs]]``. The source runs come from harness.run_metaflow's per-session cache,
so test_equivalence.py and test_equivalence_kfp.py do not run them again.
"""

from __future__ import annotations

import pytest
from conftest import cases
from harness import assert_equivalent, metaflow_cache_entry, run_metaflow, stage_fixture
from staging import verified

from transpile.api import Read, read_file
from transpile.frameworks.metaflow.writer.write import write
from transpile.verify.check import with_catch_as_text


def emitted_flow(run, folder):
    """A fixture folder whose metaflow.py is the writer's output for the fixture's flow."""
    read = read_file(str(run.fixture_dir / "metaflow.py"))
    assert isinstance(read, Read), read
    code, _ = write(read.pipeline)
    stage_fixture(run.fixture_dir, folder)
    (folder / "metaflow.py").write_text(code, encoding="utf-8")
    return folder


@pytest.mark.equivalence
def test_source_and_emitted_metaflow_results_match(equivalence_run, tmp_path):
    run = equivalence_run
    if run.problem:
        pytest.fail(f"{run.fixture_dir}: {run.problem}")
    folder = emitted_flow(run, tmp_path / "emitted")
    actual = run_metaflow(folder, run.flow, run.params, tmp_path / "run-emitted")
    expected = run_metaflow(run.fixture_dir, run.flow, run.params, tmp_path / "run-source")
    read = read_file(str(run.fixture_dir / "metaflow.py"))
    _, notes = write(read.pipeline)
    expected = with_catch_as_text(expected, notes, actual)  # @catch became a try in the body
    assert_equivalent(expected, actual, ("source", "emitted"))


def test_metaflow_results_are_cached_by_flow_files_and_params(tmp_path, monkeypatch):
    import harness

    monkeypatch.setenv(harness.METAFLOW_CACHE_ENV, str(tmp_path / "cache"))
    fixture = tmp_path / "case"
    fixture.mkdir()
    (fixture / "metaflow.py").write_text("raise SystemExit(3)\n", encoding="utf-8")
    entry = metaflow_cache_entry(fixture, "F", {"n": 1}, tmp_path / "a")
    entry.parent.mkdir()
    entry.write_text('{"x": {"int": "1"}}', encoding="utf-8")
    # served from the cache, in another working folder: running this flow would fail
    assert run_metaflow(fixture, "F", {"n": 1}, tmp_path / "work") == {"x": {"int": "1"}}
    assert metaflow_cache_entry(fixture, "F", {"n": 2}, tmp_path / "b") != entry
    (fixture / "data.csv").write_text("a,b\n", encoding="utf-8")
    assert metaflow_cache_entry(fixture, "F", {"n": 1}, tmp_path / "c") != entry


FOREIGN = [(c, r) for framework in ("flyte", "kfp") for c in cases(framework) for r in c.runs]


@pytest.mark.equivalence
@pytest.mark.parametrize(("case", "run"), FOREIGN, ids=[f"{c.name}-{r.name}" for c, r in FOREIGN])
def test_flyte_and_kfp_sources_give_the_same_results_in_metaflow(case, run, tmp_path):
    """The pipeline's results are artifacts of the emitted flow's end step (which also shows the
    intermediate artifacts a Metaflow user sees: those are not compared)."""
    verified(case.source, "metaflow", run.params, tmp_path, case.dir)
