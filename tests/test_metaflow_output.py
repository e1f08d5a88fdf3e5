"""What the emitted Metaflow code must be, checked on every Metaflow fixture read back into the
model and written again: the reviewed golden, tidy under ruff, importing nothing from transpile,
flytekit or kfp, byte-identical across hash seeds.

api.convert_* refuses to write a flow in the framework it was read from (TP006), so these tests
call the writer on the read model. Goldens live in ``fixtures/<case>/expected/metaflow.py``; after
a deliberate change, regenerate them with ``TRANSPILE_UPDATE_GOLDENS=1 pytest
tests/test_metaflow_output.py`` and read the diff.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import libcst as cst
import pytest
from conftest import FIXTURES

from transpile.api import Read, read_file
from transpile.writers.metaflow import write

CASES = sorted(p.parent.name for p in FIXTURES.glob("*/metaflow.py"))


def round_trip(case: str) -> str:
    read = read_file(f"fixtures/{case}/metaflow.py")
    assert isinstance(read, Read), read
    code, _ = write(read.pipeline)
    return code


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch):
    monkeypatch.chdir(FIXTURES.parent)


@pytest.mark.parametrize("case", CASES)
def test_matches_reviewed_golden(case):
    code = round_trip(case)
    golden = FIXTURES / case / "expected" / "metaflow.py"
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
    code = round_trip(case)
    checked = _ruff("check", code=code)
    assert checked.returncode == 0, checked.stdout
    formatted = _ruff("format", "--check", code=code)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


@pytest.mark.parametrize("case", CASES)
def test_one_flowspec_with_start_and_end_run_by_main(case):
    module = cst.parse_module(round_trip(case))
    imported = set()
    for stmt in module.body:
        for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.Import):
                imported |= {
                    cst.Module([]).code_for_node(a.name).split(".")[0] for a in small.names
                }
            elif isinstance(small, cst.ImportFrom) and small.module is not None:
                imported.add(cst.Module([]).code_for_node(small.module).split(".")[0])
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


DIGEST = """
import hashlib, sys
sys.path[:0] = [p for p in sys.argv[1:2] if p]
from transpile.api import read_file
from transpile.writers.metaflow import write
h = hashlib.sha256()
for case in sys.argv[2:]:
    h.update(write(read_file(f"fixtures/{case}/metaflow.py").pipeline)[0].encode())
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
    local = hashlib.sha256(b"".join(round_trip(c).encode() for c in CASES)).hexdigest()
    assert digests == {local}
