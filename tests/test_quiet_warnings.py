"""Python's compile-time warnings about the user's code (``"is" with a literal``; invalid escapes,
which Python 3.12+ prints as SyntaxWarning) never reach the user's terminal from any command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_transpile

FIXTURE = Path(__file__).parents[1] / "fixtures" / "linear_params" / "metaflow.py"
# a step that makes the compiler warn twice: an identity test against a literal, an invalid escape
NOISY = '        print(self.total is 1, "\\d")\n'


@pytest.fixture(scope="module")
def noisy_flow(tmp_path_factory) -> Path:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines(keepends=True)
    first_next = next(i for i, line in enumerate(lines) if "self.next(" in line)
    folder = tmp_path_factory.mktemp("noisy")
    path = folder / "flow.py"
    path.write_text("".join([*lines[:first_next], NOISY, *lines[first_next:]]), encoding="utf-8")
    return path


def test_the_flow_really_makes_python_warn(noisy_flow):
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "always",
            "-c",
            f"compile(open({str(noisy_flow)!r}).read(), 'f', 'exec')",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "SyntaxWarning" in result.stderr and "invalid escape" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["convert", "{flow}", "--to", "flyte"],
        ["convert", "{flow}", "--to", "kfp"],
        ["convert", "{folder}", "--to", "kfp", "-o", "{out}"],
        ["report", "{flow}", "--to", "flyte"],
        ["diff", "{flow}", "{flow}"],
        ["lint", "{flow}"],
        ["inspect", "{flow}"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_no_command_prints_python_warnings(noisy_flow, tmp_path, command):
    values = {"flow": str(noisy_flow), "folder": str(noisy_flow.parent), "out": str(tmp_path / "o")}
    # -W always: every warning Python raises is printed, as Python 3.12 prints invalid escapes
    arguments = (part.format(**values) for part in command)
    result = run_transpile(*arguments, python_options=("-W", "always"))
    assert result.returncode in (0, 1), result.stderr
    assert "Warning" not in result.stderr, result.stderr
