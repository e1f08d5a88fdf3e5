"""A repository nobody has read in years: 300 mutated flows converted as one batch.

Every input must come out converted or be named with its reason; no command may show a traceback
or an internal error; and nothing in any input runs, whatever sits at module or class level.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_transpile
from mutations import mutated_sources

from transpile import api, frameworks

ROOT = Path(__file__).parents[1]
SOURCES = sorted((ROOT / "fixtures").glob("*/metaflow.py")) + sorted(
    (ROOT / "fixtures").glob("*/expected/*.py")
)
COUNT = 300


def _with_side_effects(data: bytes, sentinel: Path) -> bytes:
    """The input, plus statements that would create ``sentinel`` if anything ran it."""
    probe = f"open({str(sentinel)!r}, 'w').write('ran')"
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        if line.startswith(b"class ") and line.rstrip().endswith(b":"):
            lines.insert(i + 1, f"    {probe}".encode())
            break
    return f"import os; {probe}\n".encode() + b"\n".join(lines)


@pytest.fixture(scope="module")
def mutated_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("mutated")
    sentinel = root / "ran.txt"
    tree = root / "repo"
    tree.mkdir()
    for name, data in mutated_sources(SOURCES, COUNT):
        (tree / name).write_bytes(_with_side_effects(data, sentinel))
    return tree, sentinel


@pytest.mark.parametrize("target", sorted(frameworks.writable()))
def test_every_mutated_input_is_converted_or_named(mutated_tree, target, tmp_path):
    tree, sentinel = mutated_tree
    out = tmp_path / "out"
    done = run_transpile(
        "convert", str(tree), "--to", target, "-o", str(out), cwd=tmp_path, timeout=600
    )
    assert done.returncode in (0, 1, 2), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "internal error" not in done.stderr, _lines_with(done.stderr, "internal error")
    named = set(re.findall(r"^  (?:failed|skipped)\s+(\S+?\.py)", done.stderr, re.MULTILINE))
    for source in sorted(tree.iterdir()):
        written = (out / source.name).is_file()
        assert written or str(source) in named, f"{source.name}: neither converted nor named"
        assert not (written and str(source) in named), f"{source.name}: both converted and named"
    summary = re.search(r"(\d+) converted.*?(\d+) skipped, (\d+) failed", done.stderr)
    assert summary, done.stderr[-500:]
    assert sum(map(int, summary.groups())) == COUNT
    assert not sentinel.exists(), "an input file was executed"


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_inspect_never_shows_a_traceback(mutated_tree, fmt, tmp_path):
    tree, sentinel = mutated_tree
    for source in sorted(tree.iterdir())[::30]:
        done = run_transpile("inspect", str(source), "--format", fmt, cwd=tmp_path, timeout=600)
        assert done.returncode in (0, 2), f"{source.name}: {done.stderr}"
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr
        if done.returncode == 2:
            assert done.stderr.count("\n") == 1, f"{source.name}: {done.stderr}"
            assert source.name in done.stderr
    assert not sentinel.exists(), "an input file was executed"


def test_mutations_cover_every_outcome(mutated_tree):
    """The batch is only a test if it holds good, skipped and broken files alike."""
    tree, _ = mutated_tree
    kinds = {type(api.read_file(str(p))).__name__ for p in sorted(tree.iterdir())}
    assert kinds >= {"Read", "Failed"}, kinds


def _lines_with(text: str, needle: str) -> str:
    return "\n".join(line for line in text.splitlines() if needle in line)
