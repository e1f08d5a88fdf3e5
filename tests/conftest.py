"""Fixture discovery shared by the tests: each ``fixtures/<case>/`` with a ``case.toml``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import emitted
import pytest
import tomllib

FIXTURES = Path(__file__).parents[1] / "fixtures"
# pytest.mark.requires(...): what a test needs beyond the test extra, skipped or required
pytest_plugins = ("prerequisites",)


def pytest_configure(config):
    """Keep every module transpile emits in this session (see emitted.py); the folder is made
    before xdist starts its workers, which inherit it through the environment."""
    if emitted.ENV not in os.environ:
        os.environ[emitted.ENV] = tempfile.mkdtemp(prefix="transpile-emitted-")
    emitted.install(Path(os.environ[emitted.ENV]))


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):
        return  # the controller checks, once every worker is done
    folder = Path(os.environ[emitted.ENV])
    findings = emitted.check(folder)
    if not findings:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        write = reporter.write_line if reporter else print
        write("")
        write(f"emitted modules use undefined names ({len(findings)}):")
        for line in findings:
            write(f"  {line}")
        session.exitstatus = 1


def run_transpile(
    *args: str, cwd: Path | None = None, python_options: tuple[str, ...] = (), timeout: int = 300
) -> subprocess.CompletedProcess:
    """``python -m transpile`` in a fresh process, as users run it, on this checkout's sources."""
    env = {**os.environ, "PYTHONPATH": str(FIXTURES.parent / "src")}
    env.pop("TRANSPILE_TRACEBACK", None)  # a traceback is what these runs must never show
    return subprocess.run(
        [sys.executable, *python_options, "-m", "transpile", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass(frozen=True)
class RunSpec:
    """One run of a case: a name and the parameters it is given (by Parameter name)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    name: str
    dir: Path
    description: str
    flow: str
    run: bool
    runs: tuple[RunSpec, ...]
    framework: str = "metaflow"  # the framework the case starts life in (case.toml `source`)

    @property
    def source(self) -> Path:
        return self.dir / f"{self.framework}.py"


@dataclass(frozen=True)
class EquivalenceRun:
    """What one equivalence test runs; ``problem`` set means the test must fail with it."""

    case: str
    run: str
    fixture_dir: Path
    flow: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None

    @property
    def id(self) -> str:
        return f"{self.case}-{self.run}"


def load_case(case_dir: Path) -> Case:
    """Read ``case_dir/case.toml``; ValueError saying what is wrong with it."""
    try:
        data = tomllib.loads((case_dir / "case.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read case.toml: {exc}") from None
    flow, run = data.get("flow"), data.get("run", True)
    if not isinstance(flow, str) or not flow.isidentifier():
        raise ValueError(f"case.toml: 'flow' must name the flow class, got {flow!r}")
    if not isinstance(run, bool):
        raise ValueError(f"case.toml: 'run' must be true or false, got {run!r}")  # noqa: TRY004
    framework = data.get("source", "metaflow")
    if framework not in ("metaflow", "flyte", "kfp", "airflow"):
        message = f"case.toml: 'source' must be metaflow, flyte, kfp or airflow, got {framework!r}"
        raise ValueError(message)
    runs = _load_runs(data.get("runs", [{"name": "defaults"}]))
    description = str(data.get("description", ""))
    return Case(case_dir.name, case_dir, description, flow, run, runs, framework)


def _load_runs(raw: Any) -> tuple[RunSpec, ...]:
    """The [[runs]] tables; a case without any gets one run with the defaults."""
    if not isinstance(raw, list) or not raw:
        raise ValueError("case.toml: [[runs]] must be a non-empty array of tables")
    runs = []
    for entry in raw:
        name, params = (
            (entry.get("name"), entry.get("params", {}))
            if isinstance(entry, dict)
            else (None, None)
        )
        if not isinstance(name, str) or not name or not isinstance(params, dict):
            raise ValueError(
                f"case.toml: each [[runs]] needs a name and a params table, got {entry!r}"
            )
        runs.append(RunSpec(name, params))
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise ValueError(f"case.toml: run names repeat: {names}")
    return tuple(runs)


def case_dirs() -> list[Path]:
    """Every folder under fixtures/ that holds a case.toml or a metaflow.py, sorted by name."""
    if not FIXTURES.is_dir():
        return []
    return sorted(
        d
        for d in FIXTURES.iterdir()
        if d.is_dir() and ((d / "case.toml").is_file() or (d / "metaflow.py").is_file())
    )


def cases(framework: str) -> list[Case]:
    """The well-formed cases that start life in ``framework``, sorted by name."""
    found = []
    for case_dir in case_dirs():
        try:
            case = load_case(case_dir)
        except ValueError:
            continue  # equivalence_runs() turns a broken case into a failing test
        if case.framework == framework and case.source.is_file():
            found.append(case)
    return found


def equivalence_runs() -> list[EquivalenceRun]:
    """One entry per (Metaflow case with run != false) × run; broken cases become failing entries."""
    entries = []
    for case_dir in case_dirs():
        if not (case_dir / "case.toml").is_file():
            entries.append(EquivalenceRun(case_dir.name, "case", case_dir, problem="no case.toml"))
            continue
        try:
            case = load_case(case_dir)
        except ValueError as exc:
            entries.append(EquivalenceRun(case_dir.name, "case", case_dir, problem=str(exc)))
            continue
        if case.framework != "metaflow" or not case.run or not case.source.is_file():
            continue
        entries += [
            EquivalenceRun(case.name, r.name, case.dir, case.flow, r.params) for r in case.runs
        ]
    if not entries:
        entries.append(
            EquivalenceRun(
                "no-fixtures",
                "none",
                FIXTURES,
                problem=f"no runnable Metaflow fixture found under {FIXTURES}",
            )
        )
    return entries


def pytest_generate_tests(metafunc):
    if "equivalence_run" in metafunc.fixturenames:
        runs = equivalence_runs()
        metafunc.parametrize("equivalence_run", runs, ids=[r.id for r in runs])


@pytest.fixture(scope="session", autouse=True)
def _metaflow_results_cache(tmp_path_factory):
    """One Metaflow run per (flow files, params) per session: a folder every xdist worker shares
    (their base temp folders are siblings), read by harness.run_metaflow."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    os.environ.setdefault("TRANSPILE_METAFLOW_CACHE", str(shared / "metaflow-results"))
