"""The fixtures as each writer emits them, and helpers to check emitted code.

Paths are relative to the repository root (the emitted header names its source), so callers run
from there. Importable without pytest's help: the hash-seed check runs it in a child process.
"""

from __future__ import annotations

import ast
import subprocess
from functools import cache

from conftest import FIXTURES

from transpile.api import Converted, Read, convert_file, read_file
from transpile.frameworks.metaflow.writer.write import write as write_metaflow

CASES = sorted(p.parent.name for p in FIXTURES.glob("*/metaflow.py"))
WRITERS = ("flyte", "kfp", "metaflow")


@cache
def converted(case: str, target: str) -> Converted:
    """A Metaflow fixture converted to ``target`` (flyte or kfp)."""
    result = convert_file(f"fixtures/{case}/metaflow.py", target)
    assert isinstance(result, Converted), result
    return result


@cache
def round_trip(case: str) -> str:
    """A Metaflow fixture read and written again: api.convert_* refuses it (TP006)."""
    read = read_file(f"fixtures/{case}/metaflow.py")
    assert isinstance(read, Read), read
    code, _ = write_metaflow(read.pipeline)
    return code


def emitted(writer: str, case: str) -> str:
    """The code ``writer`` emits for the Metaflow fixture ``case``."""
    return round_trip(case) if writer == "metaflow" else converted(case, writer).code


def ruff(*args: str, code: str) -> subprocess.CompletedProcess:
    """``ruff <args>`` over ``code`` on stdin, ignoring the project's configuration."""
    from ruff.__main__ import find_ruff_bin

    return subprocess.run(
        [find_ruff_bin(), *args, "--isolated", "--stdin-filename", "emitted.py", "-"],
        input=code,
        capture_output=True,
        text=True,
        check=False,
    )


def imported_modules(code: str) -> set[str]:
    """Top-level packages imported anywhere in ``code`` (inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found
