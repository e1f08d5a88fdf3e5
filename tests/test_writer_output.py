"""What every writer's output must be, checked on every Metaflow fixture: the reviewed golden, tidy
under ruff, importing its own framework and nothing of transpile or another framework,
byte-identical across hash seeds. Checks of one writer alone stay in ``test_<writer>_output.py``.

Goldens live in ``fixtures/<case>/expected/<writer>.py``; after a deliberate change, regenerate
them with ``TRANSPILE_UPDATE_GOLDENS=1 pytest tests/test_writer_output.py`` and read the diff.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES
from output_checks import CASES, WRITERS, emitted, imported_modules, ruff

FRAMEWORKS = {"flyte": "flytekit", "kfp": "kfp", "metaflow": "metaflow"}


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch):
    monkeypatch.chdir(FIXTURES.parent)


def test_there_are_enough_fixtures():
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("writer", WRITERS)
def test_matches_reviewed_golden(writer, case):
    code = emitted(writer, case)
    golden = FIXTURES / case / "expected" / f"{writer}.py"
    if os.environ.get("TRANSPILE_UPDATE_GOLDENS"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(code, encoding="utf-8")
    assert golden.exists(), (
        f"no golden for {case}: run with TRANSPILE_UPDATE_GOLDENS=1 and review it"
    )
    assert code == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("writer", WRITERS)
def test_clean_under_ruff(writer, case):
    code = emitted(writer, case)
    checked = ruff("check", code=code)
    assert checked.returncode == 0, checked.stdout
    formatted = ruff("format", "--check", code=code)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


# Metaflow's import check is part of test_metaflow_output's FlowSpec test.
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("writer", ["flyte", "kfp"])
def test_imports_its_framework_and_nothing_of_transpile_or_another(writer, case):
    imported = imported_modules(emitted(writer, case))  # imports inside functions included
    assert FRAMEWORKS[writer] in imported
    assert not imported & ({"transpile", *FRAMEWORKS.values()} - {FRAMEWORKS[writer]})


DIGEST = """
import hashlib, sys
sys.path[:0] = [sys.argv[1]]
from output_checks import emitted
h = hashlib.sha256()
for case in sys.argv[3:]:
    h.update(emitted(sys.argv[2], case).encode())
print(h.hexdigest())
"""


@pytest.mark.parametrize("writer", WRITERS)
def test_byte_identical_across_hash_seeds(writer):
    digests = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", DIGEST, str(Path(__file__).parent), writer, *CASES],
            capture_output=True,
            text=True,
            env=env,
            cwd=FIXTURES.parent,
            check=True,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1
    local = hashlib.sha256(b"".join(emitted(writer, c).encode() for c in CASES)).hexdigest()
    assert digests == {local}
