"""What the emitted Flyte code must be beyond what every writer's must (test_writer_output.py):
the entry workflow defined last and run by ``__main__``, checked on every fixture.
"""

from __future__ import annotations

import libcst as cst
import pytest
from conftest import FIXTURES
from output_checks import CASES, converted


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch):
    monkeypatch.chdir(FIXTURES.parent)


@pytest.mark.parametrize("case", CASES)
def test_entry_workflow_is_defined_last_and_run_by_main(case):
    module = cst.parse_module(converted(case, "flyte").code)
    functions = [s for s in module.body if isinstance(s, cst.FunctionDef)]
    last = functions[-1]
    assert [cst.Module([]).code_for_node(d.decorator) for d in last.decorators] == ["workflow"]
    main = module.body[-1]
    assert isinstance(main, cst.If) and "__main__" in cst.Module([]).code_for_node(main.test)
    assert f"{last.name.value}(" in cst.Module([main]).code
