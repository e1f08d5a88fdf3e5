"""Byte-identical output whatever the hash seed and whatever order the files arrive in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from staging import stage_siblings

from transpile import frameworks
from transpile.api import Converted, convert_file

ROOT = Path(__file__).parents[1]


def _sources(target: str, folder: Path) -> list[Path]:
    """Every fixture source not already in ``target``, as <case>_<framework>.py in one folder
    (their own names all collide), with the modules of tasks they import (``*_tasks.py``)."""
    for framework in sorted(set(frameworks.names()) - {target}):
        for source in sorted((ROOT / "fixtures").glob(f"*/{framework}.py")):
            if _not_written_yet(source, target):
                continue
            shutil.copy(source, folder / f"{source.parent.name}_{framework}.py")
            for module in sorted(source.parent.glob("*_tasks.py")):  # a sibling it imports
                shutil.copy(module, folder / module.name)
            if framework == "metaflow":  # a flow's base classes: above the batch, not converted
                stage_siblings(source.parent, folder.parent)
    return sorted(folder.iterdir())


def _not_written_yet(source: Path, target: str) -> bool:
    """A fixture the Airflow writer refuses as not written yet (TP260, issue 18)."""
    if target != "airflow":
        return False
    result = convert_file(str(source), target)
    return not isinstance(result, Converted) and any(d.code == "TP260" for d in result.diagnostics)


def _batch(files: list[Path], target: str, out: Path, seed: str) -> dict[str, bytes]:
    """Convert ``files`` as one batch under PYTHONHASHSEED=``seed``; output name → bytes."""
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "transpile", "convert", *map(str, files)]
    done = subprocess.run(
        [*command, "--to", target, "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.mark.parametrize("target", sorted(frameworks.targets()))
def test_batches_in_any_order_under_any_seed_are_byte_identical(target, tmp_path):
    (tmp_path / "in").mkdir()
    flows = _sources(target, tmp_path / "in")
    first = _batch(flows, target, tmp_path / "a", "0")
    # every source written, and a file of several pipelines each other one beside it
    assert {p.name for p in flows} <= set(first)
    assert "flyte_three_entries_flyte_daily.py" in first or target == "flyte"
    shuffled = flows[1::2][::-1] + flows[::2]  # another order, other hash seed
    assert _batch(shuffled, target, tmp_path / "b", "4242") == first
