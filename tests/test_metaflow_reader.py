"""The Metaflow reader on small inline flows: dataflow, joins, types, and the errors it reports."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from transpile.api import Failed, Read, Skipped, read_text
from transpile.model.ir import Map, Parallel, Sequence, Switch, Task
from transpile.reading.inference import TypeEnv, annotation, infer

HEADER = "from metaflow import FlowSpec, Parameter, JSONType, step\n\n\n"


def read(body: str) -> Read:
    result = read_text(HEADER + textwrap.dedent(body), "flow.py")
    assert isinstance(result, Read), result
    return result


def fail(body: str) -> Failed:
    result = read_text(HEADER + textwrap.dedent(body), "flow.py")
    assert isinstance(result, Failed), result
    return result


def inputs(result: Read, step: str) -> dict[str, tuple]:
    return {
        i.name: (i.type.expr, i.mode, tuple((r.kind, r.source, r.name) for r in i.refs))
        for i in result.pipeline.step(step).inputs
    }


LINEAR = """
class F(FlowSpec):
    n = Parameter("n", default=3)

    @step
    def start(self):
        self.x = self.n * 2
        self.label = "a"
        self.next(self.middle)

    @step
    def middle(self):
        self.x += 1
        self.next(self.end)

    @step
    def end(self):
        print(self.x, self.label)
"""


def test_reaching_writes_follow_linear_edges():
    result = read(LINEAR)
    assert inputs(result, "middle") == {"x": ("int", "value", (("output", "start", "x"),))}
    assert inputs(result, "end") == {
        "x": ("int", "value", (("output", "middle", "x"),)),
        "label": ("str", "value", (("output", "start", "label"),)),
    }
    assert inputs(result, "start") == {"n": ("int", "value", (("param", "n", "n"),))}
    assert [r.name for r in result.pipeline.results] == ["label", "x"]
    assert result.pipeline.step("middle").body == "x += 1\n"


BRANCH = """
class F(FlowSpec):
    @step
    def start(self):
        self.shared = 1
        self.next(self.a, self.b)

    @step
    def a(self):
        self.v = 1
        self.next(self.join)

    @step
    def b(self):
        self.v = 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = inputs.a.v + inputs.b.v
        self.merge_artifacts(inputs, exclude=["v"])
        self.next(self.end)

    @step
    def end(self):
        print(self.total, self.shared)
"""


def test_join_reads_branches_by_name_and_merges_the_rest():
    result = read(BRANCH)
    flow = result.pipeline.flow
    assert isinstance(flow, Sequence) and isinstance(flow.nodes[1], Parallel)
    assert inputs(result, "join") == {
        "a_v": ("int", "value", (("output", "a", "v"),)),
        "b_v": ("int", "value", (("output", "b", "v"),)),
    }
    # `shared` passes through the join untouched: end reads it from start
    assert inputs(result, "end")["shared"] == ("int", "value", (("output", "start", "shared"),))
    assert "merge_artifacts" not in result.pipeline.step("join").body
    assert [r.name for r in result.pipeline.results] == ["shared", "total"]


def test_merge_of_disagreeing_branches_keeps_metaflows_error():
    body = BRANCH.replace('exclude=["v"]', "").replace("inputs, )", "inputs)")
    code = read(body).pipeline.step("join").body
    assert "raise ValueError(\"merge_artifacts: branches set different values for 'v'\")" in code


FOREACH = """
class F(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.sq = self.input * self.index
        self.next(self.join)

    @step
    def join(self, inputs):
        self.best = max(inputs, key=lambda i: i.sq).sq
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_foreach_becomes_a_map_with_collected_join_inputs():
    result = read(FOREACH)
    node = result.pipeline.flow.nodes[1]
    assert isinstance(node, Map) and node.split == "start" and node.item_type.expr == "int"
    assert node.body == Sequence((Task("body"),))
    assert inputs(result, "body") == {
        "item": ("int", "value", (("item", "start", "item"),)),
        "index": ("int", "value", (("index", "start", "index"),)),
    }
    assert inputs(result, "join") == {
        "sq_values": ("list[int]", "collected", (("output", "body", "sq"),))
    }
    assert result.pipeline.step("join").body.startswith(
        "inputs = [SimpleNamespace(sq=sq) for sq in sq_values]"
    )


SWITCH = """
class F(FlowSpec):
    mode = Parameter("mode", default="a")

    @step
    def start(self):
        self.route = self.mode
        self.next({"a": self.a, "b": self.b}, condition="route")

    @step
    def a(self):
        self.msg = "A"
        self.next(self.end)

    @step
    def b(self):
        self.msg = "B"
        self.next(self.end)

    @step
    def end(self):
        print(self.msg)
"""


def test_switch_cases_meet_and_downstream_reads_one_of_them():
    result = read(SWITCH)
    node = result.pipeline.flow.nodes[1]
    assert isinstance(node, Switch) and [c.value for c in node.cases] == ['"a"', '"b"']
    assert inputs(result, "end") == {
        "msg": ("str", "oneof", (("output", "a", "msg"), ("output", "b", "msg")))
    }


def test_alias_import_and_parameter_types():
    source = """
    import metaflow as mf


    class F(mf.FlowSpec):
        ratio = mf.Parameter("ratio", default=0.5)
        items = mf.Parameter("items", type=mf.JSONType, default="[1, 2]")
        who = mf.Parameter("who", required=True)
        flag = mf.Parameter("flag", type=bool, default=False)

        @mf.step
        def start(self):
            self.next(self.end)

        @mf.step
        def end(self):
            pass
    """
    result = read_text(textwrap.dedent(source), "flow.py")
    assert isinstance(result, Read)
    params = {
        p.name: (p.type.expr, p.default, p.required, p.kind) for p in result.pipeline.parameters
    }
    assert params == {
        "ratio": ("float", "0.5", False, "value"),
        "items": ("list[int]", "[1, 2]", False, "json"),
        "who": ("str", None, True, "value"),
        "flag": ("bool", "False", False, "value"),
    }


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1", "int"),
        ("1.5", "float"),
        ("'a' + 'b'", "str"),
        ("f'{x}'", "str"),
        ("[1, 2]", "list[int]"),
        ("[1, 2.0]", None),  # Flyte refuses an int where float is declared: stay unknown
        ("{'a': 1}", "dict[str, int]"),
        ("(1, 'a')", "tuple[int, str]"),
        ("divmod(7, 2)", "tuple[int, int]"),
        ("len(x)", "int"),
        ("n / 2", "float"),
        ("n * 2", "int"),
        ("sum([1.0, 2.0])", None),  # sum() of no floats is the int 0
        ("sum([1, 2])", "int"),
        ("[i * 2 for i in range(3)]", "list[int]"),
        ("max(v for v in [1, 2])", "int"),
        ("Point(1, 2)", "Point"),
        ("helper()", "list[str]"),
        ("'a,b'.split(',')", "list[str]"),
        ("unknown()", None),
    ],
)
def test_type_inference(expr, expected):
    env = TypeEnv({"n": "int"}, frozenset({"Point"}), {"helper": "list[str]"})
    found = annotation(infer(cst.parse_expression(expr), env))
    assert found == expected  # records and markers: tests/test_inference.py


@pytest.mark.parametrize(
    ("body", "code", "line"),
    [
        (
            LINEAR.replace("self.next(self.middle)", "self.next(getattr(self, 'middle'))"),
            "TP101",
            12,
        ),
        (
            SWITCH.replace(
                "self.next(self.end)\n\n    @step\n    def b",
                "self.next(self.start)\n\n    @step\n    def b",
            ),
            "TP109",
            None,
        ),
        (LINEAR.replace("print(self.x, self.label)", "print(self.nope)"), "TP120", 21),
        (LINEAR.replace("self.x += 1", "print(self.input)"), "TP121", None),
        (
            LINEAR.replace(
                "    @step\n    def end(self):\n        print(self.x, self.label)\n", ""
            ),
            "TP105",
            None,
        ),
        (
            LINEAR + "x = 1; from metaflow import current\n",
            "TP115",
            (HEADER + LINEAR).count("\n") + 1,
        ),
        (LINEAR.replace("self.next(self.middle)", "self.next()"), "TP101", 12),
    ],
    ids=[
        "computed-transition",
        "recursion",
        "unknown-artifact",
        "input-outside-foreach",
        "no-end",
        "metaflow-import-sharing-a-line",
        "next-to-nowhere",  # was an IndexError (found by the mutated-input tests)
    ],
)
def test_errors_name_code_and_line(body, code, line):
    diagnostic = fail(body).diagnostics[-1]
    assert diagnostic.code == code
    if line is not None:
        assert diagnostic.span is not None and diagnostic.span.line == line


def test_an_import_sharing_a_line_with_code_stays_module_code():
    result = read("import os; CWD = os.getcwd()\n" + LINEAR)
    assert "import os; CWD = os.getcwd()" in result.pipeline.module.definitions


def test_file_without_a_flow_is_skipped():
    result = read_text("import metaflow\n\nx = 1\n", "plain.py")
    assert isinstance(result, Skipped)


NAMES = """
def total(values):
    return sum(values)


class F(FlowSpec):
    @step
    def start(self):
        count = 10
        self.count = 3
        self.first = count
        self.list = [3, 1, 2]
        self.next(self.end)

    @step
    def end(self):
        stats = self.list
        stats.append(1)
        self.list = stats
        self.size = len(list(self.list)) + total(self.list) + self.count
"""


def test_an_artifact_never_shadows_a_name_the_body_uses():
    pipeline = read(NAMES).pipeline
    start, end = pipeline.step("start"), pipeline.step("end")
    # `count` is also a plain local in start: the artifact's local is renamed, its name kept
    assert [(o.name, o.var) for o in start.outputs][:2] == [("count", "count_"), ("first", "first")]
    assert "count_ = 3" in start.body and "first = count\n" in start.body
    # end calls list(...): the artifact `list` arrives as list_, the builtin stays usable
    assert {i.name: i.refs[0].name for i in end.inputs} == {"list_": "list", "count": "count"}
    assert "len(list(list_))" in end.body


def test_the_alias_idiom_keeps_the_artifact_name():
    """stats = self.stats … self.stats = stats: the local always holds the artifact."""
    body = NAMES.replace("stats = self.list", "list = self.list")
    body = body.replace(
        "stats.append(1)\n        self.list = stats", "list.append(1)\n        self.list = list"
    )
    body = body.replace("len(list(self.list))", "len(self.list)")
    end = read(body).pipeline.step("end")
    assert [i.name for i in end.inputs if i.refs[0].name == "list"] == ["list"]
    assert "list.append(1)" in end.body
