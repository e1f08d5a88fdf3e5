"""A Metaflow ``end`` that does nothing is no task in Flyte or KFP; any other ``end`` is one."""

from __future__ import annotations

from pathlib import Path

import pytest

from transpile import api
from transpile.diff import diff_pipelines

ROOT = Path(__file__).parents[1]
EMPTY = ROOT / "fixtures" / "empty_end" / "metaflow.py"

FLOW = """\
from metaflow import FlowSpec, retry, step


class F(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.end)

{end}


if __name__ == "__main__":
    F()
"""


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_an_end_that_does_nothing_is_no_task(target):
    result = api.convert_file(str(EMPTY), target)
    assert isinstance(result, api.Converted), result
    assert "def end(" not in result.code
    notes = [d for d in result.diagnostics if "step 'end' does nothing" in d.message]
    assert [(d.code, d.severity, d.span.line) for d in notes] == [
        ("TP201", "info", 21)
    ]  # its @step
    # the flow and its conversion still have the same structure
    assert not diff_pipelines(
        result.pipeline, api.read_text(result.code, "out.py").pipeline
    ).differences


@pytest.mark.parametrize(
    "end",
    [
        '    @step\n    def end(self):\n        print("done")\n',  # does something
        "    @step\n    def end(self):\n        print(self.x)\n",  # reads an artifact
        "    @step\n    def end(self):\n        self.y = 2\n",  # writes one
        "    @retry(times=2)\n    @step\n    def end(self):\n        pass\n",  # has an option
    ],
)
@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_an_end_that_does_anything_stays_a_task(tmp_path, end, target):
    path = tmp_path / "f.py"
    path.write_text(FLOW.format(end=end))
    result = api.convert_file(str(path), target)
    assert isinstance(result, api.Converted), result
    assert "def end(" in result.code


BRANCHES = """\
from metaflow import FlowSpec, step


class F(FlowSpec):
    @step
    def start(self):
{start}        self.next(self.a, self.b)

    @step
    def a(self):
        self.x = 1
        self.next(self.join)

    @step
    def b(self):
        self.x = 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.x for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.mark.parametrize("target", ["flyte", "kfp", "airflow"])
def test_a_start_that_does_nothing_is_no_task(target):
    result = api.convert_text(BRANCHES.format(start='        """Fan out."""\n'), "f.py", target)
    assert isinstance(result, api.Converted), result
    assert "def start(" not in result.code and "def a(" in result.code
    notes = [d for d in result.diagnostics if "does nothing" in d.message]
    assert [(d.code, d.span.line) for d in notes] == [("TP201", 5), ("TP201", 25)]
    back = api.read_text(result.code, "out.py").pipeline
    assert not diff_pipelines(result.pipeline, back).differences
    # written back to Metaflow, the flow gets the start and end Metaflow needs
    again = api.convert_text(result.code, "out.py", "metaflow")
    assert isinstance(again, api.Converted), again
    assert "def start(self):" in again.code and "def end(self):" in again.code


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_a_start_that_does_anything_stays_a_task(target):
    result = api.convert_text(BRANCHES.format(start='        print("go")\n'), "f.py", target)
    assert isinstance(result, api.Converted), result
    assert "def start(" in result.code


def test_a_flow_that_does_nothing_keeps_its_start():
    flow = FLOW.replace("        self.x = 1\n", "").format(end=END_PASS)
    result = api.convert_text(flow, "f.py", "flyte")
    assert isinstance(result, api.Converted), result
    assert "def start(" in result.code and "def end(" not in result.code


END_PASS = "    @step\n    def end(self):\n        pass\n"
