"""What a name holds while a workflow body is read: a promise, a workflow input, a literal..."""

from __future__ import annotations

from dataclasses import dataclass, field

from transpile.model.ir import Ref

from .shape import Item


@dataclass(frozen=True)
class Val:
    """A value in a workflow body.

    ``refs`` say where it comes from (``mode`` as in Input); ``deps`` are the items that produce it;
    ``fields`` are the outputs of a call with several (a NamedTuple or tuple promise); ``literal``
    is the source text of a constant; ``type`` its annotation when known.
    """

    refs: tuple[Ref, ...] = ()
    mode: str = "value"
    deps: frozenset[int] = frozenset()
    fields: tuple[tuple[str, Val], ...] | None = None
    literal: str | None = None
    type: str | None = None

    def field(self, name: str) -> Val | None:
        return dict(self.fields or ()).get(name)


@dataclass
class Scope:
    """One body being read: its names, the items it adds to, and the prefix of its step names."""

    names: dict[str, Val]
    items: list[Item]
    prefix: str = ""
    lists: dict[str, Val | None] = field(default_factory=dict)  # @dynamic result lists
    # a @dynamic's inputs: values when its body runs, so Python may compute with them
    concrete: frozenset[str] = frozenset()

    def child(self, items: list[Item] | None = None, prefix: str | None = None) -> Scope:
        return Scope(
            dict(self.names),
            self.items if items is None else items,
            self.prefix if prefix is None else prefix,
            self.lists,
            self.concrete,
        )


def element(annotation: str | None) -> str | None:
    """``list[int]`` → ``int``."""
    if annotation is None:
        return None
    for head in ("list[", "List[", "typing.List["):
        if annotation.startswith(head) and annotation.endswith("]"):
            return annotation[len(head) : -1]
    return None


def outer_deps(items: list[Item]) -> frozenset[int]:
    """What the items of a nested body depend on outside it."""
    inner = {item.id for item in items}
    return frozenset(set().union(*(item.deps for item in items)) - inner)
