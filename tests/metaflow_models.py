"""Pipeline models as the Flyte and KFP readers produce them (no start/end steps, outputs named
o0), for the Metaflow writer's tests."""

from __future__ import annotations

from model_parts import INT, INTS, STR, item_ref, out, param_ref

from transpile.model.ir import (
    Case,
    Input,
    Map,
    Option,
    Output,
    Parallel,
    Parameter,
    Pipeline,
    Ref,
    Result,
    Sequence,
    Span,
    Step,
    Switch,
    Task,
    TypeRef,
)

F = "flows/wf.py"


def span(line: int) -> Span:
    return Span(F, line, 0, line, 10)


def param(name: str, kind: str = "value", default: str | None = "3", type_=INT) -> Parameter:
    return Parameter(name, type_, default, default is None, None, kind, span(1))  # type: ignore[arg-type]


GUESSED = TypeRef("int", "inferred")


def task(name: str, body: str, inputs=(), outputs=("o0",), options=()) -> Step:
    return Step(
        name,
        span(10),
        tuple(Input(n, t, (r,) if isinstance(r, Ref) else r, m) for n, t, r, m in inputs),
        tuple(Output(o, GUESSED) for o in outputs),  # the writers' concern, not the source's word
        body,
        tuple(options),
    )


def pipeline(name, params, steps, flow, results) -> Pipeline:
    return Pipeline(name, "flyte", span(1), tuple(params), tuple(steps), flow, tuple(results))


def result(name: str, *refs: Ref) -> Result:
    return Result(name, INT, refs)


def linear() -> Pipeline:
    """load → train, no start or end steps."""
    steps = [
        task("load", "o0 = n * 2\n", [("n", INT, param_ref("n"), "value")]),
        task("train", "o0 = data + 1\n", [("data", INT, out("load"), "value")]),
    ]
    flow = Sequence((Task("load"), Task("train")))
    return pipeline("TrainFlow", [param("n")], steps, flow, [result("o0", out("train"))])


def parallel() -> Pipeline:
    """load → (left | right) → combine."""
    steps = [
        task("load", "o0 = n\n", [("n", INT, param_ref("n"), "value")]),
        task("left", "o0 = x + 1\n", [("x", INT, out("load"), "value")]),
        task("right", "o0 = x * 10\n", [("x", INT, out("load"), "value")]),
        task(
            "combine",
            "o0 = a + b + base\n",
            [
                ("a", INT, out("left"), "value"),
                ("b", INT, out("right"), "value"),
                ("base", INT, out("load"), "value"),
            ],
        ),
    ]
    flow = Sequence((Task("load"), Parallel((Task("left"), Task("right"))), Task("combine")))
    return pipeline("ParallelFlow", [param("n")], steps, flow, [result("o0", out("combine"))])


def map_over_output() -> Pipeline:
    """make → map square over its list → total of the collected squares."""
    steps = [
        task("make", "o0 = list(range(n))\n", [("n", INT, param_ref("n"), "value")]),
        task("square", "o0 = x * x\n", [("x", INT, item_ref("make"), "value")]),
        task("total", "o0 = sum(values)\n", [("values", INTS, out("square"), "collected")]),
    ]
    flow = Sequence((Task("make"), Map("make", out("make"), INT, Task("square")), Task("total")))
    return pipeline("MapFlow", [param("n")], steps, flow, [result("o0", out("total"))])


def map_over_param() -> Pipeline:
    """A map straight over a list parameter; the collected list is a result."""
    nums = param("nums", "json", "[1, 2, 3]", INTS)
    steps = [
        task(
            "square",
            "o0 = x * x + k\n",
            [
                ("x", INT, item_ref("square_split"), "value"),
                ("k", INT, param_ref("k"), "value"),
            ],
        ),
        task("total", "o0 = sum(values)\n", [("values", INTS, out("square"), "collected")]),
    ]
    flow = Sequence((Map("square_split", param_ref("nums"), INT, Task("square")), Task("total")))
    results = [result("o0", out("total"))]
    return pipeline("ParamMapFlow", [nums, param("k", default="0")], steps, flow, results)


def nested_map() -> Pipeline:
    """Outer map over a parameter, inner map over a list each outer iteration makes."""
    rows = param("rows", "json", "[1, 2]", INTS)
    steps = [
        task(
            "expand",
            "o0 = [row * 10 + i for i in range(2)]\n",
            [("row", INT, item_ref("expand_split"), "value")],
        ),
        task(
            "cell",
            "o0 = f'{row}:{value}'\n",
            [
                ("value", INT, item_ref("expand"), "value"),
                ("row", INT, item_ref("expand_split"), "value"),
            ],
        ),
        task("gather", "o0 = list(cells)\n", [("cells", INTS, out("cell"), "collected")]),
        task(
            "flatten",
            "o0 = [c for g in groups for c in g]\n",
            [("groups", INTS, out("gather"), "collected")],
        ),
    ]
    inner = Map("expand", out("expand"), INT, Task("cell"))
    outer = Map(
        "expand_split",
        param_ref("rows"),
        INT,
        Sequence((Task("expand"), inner, Task("gather"))),
    )
    flow = Sequence((outer, Task("flatten")))
    return pipeline("NestedFlow", [rows], steps, flow, [result("o0", out("flatten"))])


MODE = param_ref("mode")


def switch(values=('"big"', '"small"'), condition=MODE) -> Pipeline:
    """A switch on a parameter; the value after it is whichever case ran."""
    mode = param("mode", default=values[0], type_=STR if '"' in values[0] else INT)
    steps = [
        task("big", "o0 = 100\n"),
        task("small", "o0 = 1\n"),
        task("report", "o0 = value * 2\n", [("value", INT, (out("big"), out("small")), "oneof")]),
    ]
    cases = tuple(Case(v, Task(s)) for v, s in zip(values, ("big", "small")))
    flow = Sequence((Switch(condition, cases), Task("report")))
    return pipeline("SwitchFlow", [mode], steps, flow, [result("o0", out("report"))])


def switch_in_branch() -> Pipeline:
    """A switch inside one branch of a static split: Metaflow needs a step before the join."""
    mode = param("mode", default='"big"', type_=STR)
    steps = [
        task("big", "o0 = 100\n"),
        task("small", "o0 = 1\n"),
        task("other", "o0 = 7\n"),
        task(
            "combine",
            "o0 = value + seven\n",
            [
                ("value", INT, (out("big"), out("small")), "oneof"),
                ("seven", INT, out("other"), "value"),
            ],
        ),
    ]
    cases = (Case('"big"', Task("big")), Case('"small"', Task("small")))
    flow = Sequence((Parallel((Switch(param_ref("mode"), cases), Task("other"))), Task("combine")))
    return pipeline("BranchSwitchFlow", [mode], steps, flow, [result("o0", out("combine"))])


def options() -> Pipeline:
    """Step options as the Flyte reader writes them."""
    opts = (
        Option("retry", (("times", "3"),), span(4)),
        Option("timeout", (("seconds", "60"),), span(4)),
        Option("resources", (("cpu", "2"), ("memory", "4096")), span(4)),
        Option("cache", (("version", '"1.0"'),), span(4)),
        Option("kubernetes", (("image", '"python:3.11"'),), span(4)),
    )
    steps = [task("work", "o0 = 1\n", options=opts)]
    p = pipeline("OptionsFlow", [], steps, Task("work"), [result("o0", out("work"))])
    schedule = Option("schedule", (("cron", '"0 * * * *"'),), span(2))
    return Pipeline(
        p.name, p.framework, p.span, (), p.steps, p.flow, p.results, options=(schedule,)
    )


def reserved() -> Pipeline:
    """Names Metaflow keeps for itself: a parameter `name`, a step `input`, an output `index`."""
    steps = [
        task(
            "input",
            "index = name.upper()\n",
            [("name", STR, param_ref("name"), "value")],
            outputs=("index",),
        ),
    ]
    name = param("name", default='"x"', type_=STR)
    flow = Task("input")
    return pipeline("ReservedFlow", [name], steps, flow, [result("index", out("input", "index"))])


def map_then_parallel() -> Pipeline:
    """A map whose collected results feed two parallel tasks: the join and the split differ."""
    nums = param("nums", "json", "[1, 2]", INTS)
    steps = [
        task("double", "o0 = x * 2\n", [("x", INT, item_ref("double_split"), "value")]),
        task("add", "o0 = sum(xs)\n", [("xs", INTS, out("double"), "collected")]),
        task("count", "o0 = len(xs)\n", [("xs", INTS, out("double"), "collected")]),
    ]
    flow = Sequence(
        (
            Map("double_split", param_ref("nums"), INT, Task("double")),
            Parallel((Task("add"), Task("count"))),
        )
    )
    results = [result("total", out("add")), result("n", out("count"))]
    return pipeline("MapParallelFlow", [nums], steps, flow, results)


def handing_on() -> Pipeline:
    """A task returning its input unchanged, and one rebinding an input name as a local."""
    steps = [
        task("make", "o0 = [n]\n", [("n", INT, param_ref("n"), "value")]),
        task("keep", "", [("value", INTS, out("make"), "value")], outputs=("value",)),
        task(
            "grow",
            "value = value + [1]\no0 = value\n",
            [("value", INTS, out("make"), "value")],
        ),
        task(
            "both",
            "o0 = [kept, grown]\n",
            [("kept", INTS, out("keep", "value"), "value"), ("grown", INTS, out("grow"), "value")],
        ),
    ]
    flow = Sequence(tuple(Task(s.name) for s in steps))
    return pipeline("HandingOnFlow", [param("n")], steps, flow, [result("o0", out("both"))])
