"""Canonical JSON of the pipeline model: exact round trips, canonical text, strict reading."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import ir_samples
import pytest

from transpile.model import ir
from transpile.model.ir_json import SCHEMA, IRJsonError, from_json, to_json

FIXTURE_SOURCES = sorted((Path(__file__).parents[1] / "fixtures").glob("*/metaflow.py"))
SAMPLES = {
    "linear": ir_samples.linear,
    "branchy": ir_samples.branchy,
    "map_first": ir_samples.map_first,
}


@pytest.mark.parametrize("make", SAMPLES.values(), ids=SAMPLES.keys())
def test_round_trip_is_exact(make):
    pipeline = make()
    text = to_json(pipeline)
    rebuilt = from_json(text)
    assert rebuilt == pipeline
    assert to_json(rebuilt) == text


def test_rebuilt_containers_are_tuples_and_nodes_their_classes():
    rebuilt = from_json(to_json(ir_samples.branchy()))
    assert isinstance(rebuilt.steps, tuple)
    assert isinstance(rebuilt.options[0].args[0], tuple)
    kinds = [type(node).__name__ for node in rebuilt.flow.nodes]
    assert kinds == ["Task", "Parallel", "Task", "Map", "Task", "Switch", "Task"]
    assert isinstance(rebuilt.flow.nodes[1].branches[1], ir.Sequence)
    hash(rebuilt)  # frozen all the way down: lists would make this raise


def test_text_is_canonical():
    text = to_json(ir_samples.branchy())
    document = json.loads(text)
    assert text == json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert document["schema"] == SCHEMA == "transpile.pipeline/1"
    assert "Ünïcode → too" in text  # written as itself, not \u escapes


def test_equal_pipelines_give_identical_text():
    assert to_json(ir_samples.branchy()) == to_json(ir_samples.branchy())


def test_only_nodes_carry_a_kind_tag():
    document = json.loads(to_json(ir_samples.branchy()))
    flow = document["flow"]
    assert flow["kind"] == "sequence"
    assert [n["kind"] for n in flow["nodes"]] == [
        "task",
        "parallel",
        "task",
        "map",
        "task",
        "switch",
        "task",
    ]
    assert flow["nodes"][3]["collection"] == {"kind": "output", "source": "join", "name": "items"}
    assert set(document["module"]) == {"imports", "definitions"}  # no tag on plain dataclasses
    assert set(document["span"]) == {"file", "line", "column", "end_line", "end_column"}


def test_every_field_is_written_defaults_included():
    document = json.loads(to_json(ir_samples.linear()))
    pipeline_fields = {f.name for f in dataclasses.fields(ir.Pipeline)}
    assert set(document) == pipeline_fields | {"schema"}
    assert document["module"] == {"imports": [], "definitions": []}
    assert document["steps"][0]["role"] == "task"
    assert document["doc"] is None


def test_missing_field_with_a_default_takes_it():
    document = json.loads(to_json(ir_samples.linear()))
    del document["options"], document["steps"][0]["role"]
    rebuilt = from_json(json.dumps(document))
    assert rebuilt.options == ()
    assert rebuilt.steps[0].role == "task"


def _broken(edit) -> str:
    document = json.loads(to_json(ir_samples.branchy()))
    edit(document)
    return json.dumps(document)


BROKEN = {
    "not-json": ("{", "not JSON"),
    "array": ("[]", "expected an object"),
    "no-schema": (_broken(lambda d: d.pop("schema")), "$.schema"),
    "future-schema": (_broken(lambda d: d.update(schema="transpile.pipeline/2")), "$.schema"),
    "unknown-field": (_broken(lambda d: d.update(colour="red")), "unknown field 'colour'"),
    "missing-field": (_broken(lambda d: d.pop("name")), "missing field 'name'"),
    "wrong-type": (_broken(lambda d: d["span"].update(line="3")), "$.span.line: expected int"),
    "bool-for-int": (_broken(lambda d: d["span"].update(line=True)), "$.span.line: expected int"),
    "bad-literal": (
        _broken(lambda d: d["steps"][0].update(role="boss")),
        "$.steps[0].role: expected one of",
    ),
    "bad-node-kind": (
        _broken(lambda d: d["flow"].update(kind="loop")),
        "$.flow: expected an object",
    ),
    "untagged-node": (_broken(lambda d: d["flow"].pop("kind")), "$.flow"),
    "pair-too-long": (
        _broken(lambda d: d["options"][0]["args"][0].append("x")),
        "$.options[0].args[0]: expected 2 items",
    ),
}


@pytest.mark.parametrize(("text", "message"), BROKEN.values(), ids=BROKEN.keys())
def test_bad_documents_are_rejected_with_their_place(text, message):
    with pytest.raises(IRJsonError) as info:
        from_json(text)
    assert message in str(info.value)


@pytest.mark.parametrize("source", FIXTURE_SOURCES, ids=[p.parent.name for p in FIXTURE_SOURCES])
def test_fixture_pipelines_round_trip(source):
    from transpile import api

    result = api.read_file(str(source))
    assert isinstance(result, api.Read), getattr(result, "diagnostics", result)
    text = to_json(result.pipeline)
    assert from_json(text) == result.pipeline
    assert to_json(from_json(text)) == text
