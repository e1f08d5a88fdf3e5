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


def test_bench_prints_the_table(capsys):
    bench_module().main(["--sizes", "3", "--repeat", "1"])
    out = capsys.readouterr().out
    assert out.startswith("machine: ")
    rows = [line for line in out.splitlines() if line.startswith("| 3 |")]
    assert [row.split("|")[2].strip() for row in rows] == ["libcst floor", "convert", "lint"]
    assert rows[0].endswith("| 1.00 |")
    assert re.search(r"^lint one flow: [\d.]+ s; .* ratio [\d.]+$", out, re.MULTILINE)
