"""What the emitted Flyte code must be, checked on every fixture: the reviewed golden, tidy under
ruff, importing nothing from transpile or metaflow, byte-identical across hash seeds.

Goldens live in ``fixtures/<case>/expected/flyte.py``; after a deliberate change, regenerate them
with ``TRANSPILE_UPDATE_GOLDENS=1 pytest tests/test_flyte_output.py`` and read the diff.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import libcst as cst
import pytest
from conftest import FIXTURES

from transpile.api import Converted, convert_file

CASES = sorted(p.parent.name for p in FIXTURES.glob("*/metaflow.py"))


def convert(case: str) -> Converted:
    result = convert_file(f"fixtures/{case}/metaflow.py", "flyte")
    assert isinstance(result, Converted), result
    return result


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch):
    monkeypatch.chdir(FIXTURES.parent)


def test_there_are_enough_fixtures():
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES)
def test_matches_reviewed_golden(case):
    code = convert(case).code
    golden = FIXTURES / case / "expected" / "flyte.py"
    if os.environ.get("TRANSPILE_UPDATE_GOLDENS"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(code, encoding="utf-8")
    assert golden.exists(), (
        f"no golden for {case}: run with TRANSPILE_UPDATE_GOLDENS=1 and review it"
    )
    assert code == golden.read_text(encoding="utf-8")


def _ruff(*args: str, code: str) -> subprocess.CompletedProcess:
    from ruff.__main__ import find_ruff_bin

    return subprocess.run(
        [find_ruff_bin(), *args, "--isolated", "--stdin-filename", "emitted.py", "-"],
        input=code,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("case", CASES)
def test_clean_under_ruff(case):
    code = convert(case).code
    checked = _ruff("check", code=code)
    assert checked.returncode == 0, checked.stdout
    formatted = _ruff("format", "--check", code=code)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


@pytest.mark.parametrize("case", CASES)
def test_imports_only_flytekit_and_the_users_modules(case):
    module = cst.parse_module(convert(case).code)
    imported = set()
    for stmt in module.body:
        for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.Import):
                imported |= {
                    cst.Module([]).code_for_node(a.name).split(".")[0] for a in small.names
                }
            elif isinstance(small, cst.ImportFrom) and small.module is not None:
                imported.add(cst.Module([]).code_for_node(small.module).split(".")[0])
    assert "flytekit" in imported
    assert not imported & {"transpile", "metaflow", "kfp"}


@pytest.mark.parametrize("case", CASES)
def test_entry_workflow_is_defined_last_and_run_by_main(case):
    module = cst.parse_module(convert(case).code)
    functions = [s for s in module.body if isinstance(s, cst.FunctionDef)]
    last = functions[-1]
    assert [cst.Module([]).code_for_node(d.decorator) for d in last.decorators] == ["workflow"]
    main = module.body[-1]
    assert isinstance(main, cst.If) and "__main__" in cst.Module([]).code_for_node(main.test)
    assert f"{last.name.value}(" in cst.Module([main]).code


DIGEST = """
import hashlib, sys
sys.path[:0] = [p for p in sys.argv[1:2] if p]
from transpile.api import convert_file
h = hashlib.sha256()
for case in sys.argv[2:]:
    h.update(convert_file(f"fixtures/{case}/metaflow.py", "flyte").code.encode())
print(h.hexdigest())
"""


def test_byte_identical_across_hash_seeds():
    digests = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", DIGEST, "", *CASES],
            capture_output=True,
            text=True,
            env=env,
            cwd=FIXTURES.parent,
            check=True,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1
    local = hashlib.sha256(b"".join(convert(c).code.encode() for c in CASES)).hexdigest()
    assert digests == {local}
