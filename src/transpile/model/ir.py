"""The pipeline model: frozen dataclasses every reader produces and every writer consumes.

A step is a function from named inputs to named outputs. Its ``body`` is framework-neutral Python:
inputs are free names, outputs are locals assigned by the body, and nothing refers to a framework.
Control flow is structured (sequence, parallel branches, map over a collection, switch) and every
value a step consumes is an explicit, typed reference to a parameter or to another step's output.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

SCHEMA_VERSION = 1

TypeOrigin = Literal[
    "annotation", "parameter", "default", "literal", "constructor", "helper", "inferred", "fallback"
]


@dataclass(frozen=True)
class Span:
    """Where a node came from: 1-based line, 0-based column, as ruff prints them (+1)."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class TypeRef:
    """A Python annotation as source text (``int``, ``list[int]``, ``Point``) and where it came from."""

    expr: str
    origin: TypeOrigin

    @property
    def known(self) -> bool:
        return self.origin != "fallback"


ANY = TypeRef("typing.Any", "fallback")


@dataclass(frozen=True)
class Parameter:
    """A pipeline input. ``default`` is a Python expression (source text) or None when required."""

    name: str
    type: TypeRef
    default: str | None
    required: bool
    help: str | None
    kind: Literal["value", "json", "file"]
    span: Span
    is_text: bool = True


@dataclass(frozen=True)
class Ref:
    """A typed data reference: a parameter, a step output, or the current map item/index."""

    kind: Literal["param", "output", "item", "index"]
    source: str  # parameter name, producing step, or the map's split step
    name: str  # parameter or output name ("item"/"index" for map refs)


@dataclass(frozen=True)
class Input:
    """One value a step receives.

    ``mode`` says how the references combine: ``value`` (one reference), ``collected`` (one
    reference evaluated in every iteration of the enclosing map, delivered as a list), ``oneof``
    (the reference of whichever switch case ran).
    """

    name: str
    type: TypeRef
    refs: tuple[Ref, ...]
    mode: Literal["value", "collected", "oneof"] = "value"


@dataclass(frozen=True)
class Output:
    """A value a step produces. ``local`` is the body's name for it when that differs from
    ``name`` (the artifact name clashes with a name the body uses for something else)."""

    name: str
    type: TypeRef
    local: str | None = None

    @property
    def var(self) -> str:
        """The local the body assigns."""
        return self.local or self.name


# Option.args keys transpile adds (Option.written)
NOTES = frozenset(
    {
        "in_body",
        "secret_env",
        "secret_volumes",
        "config_map_env",
        "config_map_volumes",
        "empty_dirs",
        "input_params",
        "plan",
        "why",
    }
)


@dataclass(frozen=True)
class Option:
    """A decorator or setting: ``kind`` is a capability key, ``args`` keyword → Python literal."""

    kind: str
    args: tuple[tuple[str, str], ...]
    span: Span

    def arg(self, key: str, default: str | None = None) -> str | None:
        return dict(self.args).get(key, default)

    @property
    def written(self) -> tuple[tuple[str, str], ...]:
        """The arguments as the source wrote them, without transpile's own notes (``in_body``:
        a @catch the step's body carries out; ``secret_env``: which key of each of @kubernetes'
        secrets becomes which environment variable, from KFP's ``use_secret_as_env``;
        ``secret_volumes``, ``config_map_env``, ``config_map_volumes``, ``empty_dirs``: the
        volumes and config map variables of KFP's ``use_secret_as_volume``,
        ``use_config_map_as_env``/``_as_volume`` and ``empty_dir_mount``; ``input_params``: the
        pipeline parameters that give a failure handler's ``inputs``, where one was renamed
        (Metaflow's ``name_``); ``plan`` and
        ``why``: the launch plan a ``launch_settings`` setting belongs to, and why it is lost)."""
        return tuple((k, v) for k, v in self.args if k not in NOTES)


@dataclass(frozen=True)
class Step:
    name: str
    span: Span
    inputs: tuple[Input, ...]
    outputs: tuple[Output, ...]
    body: str
    options: tuple[Option, ...] = ()
    doc: str | None = None
    role: Literal["task", "join"] = "task"


@dataclass(frozen=True)
class Task:
    step: str


@dataclass(frozen=True)
class Sequence:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Parallel:
    branches: tuple[Node, ...]


@dataclass(frozen=True)
class Map:
    """Run ``body`` once per element of ``collection``; ``split`` names the step that fans out."""

    split: str
    collection: Ref
    item_type: TypeRef
    body: Node


@dataclass(frozen=True)
class Case:
    value: str  # Python literal the condition is compared with
    body: Node


@dataclass(frozen=True)
class Switch:
    condition: Ref
    cases: tuple[Case, ...]


Node = Task | Sequence | Parallel | Map | Switch


def children(node: Node) -> tuple[Node, ...]:
    """The nodes directly inside ``node``, in flow order."""
    if isinstance(node, Sequence):
        return node.nodes
    if isinstance(node, Parallel):
        return node.branches
    if isinstance(node, Switch):
        return tuple(c.body for c in node.cases)
    if isinstance(node, Map):
        return (node.body,)
    return ()


def walk(node: Node) -> Iterator[Node]:
    """``node`` and every node inside it, depth first in flow order."""
    yield node
    for child in children(node):
        yield from walk(child)


def task_steps(node: Node) -> list[str]:
    """The steps of the tasks inside ``node`` (nested maps included), in flow order."""
    return [n.step for n in walk(node) if isinstance(n, Task)]


@dataclass(frozen=True)
class Result:
    """A value the pipeline hands back to its caller after a run."""

    name: str
    type: TypeRef
    refs: tuple[Ref, ...]  # several: whichever switch case ran (as Input.mode "oneof")


@dataclass(frozen=True)
class Module:
    """Module-level code the steps use: imports and definitions, each as source text."""

    imports: tuple[str, ...] = ()
    definitions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pipeline:
    name: str
    framework: str
    span: Span
    parameters: tuple[Parameter, ...]
    steps: tuple[Step, ...]
    flow: Node
    results: tuple[Result, ...]
    module: Module = field(default_factory=Module)
    options: tuple[Option, ...] = ()
    doc: str | None = None

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)
