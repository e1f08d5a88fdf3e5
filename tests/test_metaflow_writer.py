"""The Metaflow writer on hand-built models: the steps and transitions it emits, how values travel
through joins, switches, options and reserved names; every emitted flow passes Metaflow's linter."""

from __future__ import annotations

import importlib.util
import re
import sys

import metaflow_models as models
import pytest
from ir_samples import branchy
from ir_samples import linear as linear_with_start

from transpile.frameworks.metaflow.writer.write import write
from transpile.model.diagnostics import TranspileError
from transpile.model.ir import Case, Option, Ref, Sequence, Switch, Task

ALL = [
    models.linear,
    models.parallel,
    models.map_over_output,
    models.map_over_param,
    models.nested_map,
    models.switch,
    models.switch_in_branch,
    models.options,
    models.reserved,
    models.map_then_parallel,
    models.handing_on,
    linear_with_start,
    branchy,
]


def emit(pipeline) -> str:
    code, _ = write(pipeline)
    return code


def lint(code: str, tmp_path, flow: str) -> None:
    """Metaflow's own graph checks, run on the emitted file without starting a run."""
    from metaflow.graph import FlowGraph
    from metaflow.lint import linter

    path = tmp_path / "emitted_flow.py"
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("emitted_flow", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["emitted_flow"] = module
    try:
        spec.loader.exec_module(module)
        linter.run_checks(FlowGraph(getattr(module, flow)))
    finally:
        del sys.modules["emitted_flow"]


@pytest.mark.parametrize("build", ALL, ids=lambda f: f.__name__)
def test_every_emitted_flow_passes_metaflows_linter(build, tmp_path):
    pipeline = build()
    lint(emit(pipeline), tmp_path, pipeline.name)


def test_start_and_end_are_created_around_tasks_of_a_flyte_model():
    code = emit(models.linear())
    added = '"""Added by transpile: a Metaflow flow begins with a start step."""'
    assert f"def start(self):\n        {added}\n        self.next(self.load)" in code
    assert "self.load_o0 = self.n * 2" in code
    assert "self.train_o0 = self.load_o0 + 1\n        self.next(self.end)" in code
    added = '"""Added by transpile: a Metaflow flow ends with an end step.\n\n        Results: o0.'
    assert f'def end(self):\n        {added}\n        """\n        self.o0 = self.train_o0' in code
    assert code.rstrip().endswith('if __name__ == "__main__":\n    TrainFlow()')


def test_a_model_start_step_is_kept_as_the_start():
    code = emit(linear_with_start())
    assert code.count("def start(self)") == 1 and "def start_step" not in code
    assert 'alpha = Parameter("alpha", default=0.5, type=float, help="rate")' in code


# What a model's emitted flow must contain, by what the fragments show.
EMITTED = [
    pytest.param(
        models.parallel,
        [
            "self.next(self.left, self.right)",
            "def combine(self, inputs):",
            "inputs.left.left_o0 + inputs.right.right_o0 + inputs.left.load_o0",
        ],
        id="parallel_branches_split_and_the_next_task_joins_them",
    ),
    pytest.param(
        models.map_over_output,
        [
            'self.next(self.square, foreach="make_o0")',
            "self.square_o0 = self.input * self.input",
            "def total(self, inputs):\n        values = [inp.square_o0 for inp in inputs]",
        ],
        id="map_over_a_step_output_is_a_foreach_and_its_consumer_the_join",
    ),
    pytest.param(
        models.map_over_param,
        [
            'nums = Parameter("nums", default="[1, 2, 3]", type=JSONType)',
            'self.next(self.square, foreach="nums")',
        ],
        id="map_over_a_parameter_fans_out_from_start",
    ),
    pytest.param(
        models.nested_map,
        [
            'self.next(self.cell, foreach="expand_o0")',
            'self.cell_o0 = f"{self.foreach_stack()[0][2]}:{self.input}"',
            "def gather(self, inputs):",
            "def flatten(self, inputs):",
        ],
        id="nested_map_reads_the_outer_item_from_the_foreach_stack",
    ),
    pytest.param(
        models.switch,
        [
            'self.next({"big": self.big, "small": self.small}, condition="mode")',
            # both cases write the one artifact the step after the switch reads
            "self.big_o0 = 100",
            "self.big_o0 = 1",
            "self.report_o0 = self.big_o0 * 2",
        ],
        id="switch_on_text_values_uses_the_condition_directly",
    ),
    pytest.param(
        models.switch_in_branch,
        [
            "self.next(self.route, self.other)",
            (
                'def branch_1(self):\n        """Added by transpile: Metaflow needs a plain step '
                'between a branch and its join."""\n        self.next(self.combine)'
            ),
            "inputs.branch_1.big_o0 + inputs.other.other_o0",
        ],
        id="a_case_before_a_join_goes_through_an_intermediate_step",
    ),
    pytest.param(
        models.map_then_parallel,
        [
            (
                'def join(self, inputs):\n        """Added by transpile: Metaflow joins a foreach '
                'in a step of its own."""\n        self.double_o0_values = ['
            ),
            "self.next(self.split)",
            "self.next(self.add, self.count)",
            'Results: total, n.\n        """\n        self.total = self.add_o0\n        self.n = self.count_o0',
        ],
        id="a_map_before_a_split_gets_a_join_step_of_its_own",
    ),
    pytest.param(
        models.handing_on,
        [
            "def keep(self):\n        self.value = self.make_o0",
            "value = self.make_o0\n        value = value + [1]\n        self.grow_o0 = value",
            "self.both_o0 = [self.value, self.grow_o0]",
        ],
        id="inputs_handed_on_or_rebound_keep_the_upstream_artifact",
    ),
]


@pytest.mark.parametrize(("build", "fragments"), EMITTED)
def test_emitted_flow_contains(build, fragments):
    code = emit(build())
    for fragment in fragments:
        assert fragment in code


def test_switch_on_numbers_switches_on_their_text():
    code, diagnostics = write(models.switch(values=("1", "2")))
    assert "self.mode_key = str(self.mode)" in code
    assert 'self.next({"1": self.big, "2": self.small}, condition="mode_key")' in code
    assert [d.code for d in diagnostics] == ["TP234"]


def test_a_lone_case_gets_an_empty_otherwise_step():
    pipeline = models.switch()
    cases = (Case('"big"', Task("big")),)
    flow = Sequence((Switch(Ref("param", "mode", "mode"), cases), Task("small")))
    code = emit(type(pipeline)(**{**pipeline.__dict__, "flow": flow, "results": ()}))
    assert 'self.mode_key = str(self.mode) if str(self.mode) == "big" else "otherwise"' in code
    assert '"otherwise": self.start_case_2' in code


def test_options_become_decorators_or_todos_with_diagnostics():
    code, diagnostics = write(models.options())
    assert '@schedule(cron="0 * * * *")\nclass OptionsFlow(FlowSpec):' in code
    assert "@retry(times=3, minutes_between_retries=0)" in code
    assert "@timeout(seconds=60)\n    @resources(cpu=2, memory=4096)\n    @step" in code
    assert '# TODO(transpile): TP232 @cache(version="1.0") has no Metaflow equivalent' in code
    assert [(d.code, d.lossy) for d in diagnostics] == [("TP232", True), ("TP232", True)]
    assert all(d.span is not None and d.span.line == 4 for d in diagnostics)


def test_reserved_names_are_renamed_with_a_diagnostic():
    code, diagnostics = write(models.reserved())
    assert 'name_ = Parameter("name_", default="x", type=str)' in code
    assert "def input_step(self):\n        self.index_ = self.name_.upper()" in code
    assert {d.code for d in diagnostics} == {"TP230", "TP231"}
    assert all(d.span is not None for d in diagnostics)


def test_output_is_deterministic():
    assert emit(models.nested_map()) == emit(models.nested_map())


def test_results_named_like_an_artifact_another_result_reads_are_assigned_at_once():
    pipeline = models.linear()
    results = (
        models.result("load_o0", models.out("train")),
        models.result("x", models.out("load")),
    )
    code = emit(type(pipeline)(**{**pipeline.__dict__, "results": results}))
    assert "self.load_o0, self.x = self.train_o0, self.load_o0" in code


def test_a_case_that_is_not_a_literal_is_one_located_diagnostic():
    pipeline = models.switch(values=("limit + 1", "2"))
    with pytest.raises(TranspileError) as raised:
        write(pipeline)
    diagnostic = raised.value.diagnostic
    assert diagnostic.code == "TP244"
    assert diagnostic.render() == "flows/wf.py:1:1: TP244 switch case 'limit + 1' is not a literal"


def test_options_naming_another_frameworks_objects_become_todos():
    pipeline = models.options()
    secret = Option("secrets", (("sources", '[Secret(group="db", key="pw")]'),), models.span(6))
    work = pipeline.steps[0]
    steps = (type(work)(**{**work.__dict__, "options": (secret,)}),)
    code, diagnostics = write(type(pipeline)(**{**pipeline.__dict__, "steps": steps}))
    assert not re.search(r"^\s*@secrets", code, re.MULTILINE)
    assert '# TODO(transpile): TP232 @secrets(sources=[Secret(group="db", key="pw")]) takes' in code
    assert [(d.code, d.span.line) for d in diagnostics] == [("TP232", 6)]


def test_parameters_named_start_and_end_keep_their_options_beside_the_steps():
    """Metaflow's first and last steps are ``start`` and ``end``: parameters by those names
    are attributes ``start_value`` / ``end_value`` with their options unchanged (``--start``),
    so the steps keep their names (a ``start_2`` step is refused by Metaflow)."""
    from transpile import api

    text = (
        "from flytekit import task, workflow\n\n\n@task\ndef double(start: int, end: int) -> int:\n"
        "    return start * 2 + end\n\n\n@workflow\ndef wf(start: int = 3, end: int = 1) -> int:\n"
        "    return double(start=start, end=end)\n"
    )
    read = api.read_text(text, "wf.py")
    assert isinstance(read, api.Read), read
    code, _ = api.write("metaflow", read.pipeline)
    assert 'start_value = Parameter("start", default=3, type=int)' in code
    assert 'end_value = Parameter("end", default=1, type=int)' in code
    assert "    def start(self):" in code and "    def end(self):" in code
    assert "self.start_value * 2 + self.end_value" in code
    assert "start_2" not in code and "end_2" not in code
