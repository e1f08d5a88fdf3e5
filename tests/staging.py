"""Steps the equivalence tests share: converting a source or failing the test, staging and running
a module next to a fixture's files, and the test of record itself: ``transpile verify``'s check
of a source against its conversion."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness import OTHER_SOURCES, stage_fixture

from transpile.verify.check import VerifyError, explain, verify_file


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


def same_when_run(text: str, target: str, tmp_path: Path, name: str = "flow.py"):
    """Write ``text`` to a folder of its own, verify its ``target`` conversion (one source run)
    and fail the test unless both runs give the same results; the Verification."""
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    result = verify_file(str(path), target, source_runs=1)
    assert result.verdict == "same", (result.error, result.values)
    return result


def verified(
    source: Path,
    target: str,
    params: dict,
    tmp_path: Path,
    folder: Path | None = None,
    entry: str | None = None,
):
    """What ``transpile verify SOURCE --to TARGET`` checks, with the case's parameters, the
    fixture's other files beside each run, the source run once (fixtures are deterministic) and
    runs shared through the session's cache; fails the test unless the results are the same."""
    try:
        result = verify_file(
            str(source),
            target,
            entry=entry,
            params=params,
            folder=folder or Path(source).parent,
            skip=OTHER_SOURCES,
            workdir=tmp_path,
            source_runs=1,
            cache=True,
        )
    except VerifyError:
        converted_or_fail(source, target)  # a refusal fails with every diagnostic
        raise
    if result.verdict == "error":
        pytest.fail(f"{result.error}\n{result.details}")
    if result.verdict != "same":
        labels = (result.source, result.target)
        pytest.fail(
            f"results differ ({labels[0]} vs {labels[1]}):\n{explain(result.values, labels)}"
        )
    return result


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


def source_and_conversion_agree(case, run, tmp_path: Path, target: str) -> None:
    """``case``'s source and its conversion to ``target`` give the same results."""
    verified(case.source, target, run.params, tmp_path, case.dir)


def stage_siblings(case: Path, where: Path) -> None:
    """The modules a fixture's flow imports (its base classes: a module, a package), copied to
    ``where``, a folder the flow finds them in (reading/siblings.py looks a few levels up)."""
    for item in sorted(case.iterdir()):
        if item.suffix == ".py" and item.stem not in ("metaflow", "flyte", "kfp", "airflow"):
            shutil.copy(item, where / item.name)
        elif (item / "__init__.py").is_file():
            shutil.copytree(item, where / item.name, dirs_exist_ok=True)
