"""``transpile report``: snapshots of each format, the must-show checks, escaping and the CLI."""

from __future__ import annotations

import json
import os
import re
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner

from transpile.cli import cli
from transpile.report import build_report, picture, render, svg

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
    assert html.count('<svg class="dag"') == 2 and 'data-step="square"' in html
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


# --- issue 20: the report tells the migration engineer what to do next ---------------------------


def converted_file(tmp_path, report: dict) -> list[str]:
    """Runs the command the report names, in ``tmp_path``, and returns the file's lines."""
    command = report["target"]["command"].split()
    assert command[:2] == ["transpile", "convert"]
    source = str(ROOT / command[2])
    result = invoke("convert", source, *command[3:-1], str(tmp_path / command[-1]), "-q")
    assert result.exit_code == 0, result.output
    return (tmp_path / report["target"]["path"]).read_text().splitlines()


def test_next_steps_list_each_todo_and_lossy_diagnostic_at_its_converted_line(tmp_path):
    report = report_of("decorators", "kfp")
    lines = converted_file(tmp_path, report)
    steps = report["next_steps"]
    todos = [n for n, text in enumerate(lines, start=1) if "# TODO(transpile)" in text]
    assert sorted(s["line"] for s in steps if s["todo"]) == todos == [45, 108, 109]
    for item in steps:
        text = lines[item["line"] - 1]
        if item["todo"]:
            assert f"# TODO(transpile): {item['code']} {item['message']}" in text
    lossy = [d for d in report["diagnostics"] if d["lossy"]]
    assert sorted((s["code"], s["source_line"]) for s in steps) == sorted(
        (d["code"], d["line"]) for d in lossy
    )
    # what left no TODO goes to what the engineer checks: the task of its step, or the pipeline
    where = {s["message"].split()[0]: lines[s["line"] - 1] for s in steps if not s["todo"]}
    assert where["@catch(var='err')"].startswith("def configure(")
    assert where["@card"].startswith("def report(")
    assert where["@schedule"] == "@dsl.pipeline"
    markdown, html = render(report, "md"), render(report, "html")
    assert "## Next steps\n" in markdown and '<h2 id="next-steps">' in html
    assert "- [ ] `metaflow_kfp.py:45` TP202 @timeout(seconds=60) is not carried over" in markdown
    assert '<input type="checkbox"> <code>metaflow_kfp.py:108</code> TP202' in html


def test_next_steps_into_a_flowspec_point_at_its_step_methods(tmp_path):
    report = build_report("fixtures/kfp_wild_components/kfp.py", "metaflow")
    lines = converted_file(tmp_path, report)
    (item,) = report["next_steps"]
    assert (item["code"], item["todo"], item["source_line"]) == ("TP202", False, 72)
    assert lines[item["line"] - 1].strip() == "def normalize(self):"
    rows = {s["source"]: s["target_line"] for s in report["steps"]}
    assert all(lines[line - 1].strip().startswith("def ") for line in rows.values())


def test_an_exact_conversion_has_nothing_to_do_and_never_says_exact():
    report = report_of("foreach_sum", "flyte")
    assert report["next_steps"] == []
    for fmt in ("md", "html"):
        text = render(report, fmt)
        assert "Nothing left for a human that transpile knows of." in text
        assert "not verified by running" in text and "exact translation:" not in text


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_report_names_no_emitted_file_it_did_not_write(fmt, tmp_path):
    report = report_of("decorators", "kfp")
    text = render(report, fmt)
    assert "emitted" not in text.lower()
    assert report["target"]["written"] is False
    command = "transpile convert fixtures/decorators/metaflow.py --to kfp -o metaflow_kfp.py"
    assert report["target"]["command"] == command
    assert "This report writes no converted code" in text and command in text
    # the lines the report gives are those of the file that command writes
    lines = converted_file(tmp_path, report)
    compute = next(s for s in report["steps"] if s["source"] == "compute")
    assert lines[compute["target_line"] - 1].startswith("def compute(")


def labels(report: dict, when: str = "before") -> list[str]:
    """The switch case labels of a DAG picture (foreach edges are named by their box)."""
    edges = report["dag"][when]["edges"]
    return [e["label"] for e in edges if e["label"] and not e["label"].startswith("foreach")]


def test_kfp_if_elif_else_cases_show_their_tests_as_written():
    report = build_report("fixtures/kfp_if_else/kfp.py", "metaflow")
    expected = [
        'if mode == "fast"',
        'elif mode == "slow"',
        "else",
        "if measure_task.output > 10",
        "else",
    ]
    assert labels(report) == labels(report, "after") == expected
    assert (
        'step_fast_condition -->|"if mode == #quot;fast#quot;"| step_fast'
        in (report["dag"]["before"]["mermaid"])
    )
    assert "&gt; 10" in render(report, "html")  # on the SVG edge, escaped


def test_kfp_switch_labels_cover_equality_chains_no_match_and_flyte_conditionals():
    switch = build_report("fixtures/switch_route/expected/kfp.py", "metaflow")
    assert labels(switch) == [
        'if start_task.output == "fast"',
        'elif start_task.output == "slow"',
        'elif start_task.output == "skip"',
    ]
    loops = build_report("fixtures/kfp_wild_loops/kfp.py", "flyte")
    assert labels(loops) == [
        "if cost.output >= big",
        "elif cost.output >= threshold",
        "else",
        "if total.output > 1000.0",
        "no case matches",
    ]
    # a switch entered from parallel steps names its case once, on the deciding step's edge
    wild = build_report("fixtures/kfp_wild_components/kfp.py", "metaflow")
    assert labels(wild) == ['if m.outputs["even"] == True', "else"]
    flyte = build_report("fixtures/flyte_climate/flyte.py", "kfp")
    assert labels(flyte) == [
        '"hot"',
        '"cold"',
        '"mild"',
        "if (adjusted > 25.0) | (adjusted < 8.0)",
        "else",
    ]
    assert not any(re.fullmatch(r"'(\d+|case_\d+|else)'", label) for label in labels(flyte))


def test_nested_kfp_branches_label_each_switch_with_its_own_test():
    """A step in a case of an inner dsl.If is also in a case of the outer one: each switch's
    edge shows its own test. Tasks after a comment, after a call spread over lines, or after a
    one-line call of the same component are found at their own line, not at the text before."""
    report = build_report("fixtures/kfp_wild_branches/kfp.py", "flyte")
    expected = [
        "if number.output < 50",
        'if low.output == "even"',
        "else",
        "elif number.output > 50",
        'if high.output == "even"',
        "elif number.output > 50",
        "else",
        "loud == True",  # dsl.Condition(condition=...), as written
    ]
    assert labels(report) == labels(report, "after") == expected
    source = (ROOT / "fixtures/kfp_wild_branches/kfp.py").read_text().splitlines()
    said = {
        s["source"]: source[s["source_line"] - 1].strip()
        for s in report["steps"]
        if not s["source"].endswith("_condition")
    }
    assert said == {
        "pick": "number = pick(seed=seed).set_caching_options(False)",
        "say": 'say(text="loud mode")',
        "parity": "low = parity(number=number.output)",
        "say_2": 'say(text="low and even")',
        "say_3": 'say(text="low and odd")',
        "say_4": "say(",  # below its comment, not the one-line say( above it
        "parity_2": "high = parity(number=number.output)",
        "say_5": 'say(text="high and even")',
        "say_6": "say(",
        "say_7": 'say(text="exactly fifty")',
    }


def test_a_flyte_conditional_under_a_comment_is_labelled_from_its_chain(tmp_path):
    """A statement's text starts with the comments above it: the conditional's step is at the
    ``conditional(`` line, so its cases read as the chain wrote them."""
    path = tmp_path / "wf.py"
    path.write_text(
        "from flytekit import conditional, task, workflow\n\n\n"
        "@task\ndef low(x: int) -> int:\n    return x - 1\n\n\n"
        "@task\ndef high(x: int) -> int:\n    return x + 1\n\n\n"
        "@workflow\ndef wf(x: int = 3) -> int:\n"
        "    # route by size: the conditional below picks a task\n"
        "    return (\n"
        '        conditional("size")\n'
        "        .if_((x > 5) & (x < 10))\n"
        "        .then(high(x=x))\n"
        "        .else_()\n"
        "        .then(low(x=x))\n"
        "    )\n"
    )
    report = build_report(str(path), "kfp")
    assert isinstance(report, dict), report
    assert labels(report) == ["if (x > 5) & (x < 10)", "else"]
    decider = next(s for s in report["steps"] if s["source"].endswith("_condition"))
    assert decider["source_line"] == 17  # `return (`, not the comment above it


def test_options_show_their_numbers_as_the_source_wrote_them():
    kfp = build_report("fixtures/kfp_nested_settings/kfp.py", "metaflow")
    written = {(o["owner"], o["kind"]): o["written"] for o in kfp["options"]}
    assert written["prepare_scale", "retry"] == (
        'scale_task.set_retry(num_retries=2, backoff_duration="0s")'
    )
    assert written["prepare_scale", "resources"] == (
        'scale_task.set_cpu_limit("500m").set_memory_limit("2Gi")'
    )
    flyte = build_report("fixtures/flyte_table_stats/flyte.py", "kfp")
    written = {o["kind"]: o["written"] for o in flyte["options"]}
    assert written["retry"] == "@fl.task(retries=2, …)"
    assert written["resources"] == (
        '@fl.task(requests=fl.Resources(cpu="500m", mem="256Mi"), '
        'limits=fl.Resources(cpu="1", mem="512Mi"), …)'
    )
    metaflow = report_of("decorators", "kfp")
    written = {o["kind"]: o["written"] for o in metaflow["options"]}
    assert written["retry"] == "@retry(times=2, minutes_between_retries=0)"
    assert written["schedule"] == '@schedule(cron="0 6 * * *")'
    for report in (kfp, flyte):
        for fmt in ("md", "html"):
            text = render(report, fmt).split("Diagnostics")[0]
            assert "2147.483648" not in text and "536.870912" not in text
            assert not re.search(r"(retries|times)=\d+\.0\b", text)
    assert "`@fl.task(retries=2, …)`" in render(flyte, "md")


LAYOUT_CASES = [
    ("fixtures/nested_foreach/metaflow.py", "flyte"),
    ("fixtures/kfp_if_else/kfp.py", "metaflow"),
    ("fixtures/switch_route/metaflow.py", "kfp"),
    ("fixtures/foreach_switch/metaflow.py", "kfp"),
    ("fixtures/kfp_wild_loops/kfp.py", "flyte"),
    ("fixtures/kfp_wild_components/kfp.py", "metaflow"),
]


def drawings(path: str, target: str):
    report = build_report(path, target)
    assert isinstance(report, dict), report
    for when in ("before", "after"):
        chart = picture.from_dict(report["dag"][when])
        yield chart, svg.draw(chart)


def inside(x: float, y: float, rect: tuple[float, float, float, float], by: float = 0) -> bool:
    left, top, right, bottom = rect
    return left + by < x < right - by and top + by < y < bottom - by


def step_rect(at) -> tuple[float, float, float, float]:
    return (at.x - at.width / 2, at.y, at.x + at.width / 2, at.y + svg.NODE_HEIGHT)


@pytest.mark.parametrize(("path", "target"), LAYOUT_CASES)
def test_dag_edges_stay_clear_of_steps_box_titles_and_each_others_arrowheads(path, target):
    for chart, drawing in drawings(path, target):
        ends: dict[str, list[float]] = {}
        for (source, target_step, _), route in zip(chart.edges, drawing.routes, strict=True):
            ends.setdefault(target_step, []).append(route[-1][0])
            points = svg.samples(route)
            for step, at in drawing.nodes.items():
                if step not in (source, target_step):
                    assert not any(inside(x, y, step_rect(at)) for x, y in points), (step, route)
            for box, (left, top, _, _), x in drawing.boxes:
                title = (x - 2, top + 2, x + svg.TITLE_CHAR_WIDTH * len(box.label) + 2, top + 18)
                assert not any(inside(px, py, title) for px, py in points), (box.label, route)
        for step, xs in ends.items():  # an arrowhead is 9 px wide
            gaps = [b - a for a, b in pairwise(sorted(xs))]
            assert all(gap >= 12 for gap in gaps), (step, xs)


@pytest.mark.parametrize(("path", "target"), LAYOUT_CASES)
def test_dag_boxes_hold_their_steps_and_no_other(path, target):
    for chart, drawing in drawings(path, target):
        rects = [step_rect(at) for at in drawing.nodes.values()]
        for i, a in enumerate(rects):  # steps never overlap
            assert not any(inside((b[0] + b[2]) / 2, (b[1] + b[3]) / 2, a) for b in rects[i + 1 :])
        for box, rect, _ in drawing.boxes:
            for step, at in drawing.nodes.items():
                held = all(inside(x, y, rect, -0.5) for x, y in corners(step_rect(at)))
                touched = any(inside(x, y, rect) for x, y in corners(step_rect(at)))
                assert held if step in box.members else not touched, (box.label, step)


def corners(rect):
    left, top, right, bottom = rect
    return [(left, top), (right, top), (left, bottom), (right, bottom)]


def test_case_labels_of_one_layer_do_not_overlap():
    for chart, drawing in drawings("fixtures/kfp_if_else/kfp.py", "metaflow"):
        spans = sorted(
            (y, x - svg.EDGE_CHAR_WIDTH * len(text) / 2, x + svg.EDGE_CHAR_WIDTH * len(text) / 2)
            for x, y, text in drawing.labels
        )
        for (y1, _, right), (y2, left, _) in pairwise(spans):
            assert y1 != y2 or right <= left


def test_every_colour_of_the_pictures_has_a_legend_entry():
    html = render(build_report("fixtures/nested_foreach/metaflow.py", "flyte"), "html")
    html += render(build_report("fixtures/kfp_if_else/kfp.py", "metaflow"), "html")
    pictures = "".join(re.findall(r'<svg class="dag".*?</svg>', html, re.DOTALL))
    used = set(re.findall(r'(?:fill|stroke)="(#[0-9a-f]{6})"', pictures))
    legends = re.findall(r'<ul class="legend">(.*?)</ul>', html, re.DOTALL)
    assert len(legends) == 2
    named = {c for legend in legends for c in re.findall(r'data-colours="([^"]*)"', legend)}
    explained = {colour for entry in named for colour in entry.split()}
    assert used - explained == {svg.HALO}  # the page's own white, behind the case labels
    for legend in legends:  # each entry's swatch is drawn in the colours it names
        for colours, entry in re.findall(r'<li data-colours="([^"]*)">(.*?)</li>', legend):
            assert all(colour in entry for colour in colours.split())
    assert "a join" in legends[0] and "foreach body" in legends[0]
    assert "a switch case" in legends[1] and "foreach body" not in legends[1]
