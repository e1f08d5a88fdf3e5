"""What real flows put on the flow class besides steps: helper methods, properties, static
methods, and decorators transpile does not know."""

from __future__ import annotations

import runpy
import textwrap

import pytest
from staging import same_when_run

from transpile.api import Converted, Failed, convert_text
from transpile.writing.missing import provide_missing

HEAD = "from metaflow import FlowSpec, Parameter, step\n\n\n"


def flow(body: str, extra: str = "") -> str:
    steps = """
        @step
        def start(self):
            self.values = [1, 2]
            self.next(self.end)

        @step
        def end(self):
            self.out = self.helper(3)
    """
    return (
        HEAD
        + extra
        + "class F(FlowSpec):\n"
        + textwrap.indent(textwrap.dedent(body) + textwrap.dedent(steps), "    ")
    )


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_a_method_becomes_a_function_taking_what_it_read_from_self(target):
    source = flow("""
        scale = Parameter("scale", default=2)

        def helper(self, x):
            return x * self.scale + sum(self.values)
    """)
    result = convert_text(source, "f.py", target)
    assert isinstance(result, Converted), result
    assert "def helper(x, *, scale, values):" in result.code
    assert "helper(3, scale=scale, values=values)" in result.code


@pytest.mark.parametrize(
    ("body", "message", "spot"),
    [
        (
            "def helper(self, x):\n    return register(self, x)\n",
            "uses self other than",
            "register(self, x)",
        ),
        (
            "def helper(self, x):\n    return x if hasattr(self, 'seen') else 0\n",
            "(`hasattr(self, 'seen')`)",
            "hasattr(self, 'seen')",
        ),
        (
            (
                "def helper(self, x):\n    return sum(map(self.scaled, [x]))\n\n"
                "def scaled(self, x):\n    return x * len(self.values)\n"
            ),
            "uses self.scaled as a value",
            "self.scaled",
        ),
        (
            "def helper(self, x):\n    self.next(self.end)\n",
            "self.next, which only a step",
            "self.next",
        ),
        (
            "@classmethod\ndef helper(cls, x):\n    return cls(x)\n",
            "class method 'helper' uses cls",
            "return cls(x)",
        ),
        (
            "@functools.cache\ndef helper(self, x):\n    return x\n",
            "decorated @functools.cache",
            "@functools.cache",
        ),
    ],
)
def test_a_method_that_cannot_be_carried_is_refused_at_the_spot(body, message, spot):
    source = flow(body)
    result = convert_text(source, "f.py", "flyte")
    assert isinstance(result, Failed)
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == "TP113" and message in diagnostic.message
    line = source.splitlines()[diagnostic.span.line - 1]
    assert spot in line, (diagnostic.span, line)


def test_a_step_that_takes_a_method_as_a_value_is_refused_at_the_spot():
    source = flow(
        "def helper(self, x):\n    return x + len(self.values)\n",
    ).replace("self.out = self.helper(3)", "self.out = list(map(self.helper, [3]))")
    result = convert_text(source, "f.py", "kfp")
    assert isinstance(result, Failed)
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == "TP113" and "self.helper as a value" in diagnostic.message
    assert "map(self.helper" in source.splitlines()[diagnostic.span.line - 1]


SETS = """\
from metaflow import FlowSpec, Parameter, step


class Tally(FlowSpec):
    scale = Parameter("scale", default=2)
    LIMIT = 5

    def record(self, x):
        self.last = x * self.scale
        if x > 2:
            self.big = self.label(x)
        return self.count_seen()

    def count_seen(self):
        self.seen = self.seen + 1
        return self.seen

    def label(self, x):
        return f"{x}/{self.LIMIT}/{self.scale}"

    def depth(self, n):
        self.calls = self.calls + 1
        return 1 if n <= 1 else n * self.depth(n - 1)

    @staticmethod
    def double(x):
        return 2 * x

    @classmethod
    def quad(cls, x):
        return cls.double(cls.double(x))

    @step
    def start(self):
        self.seen = 0
        self.big = "no"
        self.count = self.record(3) + self.quad(1)
        self.calls = 0
        self.factorial = self.depth(4)
        self.next(self.end)

    @step
    def end(self):
        self.again = [self.record(x) for x in (1, 2)]
        self.summary = (self.last, self.big, self.seen)


if __name__ == "__main__":
    Tally()
"""


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_a_method_that_sets_artifacts_takes_a_namespace_and_its_sets_are_step_outputs(target):
    result = convert_text(SETS, "f.py", target)
    assert isinstance(result, Converted), result
    code = result.code
    # the method reads and sets artifacts on a namespace given in place of self; a method it
    # calls that only reads takes its values, one that sets takes the namespace
    assert "def record(artifacts, x):" in code
    assert "artifacts.last = x * artifacts.scale" in code
    assert "artifacts.big = label(x, scale=artifacts.scale)" in code
    assert "return count_seen(artifacts)" in code
    assert "def count_seen(artifacts):" in code
    assert "def quad(x):" in code and "return double(double(x))" in code
    # each calling step keeps what the calls read and set in the namespace, from its inputs
    assert "artifacts = SimpleNamespace(scale=scale)" in code  # start: nothing set before
    assert "artifacts.seen = 0" in code and "count = record(artifacts, 3) + quad(1)" in code
    # end: what the calls may leave as they were comes in (last, big, seen) and goes out
    assert "artifacts = SimpleNamespace(big=big, last=last, scale=scale, seen=seen)" in code
    assert "again = [record(artifacts, x) for x in (1, 2)]" in code
    steps = {s.name: s for s in result.pipeline.steps}
    assert "def depth(artifacts, n):" in code  # recursion: the function calls itself
    assert "return 1 if n <= 1 else n * depth(artifacts, n - 1)" in code
    assert {o.name for o in steps["start"].outputs} == {
        *("seen", "big", "count", "last", "calls", "factorial")
    }
    assert {o.name for o in steps["end"].outputs} >= {"again", "summary", "last", "big", "seen"}
    assert {i.name for i in steps["end"].inputs} == {"scale", "seen", "big", "last"}


FOREACH = """\
from metaflow import FlowSpec, step


class Labels(FlowSpec):
    def tag(self):
        return f"{self.index}:{self.input}"

    def keep(self, value):
        self.kept = value
        self.count = len(value)

    @step
    def start(self):
        self.items = ["x", "y"]
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.label = self.tag()
        self.next(self.join)

    @step
    def join(self, inputs):
        self.keep([i.label for i in inputs])
        self.next(self.end)

    @step
    def end(self):
        self.final = [self.kept, self.count]


if __name__ == "__main__":
    Labels()
"""


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_a_method_reading_the_foreach_item_and_a_join_calling_one_that_sets(target):
    result = convert_text(FOREACH, "f.py", target)
    assert isinstance(result, Converted), result
    assert "def tag(*, index, input):" in result.code
    assert "label = tag(index=index, input=item)" in result.code
    assert "keep(artifacts, list(label_values))" in result.code  # no inputs shim: unshim.py
    (join,) = [s for s in result.pipeline.steps if s.name == "join"]
    assert {o.name: o.type.expr for o in join.outputs} == {"kept": "list[str]", "count": "int"}


def test_a_catch_step_keeps_what_a_method_set_before_the_failure():
    source = FOREACH.replace(
        "    @step\n    def end",
        "    @catch(var='problem')\n    @step\n    def risky(self):\n"
        "        self.keep('first')\n        raise ValueError('boom')\n"
        "        self.next(self.end)\n\n    @step\n    def end",
    ).replace("self.next(self.end)\n\n    @catch", "self.next(self.risky)\n\n    @catch")
    source = source.replace("import FlowSpec, step", "import FlowSpec, catch, step")
    result = convert_text(source, "f.py", "flyte")
    assert isinstance(result, Converted), result
    risky = result.code.split("def risky(")[1].split("\n\n\n")[0]
    assert "    except Exception as exception:" in risky
    assert '    kept = getattr(artifacts, "kept", None)' in risky  # after the try


@pytest.mark.equivalence
@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_methods_in_a_foreach_and_a_join_compute_the_same(tmp_path, target):
    result = same_when_run(FOREACH, target, tmp_path, "labels.py")
    assert {v.name for v in result.values} >= {"final", "kept", "count"}


CLASHES = """\
from metaflow import FlowSpec, step


class Clashes(FlowSpec):
    def helper(self, values):
        return values + self.values

    def setter(self, artifacts):
        self.out2 = artifacts + len(self.values)

    @step
    def start(self):
        self.values = [1]
        self.out = self.helper([2])
        self.setter(3)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    Clashes()
"""


def test_a_method_parameter_named_like_what_it_reads_or_the_namespace_is_kept_apart():
    result = convert_text(CLASHES, "f.py", "flyte")
    assert isinstance(result, Converted), result  # was: duplicate argument 'values'
    assert "def helper(values, *, values_):" in result.code
    assert "out = helper([2], values_=artifacts.values)" in result.code
    assert "def setter(artifacts_, artifacts):" in result.code


@pytest.mark.equivalence
@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_methods_with_clashing_names_compute_the_same(tmp_path, target):
    result = same_when_run(CLASHES, target, tmp_path, "clashes.py")
    assert {v.name for v in result.values} >= {"out", "out2"}


def test_a_method_changing_an_artifact_or_its_argument_in_place_is_a_write_of_the_step():
    source = flow(
        """
        def helper(self, x):
            self.values.append(x)
            return x

        def add(self, rows, x):
            rows.append(x)
        """
    ).replace(
        "self.out = self.helper(3)",
        "self.out = self.helper(3)\n        self.more = [1]\n        self.add(self.more, 2)",
    )
    result = convert_text(source, "f.py", "flyte")
    assert isinstance(result, Converted), result
    (end,) = [s for s in result.pipeline.steps if s.name == "end"]
    assert {o.name for o in end.outputs} == {"out", "values", "more"}
    assert "def helper(x, *, values):" in result.code  # only changes in place: no namespace


def test_the_flow_object_given_to_a_metaflow_api_in_a_method_is_left_out_saying_so():
    source = flow(
        "def helper(self, x):\n    self.url = S3(run=self)\n    return x\n",
        extra="from metaflow import S3\n\n\n",
    )
    result = convert_text(source, "f.py", "flyte")
    assert isinstance(result, Converted), result
    assert "artifacts.url = S3()" in result.code
    notes = [d for d in result.diagnostics if d.code == "TP210"]
    assert notes and notes[0].lossy and "`run=self` is left out" in notes[0].message
    assert "S3(run=self)" in source.splitlines()[notes[0].span.line - 1]


def test_a_class_method_reading_a_class_constant_says_what_metaflow_gives_there():
    source = flow("LIMIT = 3\n\n@classmethod\ndef helper(cls, x):\n    return x + cls.LIMIT\n")
    result = convert_text(source, "f.py", "kfp")
    assert isinstance(result, Converted), result
    (note,) = [d for d in result.diagnostics if d.code == "TP210"]
    assert note.lossy and "property object" in note.message
    assert "cls.LIMIT" in source.splitlines()[note.span.line - 1]


@pytest.mark.equivalence
@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_methods_that_set_artifacts_compute_the_same(tmp_path, target):
    result = same_when_run(SETS, target, tmp_path, "tally.py")
    assert {v.name for v in result.values} >= {"again", "summary", "count", "last", "calls"}


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_an_unknown_step_decorator_is_a_todo_with_its_text(target):
    source = HEAD.replace("\n\n\n", "\nfrom mylib import audited\n\n\n") + textwrap.dedent("""
        class F(FlowSpec):
            @audited(level="high")
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    """)
    result = convert_text(source, "f.py", target)
    assert isinstance(result, Converted), result
    assert '# TODO(transpile): TP203 @audited(level="high") is not carried over' in result.code
    (note,) = [d for d in result.diagnostics if d.code == "TP203"]
    assert note.lossy and note.span is not None and note.span.line == 7


def test_a_decorator_twice_on_a_step_is_refused():
    source = HEAD.replace("step\n", "step, timeout\n") + textwrap.dedent("""
        class F(FlowSpec):
            @timeout(seconds=5)
            @timeout(seconds=9)
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    """)
    result = convert_text(source, "f.py", "kfp")
    assert isinstance(result, Failed)
    assert result.diagnostics[0].code == "TP114"


@pytest.mark.parametrize(
    ("config", "code"),
    [
        ('Config("c", default="c.yaml", parser="yaml.safe_load")', "TP111"),
        ('Config("c", default_value=make_defaults())', "TP112"),
        ('Config("c", default=os.path.join("a", "c.json"))', "TP112"),
    ],
)
def test_a_config_transpile_cannot_read_is_refused_at_its_line(config, code):
    source = (
        "import os\n\nfrom metaflow import Config, FlowSpec, step\n\n\n"
        f"class F(FlowSpec):\n    c = {config}\n\n"
        "    @step\n    def start(self):\n        self.x = self.c.a\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    result = convert_text(source, "f.py", "flyte")
    assert isinstance(result, Failed)
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == code and diagnostic.span is not None and diagnostic.span.line == 7


def test_a_deleted_artifact_is_no_output_and_no_result():
    source = HEAD + textwrap.dedent("""
        class F(FlowSpec):
            @step
            def start(self):
                self.keep = 1
                self.scratch = [1, 2]
                self.next(self.end)

            @step
            def end(self):
                self.total = sum(self.scratch)
                del self.scratch
    """)
    for target in ("flyte", "kfp"):
        result = convert_text(source, "f.py", target)
        assert isinstance(result, Converted), result
        assert {r.name for r in result.pipeline.results} == {"keep", "total"}
        assert "del scratch" in result.code


def test_a_foreach_that_names_no_artifact_is_refused_at_its_line():
    source = HEAD + textwrap.dedent("""
        class F(FlowSpec):
            @step
            def start(self):
                self.items = [1]
                self.next(self.each, foreach=____)

            @step
            def each(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass
    """)
    result = convert_text(source, "f.py", "flyte")
    assert isinstance(result, Failed)
    assert result.diagnostics[0].code == "TP103" and "`____`" in result.diagnostics[0].message


def test_a_global_the_step_rebinds_comes_first_in_a_kfp_component():
    source = "from metaflow import FlowSpec, step\n\nCOUNT = 5\n\n\n" + textwrap.dedent("""
        class F(FlowSpec):
            @step
            def start(self):
                global COUNT
                COUNT = 9
                self.seen = COUNT
                self.next(self.end)

            @step
            def end(self):
                self.after = COUNT
    """)
    result = convert_text(source, "f.py", "kfp")
    assert isinstance(result, Converted), result
    start = result.code.split("def start(")[1].split("@dsl.component")[0]
    body = [line.strip() for line in start.splitlines()[1:] if line.strip()]
    assert body[:3] == ["global COUNT", "COUNT = 5", "COUNT = 9"]


def test_a_mixin_defined_in_the_file_lends_its_methods_and_an_imported_one_is_named():
    mixin = textwrap.dedent("""
        class Scaling:
            FACTOR = 3

            def scaled(self, x):
                return x * self.FACTOR
    """)
    body = """
        @step
        def start(self):
            self.value = self.scaled(2)
            self.next(self.end)

        @step
        def end(self):
            pass
    """
    local = (
        HEAD
        + mixin
        + "\n\nclass F(FlowSpec, Scaling):\n"
        + textwrap.indent(textwrap.dedent(body), "    ")
    )
    result = convert_text(local, "f.py", "flyte")
    assert isinstance(result, Converted), result
    assert "def scaled(x):" in result.code and "value = scaled(2)" in result.code
    imported = HEAD.replace("\n\n\n", "\nfrom mylib import Scaling\n\n\n") + (
        "class F(FlowSpec, Scaling):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    )
    refused = convert_text(imported, "f.py", "flyte")
    assert isinstance(refused, Failed)
    assert refused.diagnostics[0].code == "TP120"
    assert "base class Scaling" in refused.diagnostics[0].message


def test_nested_tuple_unpacking_into_artifacts():
    source = HEAD + textwrap.dedent("""
        def load():
            return ([1], [2]), ([3], [4])


        class F(FlowSpec):
            @step
            def start(self):
                (self.x_train, self.y_train), (self.x_test, self.y_test) = load()
                self.next(self.end)

            @step
            def end(self):
                self.n = len(self.x_train) + len(self.y_test)
    """)
    result = convert_text(source, "f.py", "kfp")
    assert isinstance(result, Converted), result
    assert {"x_train", "y_train", "x_test", "y_test", "n"} <= {
        r.name for r in result.pipeline.results
    }


def test_flow_name_from_the_class_and_a_json_default_written_with_json_dumps():
    source = "import json\n\n" + HEAD.replace("Parameter, step", "JSONType, Parameter, step")
    source += textwrap.dedent("""
        class F(FlowSpec):
            rates = Parameter("rates", type=JSONType, default=json.dumps([0.1, 0.01]))

            @step
            def start(self):
                self.label = f"{self.__class__.__name__}:{len(self.rates)}"
                self.next(self.end)

            @step
            def end(self):
                pass
    """)
    result = convert_text(source, "f.py", "flyte")
    assert isinstance(result, Converted), result
    assert "label = f\"{'F'}:{len(rates)}\"" in result.code
    (rates,) = result.pipeline.parameters
    assert rates.default == "[0.1, 0.01]"


@pytest.mark.parametrize(
    ("line", "code", "words"),
    [
        (
            'cfg: dict = Config("cfg", default="c.json")\n    n = Parameter("n", default=cfg.n)',
            "TP112",
            "from a Config",
        ),
        ("", "TP102", "only start=True and end=True"),
    ],
)
def test_what_real_flows_do_that_is_refused_says_what(line, code, words):
    source = "from metaflow import Config, FlowSpec, Parameter, step\n\n\nclass F(FlowSpec):\n"
    source += f"    {line}\n\n" if line else ""
    decorator = "@step(start=FIRST)" if code == "TP102" else "@step"
    source += textwrap.indent(
        textwrap.dedent(f"""
            {decorator}
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """),
        "    ",
    )
    result = convert_text(source, "f.py", "kfp")
    assert isinstance(result, Failed), result
    assert result.diagnostics[0].code == code and words in result.diagnostics[0].message


def test_a_stub_can_be_subclassed_so_the_module_still_loads(tmp_path):
    code, _ = provide_missing("class Mine(FlowMutator):\n    pass\n", None)
    (tmp_path / "m.py").write_text(code, encoding="utf-8")
    namespace = runpy.run_path(str(tmp_path / "m.py"))
    with pytest.raises(NotImplementedError, match="FlowMutator"):
        namespace["Mine"]()


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_a_parameter_with_a_separator_is_split_before_the_step_reads_it(target):
    source = HEAD + textwrap.dedent("""
        class F(FlowSpec):
            values = Parameter("values", default="1,2,3", separator=",")

            @step
            def start(self):
                self.total = sum(int(v) for v in self.values)
                self.next(self.end)

            @step
            def end(self):
                pass
    """)
    result = convert_text(source, "f.py", target)
    assert isinstance(result, Converted), result
    assert 'values = values.split(",") if values else values' in result.code


CUSTOM_ENDS = """\
from metaflow import FlowSpec, Parameter, step


class CustomEnds(FlowSpec):
    n = Parameter("n", default=2, type=int)

    @step(start=True)
    def entry(self):
        self.base = self.n * 10
        self.next(self.left, self.right)

    @step
    def left(self):
        self.part = self.base + 1
        self.next(self.merge)

    @step
    def right(self):
        self.part = self.base + 2
        self.next(self.merge)

    @step
    def merge(self, inputs):
        self.parts = sorted(i.part for i in inputs)
        self.next(self.done)

    @step(end=True)
    def done(self):
        self.total = sum(self.parts)


if __name__ == "__main__":
    CustomEnds()
"""
ONE_STEP = """\
from metaflow import FlowSpec, step


class OneStep(FlowSpec):
    @step
    def only(self):
        self.x = 42


if __name__ == "__main__":
    OneStep()
"""


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_steps_marked_first_and_last_are_the_flows_start_and_end(target):
    """Metaflow 2.19's @step(start=True) / @step(end=True) name any step first or last, and a
    flow of one step needs neither (was TP102)."""
    result = convert_text(CUSTOM_ENDS, "f.py", target)
    assert not isinstance(result, Failed), result.reason
    names = [s.name for s in result.pipeline.steps]
    assert names[0] == "entry" and names[-1] == "done"
    assert [r.name for r in result.pipeline.results][-1] == "total"
    one = convert_text(ONE_STEP, "one.py", target)
    assert not isinstance(one, Failed), one.reason
    assert [s.name for s in one.pipeline.steps] == ["only"]


def test_two_steps_marked_first_are_refused_at_the_second():
    text = CUSTOM_ENDS.replace("    @step\n    def left", "    @step(start=True)\n    def left")
    result = convert_text(text, "f.py", "flyte")
    assert isinstance(result, Failed)
    assert "two steps marked @step(start=True): 'entry' and 'left'" in result.reason


@pytest.mark.equivalence
@pytest.mark.parametrize("source", [CUSTOM_ENDS, ONE_STEP], ids=["custom", "one-step"])
@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_steps_marked_first_and_last_compute_the_same(tmp_path, source, target):
    result = same_when_run(source, target, tmp_path, "flow.py")
    assert {v.name for v in result.values} >= ({"total"} if source is CUSTOM_ENDS else {"x"})


CARDS = """\
from metaflow import FlowSpec, card, current, step
from metaflow.cards import Image, Markdown, Table


class CardFlow(FlowSpec):
    @card
    @step
    def start(self):
        self.rows = [[1, "a"], [2, "b"]]
        current.card.append(Markdown("# Rows"))
        current.card.append(Table(self.rows, headers=["n", "letter"]))
        self.next(self.end)

    @card(type="blank", id="summary")
    @card(customize=True)
    @step
    def end(self):
        self.count = len(self.rows)
        current.card["summary"].append(Markdown(f"{self.count} rows"))
        current.card.extend(
            [
                Markdown(\"\"\"
                    ## Letters
                    - a <b>
                \"\"\"),
                Table([[1, "a|b"], [2.5, "<c>"]], headers=["n", "s"]),
            ]
        )
        for n in range(2):
            current.card["summary"].append(Markdown(text=f"row {n}"))
        current.card["other"].append(Markdown("not a card of this step"))
        current.card.append(Image(b"png"))
        current.card.refresh()


if __name__ == "__main__":
    CardFlow()
"""
CARD_TODO = "pass  # TODO(transpile): TP211 a Metaflow card component"


def _notes(result, code):
    return sorted((d.span.line, d.severity, d.lossy) for d in result.diagnostics if d.code == code)


def test_card_content_a_target_shows_exactly_is_noted_at_its_line_the_rest_is_lossy():
    result = convert_text(CARDS, "cards.py", "flyte")
    assert isinstance(result, Converted), result
    shown = [(line, "info", False) for line in (10, 19, 20, 30)]
    assert _notes(result, "TP211") == shown
    # a Table of rows known when the step runs, a card the step has not, an image, refresh()
    assert _notes(result, "TP210") == [(line, "warning", True) for line in (11, 31, 32, 33)]


def test_card_content_goes_to_flyte_decks():
    """Markdown (a literal, or text built when the step runs, dedented as Metaflow does) and
    tables of literals to the Deck of the card Metaflow would add them to: the default Deck for
    the card without an id, a Deck named after the card's id otherwise."""
    result = convert_text(CARDS, "cards.py", "flyte")
    assert isinstance(result, Converted), result
    code = result.code
    assert "from flytekit.deck import MarkdownRenderer" in code
    assert 'current_context().default_deck.append(MarkdownRenderer().to_html("# Rows"))' in code
    assert 'summary_deck = Deck("summary")' in code
    assert 'summary_deck.append(MarkdownRenderer().to_html(textwrap.dedent(f"{count} rows")))' in (
        code
    )
    # customize=True makes the unnamed card the one current.card.append fills
    assert 'MarkdownRenderer().to_html("\\n## Letters\\n- a <b>\\n")' in code
    assert "<td>a|b</td></tr><tr><td>2.5</td><td>&lt;c&gt;</td>" in code
    assert 'summary_deck.append(MarkdownRenderer().to_html(textwrap.dedent(f"row {n}")))' in code
    assert code.count(CARD_TODO) == 4  # a Table of run-time rows, a missing id, Image, refresh
    assert "Image" not in code.replace("Image(b", "")


def test_card_content_goes_to_kfp_markdown_artifacts():
    """The @card's Markdown artifact takes the content of the unnamed card, another artifact
    that of a card with an id; what was added comes before the list of the step's results."""
    result = convert_text(CARDS, "cards.py", "kfp")
    assert isinstance(result, Converted), result
    code = result.code
    assert "card_summary: Output[Markdown]" in code
    assert 'with open(card_2.path, "a") as card_file:\n        card_file.write("# Rows\\n\\n")' in (
        code
    )
    assert 'card_file.write(textwrap.dedent(f"{count} rows") + "\\n\\n")' in code
    assert 'card_file.write("\\n## Letters\\n- a <b>\\n\\n\\n")' in code
    assert "| n | s |\\n| --- | --- |\\n| 1 | a\\\\|b |\\n| 2\\\\.5 | \\\\<c\\\\> |" in code
    assert code.count(CARD_TODO) == 4
    assert code.index('card_file.write("# Rows') < code.index('file.write("# start')


def test_airflow_drops_card_content_saying_so():
    result = convert_text(CARDS, "cards.py", "airflow")
    assert isinstance(result, Converted), result
    assert result.code.count(CARD_TODO) == 8
    dropped = [d for d in result.diagnostics if d.code == "TP211" and d.lossy]
    assert [d.message.split(" card")[0] for d in dropped] == ["1", "3"]


@pytest.mark.parametrize(
    ("decorators", "statement", "shown"),
    [
        ('@card(type="html")\n    @card(id="a")', "current.card.append", True),  # one editable
        ('@card(id="a")\n    @card(id="b")', "current.card.append", False),  # which one?
        ('@card(id="a")\n    @card', "current.card.append", True),  # the one without an id
        ('@card(id="a")\n    @card(id="a")', 'current.card["a"].append', False),  # two "a"
        ('@card(type="html", id="a")\n    @card', 'current.card["a"].append', False),
        ('@card(type="my_own")', "current.card.append", False),  # a custom card type
        ("@card(id=NAME)", "current.card.append", True),  # a module constant
        ("@card(id=NAME.upper())", "current.card.append", False),  # not a literal
        ("@card(timeout=len(NAME))", "current.card.append", False),  # the card is not carried
        ("@step", "current.card.append", False),  # no card: Metaflow warns and drops it
    ],
)
def test_card_content_goes_only_to_the_card_metaflow_chooses(decorators, statement, shown):
    source = (
        "from metaflow import FlowSpec, card, current, step\n"
        "from metaflow.cards import Markdown\n\nNAME = 'a'\n\n\n"
        "class F(FlowSpec):\n"
        f"    {decorators}\n    @step\n    def start(self):\n"
        f"        {statement}(Markdown('hello'))\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    ).replace("@step\n    @step", "@step")
    result = convert_text(source, "flow.py", "flyte")
    assert isinstance(result, Converted), result
    assert ("to_html('hello')" in result.code or 'to_html("hello")' in result.code) is shown
    assert (CARD_TODO in result.code) is not shown


def test_a_step_with_two_cards_asks_flyte_for_one_deck():
    """Two @card on one step (Metaflow shows both) wrote enable_deck=True twice: TP900."""
    result = convert_text(CARDS, "cards.py", "flyte")
    assert isinstance(result, Converted), result
    assert result.code.count("enable_deck=True") == 2  # start's and end's


@pytest.mark.equivalence
@pytest.mark.parametrize("target", ["flyte", "kfp", "airflow"])
def test_a_flow_with_cards_computes_the_same(tmp_path, target):
    """The card content runs in the target (Flyte Decks, KFP Markdown artifacts) without
    changing the results."""
    result = same_when_run(CARDS, target, tmp_path, "cards.py")
    assert {v.name for v in result.values} == {"rows", "count"}


S3_FLOW = """\
from metaflow import FlowSpec, S3, step


class S3Flow(FlowSpec):
    @step
    def start(self):
        with S3(run=self) as s3:
            s3.put("key", "value")
        self.n = 1
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_the_flow_object_passed_to_a_metaflow_api_is_left_out_saying_so(target):
    """`S3(run=self)` was TP123 (a bare self); now the argument is dropped (TP210) and S3 is a
    stub that names itself when called (TP252): the output imports, and fails loudly there."""
    from transpile.util.syntax import undefined_names

    result = convert_text(S3_FLOW, "s3.py", target)
    assert isinstance(result, Converted), result
    codes = {d.code: d for d in result.diagnostics}
    assert codes["TP210"].message.startswith("`run=self` is left out")
    assert (codes["TP210"].span.line, codes["TP210"].lossy) == (7, True)
    assert "TP252" in codes and "with S3() as s3:" in result.code
    assert not undefined_names(result.code)
    positional = S3_FLOW.replace("S3(run=self)", "S3(self)")
    assert isinstance(convert_text(positional, "s3.py", target), Failed)  # still TP123


def two_flows(main: str = "") -> str:
    flow = (
        "class {name}(FlowSpec):\n    @step\n    def start(self):\n"
        "        self.x = {value}\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n\n\n"
    )
    text = "from metaflow import FlowSpec, step\n\n\n"
    text += flow.format(name="First", value=1) + flow.format(name="Second", value=2)
    text += "class Base(FlowSpec):\n    def helper(self):\n        return 3\n"
    return text + (f'\n\nif __name__ == "__main__":\n    {main}()\n' if main else "")


@pytest.mark.parametrize(
    ("main", "chosen", "how"),
    [
        ("", "Second", "the last with a start and an end step"),
        ("First", "First", "the one __main__ runs"),
    ],
)
def test_a_file_with_several_flows_converts_one_naming_the_others(main, chosen, how):
    """Was TP106 ("split them"); now as for Flyte and KFP files with several pipelines. Base
    (a FlowSpec with no steps, no flow's base) is no pipeline to name."""
    result = convert_text(two_flows(main), "flows.py", "flyte")
    assert isinstance(result, Converted), result
    assert result.pipeline.name == chosen
    (note,) = [d for d in result.diagnostics if d.code == "TP202"]
    other = "Second" if chosen == "First" else "First"
    assert note.message == (
        f"only flow {chosen} is converted ({how}); not converted: {other} (convert with -o FILE "
        "writes each to a module of its own, FILE_<name>.py; --entry NAME chooses one)"
    )
    assert note.lossy


def test_a_flow_chosen_with_entry_names_no_other():
    result = convert_text(two_flows("First"), "flows.py", "flyte", entry="Second")
    assert isinstance(result, Converted) and result.pipeline.name == "Second"
    assert not [d for d in result.diagnostics if d.code == "TP202"]


def test_every_entry_converts_each_flow_to_a_module_of_its_own():
    result = convert_text(two_flows(), "flows.py", "flyte", every_entry=True)
    assert isinstance(result, Converted) and result.pipeline.name == "Second"
    ((name, other),) = result.others
    assert name == "First" and other.pipeline.name == "First"
    assert "def first() -> FirstResults:" in other.code and "    x = 1\n" in other.code
    assert "def second() -> SecondResults:" in result.code and "    x = 2\n" in result.code
    assert "def first(" not in result.code and "def second(" not in other.code
    assert not [d for d in result.diagnostics if d.code == "TP202"]
    (note,) = [d for d in result.diagnostics if d.code == "TP201" and "holds" in d.message]
    assert note.message == (
        "this file holds 2 pipelines: Second is converted here, "
        "each of the others (First) to a module of its own"
    )


def test_an_entry_naming_no_flow_of_the_file_lists_them():
    result = convert_text(two_flows(), "flows.py", "flyte", entry="Third")
    assert isinstance(result, Failed)
    assert result.diagnostics[-1].code == "TP007"
    assert "found: First, Second, Base" in result.diagnostics[-1].message


CONFIG_CONSTANT = """\
from metaflow import Config, FlowSpec, step

DEFAULTS = {"batch": 32, "name": "run"}


class ConstantConfig(FlowSpec):
    settings = Config("settings", default_value=DEFAULTS)

    @step
    def start(self):
        self.size = self.settings.batch * 2
        self.label = self.settings["name"].upper()
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ConstantConfig()
"""


def test_a_config_default_value_named_by_a_module_constant_is_its_value():
    """Was TP112 ("computed default_value") on four public flows."""
    result = convert_text(CONFIG_CONSTANT, "cfg.py", "flyte")
    assert isinstance(result, Converted), result
    (settings,) = result.pipeline.parameters
    assert (settings.kind, settings.default) == ("json", "{'batch': 32, 'name': 'run'}")


@pytest.mark.equivalence
@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_a_config_default_value_named_by_a_module_constant_computes_the_same(tmp_path, target):
    result = same_when_run(CONFIG_CONSTANT, target, tmp_path, "cfg.py")
    assert {v.name for v in result.values} == {"size", "label"}


def test_a_local_only_changed_with_an_augmented_assignment_is_refused_at_its_line():
    source = flow("").replace(
        "self.out = self.helper(3)", "rows.extend([1])\n        rows += [2]\n        self.out = 1"
    )
    result = convert_text(source, "f.py", "flyte")
    assert isinstance(result, Failed)
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == "TP123" and "UnboundLocalError" in diagnostic.message
    assert "rows.extend([1])" in source.splitlines()[diagnostic.span.line - 1]


MUTATED = """\
from metaflow import FlowMutator, FlowSpec, step


class Audit(FlowMutator):
    def mutate(self, mutable_flow):
        for name, s in mutable_flow.steps:
            s.add_decorator("retry", deco_kwargs={"times": 2})


def tagged(cls):
    return cls


@Audit
@tagged
class MutatedFlow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.mark.parametrize(
    ("target", "definition"),
    [("flyte", "@workflow"), ("kfp", "@dsl.pipeline"), ("airflow", "@dag(")],
)
def test_a_flow_mutator_or_own_decorator_on_the_flow_is_a_todo_at_the_pipeline(target, definition):
    """Was dropped without a word: a FlowMutator may add decorators to every step."""
    result = convert_text(MUTATED, "flow.py", target)
    assert isinstance(result, Converted), result
    lines = result.code.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(definition))
    assert lines[at - 2].startswith("# TODO(transpile): TP202 @Audit on the flow is not carried")
    assert lines[at - 1].startswith("# TODO(transpile): TP202 @tagged on the flow is not carried")
    notes = [(d.span.line, d.lossy) for d in result.diagnostics if d.code == "TP202"]
    assert notes == [(14, True), (15, True)]
    assert result.lossy


def test_a_flow_mutator_that_changes_the_parameters_is_refused_naming_it():
    source = MUTATED.replace(
        '            s.add_decorator("retry", deco_kwargs={"times": 2})',
        '            pass\n        mutable_flow.add_parameter("p", None)',
    )
    result = convert_text(source, "flow.py", "flyte")
    assert isinstance(result, Failed), result
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == "TP114" and diagnostic.span.line == 15  # one line more
    assert "@Audit changes the flow's parameters (add_parameter" in diagnostic.message


NAMED = """\
from metaflow import FlowSpec, step


class NamedFlow(FlowSpec):
    @step
    def start(self):
        self.name = "set in start"
        self.label = self.name  # the value set, within this step
        self.next(self.end)

    @step
    def end(self):
        print(self.name)  # Metaflow 2.19: the flow's name, "NamedFlow"
"""


@pytest.mark.parametrize("target", ["flyte", "kfp", "airflow"])
def test_an_artifact_named_name_is_said_to_read_back_as_the_flows_name_in_later_steps(target):
    result = convert_text(NAMED, "named.py", target)
    assert isinstance(result, Converted), result
    (note,) = [d for d in result.diagnostics if d.code == "TP212"]
    assert note.lossy and note.severity == "warning" and "FlowSpec.name" in note.message
    assert (note.span.line, note.span.column) == (7, 8)
    renamed = NAMED.replace("self.name", "self.title")
    assert not [
        d for d in convert_text(renamed, "named.py", target).diagnostics if d.code == "TP212"
    ]
