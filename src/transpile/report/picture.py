"""The DAG of a pipeline as a picture-neutral graph (nodes, edges, foreach boxes), and as Mermaid.

The same structure is drawn before (step names) and after (the names of the emitted tasks and the
construct each foreach became), so the two pictures can be compared at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..diff.structure import control_edges
from ..frameworks import get
from ..inspect_render import ref_label
from ..model.ir import Map, Node, Pipeline, Switch, walk
from ..writing.graph import all_steps


@dataclass(frozen=True)
class Box:
    """A foreach body: the steps it runs once per element."""

    label: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Picture:
    nodes: tuple[tuple[str, str, bool], ...]  # (step, label, is a join)
    edges: tuple[tuple[str, str, str], ...]  # (source step, target step, label)
    boxes: tuple[Box, ...]


def picture(
    pipeline: Pipeline,
    names: dict[str, str],
    framework: str,
    code: str = "",
    cases: dict[tuple[str, str, str], str] | None = None,
) -> Picture:
    """``pipeline``'s DAG with steps labelled ``names[step]``, boxes named for ``framework``.

    ``code`` is the converted module: it tells which foreach bodies became a Flyte ``map_task``.
    ``cases`` labels switch edges: ``(decider, case key, step) → label``
    (``conditions.case_labels``).
    """
    order = _flow_order(pipeline)
    roles = {s.name: s.role for s in pipeline.steps}
    nodes = tuple((s, names.get(s, s), roles.get(s) == "join") for s in order)
    edges: list[tuple[str, str, str]] = []
    found = control_edges(pipeline.flow)
    # a switch after parallel steps is entered from each of them: its case is named once, on
    # the edge from the step that decides (the one holding the switch's value)
    deciders = {n.condition.source for n in walk(pipeline.flow) if isinstance(n, Switch)}
    decided = {(e.target, e.kind) for e in found if e.source in deciders}
    for edge in found:
        label = _edge_label(edge.kind, edge.source, edge.target, pipeline.flow)
        if edge.kind.startswith("case ") and cases:
            own = cases.get((edge.source, label, edge.source), label)
            label = cases.get((edge.source, label, edge.target), own)
        if edge.source not in deciders and (edge.target, edge.kind) in decided:
            label = ""
        if (edge.source, edge.target, label) not in edges:
            edges.append((edge.source, edge.target, label))
    boxes = tuple(_box(m, framework, names, code) for m in _maps(pipeline.flow))
    return Picture(nodes, tuple(edges), boxes)


def _flow_order(pipeline: Pipeline) -> list[str]:
    order = [n.step for n in walk(pipeline.flow) if hasattr(n, "step")]
    order += [s.name for s in pipeline.steps if s.name not in order]
    return list(dict.fromkeys(order))


def _maps(flow: Node) -> list[Map]:
    return [n for n in walk(flow) if isinstance(n, Map)]


def _edge_label(kind: str, source: str, target: str, flow: Node) -> str:
    if kind == "foreach":
        entered = [m for m in _maps(flow) if target in all_steps(m.body)]
        found = next((m for m in entered if m.split == source), entered[-1] if entered else None)
        return f"foreach {ref_label(found.collection)}" if found else "foreach"
    if kind.startswith("case "):
        return kind[len("case ") :]
    return ""


def _box(node: Map, framework: str, names: dict[str, str], code: str) -> Box:
    members = tuple(sorted(all_steps(node.body)))
    declared = get(framework)
    construct = declared.construct_for_map(members, names, code) if declared else "foreach"
    return Box(f"{construct} over {ref_label(node.collection)}", members)


def mermaid(chart: Picture) -> str:
    """A Mermaid ``flowchart TD`` of ``chart``; nested foreach bodies become nested subgraphs."""
    lines = ["flowchart TD"]
    lines += _members(chart, {s for s, _, _ in chart.nodes}, 1)
    for source, target, label in chart.edges:
        arrow = f'-->|"{_text(label)}"|' if label else "-->"
        lines.append(f"    step_{source} {arrow} step_{target}")
    return "\n".join(lines) + "\n"


def _members(chart: Picture, inside: set[str], depth: int) -> list[str]:
    """Lines for the boxes and nodes directly within ``inside`` (a box's steps, or all), in flow
    order: a box comes where its first step would."""
    pad = "    " * depth
    outer = [b for b in chart.boxes if set(b.members) < inside or depth == 1]
    direct = [b for b in outer if not any(set(b.members) < set(o.members) for o in outer)]
    lines: list[str] = []
    drawn: set[Box] = set()
    for step, label, join in chart.nodes:
        box = next((b for b in direct if step in b.members), None)
        if box is None and step in inside:
            lines.append(f"{pad}{_node(step, label, join)}")
        elif box is not None and box not in drawn:
            drawn.add(box)
            lines.append(f'{pad}subgraph box{chart.boxes.index(box) + 1}["{_text(box.label)}"]')
            lines += _members(chart, set(box.members), depth + 1)
            lines.append(f"{pad}end")
    return lines


def _node(step: str, label: str, join: bool) -> str:
    shape = '[["{}"]]' if join else '["{}"]'
    return f"step_{step}" + shape.format(_text(label))


def _text(text: str) -> str:
    return text.replace("#", "#35;").replace('"', "#quot;").replace("\n", " ")


def to_dict(chart: Picture) -> dict:
    """The picture as JSON-ready data, with its Mermaid text."""
    return {
        "nodes": [{"step": s, "label": label, "join": join} for s, label, join in chart.nodes],
        "edges": [{"source": s, "target": t, "label": label} for s, t, label in chart.edges],
        "boxes": [{"label": b.label, "members": list(b.members)} for b in chart.boxes],
        "mermaid": mermaid(chart),
    }


def from_dict(data: dict) -> Picture:
    """The inverse of ``to_dict``."""
    return Picture(
        tuple((n["step"], n["label"], n["join"]) for n in data["nodes"]),
        tuple((e["source"], e["target"], e["label"]) for e in data["edges"]),
        tuple(Box(b["label"], tuple(b["members"])) for b in data["boxes"]),
    )
