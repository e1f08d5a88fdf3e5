"""Reading our KFP goldens gives the structure of the Metaflow flows they came from.

For every fixture with an ``expected/kfp.py``: same step names, flow shape, parameters (name,
type, default), inputs and their references, outputs, results and task settings, with the
tolerances documented in kfp_structure.py.
"""

from __future__ import annotations

import dataclasses

import pytest
from conftest import FIXTURES
from kfp_structure import differences, shape, writer_renames_undone

from transpile.api import Read, read_file
from transpile.model.ir import Input, Task
from transpile.writing.passthrough import without_empty_ends

GOLDENS = sorted(
    p.parents[1].name
    for p in FIXTURES.glob("*/expected/kfp.py")
    if (p.parents[1] / "metaflow.py").exists()  # an Airflow fixture's goldens: read elsewhere
)


def read(path) -> Read:
    result = read_file(str(path))
    assert isinstance(result, Read), getattr(result, "reason", result)
    return result


def test_there_are_goldens_to_read():
    assert len(GOLDENS) >= 20


@pytest.mark.parametrize("case", GOLDENS)
def test_reading_the_kfp_golden_gives_the_metaflow_structure(case):
    metaflow = read(FIXTURES / case / "metaflow.py").pipeline
    metaflow, _ = without_empty_ends(metaflow)  # no task in KFP (writing/passthrough.py)
    kfp = read(FIXTURES / case / "expected" / "kfp.py").pipeline
    kfp = writer_renames_undone(metaflow, kfp)
    assert kfp.framework == "kfp"
    assert kfp.name == metaflow.name
    assert [s.name for s in kfp.steps] == [s.name for s in metaflow.steps]
    assert differences(metaflow, kfp) == []


def test_the_comparison_notices_a_changed_reference():
    """The helper is not blind: a wrong ref, a missing step or a moved step are differences."""
    pipeline = read(FIXTURES / "foreach_sum" / "expected" / "kfp.py").pipeline
    end = pipeline.step("end")
    wrong = dataclasses.replace(end, inputs=(Input("x", end.inputs[0].type, ()),))
    changed = dataclasses.replace(
        pipeline, steps=tuple(wrong if s.name == "end" else s for s in pipeline.steps)
    )
    assert any(line.startswith("inputs end") for line in differences(pipeline, changed))
    moved = dataclasses.replace(pipeline, flow=Task("end"))
    assert differences(pipeline, moved)[0].startswith("flow:")


def test_shape_names_maps_switches_and_branches():
    text = shape(read(FIXTURES / "switch_route" / "expected" / "kfp.py").pipeline.flow)
    assert text == (
        '[start, switch start.route("fast": fast | "slow": slow | "skip": skip), summarize, end]'
    )
    text = shape(read(FIXTURES / "branch_merge" / "expected" / "kfp.py").pipeline.flow)
    assert text == "[start, parallel(a | b), join, end]"


def test_inferred_types_match_only_where_known():
    from kfp_structure import _compatible

    assert _compatible("tuple[int, str]", "tuple[typing.Any, typing.Any]")
    assert _compatible("list[int]", "list[int]")
    assert not _compatible("list[int]", "tuple[typing.Any]")
    assert not _compatible("list[int]", "list[str]")
