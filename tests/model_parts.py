"""Pieces the hand-built and random pipeline models share: annotated types and references."""

from __future__ import annotations

from transpile.model.ir import Ref, TypeRef

INT = TypeRef("int", "annotation")
STR = TypeRef("str", "annotation")
INTS = TypeRef("list[int]", "annotation")


def out(step: str, name: str = "o0") -> Ref:
    """Output ``name`` of ``step`` (o0: how the Flyte and KFP readers name a lone output)."""
    return Ref("output", step, name)


def param_ref(name: str) -> Ref:
    return Ref("param", name, name)


def item_ref(split: str) -> Ref:
    """The element of the foreach started at ``split`` that one body run works on."""
    return Ref("item", split, "item")
