"""A local file written by one step and read by another.

Why: on a laptop every step shares one disk, so this works; on every distributed backend (Metaflow
on Kubernetes or Batch, Flyte, KFP) each step runs in its own container and the file is not there.

Instead: pass the data as an artifact (``self.table = ...``), a task output, a ``FlyteFile`` or an
``Output[Dataset]``, or write it to shared object storage (``metaflow.S3``, a bucket URI).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import Hit, LintUnit, StepFunction, keyword, string_value

CODE = "TP503"
NAME = "local-file-handoff"
MESSAGE = "'{path}' is read here but written to the local disk by step '{writer}'; pass it as data"
FRAMEWORKS = frozenset({"metaflow", "flyte", "kfp"})

WRITE_METHODS = {"to_csv", "to_parquet", "to_json", "to_pickle", "write_text", "write_bytes"}
WRITE_METHODS |= {"savefig", "save", "savez", "savetxt", "dump", "to_netcdf"}
READ_METHODS = {"read_csv", "read_parquet", "read_json", "read_pickle", "read_text", "read_bytes"}
READ_METHODS |= {"load", "loadtxt", "imread", "read_table", "open_dataset"}
PATH_KEYWORDS = ("path", "path_or_buf", "fname", "file", "filename", "filepath")

VALID = [
    """
from metaflow import FlowSpec, step

class Flow(FlowSpec):
    @step
    def start(self):
        with open("scratch.txt", "w") as out:
            out.write("x")
        with open("scratch.txt") as back:
            self.text = back.read()
        self.next(self.end)

    @step
    def end(self):
        print(self.text)
""",
]
INVALID = [
    """
import pandas as pd
from metaflow import FlowSpec, step

OUT = "/tmp/features.csv"

class Flow(FlowSpec):
    @step
    def start(self):
        pd.DataFrame({"a": [1]}).to_csv(OUT)
        self.next(self.end)

    @step
    def end(self):
        frame = pd.read_csv(OUT)  # error
""",
    """
from pathlib import Path
from flytekit import task

@task
def produce() -> None:
    with open("model.bin", "wb") as f:
        f.write(b"0")

@task
def consume() -> int:
    return len(Path("model.bin").read_bytes())  # error
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    constants = _string_constants(unit.tree)
    accesses = [(step, *access) for step in unit.steps for access in _accesses(step, constants)]
    writers = {path: step.name for step, path, writes, _ in accesses if writes}
    for step, path, writes, node in accesses:
        writer = writers.get(path)
        if not writes and writer is not None and writer != step.name:
            yield unit.hit(node, MESSAGE.format(path=path, writer=writer))


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "literal"`` assignments, so paths kept in constants are followed."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and string_value(node.value) is not None:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = string_value(node.value)
    return found  # type: ignore[return-value]


def _accesses(step: StepFunction, constants: dict[str, str]) -> Iterator[tuple[str, bool, ast.AST]]:
    """(path, writes?, call) for each file the step opens, writes or reads by a known path."""
    for node in ast.walk(step.node):
        if isinstance(node, ast.Call):
            kind = _kind(node)
            path = _path(node, constants) if kind else None
            if path is not None:
                yield path, kind == "write", node


def _kind(call: ast.Call) -> str | None:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name == "open":
        args = call.args[1:] if isinstance(func, ast.Name) else call.args[:1]
        mode = string_value(keyword(call, "mode") or (args[0] if args else None)) or "r"
        return "write" if set(mode) & set("wax+") else "read"
    if name in WRITE_METHODS:
        return "write"
    return "read" if name in READ_METHODS else None


def _path(call: ast.Call, constants: dict[str, str]) -> str | None:
    """The first argument that names a file, or the path a ``Path("...")`` receiver holds."""
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    candidates = [*call.args[:2], *(keyword(call, k) for k in PATH_KEYWORDS)]
    if isinstance(receiver, ast.Call):
        candidates.insert(0, receiver.args[0] if receiver.args else None)
    for node in candidates:
        text = string_value(node)
        if text is None and isinstance(node, ast.Name):
            text = constants.get(node.id)
        if text and _looks_like_path(text):
            return text
    return None


def _looks_like_path(text: str) -> bool:
    return " " not in text and ("/" in text or "." in text.strip("."))
