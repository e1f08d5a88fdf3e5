"""Names a target cannot take as they are: renamed deterministically, and reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from transpile.api import Converted, convert_file

WILD_NAMES = Path(__file__).parents[1] / "fixtures" / "wild_names" / "metaflow.py"


@pytest.mark.parametrize(("target", "kind"), [("flyte", "task"), ("kfp", "component")])
def test_a_step_named_like_a_builtin_is_renamed_and_reported(target, kind):
    result = convert_file(str(WILD_NAMES), target)
    assert isinstance(result, Converted), result
    assert "def sum_step(" in result.code and "def sum(" not in result.code
    renamed = [d for d in result.diagnostics if d.code == "TP250"]
    assert [d.message.split(":")[0] for d in renamed] == [f"step 'sum' becomes {kind} 'sum_step'"]
    assert renamed[0].span is not None and renamed[0].span.line == 24  # its @step line


@pytest.mark.parametrize(
    ("target", "step"),
    [
        *[("flyte", name) for name in ("task", "workflow", "dynamic", "map_task", "print")],
        *[("kfp", name) for name in ("dsl", "compiler", "Output", "print")],
    ],
)
def test_a_step_never_shadows_what_the_module_imports(tmp_path, target, step):
    source = WILD_NAMES.read_text(encoding="utf-8").replace("self.sum", f"self.{step}")
    source = source.replace("def sum(self)", f"def {step}(self)")
    path = tmp_path / "flow.py"
    path.write_text(source, encoding="utf-8")
    result = convert_file(str(path), target)
    assert isinstance(result, Converted), result
    assert f"def {step}(" not in result.code
    assert f"def {step}_step(" in result.code
