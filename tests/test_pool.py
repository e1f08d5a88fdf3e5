"""Batch convert and lint over a process pool give exactly what a serial run gives."""

from __future__ import annotations

import shutil
from contextlib import nullcontext
from pathlib import Path

import pytest
from conftest import run_transpile
from staging import stage_siblings

from transpile.util.parallel import ordered_map
from transpile.writing.render import format_code, format_many

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
BROKEN = {"broken.py": "from metaflow import FlowSpec\nclass (\n", "binary.py": "\x00\x01"}


def flows_folder(folder: Path, copies: int = 1) -> Path:
    """Every fixture source (``copies`` times), a file without a pipeline and broken files."""
    folder.mkdir()
    for number in range(copies):
        for source in sorted(FIXTURES.glob("*/*.py")):
            shutil.copy(source, folder / f"{source.parent.name}_{number}_{source.name}")
    (folder / "util.py").write_text("VALUE = 1\n")
    for name, text in BROKEN.items():
        (folder / name).write_text(text)
    return folder


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.py"))}


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_convert_pool_equals_serial(tmp_path, target):
    flows_folder(tmp_path / "flows", copies=2)  # above POOL_MINIMUM_BYTES: -j 2 uses the pool
    serial = run_transpile(
        "convert", "flows", "--to", target, "-o", "serial", "-j", "1", cwd=tmp_path
    )
    pooled = run_transpile(
        "convert", "flows", "--to", target, "-o", "pooled", "-j", "2", cwd=tmp_path
    )
    assert serial.returncode == pooled.returncode == 2  # the broken files fail the batch
    assert "failed   flows/broken.py:2:7: TP003" in serial.stderr
    assert "skipped  flows/util.py" in serial.stderr
    assert serial.stderr.replace("serial", "pooled") == pooled.stderr
    assert tree(tmp_path / "serial") == tree(tmp_path / "pooled")
    assert len(tree(tmp_path / "serial")) > 20


def test_batch_output_is_the_golden_output(tmp_path):
    """Batch mode formats all files in one ruff run: each file must still match its golden."""
    folder = tmp_path / "flows"
    folder.mkdir()
    goldens = {}
    for source in sorted(FIXTURES.glob("*/metaflow.py")):
        golden = source.parent / "expected" / "flyte.py"
        if golden.is_file():
            (folder / source.parent.name).mkdir()
            shutil.copy(source, folder / source.parent.name / "metaflow.py")  # the header names it
            stage_siblings(source.parent, tmp_path)  # above the batch: read, not converted
            goldens[f"{source.parent.name}/metaflow.py"] = golden.read_bytes()
    done = run_transpile("convert", "flows", "--to", "flyte", "-o", "out", "-j", "2", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    assert tree(tmp_path / "out") == goldens


def test_lint_pool_equals_serial(tmp_path):
    flows_folder(tmp_path / "flows", copies=2)  # enough files for the pool to be used
    serial = run_transpile("lint", "flows", "--format", "json", "-j", "1", cwd=tmp_path)
    pooled = run_transpile("lint", "flows", "--format", "json", "-j", "2", cwd=tmp_path)
    assert serial.returncode == pooled.returncode == 2  # broken files are errors
    assert "TP003" in serial.stderr and "TP002" in serial.stderr
    assert serial.stdout.count('"code": "TP') > 20  # findings from many rules and files
    assert (serial.stdout, serial.stderr) == (pooled.stdout, pooled.stderr)


def test_jobs_must_be_positive(tmp_path):
    done = run_transpile("lint", ".", "-j", "0", cwd=tmp_path)
    assert done.returncode == 2
    assert "--jobs" in done.stderr and "Traceback" not in done.stderr


def test_format_many_equals_format_code_one_by_one():
    codes = [
        "import zeta\nimport os\nfrom flytekit import task\nx=[1,\n2]\n",
        "import emitted\nimport sys\ny = {'a':1}\n",
        "def f( a ):\n    return a\n",
    ]
    assert format_many(codes) == [format_code(code) for code in codes]
    assert format_many([]) == []


def test_ordered_map_keeps_input_order():
    items = list(range(40))
    assert list(ordered_map(abs, [-i for i in items], jobs=2)) == items
    assert list(ordered_map(abs, [-3], jobs=2)) == [3]


def test_small_batch_converts_in_process(tmp_path, monkeypatch):
    """Below POOL_MINIMUM_BYTES of source a batch starts no pool, whatever -j says."""
    from transpile import batch
    from transpile.util.fileio import discover

    found, _unvisited = discover([str(flows_folder(tmp_path / "flows"))])
    small = found[:3]
    assert 0 < batch._size(small) < batch.POOL_MINIMUM_BYTES <= batch._size(found * 2)
    jobs_used = []

    def spy(work, items, jobs, *rest):
        jobs_used.append(jobs)
        return ordered_map(work, items, jobs, *rest)

    monkeypatch.setattr(batch, "ordered_map", spy)
    job = batch.Job("flyte", "auto", False, False)
    done = batch.attempts(small, job, 2, lambda items, count: nullcontext(items))
    assert jobs_used == [1] and len(done) == 3
