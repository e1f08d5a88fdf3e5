"""Issue 16: a KFP pipeline whose components come from another module of the same tree
(``from components import add``) is read with them, statically (the module is parsed, never
imported), as the Flyte reader reads a sibling's tasks; was TP175 "unknown call"."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from output_checks import ruff

from transpile.api import Converted, Failed, convert_file
from transpile.verify.check import verify_file

COMPONENTS = textwrap.dedent(
    """
    from kfp import dsl
    from kfp.dsl import Dataset, Input, Output

    LIMIT = 10


    @dsl.component
    def tally(words: str, data: Output[Dataset]) -> int:
        parts = words.split()
        with open(data.path, "w") as handle:
            handle.write("\\n".join(sorted(parts)))
        return len(parts)


    @dsl.component
    def first_line(data: Input[Dataset]) -> str:
        with open(data.path) as handle:
            return handle.readline().strip()
    """
)

PIPELINE = textwrap.dedent(
    """
    from kfp import dsl

    from {module} import first_line, tally


    @dsl.component
    def shout(text: str, count: int) -> str:
        return f"{{text.upper()}} x{{count}}"


    @dsl.pipeline
    def words(text: str = "pear apple fig") -> str:
        counted = tally(words=text)
        head = first_line(data=counted.outputs["data"])
        return shout(text=head.output, count=counted.outputs["Output"]).output
    """
)


def tree(tmp_path: Path, module: str = "steps", pipeline: str | None = None) -> Path:
    """A folder with the components module (``steps.py`` or ``pkg/steps.py``) and the
    pipeline importing from it; the pipeline's path."""
    where = tmp_path / module.replace(".", "/")
    where = where.with_suffix(".py")
    where.parent.mkdir(parents=True, exist_ok=True)
    if where.parent != tmp_path:
        (where.parent / "__init__.py").write_text("")
    where.write_text(COMPONENTS)
    path = tmp_path / "pipe.py"
    path.write_text(pipeline or PIPELINE.format(module=module))
    return path


@pytest.mark.parametrize("module", ["steps", "pkg.steps"])
@pytest.mark.parametrize("target", ["flyte", "metaflow"])
def test_components_of_a_sibling_module_are_read(tmp_path, module, target):
    result = convert_file(str(tree(tmp_path, module)), target)
    assert isinstance(result, Converted), getattr(result, "reason", result)
    assert [s.name for s in result.pipeline.steps] == ["tally", "first_line", "shout"]
    notes = [d.message for d in result.diagnostics if d.code == "TP201"]
    assert (
        f"first_line, tally read from {module.split('.')[-1]}.py (a module of the same tree)"
        in (notes)
    )
    assert f"from {module} import" not in result.code  # the output needs no copy of the module
    assert ruff("check", "--select", "F821,F822,F823,F401", code=result.code).returncode == 0


def test_a_name_that_is_not_a_component_keeps_its_import(tmp_path):
    text = PIPELINE.format(module="steps").replace(
        "import first_line, tally", "import LIMIT, first_line, tally"
    )
    result = convert_file(str(tree(tmp_path, pipeline=text)), "flyte")
    assert isinstance(result, Converted)
    assert [s.name for s in result.pipeline.steps] == ["tally", "first_line", "shout"]


def test_a_renamed_component_is_not_read_and_the_call_is_refused_at_its_line(tmp_path):
    text = PIPELINE.format(module="steps").replace("tally\n", "tally as count_words\n")
    text = text.replace("tally(words", "count_words(words")
    result = convert_file(str(tree(tmp_path, pipeline=text)), "flyte")
    assert isinstance(result, Failed)
    assert "TP175 unknown call in a pipeline body: count_words" in result.reason


def test_a_syntax_error_in_the_sibling_is_named_at_the_import(tmp_path):
    path = tree(tmp_path)
    (tmp_path / "steps.py").write_text("def broken(:\n")
    result = convert_file(str(path), "flyte")
    assert isinstance(result, Failed)
    assert "steps.py:1: syntax error in a module this file imports" in result.reason
    assert result.diagnostics[-1].span.line == 4


@pytest.mark.equivalence
def test_a_pipeline_of_sibling_components_runs_the_same_in_flyte(tmp_path):
    path = tree(tmp_path / "src")
    result = verify_file(str(path), "flyte", source_runs=1, workdir=tmp_path / "runs")
    assert result.verdict == "same", (result.error, result.values)
    assert result.values  # the pipeline's result was compared


def test_the_module_of_components_alone_is_skipped_saying_why(tmp_path):
    from click.testing import CliRunner

    from transpile.api import Skipped
    from transpile.cli import cli

    tree(tmp_path / "src")
    alone = convert_file(str(tmp_path / "src" / "steps.py"), "flyte")
    assert isinstance(alone, Skipped)
    assert alone.reason == (
        "no @dsl.pipeline found (a module of components only: tally, first_line; a pipeline "
        "that imports them from here reads them with it)"
    )
    out = tmp_path / "out"
    run = CliRunner().invoke(
        cli, ["convert", str(tmp_path / "src"), "--to", "flyte", "-o", str(out)]
    )
    assert run.exit_code == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["pipe.py"]
    assert "a module of components only" in run.stderr
