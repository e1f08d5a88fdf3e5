"""What the emitted Metaflow code must be beyond what every writer's must (test_writer_output.py),
checked on every Metaflow fixture read back into the model and written again: one FlowSpec from
start to end, run by ``__main__``, importing metaflow and nothing of transpile, flytekit or kfp.
"""

from __future__ import annotations

import libcst as cst
import pytest
from conftest import FIXTURES
from output_checks import CASES, imported_modules, round_trip


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch):
    monkeypatch.chdir(FIXTURES.parent)


@pytest.mark.parametrize("case", CASES)
def test_one_flowspec_with_start_and_end_run_by_main(case):
    code = round_trip(case)
    module = cst.parse_module(code)
    imported = imported_modules(code)  # imports inside functions included
    assert "metaflow" in imported
    assert not imported & {"transpile", "flytekit", "kfp"}
    classes = [s for s in module.body if isinstance(s, cst.ClassDef)]
    flows = [c for c in classes if "FlowSpec" in cst.Module([]).code_for_node(c)]
    steps = [s.name.value for s in flows[-1].body.body if isinstance(s, cst.FunctionDef)]
    assert steps[0] == "start" and steps[-1] == "end"
    main = module.body[-1]
    assert isinstance(main, cst.If) and f"{flows[-1].name.value}()" in cst.Module([main]).code


def test_a_metaflow_flow_comes_back_as_itself():
    """Metaflow → model → Metaflow keeps the code of a flow the reader models exactly."""
    source = (FIXTURES / "nested_foreach" / "metaflow.py").read_text(encoding="utf-8")
    emitted = round_trip("nested_foreach")
    body = emitted.split("\n", 1)[1].lstrip("\n")
    assert body == source.split('"""\n\n', 1)[1]
