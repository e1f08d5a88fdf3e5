"""The steps the Metaflow writer adds are marked and left out again on reading, unless someone gave
them real work; and the Flyte/KFP readers nest branches the way the graph nests them."""

from __future__ import annotations

import textwrap
from pathlib import Path

from transpile import api
from transpile.frameworks.metaflow.writer.write import write
from transpile.reading.series_parallel import series_parallel

FIXTURES = Path(__file__).parents[1] / "fixtures"
MARK = '"""Added by transpile:'


def _kfp_if_else_as_metaflow() -> tuple[api.Read, str]:
    source = FIXTURES / "kfp_if_else" / "kfp.py"
    read = api.read_text(source.read_text(encoding="utf-8"), str(source), "kfp")
    assert isinstance(read, api.Read)
    return read, write(read.pipeline)[0]


def _read_metaflow(code: str):
    read = api.read_text(code, "flow.py", "metaflow")
    assert isinstance(read, api.Read), getattr(read, "reason", read)
    return read.pipeline


def test_the_steps_metaflow_needs_are_marked_and_read_back_as_the_original_steps():
    original, code = _kfp_if_else_as_metaflow()
    marked = [chunk.split("(")[0] for chunk in code.split("def ")[1:] if MARK in chunk]
    assert marked == ["start", "branch_1", "branch_2", "end"]
    back = _read_metaflow(code)
    assert sorted(s.name for s in back.steps) == sorted(s.name for s in original.pipeline.steps)
    assert {r.name for r in back.results} == {"summary", "verdict"}  # listed by the added end
    verdict = next(r for r in back.results if r.name == "verdict")
    assert {r.source for r in verdict.refs} == {"big", "small"}  # not the join that handed it on


def test_a_value_a_join_hands_on_reads_from_where_it_was_made():
    source = FIXTURES / "flyte_basket" / "flyte.py"
    read = api.read_text(source.read_text(encoding="utf-8"), str(source), "flyte")
    assert isinstance(read, api.Read)
    code = write(read.pipeline)[0]
    assert "# Added by transpile: Metaflow joins hand on only what they set" in code
    back = _read_metaflow(code)
    assert [o.name for o in back.step("bands").outputs] == ["bands_o0"]
    reads = {
        i.name: (i.mode, [(r.source, r.name) for r in i.refs]) for i in back.step("total").inputs
    }
    assert reads["price_o0_values"] == ("collected", [("price", "price_o0")])


def test_an_added_step_given_real_work_keeps_its_place():
    _, code = _kfp_if_else_as_metaflow()
    edited = code.replace(
        "        self.next(self.report)\n",
        '        self.note = "checked"\n        self.next(self.report)\n',
        1,
    )
    assert edited != code
    assert "branch_1" in {s.name for s in _read_metaflow(edited).steps}


def test_a_users_own_start_and_end_that_do_nothing_stay():
    flow = textwrap.dedent(
        """
        from metaflow import FlowSpec, step


        class Plain(FlowSpec):
            @step
            def start(self):
                self.next(self.work)

            @step
            def work(self):
                self.x = 1
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    )
    assert [s.name for s in _read_metaflow(flow).steps] == ["start", "work", "end"]


def test_nested_branches_come_back_nested():
    # 0 → (1, 2) → 3 and 0 → (4, 5) → 6, both → 7: branches in branches
    deps = {1: {0}, 2: {0}, 3: {1, 2}, 4: {0}, 5: {0}, 6: {4, 5}, 7: {3, 6}}
    tree = series_parallel(list(range(8)), deps)
    assert tree == (
        "seq",
        (0, ("par", (("seq", (("par", (1, 2)), 3)), ("seq", (("par", (4, 5)), 6)))), 7),
    )


def test_branches_that_cross_feed_have_no_nesting():
    # 2 reads 0 and 1, 3 reads 1 only: neither one sequence nor separate branches
    assert series_parallel([0, 1, 2, 3], {2: {0, 1}, 3: {1}}) is None
