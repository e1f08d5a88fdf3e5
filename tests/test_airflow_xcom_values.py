"""Values the Airflow writer carries through XCom as the source framework does (issue 18): bytes
as base64 text that every reading task decodes (Airflow's serde cannot write bytes), and the
module's dataclasses allowed for deserialization (a task pulling one loads only allowed classes).
The equivalence tests run them; these pin the shape of the code.
"""

from __future__ import annotations

import textwrap

from output_checks import ruff

from transpile import api
from transpile.verify.runs import airflow_results

SOURCE = textwrap.dedent(
    """
    from dataclasses import dataclass

    from flytekit import map_task, task, workflow


    @dataclass
    class Pricing:
        tax: float


    class Plain:
        pass


    @task
    def make(n: int) -> bytes:
        return b"\\x00" * n


    @task
    def pair(n: int) -> tuple[bytes, Pricing]:
        return b"\\xff" * n, Pricing(tax=0.5)


    @task
    def size(data: bytes, pricing: Pricing) -> int:
        return len(data) + int(pricing.tax)


    @task
    def piece(n: int) -> bytes:
        return bytes([n])


    @task
    def joined(parts: list[bytes], first: bytes) -> bytes:
        return b"".join(parts) + first


    @workflow
    def shop(n: int = 3) -> tuple[int, bytes]:
        data = make(n=n)
        other, pricing = pair(n=n)
        parts = map_task(piece)(n=[1, 2])
        return size(data=data, pricing=pricing), joined(parts=parts, first=other)
    """
)


def _code() -> str:
    result = api.convert_text(SOURCE, "shop.py", "airflow")
    assert isinstance(result, api.Converted), result
    return result.code


def test_bytes_travel_as_base64_text_decoded_by_every_reader():
    code = _code()
    assert "def make(params=None) -> str:" in code
    assert "return base64.b64encode(o0).decode()" in code
    # one of several outputs, each pushed under its key
    assert '"o0": base64.b64encode(o0).decode(), "o1": o1' in code
    assert "def size(data: str, pricing: Pricing) -> int:\n    data = base64.b64decode(data)\n" in (
        code
    )
    # a map's results arrive as a list: each item decoded
    assert "def joined(parts: list[str], first: str) -> str:" in code
    assert "parts = [base64.b64decode(value) for value in parts]" in code
    assert "first = base64.b64decode(first)" in code
    assert ruff("check", code=code).returncode == 0
    assert ruff("format", "--check", code=code).returncode == 0


def test_the_modules_dataclasses_are_allowed_for_deserialization():
    code = _code()
    assert "from airflow.sdk.serde import allow_class\n" in code
    assert "\nallow_class(Pricing)\n" in code
    assert "allow_class(Plain)" not in code  # serde cannot write it at all: no use allowing it


def test_only_a_written_dags_bytes_results_are_decoded():
    pipeline = api.convert_text(SOURCE, "shop.py", "airflow").pipeline
    xcoms = {"joined|return_value": {"str": "AQL/"}, "size|return_value": {"int": 4}}
    results = airflow_results(xcoms, pipeline, written=True)
    assert sorted(results.values(), key=str) == [{"bytes": "0102ff"}, {"int": 4}]
    # an Airflow source's own XComs are read as they are
    assert {"str": "AQL/"} in airflow_results(xcoms, pipeline).values()


def test_a_declared_float_is_a_float_again_where_a_task_reads_it():
    """Airflow's SQLite database (``dag.test()``'s default) returns a pushed 4.0 as 4: a task
    reading an output declared float makes it one again, as Flyte and KFP deliver it."""
    flyte = textwrap.dedent(
        """
        from flytekit import task, workflow


        @task
        def half(n: int) -> float:
            return n / 2


        @task
        def show(x: float) -> str:
            return repr(x)


        @workflow
        def wf(n: int = 8) -> str:
            return show(x=half(n=n))
        """
    )
    code = api.convert_text(flyte, "wf.py", "airflow").code
    assert "def show(x: float) -> str:\n    x = float(x)\n" in code
    metaflow = textwrap.dedent(
        """
        from metaflow import FlowSpec, step


        class Halves(FlowSpec):
            @step
            def start(self):
                self.x = 8 / 2
                self.next(self.end)

            @step
            def end(self):
                self.shown = repr(self.x)


        if __name__ == "__main__":
            Halves()
        """
    )
    code = api.convert_text(metaflow, "halves.py", "airflow").code
    assert "x = float(x)" not in code  # inferred: the source may pass an int as it is


def test_what_xcom_gives_back_changed_is_said_at_the_task():
    """XCom is JSON: a NamedTuple comes back as a plain tuple, a dict's int keys as strings."""
    metaflow = textwrap.dedent(
        """
        from typing import NamedTuple

        from metaflow import FlowSpec, step


        class Point(NamedTuple):
            x: int
            y: int


        class Shapes(FlowSpec):
            @step
            def start(self):
                self.point = Point(1, 2)
                self.names: dict[int, str] = {1: "one"}
                self.next(self.end)

            @step
            def end(self):
                self.shown = f"{self.point.x} {self.names[1]}"


        if __name__ == "__main__":
            Shapes()
        """
    )
    result = api.convert_text(metaflow, "shapes.py", "airflow")
    found = [d for d in result.diagnostics if d.code == "TP202"]
    assert [(d.span.line, d.lossy) for d in found] == [(13, True), (13, True)]
    assert "start's point (Point): Airflow's XCom gives it back with a Point as a plain" in (
        found[0].message + found[1].message
    )
    assert "a dict's int keys as strings" in found[0].message + found[1].message
    todos = [line for line in result.code.splitlines() if "TODO(transpile): TP202" in line]
    assert len(todos) == 2


def test_stdlib_containers_xcom_flattens_travel_pickled():
    """Airflow's serde hands a Counter on as a dict (a deque as a list): such outputs are
    pickled into base64 text and loaded again where read (helpers_constants' per_user)."""
    from transpile.frameworks.airflow.writer.write import encoded, pickled

    for kind in ("collections.Counter[str]", "Counter", "collections.deque[int]", "OrderedDict"):
        assert pickled(kind) and encoded(kind), kind
    for kind in ("dict[str, int]", "mycollections.Counter", "bytes", "list[Counter]"):
        assert not pickled(kind), kind
    assert encoded("bytes")
