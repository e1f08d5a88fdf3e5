"""``transpile report``: snapshots of each format, the must-show checks, escaping and the CLI."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from transpile.cli import cli
from transpile.report import build_report, render

ROOT = Path(__file__).parents[1]
SNAPSHOTS = Path(__file__).parent / "snapshots" / "report"
UPDATE = os.environ.get("TRANSPILE_UPDATE_SNAPSHOTS") == "1"
SNAPSHOT_CASES = [("foreach_sum", "kfp"), ("decorators", "flyte"), ("switch_route", "kfp")]
NETWORK = re.compile(
    r"""(?:src|href|action)\s*=\s*(?!["']?#)|url\((?!#)|@import|<link|<script|<iframe"""
)


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    """Reports name files as given: run from the repository root with relative paths."""
    monkeypatch.chdir(ROOT)


def report_of(case: str, target: str) -> dict:
    result = build_report(f"fixtures/{case}/metaflow.py", target)
    assert isinstance(result, dict), result
    return result


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
@pytest.mark.parametrize(("case", "target"), SNAPSHOT_CASES)
def test_report_matches_its_reviewed_snapshot(case, target, fmt):
    text = render(report_of(case, target), fmt)
    snapshot = SNAPSHOTS / f"{case}.{target}.{fmt}"
    if UPDATE:
        snapshot.write_text(text, encoding="utf-8")
    assert text == snapshot.read_text(encoding="utf-8")


def test_foreach_to_kfp_names_every_step_in_every_format():
    report = report_of("foreach_sum", "kfp")
    steps = ["start", "square", "join", "end"]
    markdown, html, data = (render(report, f) for f in ("md", "html", "json"))
    for step in steps:
        assert f"`{step}`" in markdown and f"<code>{step}</code>" in html
    assert [s["source"] for s in json.loads(data)["steps"]] == steps
    assert [s["target"] for s in json.loads(data)["steps"]] == steps
    assert "```mermaid\nflowchart TD\n" in markdown
    assert html.count("<svg ") == 2 and 'data-step="square"' in html
    assert 'href="#code-square"' in html
    assert NETWORK.findall(html) == []  # links and the arrow marker stay inside the page


def test_step_rows_point_at_both_sides():
    report = report_of("foreach_sum", "kfp")
    code = build_report("fixtures/foreach_sum/metaflow.py", "kfp")  # same input, same output
    assert code == report
    source = (ROOT / "fixtures/foreach_sum/metaflow.py").read_text().splitlines()
    square = next(s for s in report["steps"] if s["source"] == "square")
    assert source[square["source_line"] - 1].strip() == "@step"
    assert source[square["source_line"]].strip() == "def square(self):"
    emitted = next(c for c in report["code"] if c["step"] == "square")["target"]
    assert "def square(factor: int, item: int) -> int:" in emitted
    assert emitted.startswith("@dsl.component(")


def test_options_cite_the_capability_table_and_what_the_writer_did():
    options = {o["kind"]: o for o in report_of("decorators", "kfp")["options"]}
    assert options["retry"]["status"] == "mapped"
    assert options["timeout"]["status"] == "todo"
    assert options["timeout"]["capabilities"][0]["support"] == "none"
    assert options["card"]["status"] == "approximated"
    assert options["schedule"]["owner"] == "pipeline"
    summary = report_of("decorators", "kfp")["summary"]
    # @catch is a try in the step's body: approximated (the exception kept as text), no TODO
    assert options["catch"]["status"] == "approximated"
    assert summary["options"] == {"mapped": 3, "approximated": 3, "todo": 3, "dropped": 0}
    assert summary["todo_markers"] == 3 and summary["lossy"] is True


def test_artifacts_carry_their_type_origin():
    artifacts = report_of("foreach_sum", "kfp")["artifacts"]
    nums = next(a for a in artifacts if (a["step"], a["name"]) == ("start", "nums"))
    assert (nums["direction"], nums["type"], nums["origin"]) == ("output", "list[int]", "inferred")
    n = next(a for a in artifacts if (a["step"], a["name"]) == ("start", "n"))
    assert n["from"] == ["param n"]


HOSTILE = """\
from metaflow import FlowSpec, Parameter, step


class HostileFlow(FlowSpec):
    label = Parameter("label", default="<script>alert('x')</script> | &amp;")

    @step
    def start(self):
        self.text = self.label + "</pre><img src=x>"
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_html_escapes_everything_and_markdown_does_not(tmp_path):
    source = tmp_path / "hostile.py"
    source.write_text(HOSTILE)
    report = build_report(str(source), "kfp")
    html, markdown = render(report, "html"), render(report, "md")
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;/pre&gt;&lt;img src=x&gt;" in html
    assert "&lt;" not in markdown and "&amp;amp;" not in markdown
    assert "\\| &amp;" in markdown  # the pipe cannot end the table cell; nothing else changes
    assert '</pre><img src=x>"' in markdown  # inside a fenced code block, as written


def invoke(*args: str):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def test_cli_writes_atomically_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "report.html"
    args = ["report", "fixtures/foreach_sum/metaflow.py", "--to", "kfp", "--format", "html"]
    assert invoke(*args, "-o", str(out)).exit_code == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    out.write_text("mine")
    refused = invoke(*args, "-o", str(out))
    assert refused.exit_code == 2 and "refused to overwrite" in refused.stderr
    assert out.read_text() == "mine"
    assert invoke(*args, "-o", str(out), "--force").exit_code == 0
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_cli_prints_markdown_by_default():
    result = invoke("report", "fixtures/foreach_sum/metaflow.py", "--to", "flyte")
    assert result.exit_code == 0
    assert result.stdout.startswith("# Migration report: ForeachSumFlow (metaflow → flyte)\n")


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text(HOSTILE.replace("def end(self):", "def end(self)"))
    result = invoke("report", str(broken), "--to", "kfp")
    assert result.exit_code == 2
    assert result.stderr == f"{broken}:13:18: TP003 syntax error: expected ':'\n"
    same = invoke("report", "fixtures/foreach_sum/metaflow.py", "--to", "metaflow")
    assert same.exit_code == 2 and "TP006 source is already metaflow" in same.stderr


def box_rects(svg_text: str) -> list[tuple[float, float, float, float]]:
    found = re.findall(
        r'<g class="box"><rect x="([-\d.]+)" y="([-\d.]+)" width="([\d.]+)" height="([\d.]+)"',
        svg_text,
    )
    return [(float(x), float(y), float(x) + float(w), float(y) + float(h)) for x, y, w, h in found]


def test_nested_foreach_draws_nested_boxes():
    report = report_of("nested_foreach", "flyte")
    assert re.search(
        r'subgraph box1\["@dynamic over start.outer"\]\n'
        r'        step_per_outer\["per_outer"\]\n'
        r'        subgraph box2\["@dynamic over per_outer.inner"\]\n'
        r'            step_per_inner\["per_inner"\]\n'
        r"        end\n",
        report["dag"]["after"]["mermaid"],
    )
    outer, inner = box_rects(render(report, "html").split("After (flyte)")[1])
    assert (
        outer[0] < inner[0] and outer[1] < inner[1] and inner[2] < outer[2] and inner[3] < outer[3]
    )


def test_a_single_step_foreach_is_drawn_as_the_map_task_flyte_got():
    boxes = report_of("foreach_sum", "flyte")["dag"]["after"]["boxes"]
    assert boxes == [{"label": "map_task over start.nums", "members": ["square"]}]


def test_report_on_a_kfp_source_shows_its_components():
    """Needs the KFP reader (transpile.frameworks.kfp.reader)."""
    report = build_report("fixtures/foreach_sum/expected/kfp.py", "flyte")
    assert isinstance(report, dict), report
    square = next(c for c in report["code"] if c["step"] == "square")
    assert square["source"].startswith('@dsl.component(base_image="python:3.11")\ndef square(')
    assert square["target"].startswith("@task\ndef square(")
