"""The import contract (``[tool.importlinter]`` in pyproject.toml), checked with import-linter:
layers only point down (CLI → commands → frameworks → shared reading/writing → model and
utilities), no framework imports another, and no modules import each other in a circle.

The contract is run on the package as installed, and on copies of it with one deliberate fault
each, to show that it fails when the shape rots.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

import transpile

CONFIG = FIXTURES.parent / "pyproject.toml"
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")  # import-linter's command


def lint_imports(path: Path | None = None) -> subprocess.CompletedProcess:
    """``lint-imports`` over the ``transpile`` package found first on ``path`` (else this one)."""
    env = {**os.environ}
    if path is not None:
        env["PYTHONPATH"] = str(path)
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(CONFIG), "--no-cache"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the package to break."""
    shutil.copytree(
        Path(transpile.__file__).parent,
        tmp_path / "transpile",
        ignore=shutil.ignore_patterns("__pycache__", "templates"),
    )
    return tmp_path


def add_import(module: Path, line: str) -> None:
    text = module.read_text()
    module.write_text(
        text.replace(
            "from __future__ import annotations\n",
            f"from __future__ import annotations\n{line}\n",
            1,
        )
    )


def test_the_tree_keeps_the_contract():
    done = lint_imports(Path(transpile.__file__).parents[1])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 3 kept, 0 broken." in done.stdout


def test_an_upward_import_breaks_it(copy):
    add_import(copy / "transpile" / "model" / "ir.py", "import transpile.api  # noqa")
    done = lint_imports(copy)
    assert done.returncode == 1
    assert "Layers only point down" in done.stdout and "BROKEN" in done.stdout
    assert "transpile.model.ir -> transpile.api" in done.stdout


def test_one_framework_importing_another_breaks_it(copy):
    writer = copy / "transpile" / "frameworks" / "kfp" / "writer" / "types.py"
    add_import(writer, "import transpile.frameworks.flyte.writer.types  # noqa")
    done = lint_imports(copy)
    assert done.returncode == 1
    assert "No framework imports another BROKEN" in done.stdout


def test_a_circle_breaks_it(copy):
    reader = copy / "transpile" / "frameworks" / "metaflow" / "reader"
    add_import(reader / "scan.py", "from . import join  # noqa")
    done = lint_imports(copy)
    assert done.returncode == 1
    assert "No import circles BROKEN" in done.stdout
    assert "transpile.frameworks.metaflow.reader" in done.stdout
