"""The child side of a run (``main([MODE, *ARGS, RESULT_FILE])``, started by ``runs.py``): it
imports the framework and the pipeline, runs or reads back the run, and writes the normalized
results as JSON to RESULT_FILE. Only this module imports metaflow, flytekit, kfp or airflow.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from transpile.verify.values import Normalized, normalize


def _read_metaflow(flow_file: str, flow_class: str, run_id: str) -> dict[str, Normalized]:
    """In the child: load the flow as a module, expose it as __main__, read the end artifacts."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_transpile_flow", flow_file)
    flow_module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = flow_module
    spec.loader.exec_module(flow_module)
    main = sys.modules["__main__"]
    for key, value in vars(flow_module).items():  # artifacts pickled as __main__.X need X here
        if not key.startswith("_"):
            setattr(main, key, value)

    from metaflow import Parameter, Run, namespace

    namespace(None)
    hidden = {"name"} | _inputs_of(getattr(flow_module, flow_class), Parameter)
    run = Run(f"{flow_class}/{run_id}")
    task = run.end_task  # the step marked @step(end=True) where the flow has one
    if task is None:
        task = run["end"].task
    wanted = Path("hidden-artifacts.json")  # runs.HIDDEN_FILE: the user's own _names
    shown = set(json.loads(wanted.read_text())) if wanted.is_file() else set()
    values = {
        a.id: normalize(a.data) for a in task if not a.id.startswith("_") and a.id not in hidden
    }
    for name in sorted(shown):  # iterating a task leaves out every name starting with _
        if name in task:
            values[name] = normalize(task[name].data)
    return values


def _inputs_of(flow_cls: type, parameter_type: type) -> set[str]:
    """Names Metaflow stores in every task that are inputs, not results: the Parameters (both
    attribute and option names, IncludeFile and Config included) and the class-level constants
    (FlowSpec._set_constants persists every public non-callable class attribute)."""
    names = set()
    for attr in dir(flow_cls):
        value = getattr(flow_cls, attr, None)
        if isinstance(value, parameter_type):
            names.update({attr, value.name})
        elif not attr.startswith("_") and not callable(value) and not isinstance(value, property):
            names.add(attr)
    return names


def _read_flyte(module_path: str, params_file: str, entry: str) -> dict[str, Normalized]:
    """Import the module, run the workflow named ``entry`` (else the last @workflow), map its
    outputs to their names."""
    from flytekit.core.launch_plan import LaunchPlan
    from flytekit.core.workflow import WorkflowBase

    _container_environment()
    from flytekit.core.python_function_task import EagerAsyncPythonFunctionTask

    module = _import_module(Path(module_path))
    kinds = (WorkflowBase, EagerAsyncPythonFunctionTask)  # an @eager one is an async task
    workflows = [v for v in vars(module).values() if isinstance(v, kinds)]
    if not workflows:
        raise SystemExit(f"no @workflow in {module_path}")
    wf = _chosen(module, workflows, entry, "@workflow")
    params = _flyte_arguments(wf, json.loads(Path(params_file).read_text()))
    # a LaunchPlan of the workflow brings its default and fixed inputs: run through it
    plans = [v for v in vars(module).values() if isinstance(v, LaunchPlan) and v.workflow is wf]
    result = plans[-1](**params) if plans else wf(**params)
    if isinstance(wf, EagerAsyncPythonFunctionTask):
        import asyncio

        result = asyncio.run(result)
    names = list(wf.python_interface.outputs)
    return {name: normalize(value) for name, value in _outputs(result, names).items()}


def _flyte_arguments(wf: Any, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` as the workflow takes them: ISO 8601 text for a ``datetime`` or ``date``
    input made that value, as ``pyflyte run`` does with its command line."""
    import datetime

    types = wf.python_interface.inputs
    dated = (datetime.datetime, datetime.date)
    return {
        name: types[name].fromisoformat(value)
        if isinstance(value, str) and types.get(name) in dated
        else value
        for name, value in params.items()
    }


def _import_module(path: Path) -> Any:
    """Import ``path`` by its dotted name under the first folder above it that is not a package
    (so its relative imports work), else by its file name from its own folder."""
    import importlib

    root, parts = path.parent, [path.stem]
    while (root / "__init__.py").is_file():
        parts.insert(0, root.name)
        root = root.parent
    sys.path.insert(0, str(root))
    return importlib.import_module(".".join(parts))


def _container_environment() -> None:
    """Run each Python task as a cluster would, where flytekit's local execution does not: with
    its ``environment=`` variables set (restored afterwards), and again after a failure while it
    has ``retries=`` left."""
    import os

    from flytekit.core.python_function_task import PythonFunctionTask

    execute = PythonFunctionTask.execute

    def with_environment(self: Any, **kwargs: Any) -> Any:
        variables = dict(getattr(self, "environment", None) or {})
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update({k: str(v) for k, v in variables.items()})
        retries = getattr(getattr(self, "metadata", None), "retries", 0) or 0
        try:
            for attempt in range(retries + 1):
                try:
                    return execute(self, **kwargs)
                except Exception:
                    if attempt == retries:
                        raise
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    PythonFunctionTask.execute = with_environment


def _outputs(result: Any, names: list[str]) -> dict[str, Any]:
    if not names:
        return {}
    if len(names) == 1 and not (hasattr(result, "_fields") and list(result._fields) == names):
        return {names[0]: result}
    if hasattr(result, "_fields"):
        return {name: getattr(result, name) for name in names}
    return dict(zip(names, result, strict=True))


def entry_pipeline(module: Any, entry: str = "") -> Any:
    """The module's pipeline named ``entry``, else the last ``@dsl.pipeline`` it defines."""
    from kfp.dsl.graph_component import GraphComponent

    pipelines = [v for v in vars(module).values() if isinstance(v, GraphComponent)]
    if not pipelines:
        raise SystemExit(f"no @dsl.pipeline in {module.__file__}")
    return _chosen(module, pipelines, entry, "@dsl.pipeline")


def _chosen(module: Any, found: list[Any], entry: str, what: str) -> Any:
    if not entry:
        return found[-1]
    chosen = getattr(module, entry, None)
    if not any(chosen is f for f in found):
        raise SystemExit(f"no {what} named {entry} in {module.__file__}")
    return chosen


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


def _read_kfp(module_path: str, params_file: str, entry: str) -> dict[str, Normalized]:
    """In the child: run the entry pipeline under kfp.local and normalize what it returns."""
    import importlib.util

    from kfp import dsl, local

    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(Path.cwd() / ".kfp-root"),  # runs.KFP_ROOT
    )
    _no_kfp_reinstall()
    path = Path(module_path)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    pipeline = entry_pipeline(module, entry)
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
    finals = Path("final-tasks.json")  # runs.FINALS_FILE
    if finals.is_file():
        values.update(final_outputs(Path.cwd() / ".kfp-root", json.loads(finals.read_text())))
    return values


def _no_kfp_reinstall() -> None:
    """Components made from now on do not ``pip install kfp`` before each task runs.

    A lightweight component's command installs the kfp it was compiled with (``kfp==2.17.3
    --no-deps``) before its code runs: on a cluster, into the task's image. kfp.local's
    SubprocessRunner without a virtualenv runs the task with this interpreter (it puts
    ``sys.executable`` for ``python3`` in the command), where that very kfp is imported already:
    pip would only find it installed, at the cost of a pip start per task. A component's own
    ``packages_to_install`` are still installed, as kfp.local does."""
    from kfp.dsl import component_factory

    original = component_factory._get_packages_to_install_command

    def without_kfp(*args: Any, **kwargs: Any) -> list[str]:
        return original(*args, **{**kwargs, "install_kfp_package": False})

    component_factory._get_packages_to_install_command = without_kfp


def final_outputs(root: Path, finals: list[list[str]]) -> dict[str, Normalized]:
    """The outputs of the named tasks of the one run under ``root``, as kfp.local left them: a
    task's folder is its name with ``-`` for ``_`` (``add-2`` for the second ``add``), its
    parameters in ``executor_output.json``, its artifacts as files (their bytes). A task the run
    has no folder for (a step the conversion added) is left out."""
    runs = [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    if len(runs) != 1:
        return {}
    values: dict[str, Normalized] = {}
    for name, step, output in finals:
        folder = runs[0] / step.replace("_", "-")
        written = folder / "executor_output.json"
        if not written.is_file():
            continue
        record = json.loads(written.read_text(encoding="utf-8"))
        parameters = record.get("parameterValues", {})
        if output not in parameters and list(parameters) == ["Output"]:
            output = "Output"  # a component's one return value (the model names it as returned)
        if output in parameters:
            values[name] = normalize(parameters[output])
        elif (folder / output).is_file():
            values[name] = normalize((folder / output).read_bytes())
    return values


def _read_airflow(dag_id: str) -> dict[str, Normalized]:
    """In the child (AIRFLOW_HOME set): the XComs of the DAG's last run, by ``task_id|key``,
    deserialized as a task pulling them would see them; the run must have succeeded."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.sdk.serde import deserialize
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).limit(1)
        ).first()
        if run is None:
            raise SystemExit(f"no run of {dag_id}")
        if str(run.state) not in ("success", "DagRunState.SUCCESS"):
            raise SystemExit(f"the run of {dag_id} ended {run.state}")
        rows = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_id,
                XComModel.run_id == run.run_id,
                XComModel.map_index == -1,
            )
        ).all()
        return {f"{x.task_id}|{x.key}": normalize(deserialize(x.value)) for x in rows}


def _run_airflow(module_path: str, entry: str, conf: str, result_file: str) -> None:
    """In the child (AIRFLOW_HOME set, its database migrated): ``airflow dags reserialize``,
    the choice of the DAG, ``airflow dags test`` with ``conf`` and the read-back of its XComs, in
    one interpreter (three would import Airflow three times). The result file says how far it
    got: ``{"ids": [...]}`` when no single DAG could be chosen (the parent names why, from this
    process's log), ``{"dag_id": ...}`` once chosen (a failed run exits non-zero after it), and
    ``{"dag_id": ..., "values": ...}`` at the end."""
    from airflow.cli import cli_parser

    from transpile.verify.runs import AIRFLOW_DB, choose_dag, dag_ids

    result = Path(result_file)
    parser = cli_parser.get_parser()
    reserialize = parser.parse_args(["dags", "reserialize"])
    reserialize.func(reserialize)
    ids = dag_ids(Path(os.environ["AIRFLOW_HOME"]) / AIRFLOW_DB, Path(module_path).resolve())
    dag_id = choose_dag(ids, entry)
    if dag_id is None:
        result.write_text(json.dumps({"ids": ids}), encoding="utf-8")
        return
    result.write_text(json.dumps({"dag_id": dag_id}), encoding="utf-8")
    test = parser.parse_args(["dags", "test", dag_id, "-c", conf])
    test.func(test)  # SystemExit("DagRun failed") when a task failed
    values = _read_airflow(dag_id)
    result.write_text(json.dumps({"dag_id": dag_id, "values": values}), encoding="utf-8")


def main(argv: list[str]) -> None:
    mode, *args, result_file = argv
    if mode == "airflow-run":
        _run_airflow(*args, result_file)
        return
    readers = {
        "metaflow": _read_metaflow,
        "flyte": _read_flyte,
        "kfp": _read_kfp,
        "airflow": _read_airflow,
    }
    values = readers[mode](*args)
    Path(result_file).write_text(json.dumps(values), encoding="utf-8")
