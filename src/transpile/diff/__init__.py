"""``transpile diff``: structural parity of two pipelines in any two frameworks, through the model.

Both files are read with ``api.read_file`` (whichever readers exist), reduced to a framework-neutral
``Shape`` (steps, control and data edges, parameters, options by capability key) and compared.
Step bodies do not count as structure; they only help match a renamed step.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.ir import Pipeline
from ..writing.passthrough import empty_ends, without_empty_ends
from .compare import Difference, compare
from .structure import shape

__all__ = ["Difference", "PipelineDiff", "diff_files", "diff_pipelines"]


@dataclass(frozen=True)
class Side:
    """One of the two pipelines compared."""

    path: str
    name: str
    framework: str


@dataclass(frozen=True)
class PipelineDiff:
    a: Side
    b: Side
    differences: tuple[Difference, ...]

    @property
    def same(self) -> bool:
        return not self.differences


def diff_pipelines(a: Pipeline, b: Pipeline, path_a: str = "A", path_b: str = "B") -> PipelineDiff:
    """Structural differences from ``a`` to ``b``. A Metaflow ``start`` or ``end`` that does
    nothing is no task in Flyte or KFP (writing/passthrough.py): they are left out when the other
    side has no step of their names, so a flow and its conversion compare equal."""
    a_shape, b_shape = shape(_without_empty_ends(a, b)), shape(_without_empty_ends(b, a))
    return PipelineDiff(
        Side(path_a, a.name, a.framework),
        Side(path_b, b.name, b.framework),
        compare(a_shape, b_shape),
    )


def _without_empty_ends(pipeline: Pipeline, other: Pipeline) -> Pipeline:
    names = empty_ends(pipeline)
    if not names or any(s.name in names for s in other.steps):
        return pipeline
    return without_empty_ends(pipeline)[0]


def diff_files(path_a: str, path_b: str, source_a: str = "auto", source_b: str = "auto"):
    """A ``PipelineDiff``, or the ``Failed``/``Skipped`` result of whichever file cannot be read."""
    from .. import api

    read_a = api.read_file(path_a, source_a)
    if not isinstance(read_a, api.Read):
        return read_a
    read_b = api.read_file(path_b, source_b)
    if not isinstance(read_b, api.Read):
        return read_b
    return diff_pipelines(read_a.pipeline, read_b.pipeline, path_a, path_b)
