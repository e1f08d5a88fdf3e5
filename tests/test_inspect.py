"""Outlines and pictures of the model: text, Mermaid, DOT."""

from __future__ import annotations

import re
from pathlib import Path

import ir_samples
import pytest

from transpile.inspect_render import FORMATS, render

FIXTURE_SOURCES = sorted((Path(__file__).parents[1] / "fixtures").glob("*/metaflow.py"))

LINEAR_TEXT = """\
pipeline LinearFlow (metaflow) flows/demo.py:1
parameters:
  alpha: float = 0.5
flow:
  step start  line 6
    in   alpha: float ← param alpha
    out  x: int
  step end  line 10
    in   x: int ← start.x
results:
  x: int ← start.x
"""


def test_text_outline_of_a_linear_pipeline():
    assert render(ir_samples.linear(), "text") == LINEAR_TEXT


def test_text_outline_shows_every_construct_nested():
    text = render(ir_samples.branchy(), "text")
    expected_in_order = [
        "  parallel:",
        "    branch 1:",
        "      step a  line 9",
        "        @retry(times=3)",
        "    branch 2:",
        "      step b  line 13",
        "  step join (join)  line 17",
        "    in   y: int ← one of a.y | b.y",
        "  foreach join.items (item: int) split at join:",
        "    step work  line 21",
        "      in   item: int ← item of join",
        "      in   i: int ← index of join",
        "    in   sq: list[int] ← [work.sq for each iteration]",
        "  switch on start.mode:",
        "    case 'hi':",
        "      step hi  line 29",
        "    case 'lo':",
    ]
    lines = text.splitlines()
    positions = [lines.index(line) for line in expected_in_order]
    assert positions == sorted(positions)


def test_mermaid_draws_one_node_per_step_and_control_flow_edges():
    pipeline = ir_samples.branchy()
    chart = render(pipeline, "mermaid")
    assert chart.startswith("flowchart TD\n")
    for step in pipeline.steps:
        assert len(re.findall(rf"^\s+step_{step.name}\[", chart, re.MULTILINE)) == 1, step.name
    edges = [line.strip() for line in chart.splitlines() if "-->" in line]
    assert edges == [
        "step_start --> step_a",
        "step_start --> step_b",
        "step_a --> step_join",
        "step_b --> step_join",
        'step_join -->|"foreach join.items"| step_work',
        "step_work --> step_gather",
        "step_gather -->|\"'hi'\"| step_hi",
        "step_gather -->|\"'lo'\"| step_lo",
        "step_hi --> step_end",
        "step_lo --> step_end",
    ]
    assert 'subgraph map1["foreach join.items"]' in chart


def test_mermaid_keeps_keywords_and_quotes_out_of_the_syntax():
    branchy = render(ir_samples.branchy(), "mermaid")
    assert 'step_end["end"]' in branchy  # a bare ``end`` would close a subgraph
    assert not re.search(r"^\s*end\[", branchy, re.MULTILINE)
    chart = render(ir_samples.map_first(), "mermaid")
    assert '-->|"#quot;a\\#quot;b#quot;"| step_pick' in chart
    # the map opens the flow: a marker node carries its labelled edge
    assert 'map1{{"foreach numbers"}}' in chart
    assert 'map1 -->|"foreach numbers"| step_square' in chart


def test_dot_is_a_digraph_with_labelled_edges_and_a_cluster_per_map():
    dot = render(ir_samples.branchy(), "dot")
    assert dot.startswith('digraph "BranchyFlow" {\n') and dot.endswith("}\n")
    assert dot.count("{") == dot.count("}")
    assert '"step_join" -> "step_work" [label="foreach join.items"];' in dot
    assert '"step_gather" -> "step_hi" [label="\'hi\'"];' in dot
    assert 'subgraph "cluster_map1" {' in dot
    assert '"step_join" [label="join", peripheries=2];' in dot


def test_dot_escapes_quotes_and_backslashes():
    dot = render(ir_samples.map_first(), "dot")
    assert '"step_square" -> "step_pick" [label="\\"a\\\\\\"b\\""];' in dot


def test_steps_outside_the_flow_still_appear():
    pipeline = ir_samples.linear()
    lonely = ir_samples.step("orphan", 40)
    pipeline = type(pipeline)(**{**pipeline.__dict__, "steps": (*pipeline.steps, lonely)})
    assert "step_orphan[" in render(pipeline, "mermaid")
    assert '"step_orphan" [label="orphan"];' in render(pipeline, "dot")


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_is_deterministic(fmt):
    assert render(ir_samples.branchy(), fmt) == render(ir_samples.branchy(), fmt)


@pytest.mark.parametrize("source", FIXTURE_SOURCES, ids=[p.parent.name for p in FIXTURE_SOURCES])
def test_fixtures_render_in_every_format(source):
    from transpile import api

    result = api.read_file(str(source))
    assert isinstance(result, api.Read), getattr(result, "diagnostics", result)
    chart = render(result.pipeline, "mermaid")
    for step in result.pipeline.steps:
        assert f"step_{step.name}[" in chart
        assert f"step {step.name}" in render(result.pipeline, "text")
    assert render(result.pipeline, "dot").count("{") == render(result.pipeline, "dot").count("}")
