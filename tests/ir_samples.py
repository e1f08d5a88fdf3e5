"""Hand-built pipelines covering every node kind, for the JSON and inspect tests."""

from __future__ import annotations

from model_parts import INT, item_ref, out, param_ref

from transpile.model.ir import (
    Case,
    Input,
    Map,
    Module,
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

F = "flows/demo.py"


def span(line: int) -> Span:
    return Span(F, line, 4, line + 2, 0)


def step(name: str, line: int, inputs=(), outputs=(), **kw) -> Step:
    return Step(name, span(line), tuple(inputs), tuple(outputs), f"# {name}\n", **kw)


STR = TypeRef("str", "literal")
LIST = TypeRef("list[int]", "inferred")


def linear() -> Pipeline:
    """start -> end, one parameter."""
    alpha = Parameter(
        "alpha", TypeRef("float", "parameter"), "0.5", False, "rate", "value", span(3)
    )
    start = step(
        "start",
        6,
        [Input("alpha", alpha.type, (param_ref("alpha"),))],
        [Output("x", INT)],
    )
    end = step("end", 10, [Input("x", INT, (out("start", "x"),))])
    return Pipeline(
        "LinearFlow",
        "metaflow",
        span(1),
        (alpha,),
        (start, end),
        Sequence((Task("start"), Task("end"))),
        (Result("x", INT, (out("start", "x"),)),),
    )


def branchy() -> Pipeline:
    """start -> (a | b) -> join -> foreach join.items { work } -> gather -> switch {hi, lo} -> end."""
    steps = (
        step("start", 5, [], [Output("items", LIST), Output("mode", STR)], doc="Begin."),
        step(
            "a", 9, [], [Output("y", INT)], options=(Option("retry", (("times", "3"),), span(8)),)
        ),
        step("b", 13, [], [Output("y", INT)]),
        step(
            "join",
            17,
            [Input("y", INT, (out("a", "y"), out("b", "y")), "oneof")],
            [Output("y", INT), Output("items", LIST)],
            role="join",
        ),
        step(
            "work",
            21,
            [
                Input("item", INT, (item_ref("join"),)),
                Input("i", INT, (Ref("index", "join", "index"),)),
            ],
            [Output("sq", INT)],
        ),
        step(
            "gather",
            25,
            [Input("sq", LIST, (out("work", "sq"),), "collected")],
            [Output("total", INT)],
            role="join",
        ),
        step("hi", 29, [Input("total", INT, (out("gather", "total"),))]),
        step("lo", 33, []),
        step("end", 37, []),
    )
    flow = Sequence(
        (
            Task("start"),
            Parallel((Task("a"), Sequence((Task("b"),)))),
            Task("join"),
            Map("join", out("join", "items"), INT, Task("work")),
            Task("gather"),
            Switch(out("start", "mode"), (Case("'hi'", Task("hi")), Case("'lo'", Task("lo")))),
            Task("end"),
        )
    )
    return Pipeline(
        "BranchyFlow",
        "metaflow",
        span(1),
        (),
        steps,
        flow,
        (),
        Module(("import math",), ("def helper():\n    return 1\n",)),
        (Option("schedule", (("cron", "'0 * * * *'"),), span(2)),),
        "A flow with every construct. Ünïcode → too.",
    )


def map_first() -> Pipeline:
    """A Flyte-like pipeline whose flow starts with a map over a parameter, then a switch."""
    numbers = Parameter("numbers", LIST, "[1, 2]", False, None, "json", span(2))
    steps = (
        step("square", 5, [Input("x", INT, (item_ref(""),))], [Output("y", INT)]),
        step("pick", 9, [], []),
    )
    flow = Sequence(
        (
            Map("", param_ref("numbers"), INT, Task("square")),
            Switch(param_ref("numbers"), (Case('"a\\"b"', Task("pick")),)),
        )
    )
    return Pipeline("map_first", "flyte", span(1), (numbers,), steps, flow, ())
