"""Equivalence harness for KFP: run an emitted pipeline with kfp.local and normalize its outputs.

Like ``harness.run_flyte``: the pipeline runs in a child process (``sys.executable``) with HOME,
TMPDIR and the pipeline root inside the work directory, so the pytest worker never imports kfp.
The child uses ``local.SubprocessRunner(use_venv=False)``: every task is a subprocess running the
component text KFP ships, so a component that needs a module-level name it does not carry fails.
Outputs that are artifacts are read back with the module's own ``load_value``.

This file is also the child's code: it loads itself by path (see ``_BOOTSTRAP``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from harness import RESULT_FILE, Normalized, _run, normalize

HARNESS_KFP = Path(__file__).resolve()
KFP_TIMEOUT = float(os.environ.get("TRANSPILE_KFP_TIMEOUT", "600"))

_BOOTSTRAP = """\
import importlib.util, sys
sys.path.insert(0, sys.argv[1])
spec = importlib.util.spec_from_file_location("_transpile_harness_kfp", sys.argv[2])
harness = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = harness
spec.loader.exec_module(harness)
harness.child_main(sys.argv[3:])
"""


def run_kfp(
    module_path: Path | str,
    params: dict[str, Any],
    workdir: Path | str,
    timeout: float = KFP_TIMEOUT,
) -> dict[str, Normalized]:
    """Import the KFP module, run its entry pipeline locally with ``params``; its outputs.

    The child runs in ``workdir`` (relative paths, such as an IncludeFile's, resolve there).
    """
    module_path, workdir = Path(module_path).resolve(), Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    params_file = workdir / "params.json"
    params_file.write_text(json.dumps(params))
    result = workdir / RESULT_FILE
    result.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-c",
        _BOOTSTRAP,
        str(HARNESS_KFP.parent),
        str(HARNESS_KFP),
        str(module_path),
        str(params_file),
        str(result),
    ]
    _run(cmd, workdir, timeout, f"kfp.local run of {module_path.name}")
    return json.loads(result.read_text())


def entry_pipeline(module: Any) -> Any:
    """The module's entry pipeline: the last ``@dsl.pipeline`` it defines."""
    from kfp.dsl.graph_component import GraphComponent

    pipelines = [v for v in vars(module).values() if isinstance(v, GraphComponent)]
    if not pipelines:
        raise SystemExit(f"no @dsl.pipeline in {module.__file__}")
    return pipelines[-1]


def pipeline_arguments(pipeline: Any, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` as the pipeline takes them: a JSON value for a ``str`` input (a JSON parameter of
    unknown shape travels as JSON text) is passed as its JSON text, as on Metaflow's command line."""
    inputs = pipeline.component_spec.inputs or {}
    arguments = {}
    for name, value in params.items():
        spec = inputs.get(name)
        if spec is not None and spec.type == "String" and not isinstance(value, str):
            value = json.dumps(value)
        arguments[name] = value
    return arguments


def _read_kfp(module_path: str, params_file: str) -> dict[str, Normalized]:
    """In the child: run the entry pipeline under kfp.local and normalize what it returns."""
    import importlib.util

    from kfp import dsl, local

    local.init(
        runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(Path.cwd() / "root")
    )
    path = Path(module_path)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    pipeline = entry_pipeline(module)
    params = json.loads(Path(params_file).read_text())
    task = pipeline(**pipeline_arguments(pipeline, params))
    classes = tuple(
        v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__
    )
    values = {}
    for name, value in (task.outputs or {}).items():
        if isinstance(value, dsl.Artifact):
            value = module.load_value(value.path, classes=classes)
        values[name] = normalize(value)
    return values


def child_main(argv: list[str]) -> None:
    module_path, params_file, result_file = argv
    Path(result_file).write_text(json.dumps(_read_kfp(module_path, params_file)))
