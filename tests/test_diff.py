"""``transpile diff``: structural parity through the model, whatever the two frameworks."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import ir_samples
import pytest
from click.testing import CliRunner

from transpile.cli import cli
from transpile.diff import diff_pipelines
from transpile.diff.render import render
from transpile.model.ir import Option, Parameter, Sequence, Task, TypeRef

ROOT = Path(__file__).parents[1]
FIXTURES = ROOT / "fixtures"


def changes(a, b) -> list[tuple[str, str, str]]:
    return [(d.category, d.change, d.subject) for d in diff_pipelines(a, b).differences]


def with_step_options(pipeline, step: str, *options: Option):
    steps = tuple(replace(s, options=options) if s.name == step else s for s in pipeline.steps)
    return replace(pipeline, steps=steps)


def option(kind: str, **args: str) -> Option:
    return Option(kind, tuple(args.items()), ir_samples.span(1))


def test_a_pipeline_has_the_structure_of_itself():
    for pipeline in (ir_samples.linear(), ir_samples.branchy(), ir_samples.map_first()):
        assert diff_pipelines(pipeline, pipeline).same


def test_framework_and_name_and_bodies_are_not_structure():
    a = ir_samples.branchy()
    steps = tuple(replace(s, body=s.body + "print('x')\n") for s in a.steps)
    b = replace(a, name="branchy_flow", framework="kfp", steps=steps, doc=None)
    assert diff_pipelines(a, b).same


def test_removed_and_added_steps_and_their_edges():
    a = ir_samples.linear()
    audit = replace(ir_samples.step("audit", 20), body="import os\nos.remove(path)\n")
    b = replace(
        a, steps=(*a.steps, audit), flow=Sequence((Task("start"), Task("end"), Task("audit")))
    )
    assert changes(a, b) == [
        ("step", "added", "audit"),
        ("edge", "added", "end -> audit (next)"),
    ]
    assert changes(b, a) == [
        ("step", "removed", "audit"),
        ("edge", "removed", "end -> audit (next)"),
    ]


def test_a_renamed_step_is_matched_by_its_body():
    a = ir_samples.linear()
    body = "total = alpha * 2\nfor i in range(10):\n    total += i\n"
    a = replace(a, steps=(replace(a.steps[0], body=body), a.steps[1]))
    renamed = replace(a.steps[0], name="begin", body=body.replace("10", "12"))
    end = replace(
        a.steps[1],
        inputs=(
            replace(
                a.steps[1].inputs[0], refs=(replace(a.steps[1].inputs[0].refs[0], source="begin"),)
            ),
        ),
    )
    b = replace(
        a,
        steps=(renamed, end),
        flow=Sequence((Task("begin"), Task("end"))),
        results=(),
    )
    found = diff_pipelines(a, b).differences
    assert [(d.change, d.before, d.after) for d in found] == [("renamed", "start", "begin")]


def test_a_writer_respelling_a_taken_name_is_the_same_step():
    """Writers call a step ``sum`` ``sum_step`` (the builtin is taken): not a rename."""
    a = ir_samples.linear()
    a = replace(a, steps=(replace(a.steps[0], name="sum"), a.steps[1]))
    a = replace(a, flow=Sequence((Task("sum"), Task("end"))))
    b = replace(a, steps=(replace(a.steps[0], name="sum_step", body="x = 1\n"), a.steps[1]))
    b = replace(b, flow=Sequence((Task("sum_step"), Task("end"))))
    assert diff_pipelines(a, b).same
    c = replace(b, steps=(replace(b.steps[0], name="sum_total"), b.steps[1]))
    assert not diff_pipelines(a, c).same


def test_unlike_bodies_are_not_a_rename():
    a = ir_samples.linear()
    b = replace(a, steps=(replace(a.steps[0], name="begin", body="import shutil\n"), a.steps[1]))
    assert ("step", "removed", "start") in changes(a, b)
    assert ("step", "added", "begin") in changes(a, b)


def test_edges_compare_control_flow_and_data():
    a = ir_samples.branchy()
    b = replace(a, flow=Sequence((*a.flow.nodes[:-1],)), steps=a.steps)  # end no longer runs last
    assert ("edge", "removed", "hi -> end (next)") in changes(a, b)
    assert ("edge", "removed", "lo -> end (next)") in changes(a, b)


def test_a_switch_case_value_is_part_of_its_edges():
    a = ir_samples.branchy()
    switch = a.flow.nodes[5]
    cases = (replace(switch.cases[0], value='"hi"'), replace(switch.cases[1], value="'low'"))
    b = replace(a, flow=Sequence((*a.flow.nodes[:5], replace(switch, cases=cases), Task("end"))))
    assert changes(a, b) == [
        ("edge", "removed", "gather -> lo (case 'lo')"),
        ("edge", "added", "gather -> lo (case 'low')"),
    ]


def test_a_data_reference_is_an_edge():
    a = ir_samples.linear()
    end = replace(a.steps[1], inputs=())
    assert changes(a, replace(a, steps=(a.steps[0], end))) == [
        ("edge", "removed", "start -> end (data)")
    ]


JOIN_FLOW = """\
from metaflow import FlowSpec, step


class JoinFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.left, self.right)

    @step
    def left(self):
        self.value = 1
        self.next(self.join)

    @step
    def right(self):
        self.value = 100
        self.next(self.join)

    @step
    def join(self, inputs):
        self.low = inputs.left.value
        self.high = inputs.right.value
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    JoinFlow()
"""


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_a_join_wired_to_the_wrong_producers_differs(tmp_path, target):
    """Both edges into the join still exist, each into the other input: that is a difference."""
    from transpile.api import convert_file

    source = tmp_path / "flow.py"
    source.write_text(JOIN_FLOW, encoding="utf-8")
    code = convert_file(str(source), target).code
    right = tmp_path / f"right_{target}.py"
    right.write_text(code, encoding="utf-8")
    assert diff_cli(str(source), str(right)).exit_code == 0
    call = "join(left_value=value, right_value=value_2)"
    if target == "kfp":
        call = "join(left_value=left_task.output, right_value=right_task.output)"
    assert call in code, code
    swapped = call.replace("left_value=", "@").replace("right_value=", "left_value=")
    wrong = tmp_path / f"wrong_{target}.py"
    wrong.write_text(code.replace(call, swapped.replace("@", "right_value=")), encoding="utf-8")
    result = diff_cli(str(source), str(wrong))
    assert result.exit_code == 1, result.output
    assert "  edge removed: left -> join (data into left_value)" in result.output
    assert "  edge added: left -> join (data into right_value)" in result.output


def param(name: str, type_expr: str, default: str | None, origin: str = "annotation"):
    return Parameter(
        name,
        TypeRef(type_expr, origin),
        default,
        default is None,
        None,
        "value",
        ir_samples.span(2),
    )


@pytest.mark.parametrize(
    ("before", "after", "same"),
    [
        (param("n", "int", "3"), param("n", "int", "0x3"), True),
        (param("xs", "List[int]", "[1, 2]"), param("xs", "list[int]", "[1,2]"), True),
        (param("o", "typing.Optional[str]", "None"), param("o", "str | None", "None"), True),
        (param("o", "typing.Any", "1", "fallback"), param("o", "int", "1"), True),
        (param("n", "int", "3"), param("n", "int", "4"), False),
        (param("n", "int", "3"), param("n", "str", "3"), False),
        (param("n", "int", "3"), param("n", "int", None), False),
    ],
    ids=["default-spelling", "typing-list", "optional", "unknown-type", "default", "type", "req"],
)
def test_parameters_compare_normalised_types_and_defaults(before, after, same):
    a = replace(ir_samples.linear(), parameters=(before,))
    b = replace(ir_samples.linear(), parameters=(after,))
    assert diff_pipelines(a, b).same is same


def test_parameters_added_and_removed():
    a = ir_samples.linear()
    b = replace(a, parameters=(*a.parameters, param("beta", "int", "1")))
    assert changes(a, b) == [("parameter", "added", "beta")]


@pytest.mark.parametrize(
    ("before", "after", "same"),
    [
        # the model counts memory in MB (10**6 bytes), as Metaflow does; Mi is 2**20 bytes
        (option("resources", memory="4096"), option("resources", memory="'4096Mi'"), False),
        (option("resources", memory="4096"), option("resources", memory="'4096M'"), True),
        (option("resources", memory="4096"), option("kubernetes", memory="'4Gi'"), False),
        (option("resources", memory="4000"), option("kubernetes", memory="'4G'"), True),
        (option("resources", memory="4294.967296"), option("kubernetes", memory="'4Gi'"), True),
        (option("resources", cpu="0.5"), option("resources", cpu="'500m'"), True),
        (option("resources", memory="4096"), option("resources", memory="2048"), False),
        (option("retry"), option("retry", times="3"), True),
        (option("retry", times="2"), option("retry", times="3"), False),
        (option("timeout", hours="1"), option("timeout", seconds="3600"), True),
        (option("timeout", minutes="5"), option("timeout", minutes="6"), False),
        (option("environment", vars="{'A': 1}"), option("environment", vars='{"A": "1"}'), True),
    ],
    ids=lambda v: v.kind + str(v.args) if isinstance(v, Option) else str(v),
)
def test_step_options_compare_in_metaflow_units(before, after, same):
    a = with_step_options(ir_samples.linear(), "start", before)
    b = with_step_options(ir_samples.linear(), "start", *([after] if after else []))
    assert diff_pipelines(a, b).same is same


def test_caching_is_compared_where_both_frameworks_cache():
    flyte = replace(ir_samples.linear(), framework="flyte")
    on = with_step_options(flyte, "start", option("cache", enabled="True"))
    off = with_step_options(flyte, "start", option("cache", enabled="False"))
    assert changes(on, flyte) == [("option", "removed", "start: cache")]
    assert diff_pipelines(off, flyte).same  # off is what happens when nothing is said
    # Metaflow never reuses results: converting loses the cache (the report says so), no difference
    assert diff_pipelines(on, ir_samples.linear()).same


@pytest.mark.parametrize(
    ("before", "after", "same"),
    [
        (option("schedule", daily="True"), option("schedule", cron="'0 0 * * *'"), True),
        (option("schedule", hourly="True"), option("schedule", cron="'0 0 * * *'"), False),
        (option("schedule", cron="'0 6 * * *'"), None, False),
    ],
    ids=["daily-is-cron", "hourly", "dropped"],
)
def test_schedules_compare_as_cron(before, after, same):
    a = replace(ir_samples.linear(), options=(before,))
    b = replace(ir_samples.linear(), options=(after,) if after else ())
    assert diff_pipelines(a, b).same is same


def test_a_loss_the_target_cannot_express_is_not_a_difference():
    """KFP has no task timeout: a Metaflow flow and its KFP port differ there by necessity."""
    a = with_step_options(ir_samples.linear(), "start", option("timeout", seconds="60"))
    b = replace(ir_samples.linear(), framework="kfp")
    assert diff_pipelines(a, b).same
    assert not diff_pipelines(a, replace(b, framework="flyte")).same


def test_renderings_agree():
    a = ir_samples.linear()
    b = replace(a, parameters=(param("alpha", "float", "0.7"),))
    result = diff_pipelines(a, b, "a.py", "b.py")
    text = render(result, "text")
    assert text.splitlines()[1] == "  parameter changed: alpha: float = 0.5 -> float = 0.7"
    markdown = render(result, "md")
    assert "| parameter | changed | alpha | float = 0.5 | float = 0.7 |" in markdown
    data = json.loads(render(result, "json"))
    assert data["schema_version"] == 1 and data["same"] is False
    assert data["differences"] == [
        {
            "category": "parameter",
            "change": "changed",
            "subject": "alpha",
            "before": "float = 0.5",
            "after": "float = 0.7",
        }
    ]


# --- the command line, on Metaflow files -------------------------------------------------------

FLOW = """\
from metaflow import FlowSpec, Parameter, resources, step


class DemoFlow(FlowSpec):
    n = Parameter("n", default=3)

    @resources(memory=4096)
    @step
    def start(self):
        self.xs = list(range(self.n))
        self.next(self.double)

    @step
    def double(self):
        self.ys = [x * 2 for x in self.xs]
        self.next(self.end)

    @step
    def end(self):
        self.total = sum(self.ys)
"""

VARIANTS = {
    "reformatted": (FLOW.replace("[x * 2 for x in self.xs]", "[x*2 for x in self.xs]  # twice"), 0),
    "renamed": (FLOW.replace("double", "twice"), 1),
    "parameter-default": (FLOW.replace("default=3", "default=4"), 1),
    "parameter-added": (
        FLOW.replace("    @resources", '    m = Parameter("m", default=1)\n\n    @resources'),
        1,
    ),
    "resources": (FLOW.replace("memory=4096", "memory=2048"), 1),
    "retry": (
        FLOW.replace("resources, step", "resources, retry, step").replace(
            "    @step\n    def end", "    @retry(times=2)\n    @step\n    def end"
        ),
        1,
    ),
    "edge": (
        FLOW.replace("self.next(self.double)", "self.next(self.double, self.end2)").replace(
            "        self.next(self.end)\n",
            "        self.next(self.join)\n\n    @step\n    def end2(self):\n        self.next(self.join)\n\n    @step\n    def join(self, inputs):\n        self.ys = inputs.double.ys\n        self.next(self.end)\n",
            1,
        ),
        1,
    ),
}


def diff_cli(*args: str):
    result = CliRunner().invoke(cli, ["diff", *args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_cli_exit_code_says_whether_structure_differs(tmp_path, variant):
    text, expected = VARIANTS[variant]
    (tmp_path / "a.py").write_text(FLOW)
    (tmp_path / "b.py").write_text(text)
    result = diff_cli(str(tmp_path / "a.py"), str(tmp_path / "b.py"))
    assert result.exit_code == expected, result.output
    assert result.stdout.splitlines()[0].endswith("same structure") is (expected == 0)


def test_cli_names_what_differs(tmp_path):
    (tmp_path / "a.py").write_text(FLOW)
    (tmp_path / "b.py").write_text(VARIANTS["renamed"][0].replace("memory=4096", "memory=1024"))
    result = diff_cli(str(tmp_path / "a.py"), str(tmp_path / "b.py"))
    assert result.stdout.splitlines()[1:] == [
        "  step renamed: double -> twice",
        "  option changed: start: resources: {'memory': 4096.0} -> {'memory': 1024.0}",
    ]


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "a.py").write_text(FLOW)
    (tmp_path / "broken.py").write_text(FLOW.replace("def end(self):", "def end(self)"))
    result = diff_cli(str(tmp_path / "a.py"), str(tmp_path / "broken.py"))
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith(f"{tmp_path / 'broken.py'}:19:")
    missing = diff_cli(str(tmp_path / "a.py"), str(tmp_path / "nope.py"))
    assert missing.exit_code == 2 and "nope.py: TP001 no such file" in missing.stderr


def test_cli_different_fixtures_exit_1_and_say_so():
    result = diff_cli(
        str(FIXTURES / "foreach_sum" / "metaflow.py"),
        str(FIXTURES / "foreach_index" / "metaflow.py"),
    )
    assert result.exit_code == 1
    assert "  step removed: square" in result.stdout
    assert "  parameter removed: factor (int = 1)" in result.stdout


# --- a flow against its own conversion (needs the Flyte and KFP readers) -----------------------

PARITY_CASES = ["foreach_sum", "linear_params", "branch_three_way", "switch_route", "decorators"]


@pytest.mark.parametrize("target", ["flyte", "kfp"])
@pytest.mark.parametrize("case", PARITY_CASES)
def test_a_flow_and_its_own_conversion_have_the_same_structure(case, target):
    source = FIXTURES / case / "metaflow.py"
    result = diff_cli(str(source), str(FIXTURES / case / "expected" / f"{target}.py"))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_a_flow_against_another_flows_conversion_differs(target):
    source = FIXTURES / "foreach_sum" / "metaflow.py"
    result = diff_cli(str(source), str(FIXTURES / "foreach_index" / "expected" / f"{target}.py"))
    assert result.exit_code == 1, result.output
    assert "step removed: square" in result.stdout


@pytest.mark.parametrize(
    ("text", "megabytes", "written"),
    [
        ("4096M", 4096.0, "4096M"),
        ("4Gi", 4294.967296, "4Gi"),
        ("500Mi", 524.288, "500Mi"),
        ("2G", 2000.0, "2000M"),
        ("1.5Gi", 1610.612736, "1536Mi"),
        (512, 512.0, "512M"),
    ],
)
def test_memory_has_one_definition_for_readers_and_writers(text, megabytes, written):
    """Issue 15: one unit (MB, as Metaflow counts) and exact Kubernetes text back."""
    from transpile.model.quantity import kubernetes_memory, memory_mb, whole_mb

    assert memory_mb(text) == pytest.approx(megabytes, abs=1e-9)
    assert kubernetes_memory(megabytes) == written
    assert whole_mb(megabytes) == -(-round(megabytes * 10**6) // 10**6)
