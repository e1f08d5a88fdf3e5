"""What the emitted KFP code must be beyond what every writer's must (test_writer_output.py),
checked on every fixture: compiling with ``kfp.compiler`` (in a child process: the pytest worker
never imports kfp), and made of components whose shipped text reads no name it does not define.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import libcst as cst
import pytest
import yaml
from conftest import FIXTURES
from output_checks import CASES, converted


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch):
    monkeypatch.chdir(FIXTURES.parent)


@pytest.mark.parametrize("case", CASES)
def test_entry_pipeline_is_defined_last_and_compiled_by_main(case):
    module = cst.parse_module(converted(case, "kfp").code)
    functions = [s for s in module.body if isinstance(s, cst.FunctionDef)]
    last = functions[-1]
    assert [cst.Module([]).code_for_node(d.decorator) for d in last.decorators] == ["dsl.pipeline"]
    main = module.body[-1]
    assert isinstance(main, cst.If) and "__main__" in cst.Module([]).code_for_node(main.test)
    assert f"pipeline_func={last.name.value}," in cst.Module([main]).code


@pytest.mark.parametrize("case", CASES)
def test_every_task_call_uses_keywords_only(case):
    tree = ast.parse(converted(case, "kfp").code)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(
            "dsl.pipeline" in ast.unparse(d) for d in node.decorator_list
        ):
            body = ast.Module(node.body, [])  # not the defaults: a helper call may compute one
            calls = [c for c in ast.walk(body) if isinstance(c, ast.Call)]
            assert all(not c.args for c in calls if isinstance(c.func, ast.Name)), case


# ---------------------------------------------------------------------------------------------
# Compiled with kfp.compiler, in a child process
# ---------------------------------------------------------------------------------------------

COMPILE = r"""
import builtins, importlib.util, json, symtable, sys
from kfp import compiler
from kfp.dsl.graph_component import GraphComponent
import yaml

module_path, package_path, report_path = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("emitted", module_path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
entry = [v for v in vars(module).values() if isinstance(v, GraphComponent)][-1]
compiler.Compiler().compile(pipeline_func=entry, package_path=package_path)


def reads(table):
    names = {s.get_name() for s in table.get_symbols() if s.is_global() and s.is_referenced()}
    for child in table.get_children():
        names |= reads(child)
    return names


# Each executor ships a program text: define what it defines, then list what its functions read
# that is neither defined there nor a builtin (a NameError waiting to happen at run time).
missing = {}
spec = yaml.safe_load(open(package_path))
for name, executor in spec["deploymentSpec"]["executors"].items():
    if "container" not in executor:
        continue
    source = executor["container"]["command"][-1]
    namespace = {}
    exec(compile(source, name, "exec"), namespace)
    table = symtable.symtable(source, name, "exec")
    unknown = set()
    for function in (t for t in table.get_children() if t.get_type() == "function"):
        unknown |= {n for n in reads(function) if n not in namespace and not hasattr(builtins, n)}
    missing[name] = sorted(unknown)
json.dump({"missing": missing}, open(report_path, "w"))
"""


@cache
def compiled(case: str) -> tuple[dict, dict]:
    """The compiled pipeline spec of a case and the names its components miss at run time."""
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"transpile-kfp-{os.getpid()}" / case
    workdir.mkdir(parents=True, exist_ok=True)
    module = workdir / "emitted_pipeline.py"
    module.write_text(converted(case, "kfp").code, encoding="utf-8")
    package, report = workdir / "pipeline.yaml", workdir / "report.json"
    proc = subprocess.run(
        [sys.executable, "-c", COMPILE, str(module), str(package), str(report)],
        capture_output=True,
        text=True,
        cwd=workdir,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return yaml.safe_load(package.read_text()), json.loads(report.read_text())


@pytest.mark.parametrize("case", CASES)
def test_compiles_and_components_read_only_what_they_ship(case):
    spec, report = compiled(case)
    assert spec["deploymentSpec"]["executors"]
    assert report["missing"] == {name: [] for name in report["missing"]}


@pytest.mark.parametrize("case", CASES)
def test_pipeline_takes_the_flows_parameters(case):
    spec, _ = compiled(case)
    declared = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    parameters = converted(case, "kfp").pipeline.parameters
    assert sorted(declared) == sorted(p.name for p in parameters)
    for param in parameters:
        entry = declared[param.name]
        assert entry.get("isOptional", False) == (param.default is not None), param.name
        if param.default is None:
            continue
        default = entry["defaultValue"]
        if param.kind == "json" and isinstance(default, str):  # JSON of unknown shape: its text
            default = json.loads(default)
        try:
            expected = ast.literal_eval(param.default)
        except ValueError:  # computed when the module loads (a path next to the file)
            assert isinstance(default, str) and default, param.name
            continue
        assert default == expected, param.name
        if entry["parameterType"] == "NUMBER_INTEGER":
            assert isinstance(expected, int), param.name


def _tasks(spec: dict) -> dict[str, dict]:
    """Every task of the compiled pipeline, foreach pipelines included, by task name."""
    found = dict(spec["root"]["dag"]["tasks"])
    for component in spec["components"].values():
        found.update(component.get("dag", {}).get("tasks", {}))
    return found


def _container(spec: dict, task: dict) -> dict:
    component = spec["components"][task["componentRef"]["name"]]
    return spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]


@pytest.mark.parametrize("case", CASES)
def test_caching_is_off_on_every_task(case):
    spec, _ = compiled(case)
    for name, task in _tasks(spec).items():
        if "componentRef" in task and "executorLabel" in spec["components"].get(
            task["componentRef"]["name"], {}
        ):
            executor = spec["components"][task["componentRef"]["name"]]["executorLabel"]
            if "importer" in spec["deploymentSpec"]["executors"][executor]:
                continue
            assert task.get("cachingOptions") == {}, name  # enableCache left out: false


def test_decorator_settings_reach_the_compiled_pipeline():
    spec, _ = compiled("decorators")
    tasks = _tasks(spec)
    assert tasks["start"]["retryPolicy"]["maxRetryCount"] == 2
    assert tasks["start"]["retryPolicy"]["backoffDuration"] == "0s"
    resources = _container(spec, tasks["compute"])["resources"]
    assert resources["resourceCpuRequest"] == resources["resourceCpuLimit"] == "1"
    assert resources["resourceMemoryRequest"] == resources["resourceMemoryLimit"] == "512M"
    assert _container(spec, tasks["configure"])["env"] == [{"name": "MODE", "value": "test"}]
    assert all(_container(spec, t)["image"] == "python:3.11" for t in tasks.values())
    code = converted("decorators", "kfp").code
    assert 'cron_expression="0 0 6 * * *"' in code  # @schedule: a recurring run, six fields
    todos = [line for line in code.splitlines() if "TODO(transpile)" in line]
    assert any("@timeout" in t for t in todos)
    assert "except Exception as exception:  # noqa: BLE001 - @catch" in code  # in the body
    codes = {d.code for d in converted("decorators", "kfp").diagnostics}
    assert {"TP201", "TP202"} <= codes


def test_remote_decorator_settings_reach_the_compiled_pipeline():
    spec, _ = compiled("decorators_remote")
    tasks = _tasks(spec)
    memory = {
        name: _container(spec, tasks[name])["resources"]["resourceMemoryLimit"]
        for name in ("start", "on-batch")
    }
    assert memory == {"start": "1024M", "on-batch": "2048M"}
    with_pypi = " ".join(_container(spec, tasks["with-pypi"])["command"])
    assert "tabulate==0.9.0" in with_pypi and "requests==2.32.3" in with_pypi
    assert "six==1.16.0" in " ".join(_container(spec, tasks["with-conda"])["command"])
    assert {_container(spec, t)["image"] for t in tasks.values()} == {"python:3.11"}
