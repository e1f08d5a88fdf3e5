"""The equivalence tests' side of ``transpile.verify`` (one implementation: the tests of record
run what ``transpile verify`` runs): fixture folders staged as verify stages a user's folder,
and an assertion over two results.

A fixture folder holds the pipeline in each framework (metaflow.py, flyte.py, kfp.py), its
case.toml and expected outputs; a run sees the other files (data, helper modules) beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transpile.verify.runs import (
    CACHE_ENV,
    METAFLOW_TIMEOUT,
    RESULT_FILE,
    RunFailed,
    _cache_entry,
    isolated_env,
    metaflow_cli_args,
    metaflow_cli_value,
    run_flyte,
    run_kfp,
    stage,
)
from transpile.verify.runs import run_metaflow as run_flow
from transpile.verify.values import Normalized, diff, normalize, render

__all__ = [
    "CACHE_ENV",
    "RESULT_FILE",
    "Normalized",
    "RunFailed",
    "assert_equivalent",
    "diff",
    "isolated_env",
    "metaflow_cli_args",
    "metaflow_cli_value",
    "normalize",
    "render",
    "run_flyte",
    "run_kfp",
    "run_metaflow",
    "stage_fixture",
]

METAFLOW_CACHE_ENV = CACHE_ENV
# A file named metaflow.py next to the flow would shadow the metaflow package (the script's
# folder is sys.path[0]), so the flow runs under this name; the other sources of a case stay out.
FLOW_FILE = "mf_flow.py"
OTHER_SOURCES = frozenset(
    {
        "metaflow.py",
        "flyte.py",
        "kfp.py",
        "airflow.py",
        "case.toml",
        "ir.json",
        "expected",
        "__pycache__",
    }
)


def stage_fixture(fixture_dir: Path | str, workdir: Path | str) -> None:
    """Copy a fixture's files (data files, helpers) into ``workdir``, but not its pipeline sources."""
    stage(fixture_dir, workdir, OTHER_SOURCES)


def run_metaflow(
    fixture_dir: Path | str,
    flow_class: str,
    params: dict[str, Any],
    workdir: Path | str,
    timeout: float = METAFLOW_TIMEOUT,
) -> dict[str, Normalized]:
    """Run ``fixture_dir/metaflow.py`` in ``workdir`` (the fixture's other files beside it) with
    ``params``; the normalized artifacts of its end step (see ``transpile.verify.runs``)."""
    workdir = Path(workdir)
    flow = metaflow_flow_file(fixture_dir, workdir)
    return run_flow(flow, flow_class, params, timeout)


def metaflow_flow_file(fixture_dir: Path | str, workdir: Path) -> Path:
    """``workdir`` staged with the fixture's files and its flow as FLOW_FILE; that file."""
    stage_fixture(fixture_dir, workdir)
    flow = workdir / FLOW_FILE
    flow.write_bytes((Path(fixture_dir) / "metaflow.py").read_bytes())
    return flow


def metaflow_cache_entry(fixture_dir: Path, flow_class: str, params: dict, workdir: Path):
    """Where the result of ``run_metaflow(fixture_dir, flow_class, params, workdir)`` is cached."""
    flow = metaflow_flow_file(fixture_dir, workdir)
    return _cache_entry(workdir, ["metaflow", flow.name, flow_class, params])


def assert_equivalent(
    expected: dict[str, Normalized],
    actual: dict[str, Normalized],
    labels: tuple[str, str] = ("metaflow", "flyte"),
) -> None:
    text = diff(expected, actual, labels)
    if text:
        raise AssertionError(f"results differ ({labels[0]} vs {labels[1]}):\n{text}")
