"""What the Flyte and KFP writers share: walking the structured flow, naming, function views."""

from __future__ import annotations

from dataclasses import dataclass

from ..model.diagnostics import error
from ..model.ir import Map, Node, Parallel, Pipeline, Ref, Sequence, Step, Switch, Task
from .graph import Key, all_steps, direct_steps, key, maps


@dataclass
class FunctionText:
    """One emitted function, ready for a template: decorator, signature, docstring, body text."""

    name: str
    decorator: str
    todos: list[str]
    signature: str
    returns: str
    doc: str | None
    body: str


@dataclass
class FlowFunction:
    """A function whose body is flow code: the entry pipeline or workflow, a foreach, a case."""

    name: str
    signature: str
    returns: str
    body: list[str]
    output_class: tuple[str, list[tuple[str, str]]] | None = None  # (class, [(field, type)])
    doc: str | None = None


def numbered_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3``… when taken; the result is added to ``taken``."""
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


def bound_value(refs: tuple[Ref, ...], values: dict[Key, str]) -> str:
    """The expression bound to the first of ``refs`` that has one (a switch output has several)."""
    for ref in refs:
        if key(ref) in values:
            return values[key(ref)]
    raise error(
        "TP901", f"internal error: no value bound for {refs[0].source}.{refs[0].name}", None
    )


class FlowWalker:
    """Walks the structured flow; subclasses say what a task, a foreach and a switch become."""

    p: Pipeline
    steps: dict[str, Step]

    def emit(self, node: Node, scope) -> None:
        if isinstance(node, Sequence):
            for child in node.nodes:
                self.emit(child, scope)
        elif isinstance(node, Task):
            self._task(self.steps[node.step], scope)
        elif isinstance(node, Parallel):
            entry, exits = list(scope.last), []
            for branch in self.branch_order(node.branches):
                scope.last = list(entry)
                self.emit(branch, scope)
                exits += scope.last
            scope.last = exits
        elif isinstance(node, Map):
            self._map(node, scope)
        elif isinstance(node, Switch):
            self._switch(node, scope)

    def branch_order(self, branches: tuple[Node, ...]) -> tuple[Node, ...]:
        """The order a writer emits parallel branches in (they do not depend on each other)."""
        return branches

    def _task(self, step: Step, scope) -> None:
        raise NotImplementedError

    def _map(self, node: Map, scope) -> None:
        raise NotImplementedError

    def _switch(self, node: Switch, scope) -> None:
        raise NotImplementedError

    def _collected_keys(self, node: Map) -> list[tuple[str, str]]:
        """(step, artifact) of the foreach body's outputs read after the join, in reading order.
        A value made inside a map nested in this one is collected by each map around it that
        its reader is outside of: a list of lists (as KFP's dsl.Collected over nested loops)."""
        inside = all_steps(node.body)
        keys: list[tuple[str, str]] = []
        for step in self.p.steps:
            if step.name in inside:
                continue
            for inp in step.inputs:
                if inp.mode == "collected" and inp.refs[0].source in inside:
                    k = (inp.refs[0].source, inp.refs[0].name)
                    if k not in keys:
                        keys.append(k)
        return keys

    def _collected_element(self, node: Map, k: tuple[str, str]) -> str:
        """The type of one element of the list ``node`` collects for ``k``: the output's own
        type, in a list for each map nested in ``node`` that also holds the output's step."""
        kind = self._output_type(*k)
        for inner in maps(node.body):
            if k[0] in all_steps(inner.body):
                kind = f"list[{kind}]"
        return kind

    @staticmethod
    def _collected_value(scope, node: Map, k: tuple[str, str]) -> str:
        """What one run of ``node``'s body holds for ``k``: the output, or the list a nested
        map collected."""
        if k[0] in direct_steps(node.body):
            return scope.values[("output", *k)]
        return scope.collected[k]

    def _leaving(self, inside: frozenset[str]) -> dict[str, tuple[Ref, ...]]:
        """Values that leave a switch, by artifact name, with every case's reference."""
        outputs: dict[str, tuple[Ref, ...]] = {}
        outside = [i.refs for s in self.p.steps if s.name not in inside for i in s.inputs]
        consumers = outside + [r.refs for r in self.p.results]
        for refs in consumers:
            if any(r.kind == "output" and r.source in inside for r in refs):
                name = refs[0].name
                outputs[name] = tuple(dict.fromkeys((*outputs.get(name, ()), *refs)))
        return outputs

    def _output_type(self, step: str, name: str) -> str:
        return next(o.type.expr for o in self.steps[step].outputs if o.name == name)
