"""A pipeline whose source declared its types (Flyte, KFP, Airflow) keeps them in Metaflow: each
artifact a step sets once is annotated where it is set (``self.x: T = ...``), and the Metaflow
reader reads those annotations back as the same types."""

from __future__ import annotations

from transpile import api

FLYTE = """\
from dataclasses import dataclass

import typing

from flytekit import task, workflow


@dataclass
class Point:
    x: float


@task
def make(n: int) -> list[float]:
    values = [i * 0.5 for i in range(n)]
    return values


@task
def pick(values: list[float], flag: bool) -> Point:
    if flag:
        best = Point(max(values))
    else:
        best = Point(min(values))
    return best


@task
def opaque(values: list[float]) -> typing.Any:
    return {"n": len(values)}


@task
def label(p: Point) -> str:
    return f"x={p.x}"


@workflow
def wf(n: int = 3, flag: bool = True) -> str:
    values = make(n=n)
    opaque(values=values)
    return label(p=pick(values=values, flag=flag))
"""


def test_the_types_a_source_declared_are_annotated_where_each_artifact_is_set():
    result = api.convert_text(FLYTE, "wf.py", "metaflow")
    assert isinstance(result, api.Converted), result
    code = result.code
    assert "self.values: list[float] = [i * 0.5 for i in range(self.n)]" in code
    assert 'self.label_o0: str = f"x={self.best.x}"' in code
    # set in two branches of an `if`: no single place to annotate
    assert "self.best = Point(max(self.values))" in code
    assert "self.best: " not in code


def test_the_annotations_read_back_as_the_types():
    result = api.convert_text(FLYTE, "wf.py", "metaflow")
    assert isinstance(result, api.Converted), result
    back = api.read_text(result.code, "flow.py").pipeline
    kinds = {(s.name, o.name): o.type for s in back.steps for o in s.outputs}
    assert kinds[("make", "values")].expr == "list[float]"
    assert kinds[("make", "values")].origin == "annotation"
    assert kinds[("label", "label_o0")].expr == "str"


def test_a_type_the_flow_cannot_name_is_not_annotated():
    """``typing.Any`` (or a library's class) would need an import the flow has no use for."""
    result = api.convert_text(FLYTE, "wf.py", "metaflow")
    assert isinstance(result, api.Converted), result
    assert 'self.opaque_o0 = {"n": len(self.values)}' in result.code
