"""A framework declared only here, outside the source tree, is a framework like the others.

The test writes a package ``transpile/frameworks/toy/`` into a temporary directory on
``PYTHONPATH``: a reader of a made-up syntax (``toyflow.step(name, code, inputs=, outputs=)``), a
writer of the same syntax, and a capability column. No file of transpile's changes, yet convert
(from and to it), inspect, lint --target and the report all know it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import FIXTURES

DECLARATION = '''
"""Toy: a made-up framework, declared by a test."""

from transpile.model.framework import Framework

FRAMEWORK = Framework(
    name="toy",
    title="Toy",
    rank=99,
    import_roots=("toyflow",),
    reader="transpile.frameworks.toy.reader",
    writer="transpile.frameworks.toy.writer",
    declarations=frozenset({"step"}),
    map_construct=lambda members, names, code: "toyflow.each",
    capabilities={
        "retry": ("none", "toy never retries a step"),
        "resources": ("approximate", "toy runs every step on one laptop"),
    },
)
'''

READER = '''
"""``toyflow.step("name", "code", inputs="step.out,...", outputs="out,...")``, in file order;
every value is an int, the last step's outputs are the results."""

import libcst as cst

from transpile.model.diagnostics import error
from transpile.model.ir import (
    Input, Output, Pipeline, Ref, Result, Sequence, Span, Step, Task, TypeRef,
)

INT = TypeRef("int", "annotation")


def read(module, path, spans):
    whole = Span(path, 1, 0, len(spans.lines), 0)
    steps = []
    for statement in module.body:
        call = _call(statement)
        if call is None:
            continue
        args = [a.value.evaluated_value for a in call.args if a.keyword is None]
        named = {a.keyword.value: a.value.evaluated_value for a in call.args if a.keyword}
        name, body = args
        where = spans.find(f'toyflow.step("{name}"', whole)
        inputs = tuple(
            Input(ref.split(".")[1], INT, (Ref("output", *ref.split(".")),))
            for ref in _names(named.get("inputs", ""))
        )
        outputs = tuple(Output(n, INT) for n in _names(named.get("outputs", "")))
        steps.append(Step(name, where, inputs, outputs, body + "\\n"))
    if not steps:
        raise error("TP005", "no toyflow.step here")
    last = steps[-1]
    results = tuple(Result(o.name, INT, (Ref("output", last.name, o.name),)) for o in last.outputs)
    flow = Sequence(tuple(Task(s.name) for s in steps))
    return Pipeline("Toy", "toy", whole, (), tuple(steps), flow, results), []


def _call(statement):
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    expr = statement.body[0]
    call = expr.value if isinstance(expr, cst.Expr) else None
    if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute):
        if call.func.attr.value == "step":
            return call
    return None


def _names(text):
    return [n.strip() for n in text.split(",") if n.strip()]
'''

WRITER = '''
"""The toy syntax: one ``toyflow.step(...)`` per step, in flow order."""

from transpile.model.diagnostics import Diagnostic


def write(pipeline):
    lines = ["import toyflow", ""]
    diagnostics = []
    for step in pipeline.steps:
        refs = [r for i in step.inputs for r in i.refs if r.kind == "output"]
        inputs = ",".join(f"{r.source}.{r.name}" for r in refs)
        outputs = ",".join(o.name for o in step.outputs)
        lines.append(
            f"toyflow.step({step.name!r}, {step.body.strip()!r}, inputs={inputs!r},"
            f" outputs={outputs!r})"
        )
        for option in step.options:
            message = f"toy has no @{option.kind}"
            diagnostics.append(Diagnostic("TP232", "warning", message, option.span, lossy=True))
    return "\\n".join(lines) + "\\n", diagnostics
'''

TOY_SOURCE = """\
import toyflow

toyflow.step("make", "n = 21", outputs="n")
toyflow.step("double", "twice = n * 2", inputs="make.n", outputs="twice")
"""

METAFLOW_SOURCE = """\
from metaflow import FlowSpec, retry, step


class TwiceFlow(FlowSpec):
    @step
    def start(self):
        self.n = 21
        self.next(self.double)

    @retry(times=2)
    @step
    def double(self):
        self.twice = self.n * 2
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TwiceFlow()
"""


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    package = tmp_path / "plugins" / "transpile" / "frameworks" / "toy"
    package.mkdir(parents=True)
    for name, text in [("__init__", DECLARATION), ("reader", READER), ("writer", WRITER)]:
        (package / f"{name}.py").write_text(textwrap.dedent(text).lstrip())
    (tmp_path / "toy.py").write_text(TOY_SOURCE)
    (tmp_path / "twice.py").write_text(METAFLOW_SOURCE)
    return tmp_path


def transpile(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m transpile`` with the toy package's directory on PYTHONPATH."""
    path = os.pathsep.join([str(folder / "plugins"), str(FIXTURES.parent / "src")])
    return subprocess.run(
        [sys.executable, "-m", "transpile", *args],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_cli_offers_it(toy):
    done = transpile(toy, "convert", "--help")
    assert "--to [metaflow|flyte|kfp|airflow|toy]" in done.stdout  # airflow: an early writer
    assert "[auto|metaflow|flyte|kfp|airflow|toy]" in done.stdout


def test_convert_from_it_runs_in_flyte(toy):
    done = transpile(toy, "convert", "toy.py", "--to", "flyte", "-o", "toy_flyte.py")
    assert done.returncode == 0, done.stderr
    code = (toy / "toy_flyte.py").read_text()
    assert code.startswith("# Generated by transpile from toy.py (Toy pipeline toy).")
    assert "@task\ndef double(n: int) -> int:" in code
    workflow = re.search(r"@workflow\ndef (\w+)\(", code).group(1)
    run = f"import toy_flyte\nprint(repr(toy_flyte.{workflow}()))\n"
    ran = subprocess.run(
        [sys.executable, "-c", run], cwd=toy, capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-1] == "ToyResults(twice=42)"


def test_convert_to_it_and_read_it_back(toy):
    strict = transpile(toy, "convert", "twice.py", "--to", "toy", "--strict")
    assert strict.returncode == 1, strict.stderr  # lossy: the toy writer has no @retry
    done = transpile(toy, "convert", "twice.py", "--to", "toy", "-o", "twice_toy.py")
    assert done.returncode == 0, done.stderr
    assert "twice.py:10:5: TP232 toy has no @retry" in done.stderr
    code = (toy / "twice_toy.py").read_text()
    assert "toyflow.step('double', 'twice = n * 2', inputs='start.n', outputs='twice')" in code
    shown = transpile(toy, "inspect", "twice_toy.py")
    assert shown.returncode == 0, shown.stderr
    assert "double" in shown.stdout and "start" in shown.stdout


def test_inspect_detects_it_by_its_import(toy):
    done = transpile(toy, "inspect", "toy.py", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert '"framework": "toy"' in done.stdout


def test_lint_targets_it_with_its_capability_column(toy):
    done = transpile(toy, "lint", "twice.py", "--target", "toy")
    assert "@retry cannot be expressed on toy: toy never retries a step (retry)" in done.stdout
    unknown = transpile(toy, "lint", "twice.py", "--target", "nope")
    assert unknown.returncode == 2
    assert "choose from metaflow, flyte, kfp, toy" in unknown.stderr


def test_the_report_cites_its_column(toy):
    done = transpile(toy, "report", "twice.py", "--to", "toy", "--format", "md")
    assert done.returncode == 0, done.stderr
    assert "(metaflow → toy)" in done.stdout
    assert "toy never retries a step" in done.stdout
    back = transpile(toy, "report", "toy.py", "--to", "kfp", "--format", "md")
    assert back.returncode == 0, back.stderr
    assert "(toy → kfp)" in back.stdout


def test_without_it_nothing_knows_it(toy):
    """The same commands without the package on the path: toy is an unknown choice."""
    done = subprocess.run(
        [sys.executable, "-m", "transpile", "convert", "twice.py", "--to", "toy"],
        cwd=toy,
        env={**os.environ, "PYTHONPATH": str(FIXTURES.parent / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "'toy' is not one of" in done.stderr


def test_the_working_directory_is_not_searched(toy):
    """A repository being converted or linted cannot slip a framework (its code) into transpile."""
    done = subprocess.run(
        [sys.executable, "-m", "transpile", "convert", "twice.py", "--to", "toy"],
        cwd=toy / "plugins",
        env={**os.environ, "PYTHONPATH": str(FIXTURES.parent / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "'toy' is not one of" in done.stderr
