"""Parameter descriptions cross frameworks: Metaflow's ``help=`` is a Google-style ``Args:``
entry of the Flyte workflow's or KFP pipeline's docstring, which flytekit and the KFP compiler
read as the inputs' descriptions, and the readers take them back as ``help=``."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from transpile import api
from transpile.util.docstrings import args_section, split_args_section, with_args

ROOT = Path(__file__).parents[1]
LINEAR = ROOT / "fixtures" / "linear_params" / "metaflow.py"
HELPS = {
    "n": "an int, type inferred from the default",
    "repeat": "an int with an explicit type",
    "ratio": "a float, type inferred from the default",
    "label": "a text label",
    "verbose": "a boolean switch",
    "who": "required, no default (str)",
    "items": "a JSON list",
    "options": "a JSON object",
}


# --- the docstring section -------------------------------------------------------------------


def test_args_section_lists_each_described_parameter_on_one_line():
    assert args_section([("n", "how\n many"), ("m", ""), ("k", "top  k")]) == (
        "Args:\n    n: how many\n    k: top k"
    )
    assert args_section([("m", " ")]) == ""
    assert with_args("Doc.", []) == "Doc."
    assert with_args("Doc.\n", [("n", "count")]) == "Doc.\n\nArgs:\n    n: count"


def test_split_args_reads_google_style_entries_and_keeps_the_rest():
    doc = textwrap.dedent(
        """\
        Train a model.

        Args:
            data (str): where the rows are: a path
                or a URL
            epochs: how many passes
            *extra: ignored

        Returns:
            the model
        """
    )
    rest, helps = split_args_section(doc)
    assert helps == {
        "data": "where the rows are: a path or a URL",
        "epochs": "how many passes",
        "extra": "ignored",
    }
    assert rest == "Train a model.\n\nReturns:\n    the model"


def test_split_args_leaves_a_docstring_without_the_section_alone():
    for doc in (None, "", "Args are mentioned here: not a section.", "Just text.\n\nMore."):
        assert split_args_section(doc) == (doc, {})
    assert split_args_section("Args:\n    n: only this") == (None, {"n": "only this"})


# --- writers: what the target framework reads ------------------------------------------------


def converted(tmp_path: Path, target: str) -> Path:
    result = api.convert_file(str(LINEAR), target)
    assert not isinstance(result, api.Failed), result
    path = tmp_path / f"linear_{target}.py"
    path.write_text(result.code)
    return path


def run_in(folder: Path, script: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=folder,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_flytekit_reads_the_help_texts_as_input_descriptions(tmp_path):
    converted(tmp_path, "flyte")
    script = (
        "import linear_flyte\n"
        "inputs = linear_flyte.linear_params_flow.interface.inputs\n"
        "print({n: v.description for n, v in inputs.items()})\n"
    )
    assert ast.literal_eval(run_in(tmp_path, script)) == HELPS


def test_the_kfp_compiler_reads_the_help_texts_as_input_descriptions(tmp_path):
    converted(tmp_path, "kfp")
    script = (
        "import yaml\n"
        "from kfp import compiler\n"
        "import linear_kfp\n"
        "compiler.Compiler().compile(linear_kfp.linear_params_flow, 'p.yaml')\n"
        "spec = yaml.safe_load(open('p.yaml'))\n"
        "inputs = spec['root']['inputDefinitions']['parameters']\n"
        "print({n: v.get('description') for n, v in inputs.items()})\n"
    )
    assert ast.literal_eval(run_in(tmp_path, script)) == HELPS


# --- readers: back to Metaflow's help= -------------------------------------------------------


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_help_texts_come_back_from_a_converted_file(tmp_path, target):
    read = api.read_file(str(converted(tmp_path, target)))
    assert isinstance(read, api.Read), read
    assert {p.name: p.help for p in read.pipeline.parameters} == HELPS
    assert "Args:" not in (read.pipeline.doc or "")


FLYTE_SOURCE = '''\
from flytekit import task, workflow


@task
def grow(size: int, rate: float) -> float:
    return size * rate


@workflow
def wf(size: int = 3, rate: float = 1.5) -> float:
    """Grow a number.

    Args:
        size: how big to start
        rate (float): growth per
            step
    """
    return grow(size=size, rate=rate)
'''

KFP_SOURCE = '''\
from kfp import dsl


@dsl.component
def grow(size: int, rate: float) -> float:
    return size * rate


@dsl.pipeline
def wf(size: int = 3, rate: float = 1.5) -> float:
    """Grow a number.

    Args:
        size: how big to start
        rate (float): growth per
            step
    """
    return grow(size=size, rate=rate).output
'''


@pytest.mark.parametrize("source", [FLYTE_SOURCE, KFP_SOURCE], ids=["flyte", "kfp"])
def test_a_documented_workflow_becomes_a_flow_with_help_texts(tmp_path, source):
    path = tmp_path / "wf.py"
    path.write_text(source)
    result = api.convert_file(str(path), "metaflow")
    assert not isinstance(result, api.Failed), result
    assert 'help="how big to start"' in result.code
    assert 'help="growth per step"' in result.code
    assert '"""Grow a number."""' in result.code  # the rest of the docstring, without Args
