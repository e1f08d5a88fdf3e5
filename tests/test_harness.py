"""The equivalence harness itself: it must tell types apart, run both frameworks, and fail loudly."""

from __future__ import annotations

import collections
import copy
import dataclasses
import enum
import json
import textwrap

import pytest
from harness import (
    RunFailed,
    assert_equivalent,
    diff,
    metaflow_cli_args,
    normalize,
    render,
    run_flyte,
    run_metaflow,
)
from hypothesis import given
from hypothesis import strategies as st


@dataclasses.dataclass
class Point:
    x: int
    y: float


@dataclasses.dataclass
class Other:
    x: int
    y: float


Pair = collections.namedtuple("Pair", "a b")


Stats = dataclasses.make_dataclass("Stats", [("count", int), ("mean", float)])


class Color(enum.Enum):
    RED = 1


# --- normalize --------------------------------------------------------------------------------

DIFFERENT = [
    (1, 1.0),
    (1, True),
    (0, False),
    (1.0, True),
    (0.0, -0.0),
    (None, 0),
    (None, ""),
    ("1", 1),
    ((1,), [1]),
    ((), []),
    ([1, 2], [2, 1]),
    ({1: "a"}, {"1": "a"}),
    ({1: "a"}, {1.0: "a"}),
    ({"a": 1}, {"a": 1.0}),
    ({1, 2}, frozenset({1, 2})),
    ({1}, [1]),
    (b"ab", "ab"),
    (b"ab", bytearray(b"ab")),
    (Point(1, 2.0), Point(1, 2)),
    (Point(1, 2.0), Other(1, 2.0)),
    (Pair(1, 2), (1, 2)),
    (collections.OrderedDict(a=1), {"a": 1}),
    (Color.RED, 1),
    ([[1]], [(1,)]),
]


@pytest.mark.parametrize(("a", "b"), DIFFERENT, ids=[f"{a!r}-vs-{b!r}" for a, b in DIFFERENT])
def test_normalize_tells_apart(a, b):
    assert normalize(a) != normalize(b)


SAME = [
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
    ({3, 1, 2}, {2, 3, 1}),
    (float("nan"), float("nan")),
    (Point(1, 2.0), dataclasses.make_dataclass("Point", [("x", int), ("y", float)])(1, 2.0)),
]


@pytest.mark.parametrize(("a", "b"), SAME, ids=[f"{a!r}-vs-{b!r}" for a, b in SAME])
def test_normalize_identifies(a, b):
    assert normalize(a) == normalize(b)


RENDERED = [
    ((1,), "(1,)"),
    ([1, 1.0, True, None], "[1, 1.0, True, None]"),
    ({"k": (1, "x")}, "{'k': (1, 'x')}"),
    (b"\x00\xff", "b'\\x00\\xff'"),
    ({2, 1}, "{1, 2}"),
    (frozenset(), "frozenset()"),
    (Point(1, 2.5), "Point(x=1, y=2.5)"),
    (float("inf"), "float('inf')"),
]


@pytest.mark.parametrize(("value", "text"), RENDERED, ids=[t for _, t in RENDERED])
def test_render_shows_python_text(value, text):
    assert render(normalize(value)) == text


json_leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary()
hashables = st.recursive(
    json_leaves,
    lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3),
    max_leaves=8,
)
values = st.recursive(
    hashables,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(hashables, inner, max_size=4)
        | st.sets(hashables, max_size=4)
        | st.builds(Point, inner, inner)
    ),
    max_leaves=20,
)


@given(values)
def test_normalize_is_json_and_stable(value):
    norm = normalize(value)
    assert json.loads(json.dumps(norm)) == norm
    assert normalize(copy.deepcopy(value)) == norm
    render(norm)


# --- diff -------------------------------------------------------------------------------------


def test_diff_names_each_difference():
    metaflow = {"same": normalize(1), "typed": normalize(1), "gone": normalize("x")}
    flyte = {"same": normalize(1), "typed": normalize(1.0), "extra": normalize([1])}
    text = diff(metaflow, flyte)
    assert "gone: only in metaflow: 'x'" in text
    assert "extra: only in flyte: [1]" in text
    assert "typed:" in text and "1.0" in text
    assert "same" not in text
    with pytest.raises(AssertionError, match="results differ"):
        assert_equivalent(metaflow, flyte)
    assert_equivalent(metaflow, dict(metaflow))


# --- Metaflow's command line ------------------------------------------------------------------


def test_metaflow_cli_args():
    params = {
        "n": 5,
        "ratio": 1.5,
        "flag": True,
        "off": False,
        "who": "-x",
        "items": [1, 2],
        "opts": {"k": [1.0]},
    }
    assert metaflow_cli_args(params) == [
        "--n=5",
        "--ratio=1.5",
        "--flag=true",
        "--off=false",
        "--who=-x",
        "--items=[1, 2]",
        '--opts={"k": [1.0]}',
    ]


# --- running Metaflow -------------------------------------------------------------------------

TINY_FLOW = """
from dataclasses import dataclass

from metaflow import FlowSpec, IncludeFile, JSONType, Parameter, step


@dataclass
class Stats:
    count: int
    mean: float


class TinyFlow(FlowSpec):
    LIMIT = 10  # class-level constants are stored like Parameters: inputs, not results
    n = Parameter("n", default=2, type=int)
    ratio = Parameter("ratio", default=0.5)
    flag = Parameter("flag", default=False, type=bool)
    who = Parameter("who", default="bob")
    items = Parameter("items", default="[1, 2, 3]", type=JSONType)
    opts = Parameter("opts", default='{"k": 1}', type=JSONType)
    data = IncludeFile("data", default="data.csv", is_text=True)

    @step
    def start(self):
        self.echo = [self.n, self.ratio, self.flag, self.who, self.items, self.opts]
        self.rows = self.data.splitlines()[: self.LIMIT]
        self.next(self.end)

    @step
    def end(self):
        self.stats = Stats(len(self.items), sum(self.items) / len(self.items))
        self.pair = (self.n, "x")
        self.tags = {"b", "a"}
        self._private = 1


if __name__ == "__main__":
    TinyFlow()
"""


@pytest.fixture(scope="module")
def tiny_flow(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny_flow")
    (folder / "metaflow.py").write_text(TINY_FLOW)
    (folder / "data.csv").write_text("a,b\n1,2\n")
    return folder


def test_run_metaflow_defaults(tiny_flow, tmp_path):
    got = run_metaflow(tiny_flow, "TinyFlow", {}, tmp_path)
    assert got == {
        "echo": normalize([2, 0.5, False, "bob", [1, 2, 3], {"k": 1}]),
        "rows": normalize(["a,b", "1,2"]),
        "stats": normalize(Stats(3, 2.0)),
        "pair": normalize((2, "x")),
        "tags": normalize({"a", "b"}),
    }


def test_run_metaflow_passes_every_parameter_type(tiny_flow, tmp_path):
    (tiny_flow / "other.csv").write_text("z\n")
    params = {
        "n": 7,
        "ratio": 2.0,
        "flag": True,
        "who": "-dash",
        "items": [4],
        "opts": {"k": [1.5]},
        "data": "other.csv",
    }
    got = run_metaflow(tiny_flow, "TinyFlow", params, tmp_path)
    assert render(got["echo"]) == "[7, 2.0, True, '-dash', [4], {'k': [1.5]}]"
    assert render(got["rows"]) == "['z']"
    assert render(got["stats"]) == "Stats(count=1, mean=4.0)"


def test_run_metaflow_failure_shows_the_error(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "metaflow.py").write_text(
        textwrap.dedent("""
        from metaflow import FlowSpec, step

        class BrokenFlow(FlowSpec):
            @step
            def start(self):
                raise ValueError("boom from start")
                self.next(self.end)

            @step
            def end(self):
                pass

        if __name__ == "__main__":
            BrokenFlow()
    """)
    )
    with pytest.raises(RunFailed, match="(?s)metaflow run of BrokenFlow failed.*boom from start"):
        run_metaflow(folder, "BrokenFlow", {}, tmp_path / "work")


# --- running Flyte ----------------------------------------------------------------------------

FLYTE_HEAD = """
from dataclasses import dataclass
from typing import Dict, List, NamedTuple

from flytekit import task, workflow


@dataclass
class Stats:
    count: int
    mean: float
"""

TINY_WORKFLOW = (
    FLYTE_HEAD
    + """
Out = NamedTuple("Out", [("stats", Stats), ("total", int), ("scaled", List[float]),
                         ("index", Dict[str, int])])


@task
def summarize(items: List[int], ratio: float) -> Out:
    return Out(Stats(len(items), sum(items) / len(items)), sum(items),
               [i * ratio for i in items], {str(i): i for i in items})


@workflow
def helper_wf(items: List[int] = [0]) -> int:
    return summarize(items=items, ratio=1.0).total


@workflow
def tiny_wf(items: List[int] = [1, 2, 3], ratio: float = 0.5) -> Out:
    return summarize(items=items, ratio=ratio)
"""
)


def write_module(tmp_path, code, name="flyte_wf.py"):
    path = tmp_path / "module" / name
    path.parent.mkdir()
    path.write_text(code)
    return path


def test_run_flyte_named_outputs_of_the_last_workflow(tmp_path):
    got = run_flyte(write_module(tmp_path, TINY_WORKFLOW), {"items": [2, 4]}, tmp_path / "work")
    assert {k: render(v) for k, v in got.items()} == {
        "stats": "Stats(count=2, mean=3.0)",
        "total": "6",
        "scaled": "[1.0, 2.0]",
        "index": "{'2': 2, '4': 4}",
    }


def test_run_flyte_single_output_and_isolated_cache(tmp_path):
    code = (
        FLYTE_HEAD
        + """
@task(cache=True, cache_version="1")
def double(x: int) -> int:
    return x * 2


@workflow
def single_wf(x: int = 1) -> int:
    return double(x=x)
"""
    )
    work = tmp_path / "work"
    assert run_flyte(write_module(tmp_path, code), {"x": 21}, work) == {"o0": normalize(42)}
    assert (work / "home" / ".flyte" / "local-cache").is_dir()


def test_run_flyte_no_outputs(tmp_path):
    code = (
        FLYTE_HEAD
        + """
@task
def noop() -> None:
    print("side effect only")


@workflow
def empty_wf() -> None:
    noop()
"""
    )
    assert run_flyte(write_module(tmp_path, code), {}, tmp_path / "work") == {}


def test_run_flyte_failure_shows_the_error(tmp_path):
    code = (
        FLYTE_HEAD
        + """
@task
def explode(x: int) -> int:
    if x:
        raise RuntimeError(f"boom {x}")
    return x


@workflow
def failing_wf(x: int = 3) -> int:
    return explode(x=x)
"""
    )
    with pytest.raises(RunFailed, match="(?s)flyte run of flyte_wf.py failed.*boom 3"):
        run_flyte(write_module(tmp_path, code), {}, tmp_path / "work")


# --- both sides: a match passes, a mismatch is caught -----------------------------------------

PAIR_FLOW = """
from metaflow import FlowSpec, JSONType, Parameter, step


class PairFlow(FlowSpec):
    items = Parameter("items", default="[1, 2, 3]", type=JSONType)

    @step
    def start(self):
        self.total = sum(self.items)
        self.mean = self.total / len(self.items)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    PairFlow()
"""

PAIR_WORKFLOW = """
from typing import List, NamedTuple

from flytekit import task, workflow

Out = NamedTuple("Out", [("total", int), ("mean", {mean_type})])


@task
def start(items: List[int]) -> Out:
    total = sum(items)
    return Out(total, {mean_expr})


@workflow
def pair_wf(items: List[int] = [1, 2, 3]) -> Out:
    return start(items=items)
"""


@pytest.fixture(scope="module")
def pair_flow_results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pair_flow")
    (folder / "metaflow.py").write_text(PAIR_FLOW)
    return run_metaflow(folder, "PairFlow", {"items": [2, 4]}, folder / "work")


def test_equivalent_pair_passes(pair_flow_results, tmp_path):
    code = PAIR_WORKFLOW.format(mean_type="float", mean_expr="total / len(items)")
    assert_equivalent(
        pair_flow_results,
        run_flyte(write_module(tmp_path, code), {"items": [2, 4]}, tmp_path / "work"),
    )


def test_mismatch_is_caught(pair_flow_results, tmp_path):
    code = PAIR_WORKFLOW.format(mean_type="int", mean_expr="total // len(items)")
    flyte = run_flyte(write_module(tmp_path, code), {"items": [2, 4]}, tmp_path / "work")
    with pytest.raises(AssertionError) as failure:
        assert_equivalent(pair_flow_results, flyte)
    assert "mean:\n    metaflow: 3.0\n    flyte   : 3" in str(failure.value)


def test_run_metaflow_without_main_block_is_an_error(tmp_path):
    folder = tmp_path / "no_main"
    folder.mkdir()
    (folder / "metaflow.py").write_text(PAIR_FLOW.split("if __name__")[0])
    with pytest.raises(RunFailed, match="started no run"):
        run_metaflow(folder, "PairFlow", {}, tmp_path / "work")


# --- fixture discovery ------------------------------------------------------------------------


def make_case(root, name, toml, source="from metaflow import FlowSpec\n"):
    case = root / name
    case.mkdir()
    (case / "case.toml").write_text(textwrap.dedent(toml))
    if source is not None:
        (case / "metaflow.py").write_text(source)


def test_no_fixtures_gives_a_failing_entry(tmp_path, monkeypatch):
    import conftest

    monkeypatch.setattr(conftest, "FIXTURES", tmp_path)
    (entry,) = conftest.equivalence_runs()
    assert entry.problem and "no runnable Metaflow fixture" in entry.problem


def test_discovery_expands_runs_and_reports_broken_cases(tmp_path, monkeypatch):
    import conftest

    monkeypatch.setattr(conftest, "FIXTURES", tmp_path)
    make_case(
        tmp_path,
        "a_two_runs",
        """
        flow = "AFlow"
        [[runs]]
        name = "defaults"
        [[runs]]
        name = "override"
        params = { n = 5, items = [1, 2] }
    """,
    )
    make_case(tmp_path, "b_implicit_defaults", 'flow = "BFlow"\n')
    make_case(tmp_path, "c_convert_only", 'flow = "CFlow"\nrun = false\n')
    make_case(tmp_path, "d_broken", 'flow = "DFlow"\n[[runs]]\nparams = {}\n')
    make_case(tmp_path, "e_not_metaflow", 'flow = "EFlow"\n', source=None)
    (tmp_path / "f_no_toml").mkdir()
    (tmp_path / "f_no_toml" / "metaflow.py").write_text("")
    entries = {e.id: e for e in conftest.equivalence_runs()}
    assert sorted(entries) == [
        "a_two_runs-defaults",
        "a_two_runs-override",
        "b_implicit_defaults-defaults",
        "d_broken-case",
        "f_no_toml-case",
    ]
    assert entries["a_two_runs-override"].params == {"n": 5, "items": [1, 2]}
    assert entries["a_two_runs-override"].flow == "AFlow"
    assert "needs a name" in entries["d_broken-case"].problem
    assert entries["f_no_toml-case"].problem == "no case.toml"
    assert all(e.problem is None for k, e in entries.items() if not k.endswith("-case"))
