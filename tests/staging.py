"""Steps the equivalence tests share: converting a source or failing the test, staging and running
a module next to a fixture's files, comparing a source's run with its conversion's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness import assert_equivalent, stage_fixture


def converted_or_fail(source, target: str):
    """The ``target`` conversion of ``source``; fails the test with the converter's diagnostics."""
    from transpile.api import Converted, convert_file

    result = convert_file(str(source), target)
    if isinstance(result, Converted):
        return result
    diagnostics = getattr(result, "diagnostics", ())
    lines = [f"{d.severity}: {d.render(str(source))}" for d in diagnostics]
    lines = lines or [getattr(result, "reason", "")]
    pytest.fail(f"conversion to {target} gave {type(result).__name__}:\n  " + "\n  ".join(lines))


def staged_module(fixture_dir: Path, workdir: Path, module: str, code: str) -> Path:
    """``workdir`` with the fixture's files and ``code`` as ``module``; the module's path."""
    stage_fixture(fixture_dir, workdir)
    path = workdir / module
    path.write_text(code, encoding="utf-8")
    return path


@dataclass(frozen=True)
class Side:
    """One framework of an equivalence test: the module file it runs and how it runs it."""

    framework: str
    module: str
    run: Callable[[Path, dict, Path], dict]  # (module path, parameters, working folder)

    def results(self, fixture_dir: Path, code: str, params: dict, workdir: Path) -> dict:
        """``code`` staged as this side's module in ``workdir`` and run there."""
        return self.run(staged_module(fixture_dir, workdir, self.module, code), params, workdir)


def source_and_conversion_agree(case, run, tmp_path: Path, source: Side, target: Side) -> None:
    """``case``'s source converted to ``target`` runs first, then the source itself; the results
    must be equivalent."""
    converted = converted_or_fail(case.source, target.framework)
    actual = target.results(case.dir, converted.code, run.params, tmp_path / target.framework)
    original = case.source.read_text(encoding="utf-8")
    expected = source.results(case.dir, original, run.params, tmp_path / source.framework)
    assert_equivalent(expected, actual, (source.framework, target.framework))


WRAPPER = "metaflow.exception.MetaflowExceptionWrapper"


def with_catch_as_text(expected: dict, converted, actual: dict) -> dict:
    """Metaflow's results as the conversion says the target has them: where a TP201 note says
    @catch keeps the exception as its text, Metaflow's MetaflowExceptionWrapper is that text
    (``module.Type: message``), and an artifact a failed step never set (absent in Metaflow) is
    None."""
    if not any(d.code == "TP201" and "@catch" in d.message for d in converted.diagnostics):
        return expected
    unset = {k: None for k, v in actual.items() if v is None and k not in expected}

    def text(value):
        if isinstance(value, dict) and value.get("object", [None])[0] == WRAPPER:
            fields = {k["str"]: v.get("str") for k, v in value["object"][1]["dict"]}
            return {"str": f"{fields['type']}: {fields['exception']}"}
        if isinstance(value, dict):
            return {k: text(v) for k, v in value.items()}
        if isinstance(value, list):
            return [text(v) for v in value]
        return value

    return {**text(expected), **unset}
