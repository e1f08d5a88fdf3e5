"""Pictures and outlines of a pipeline for ``transpile inspect``: text, Mermaid and Graphviz DOT.

All three walk the structured flow in order, so equal pipelines give byte-identical output.
Mermaid and DOT draw one node per step and edges in control-flow order: a parallel fans out from
the step before it and joins into the step after it; a map's edges carry ``foreach <collection>``
and its body sits in a box; a switch's edges carry the case value. A map or switch with no step
before it (the flow starts with it) gets a small marker node to hang its labelled edges on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .model.ir import Input, Map, Node, Parallel, Pipeline, Ref, Sequence, Step, Switch, Task

FORMATS = ("text", "mermaid", "dot")


def render(pipeline: Pipeline, fmt: str) -> str:
    """``pipeline`` drawn in ``fmt`` (one of ``FORMATS``), ending with a newline."""
    renderers: dict[str, Callable[[Pipeline], str]] = {
        "text": render_text,
        "mermaid": render_mermaid,
        "dot": render_dot,
    }
    return renderers[fmt](pipeline)


def ref_label(ref: Ref) -> str:
    """A reference as a reader writes it: ``param alpha``, ``start.x``, ``item of start``."""
    if ref.kind == "param":
        return f"param {ref.name}"
    if ref.kind == "output":
        return f"{ref.source}.{ref.name}"
    return f"{ref.kind} of {ref.source}" if ref.source else ref.kind


def _short_ref(ref: Ref) -> str:
    return ref.name if ref.kind == "param" else ref_label(ref)


# --- text ------------------------------------------------------------------------------------


def render_text(pipeline: Pipeline) -> str:
    """An indented outline: parameters, the structured flow with each step's data, results."""
    where = f"{pipeline.span.file}:{pipeline.span.line}"
    lines = [f"pipeline {pipeline.name} ({pipeline.framework}) {where}"]
    if pipeline.parameters:
        lines.append("parameters:")
        for p in pipeline.parameters:
            default = "required" if p.default is None else f"= {p.default}"
            lines.append(f"  {p.name}: {p.type.expr} {default}")
    lines.append("flow:")
    steps = {s.name: s for s in pipeline.steps}
    lines.extend(_outline(pipeline.flow, steps, 1))
    if pipeline.results:
        lines.append("results:")
        for r in pipeline.results:
            lines.append(f"  {r.name}: {r.type.expr} ← {' | '.join(map(ref_label, r.refs))}")
    return "\n".join(lines) + "\n"


def _outline(node: Node, steps: dict[str, Step], depth: int) -> Iterator[str]:
    pad = "  " * depth
    if isinstance(node, Task):
        yield from _step_lines(node.step, steps.get(node.step), pad)
    elif isinstance(node, Sequence):
        for child in node.nodes:
            yield from _outline(child, steps, depth)
    elif isinstance(node, Parallel):
        yield f"{pad}parallel:"
        for i, branch in enumerate(node.branches, 1):
            yield f"{pad}  branch {i}:"
            yield from _outline(branch, steps, depth + 2)
    elif isinstance(node, Map):
        item = f"item: {node.item_type.expr}"
        split = f" split at {node.split}" if node.split else ""
        yield f"{pad}foreach {ref_label(node.collection)} ({item}){split}:"
        yield from _outline(node.body, steps, depth + 1)
    elif isinstance(node, Switch):
        yield f"{pad}switch on {ref_label(node.condition)}:"
        for case in node.cases:
            yield f"{pad}  case {case.value}:"
            yield from _outline(case.body, steps, depth + 2)


def _step_lines(name: str, step: Step | None, pad: str) -> Iterator[str]:
    if step is None:
        yield f"{pad}step {name} (not defined)"
        return
    role = " (join)" if step.role == "join" else ""
    yield f"{pad}step {name}{role}  line {step.span.line}"
    for i in step.inputs:
        yield f"{pad}  in   {i.name}: {i.type.expr} ← {_input_sources(i)}"
    for o in step.outputs:
        yield f"{pad}  out  {o.name}: {o.type.expr}"
    for option in step.options:
        args = ", ".join(f"{k}={v}" for k, v in option.written)
        yield f"{pad}  @{option.kind}({args})"


def _input_sources(i: Input) -> str:
    refs = [ref_label(r) for r in i.refs]
    if i.mode == "collected":
        return f"[{', '.join(refs)} for each iteration]"
    if i.mode == "oneof":
        return f"one of {' | '.join(refs)}"
    return ", ".join(refs)


# --- graph shared by mermaid and dot ---------------------------------------------------------


@dataclass(frozen=True)
class _Edge:
    source: str
    target: str
    label: str | None


@dataclass
class _Graph:
    """Steps, marker nodes, boxes (map bodies) and edges, in the order the flow visits them."""

    items: list[tuple] = field(default_factory=list)  # ("step", name) | ("marker", id, label)
    # | ("open", id, label) | ("close",)
    edges: list[_Edge] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    counter: int = 0

    def add_step(self, name: str) -> None:
        if name not in self.seen:
            self.seen.add(name)
            self.items.append(("step", name))

    def add_edges(self, sources: list[tuple[str, str | None]], target: str) -> None:
        for source, label in sources:
            edge = _Edge(source, target, label)
            if edge not in self.edges:
                self.edges.append(edge)

    def new_id(self, kind: str) -> str:
        self.counter += 1
        return f"{kind}{self.counter}"


Pending = list[tuple[str, "str | None"]]  # (node id, label of the edge that leaves it)


def _build_graph(pipeline: Pipeline) -> _Graph:
    graph = _Graph()
    _link(pipeline.flow, [], graph)
    for step in pipeline.steps:
        graph.add_step(step.name)
    return graph


def _link(node: Node, preds: Pending, graph: _Graph) -> Pending:
    """Add ``node``'s steps and edges coming from ``preds``; return its exits."""
    if isinstance(node, Task):
        graph.add_step(node.step)
        graph.add_edges(preds, _step_id(node.step))
        return [(_step_id(node.step), None)]
    if isinstance(node, Sequence):
        for child in node.nodes:
            preds = _link(child, preds, graph)
        return preds
    if isinstance(node, Parallel):
        exits: Pending = []
        for branch in node.branches:
            exits += [e for e in _link(branch, preds, graph) if e not in exits]
        return exits if node.branches else preds
    if isinstance(node, Map):
        return _link_map(node, preds, graph)
    return _link_switch(node, preds, graph)


def _link_map(node: Map, preds: Pending, graph: _Graph) -> Pending:
    label = f"foreach {_short_ref(node.collection)}"
    preds = preds or [_marker(graph, "map", label)]
    box = graph.new_id("map")
    graph.items.append(("open", box, label))
    exits = _link(node.body, _relabel(preds, label), graph)
    graph.items.append(("close",))
    return exits


def _link_switch(node: Switch, preds: Pending, graph: _Graph) -> Pending:
    preds = preds or [_marker(graph, "switch", f"switch on {_short_ref(node.condition)}")]
    exits: Pending = []
    for case in node.cases:
        exits += [e for e in _link(case.body, _relabel(preds, case.value), graph) if e not in exits]
    return exits if node.cases else preds


def _marker(graph: _Graph, kind: str, label: str) -> tuple[str, None]:
    marker = graph.new_id(kind)
    graph.items.append(("marker", marker, label))
    return (marker, None)


def _relabel(preds: Pending, label: str) -> Pending:
    return [(source, f"{old}, {label}" if old else label) for source, old in preds]


def _step_id(name: str) -> str:
    # A prefix keeps step names such as ``end`` or ``graph`` from meaning keywords.
    return f"step_{name}"


# --- mermaid ---------------------------------------------------------------------------------


def _nested(items: list[tuple], indent: str, draw: dict[str, Callable[..., list[str]]]):
    """Graph items as lines, indented one ``indent`` per open box; ``draw`` gives each item's
    lines by its kind ("step", "marker", "open", "close") from the rest of the item."""
    lines, depth = [], 1
    for kind, *rest in items:
        if kind == "close":
            depth -= 1
        lines += [indent * depth + line for line in draw[kind](*rest)]
        if kind == "open":
            depth += 1
    return lines


def render_mermaid(pipeline: Pipeline) -> str:
    """A Mermaid ``flowchart TD``."""
    graph = _build_graph(pipeline)
    roles = {s.name: s.role for s in pipeline.steps}

    def step(name: str) -> list[str]:
        text = _mermaid_text(name)
        shape = f'[["{text}"]]' if roles.get(name) == "join" else f'["{text}"]'
        return [f"{_step_id(name)}{shape}"]

    draw = {
        "step": step,
        "marker": lambda box, label: [f'{box}{{{{"{_mermaid_text(label)}"}}}}'],
        "open": lambda box, label: [f'subgraph {box}["{_mermaid_text(label)}"]'],
        "close": lambda: ["end"],
    }
    lines = ["flowchart TD", *_nested(graph.items, "    ", draw)]
    for edge in graph.edges:
        arrow = f'-->|"{_mermaid_text(edge.label)}"|' if edge.label else "-->"
        lines.append(f"    {edge.source} {arrow} {edge.target}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace("#", "#35;").replace('"', "#quot;").replace("\n", " ")


# --- dot -------------------------------------------------------------------------------------


def render_dot(pipeline: Pipeline) -> str:
    """A Graphviz ``digraph``."""
    graph = _build_graph(pipeline)
    roles = {s.name: s.role for s in pipeline.steps}

    def step(name: str) -> list[str]:
        style = ", peripheries=2" if roles.get(name) == "join" else ""
        return [f"{_dot_quote(_step_id(name))} [label={_dot_quote(name)}{style}];"]

    draw = {
        "step": step,
        "marker": lambda box, label: [
            f"{_dot_quote(box)} [label={_dot_quote(label)}, shape=diamond];"
        ],
        "open": lambda box, label: [
            f"subgraph {_dot_quote('cluster_' + box)} {{",
            f"  label={_dot_quote(label)};",
        ],
        "close": lambda: ["}"],
    }
    lines = [f"digraph {_dot_quote(pipeline.name)} {{", "  node [shape=box];"]
    lines += _nested(graph.items, "  ", draw)
    for edge in graph.edges:
        label = f" [label={_dot_quote(edge.label)}]" if edge.label else ""
        lines.append(f"  {_dot_quote(edge.source)} -> {_dot_quote(edge.target)}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
