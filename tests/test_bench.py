"""The benchmark script: it generates distinct flows and prints the table the README shows."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench_module():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_flows_are_distinct_and_valid(tmp_path):
    bench = bench_module()
    paths = bench.generate(30, tmp_path)
    assert [p.name for p in paths[:2]] == ["flow_0000.py", "flow_0001.py"]
    classes = set()
    for number, path in enumerate(paths):
        tree = ast.parse(path.read_text())
        names = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
        flow = [name for name in names if name.endswith(f"Flow{number}")]
        assert flow, (path, names)
        classes.update(flow)
    assert len(classes) == 30
    assert len(bench.seeds()) > 20  # every fixture that converts is a seed


def test_real_shaped_corpus_mixes_frameworks_in_a_tree(tmp_path):
    realistic = bench_module().realistic
    paths = realistic.generate(10, tmp_path)
    assert len({p.parent.parent for p in paths}) > 1  # nested folders, as in a repository
    kinds = [p.parent.name for p in paths]
    assert {"metaflow", "flyte", "kfp"} == set(kinds)
    for path in paths:
        ast.parse(path.read_text())


def test_bench_prints_the_table_and_the_budgets(capsys):
    try:  # on a busy test machine a budget may be exceeded: the bench then exits 1
        bench_module().main(["--corpus", "fixtures", "--sizes", "3", "--repeat", "1"])
    except SystemExit as exc:
        assert exc.code == 1
    out = capsys.readouterr().out
    assert out.startswith("machine: ")
    rows = [line for line in out.splitlines() if line.startswith("| 3 |")]
    names = [row.split("|")[2].strip() for row in rows]
    assert names == ["libcst floor", "convert -j 1", "convert -j 2", "lint"]
    assert rows[0].endswith("| 1.00 |")
    assert re.search(r"^lint one flow: [\d.]+ s; .* ratio [\d.]+$", out, re.MULTILINE)
    assert re.search(
        r"^budget one-file lint / floor: measured [\d.]+, budget <= 1.2", out, re.MULTILINE
    )
