"""Random valid pipeline models through every writer: the output parses, is clean under ruff,
and is the same bytes when written twice."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from pipeline_strategies import pipelines

from transpile import frameworks

RUFF = [sys.executable, "-m", "ruff"]


def _ruff_problems(code: str) -> str:
    check = subprocess.run(
        [*RUFF, "check", "--isolated", "--stdin-filename", "emitted.py", "-"],
        input=code, capture_output=True, text=True, check=False,
    )  # fmt: skip
    fmt = subprocess.run(
        [*RUFF, "format", "--isolated", "--check", "--stdin-filename", "emitted.py", "-"],
        input=code, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return "" if check.returncode == fmt.returncode == 0 else check.stdout + fmt.stdout


@pytest.mark.parametrize("target", sorted(frameworks.writable()))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pipeline=pipelines())
def test_every_writer_accepts_every_valid_model(target, pipeline):
    writer = frameworks.writer(target)
    code, _ = writer.write(pipeline)
    ast.parse(code)
    assert _ruff_problems(code) == ""
    assert writer.write(pipeline)[0] == code
