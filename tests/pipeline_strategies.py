"""Hypothesis strategies for random, valid pipeline models shaped as the Metaflow reader shapes
them: `start` first, `end` last, a join after every parallel block and every map, typed
parameters of each kind, and bodies that compute their outputs from their inputs.

Every value is an int, except the lists a map runs over and the keys a switch tests, so that a
model means the same in all three frameworks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st
from model_parts import INT, INTS, STR, item_ref, out, param_ref

from transpile.model.ir import (
    Case,
    Input,
    Map,
    Node,
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

FILE = "random_flow.py"
PARAMETER_KINDS = {
    "int": ("int", "3"),
    "float": ("float", "0.5"),
    "str": ("str", "'a'"),
    "bool": ("bool", "True"),
}


def _as_int(name: str, kind: str) -> str:
    return {"str": f"len({name})", "float": f"round({name} * 10)"}.get(kind, f"int({name})")


def _span(line: int) -> Span:
    return Span(FILE, line, 4, line, 4)


@dataclass
class _Builder:
    """Grows a pipeline block by block; ``value`` is the ref the next step reads."""

    draw: st.DrawFn
    params: list[Parameter]
    steps: list[Step] = field(default_factory=list)
    count: int = 0

    def name(self, base: str) -> str:
        self.count += 1
        return f"{base}_{self.count}"

    def step(self, name: str, inputs: list[tuple[str, TypeRef, Ref]], outputs, body: str, **kw):
        span = _span(10 + 5 * len(self.steps))
        ins = tuple(Input(n, t, (r,)) for n, t, r in inputs)
        self.steps.append(Step(name, span, ins, tuple(outputs), body, **kw))
        return Task(name)

    def plain(self, value: Ref, depth: int = 0) -> tuple[Node, Ref]:
        name = self.name("step")
        extra = self.param_input()
        inputs = [("value", INT, value), *extra]
        added = " + ".join(["value", *(_as_int(n, t.expr) for n, t, _ in extra)])
        body = f"result = {added} + {self.draw(st.integers(1, 9))}\n"
        node = self.step(name, inputs, [Output("result", INT)], body)
        return node, out(name, "result")

    def param_input(self) -> list[tuple[str, TypeRef, Ref]]:
        if not self.params or not self.draw(st.booleans()):
            return []
        param = self.draw(st.sampled_from(self.params))
        return [(param.name, param.type, param_ref(param.name))]

    def chain(self, value: Ref, depth: int) -> tuple[Node, Ref]:
        nodes: list[Node] = []
        for _ in range(self.draw(st.integers(1, 2))):
            kind = self.draw(st.sampled_from(["plain", "parallel", "map", "switch"][: 1 + depth]))
            node, value = getattr(self, kind)(value, depth - 1)
            nodes.append(node)
        return (nodes[0] if len(nodes) == 1 else Sequence(tuple(nodes))), value

    def parallel(self, value: Ref, depth: int) -> tuple[Node, Ref]:
        branches, ends = [], []
        for _ in range(self.draw(st.integers(2, 3))):
            node, end = self.chain(value, max(depth, 0)) if depth > 0 else self.plain(value)
            branches.append(node)
            ends.append(end)
        join = self.name("join")
        inputs = [(f"in{i}", INT, end) for i, end in enumerate(ends)]
        body = f"result = {' + '.join(n for n, _, _ in inputs)}\n"
        task = self.step(join, inputs, [Output("result", INT)], body, role="join")
        return Sequence((Parallel(tuple(branches)), task)), out(join, "result")

    def map(self, value: Ref, depth: int) -> tuple[Node, Ref]:
        split = self.name("split")
        body = f"items = [value + i for i in range({self.draw(st.integers(1, 3))})]\n"
        split_task = self.step(split, [("value", INT, value)], [Output("items", INTS)], body)
        item = item_ref(split)
        inner, inner_end = self.chain(item, depth) if depth > 0 else self.plain(item)
        join = self.name("gather")
        collected = Input("values", INTS, (inner_end,), "collected")
        span = _span(10 + 5 * len(self.steps))
        self.steps.append(
            Step(
                join,
                span,
                (collected,),
                (Output("result", INT),),
                "result = sum(values)\n",
                role="join",
            )
        )
        node = Map(split, out(split, "items"), INT, inner)
        return Sequence((split_task, node, Task(join))), out(join, "result")

    def switch(self, value: Ref, depth: int) -> tuple[Node, Ref]:
        pick = self.name("pick")
        body = "key = 'even' if value % 2 == 0 else 'odd'\n"
        pick_task = self.step(pick, [("value", INT, value)], [Output("key", STR)], body)
        cases, ends = [], []
        for key in ("even", "odd"):
            node, end = self.plain(value)
            cases.append(Case(repr(key), node))
            ends.append(end)
        merge = self.name("merge")
        span = _span(10 + 5 * len(self.steps))
        self.steps.append(
            Step(
                merge,
                span,
                (Input("value", INT, tuple(ends), "oneof"),),
                (Output("result", INT),),
                "result = value\n",
            )
        )
        switch = Switch(out(pick, "key"), tuple(cases))
        return Sequence((pick_task, switch, Task(merge))), out(merge, "result")


@st.composite
def pipelines(draw: st.DrawFn, max_depth: int = 2) -> Pipeline:
    """A random pipeline model that every writer must accept."""
    kinds = draw(st.lists(st.sampled_from(sorted(PARAMETER_KINDS)), max_size=3, unique=True))
    params = [
        Parameter(
            f"p_{kind}",
            TypeRef(PARAMETER_KINDS[kind][0], "parameter"),
            PARAMETER_KINDS[kind][1],
            False,
            None,
            "value",
            _span(3 + i),
        )
        for i, kind in enumerate(kinds)
    ]
    builder = _Builder(draw, params)
    start = builder.step("start", [], [Output("seed", INT)], f"seed = {draw(st.integers(0, 9))}\n")
    middle, value = builder.chain(out("start", "seed"), draw(st.integers(0, max_depth)))
    end = builder.step("end", [("value", INT, value)], [Output("answer", INT)], "answer = value\n")
    result = Result("answer", INT, (out("end", "answer"),))
    return Pipeline(
        "RandomFlow",
        "metaflow",
        _span(1),
        tuple(params),
        tuple(builder.steps),
        Sequence((start, middle, end)),
        (result,),
    )
