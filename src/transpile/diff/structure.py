"""The structure of a pipeline in framework-neutral form: what ``transpile diff`` compares.

Edges come from the structured flow (control: which step runs after which, through a foreach or
a switch case) and from data references (which step's outputs, or which parameters, a step reads).
Parameter types and defaults are normalised so that ``List[int]`` and ``list[int]``, or ``3`` and
``3``, written in any framework's way, are equal.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ..model.ir import Map, Node, Parallel, Pipeline, Sequence, Step, Switch, Task
from ..util.syntax import quiet_tree
from .options import literal, normalise

BASE_KINDS = ("pypi_base", "conda_base")
WILDCARD = "?"  # a type nobody could infer matches any type


@dataclass(frozen=True)
class Edge:
    """``source → target``; ``kind`` is ``next``, ``foreach``, ``case <value>`` or ``data``."""

    source: str
    target: str
    kind: str

    def label(self) -> str:
        return f"{self.source} -> {self.target} ({self.kind})"


@dataclass(frozen=True)
class ParameterShape:
    type: str
    default: object
    required: bool


@dataclass(frozen=True)
class Shape:
    """Steps (name → normalised body), edges, parameters and options of one pipeline."""

    name: str
    framework: str
    steps: dict[str, str]
    edges: frozenset[Edge]
    parameters: dict[str, ParameterShape]
    step_options: dict[str, dict[str, object]]
    options: dict[str, object]


def shape(pipeline: Pipeline) -> Shape:
    """The comparable structure of ``pipeline``."""
    # Metaflow's flow-wide packages are every step's packages in Flyte and KFP
    base = tuple(o for o in pipeline.options if o.kind in BASE_KINDS)
    return Shape(
        pipeline.name,
        pipeline.framework,
        {s.name: normal_body(s.body) for s in pipeline.steps},
        frozenset(control_edges(pipeline.flow) + data_edges(pipeline.steps)),
        {p.name: _parameter(p) for p in pipeline.parameters},
        {s.name: normalise((*base, *s.options)) for s in pipeline.steps},
        normalise(o for o in pipeline.options if o not in base),
    )


def _parameter(parameter) -> ParameterShape:
    default = None if parameter.default is None else literal(parameter.default)
    if parameter.kind == "json" and isinstance(default, str):
        default = literal(default)  # Metaflow's JSONType default is JSON text
    return ParameterShape(normal_type(parameter.type), default, parameter.required)


def normal_type(type_ref) -> str:
    """An annotation in one spelling: builtin generics, ``X | None``, no ``typing.`` prefix."""
    if not type_ref.known:
        return WILDCARD
    text = re.sub(r"\btyping\.", "", type_ref.expr)
    for old in ("List", "Dict", "Tuple", "Set", "FrozenSet", "Type"):
        text = re.sub(rf"\b{old}\[", f"{old.lower()}[", text)
    text = re.sub(r"\bOptional\[(.*)\]$", r"\1 | None", text)
    text = re.sub(r"\s+", "", text)
    return WILDCARD if text in ("Any", "object") else text


def normal_body(body: str) -> str:
    """Step code without comments or layout, for similarity; the text itself when it won't parse."""
    try:
        return ast.unparse(quiet_tree(body))
    except (SyntaxError, ValueError, RecursionError):
        return re.sub(r"\s+", " ", body).strip()


def data_edges(steps: tuple[Step, ...]) -> list[Edge]:
    """Producer → consumer for every output read, and parameter → step for every parameter read,
    each with the input it fills (``data into x``): a join whose two inputs come from two
    producers swapped differs."""
    edges = []
    for step in steps:
        for inp in step.inputs:
            for ref in inp.refs:
                if ref.kind == "output":
                    edges.append(Edge(ref.source, step.name, f"data into {inp.name}"))
                elif ref.kind == "param":
                    edges.append(Edge(f"param {ref.name}", step.name, f"data into {inp.name}"))
    return edges


Exits = list[tuple[str, str]]  # (step, kind of the edge that leaves it)


def control_edges(flow: Node) -> list[Edge]:
    """Which step runs after which, in flow order."""
    edges: list[Edge] = []
    _link(flow, [], edges)
    return edges


def _link(node: Node, preds: Exits, edges: list[Edge]) -> Exits:
    if isinstance(node, Task):
        edges.extend(Edge(s, node.step, kind) for s, kind in preds)
        return [(node.step, "next")]
    if isinstance(node, Sequence):
        for child in node.nodes:
            preds = _link(child, preds, edges)
        return preds
    if isinstance(node, Parallel):
        branches = [_link(b, preds, edges) for b in node.branches]
        return [e for b in branches for e in b] if branches else preds
    if isinstance(node, Map):
        return _link(node.body, [(s, "foreach") for s, _ in preds], edges)
    return _link_switch(node, preds, edges)


def _link_switch(node: Switch, preds: Exits, edges: list[Edge]) -> Exits:
    exits: Exits = []
    for case in node.cases:
        kind = f"case {literal(case.value)!r}"
        exits += _link(case.body, [(s, kind) for s, _ in preds], edges)
    return exits if node.cases else preds
