"""``transpile verify``: convert a pipeline, run the source in its framework and the conversion in
the target framework, and compare what both runs expose, value by value and type-strictly.

The source runs twice by default (at the same time as the target): a value the two source runs
disagree on (randomness, the clock) is *unstable*, shown, and left out of the verdict. The only
differences accepted are those the conversion itself reports, each named by its diagnostic: a
tuple result the target returns as a list (TP220), an exception ``@catch`` keeps as its text
(TP201).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from transpile import frameworks
from transpile.api import Converted, Failed, Skipped, convert_file, write
from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Map, Pipeline, Ref, Result, Switch, Task, walk

from .runs import (
    FINALS_FILE,
    HIDDEN_FILE,
    RunFailed,
    airflow_results,
    run_airflow,
    run_flyte,
    run_kfp,
    run_metaflow,
    stage,
)
from .values import Normalized, diff

# each framework's module name in a working folder: never the name of a package it imports
MODULES = {
    "metaflow": "mf_flow.py",
    "flyte": "flyte_workflow.py",
    "kfp": "kfp_pipeline.py",
    "airflow": "af_dag.py",
}
RUNNERS = {"metaflow": "metaflow", "flyte": "flytekit", "kfp": "kfp", "airflow": "airflow"}
STAGE_LIMIT = 200 * 1024 * 1024  # bytes beside the source copied into each working folder
INSTALL = "pip install 'transpile[verify]'"

Verdict = Literal["same", "differs", "error"]
# calls whose results change from run to run: two source runs that agree by chance hide them
CHANCE = re.compile(
    r"\b(random\.\w+|np\.random|numpy\.random|uuid\.uuid\d|time\.time|datetime\.now"
    r"|datetime\.utcnow|os\.urandom|secrets\.\w+)\b"
)


@dataclass(frozen=True)
class Compared:
    """One value both runs were asked for: its forms on each side (None when absent) and why it
    counts as it does."""

    name: str
    status: Literal["same", "differs", "only-source", "only-target", "unstable", "accepted"]
    source: Normalized = None
    target: Normalized = None
    note: str = ""


@dataclass(frozen=True)
class Verification:
    path: str
    source: str  # framework names
    target: str
    verdict: Verdict
    params: dict[str, Any] = field(default_factory=dict)
    values: tuple[Compared, ...] = ()
    error: str = ""  # for "error": which side could not run, and the error it ended with
    details: str = ""  # for "error": the command, folder and output tails
    diagnostics: tuple[Diagnostic, ...] = ()  # the conversion's
    source_runs: int = 0
    chance: str = ""  # what in the source may make its results change between runs
    # a KFP pipeline with no outputs: the final tasks' outputs compared instead ("step.output")
    final_tasks: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # how a run differed from the code as written, and why

    @property
    def exit_code(self) -> int:
        return {"same": 0, "differs": 1, "error": 2}[self.verdict]


class VerifyError(Exception):
    """Verify cannot start: a missing framework, a parameter it cannot read, a refused file."""


class NothingToVerify(VerifyError):
    """The file holds no pipeline, or one already in the target framework (a batch skips it)."""


# ---------------------------------------------------------------------------------------------
# Comparing two runs
# ---------------------------------------------------------------------------------------------


def compare(
    expected: dict[str, Normalized],
    actual: dict[str, Normalized],
    diagnostics: tuple[Diagnostic, ...] | list[Diagnostic],
    target: str,
    unstable: frozenset[str] = frozenset(),
) -> list[Compared]:
    """Each name either run exposes, compared. A Metaflow target's end step also shows the
    intermediate artifacts a Metaflow user sees: only the source's names are compared there."""
    expected = with_reported_losses(expected, diagnostics)
    expected = with_reported_names(expected, diagnostics)
    expected = with_catch_as_text(expected, diagnostics, actual)
    if target == "metaflow":
        actual = {k: v for k, v in actual.items() if k in expected}
    tuples = _reported(diagnostics, "TP220")
    compared = []
    for name in sorted(expected.keys() | actual.keys()):
        left, right = expected.get(name), actual.get(name)
        if name in unstable:
            compared.append(
                Compared(
                    name, "unstable", left, right, "changed between the source's runs: not compared"
                )
            )
        elif name not in actual:
            compared.append(Compared(name, "only-source", left))
        elif name not in expected:
            compared.append(Compared(name, "only-target", None, right))
        elif left != right:
            compared.append(Compared(name, "differs", left, right))
        elif name in tuples:
            compared.append(Compared(name, "accepted", left, right, "a tuple as a list (TP220)"))
        else:
            compared.append(Compared(name, "same", left, right))
    return compared


def _reported(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], code: str) -> set[str]:
    return {d.message.split("'")[1] for d in diagnostics if d.code == code and "'" in d.message}


def with_reported_names(
    expected: dict[str, Normalized], diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]
) -> dict[str, Normalized]:
    """The source's results under the names the conversion says the target gives them (TP254:
    an artifact ``_v`` is the result ``v``)."""
    renames = {}
    for d in diagnostics:
        if d.code == "TP254" and d.message.count("'") >= 4:
            old, new = d.message.split("'")[1], d.message.split("'")[3]
            renames[old] = new
    return {renames.get(k, k): v for k, v in expected.items()}


def with_reported_losses(
    expected: dict[str, Normalized], diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]
) -> dict[str, Normalized]:
    """The source's results as the conversion says the target returns them: a tuple the target
    returns as a list, where a TP220 diagnostic names it."""
    adjusted = dict(expected)
    for name in _reported(diagnostics, "TP220"):
        value = adjusted.get(name)
        if isinstance(value, dict) and "tuple" in value:
            adjusted[name] = {"list": value["tuple"]}
    return adjusted


WRAPPER = "metaflow.exception.MetaflowExceptionWrapper"


def with_catch_as_text(
    expected: dict[str, Normalized],
    diagnostics: tuple[Diagnostic, ...] | list[Diagnostic],
    actual: dict[str, Normalized],
) -> dict[str, Normalized]:
    """Metaflow's results as the conversion says the target has them: where a TP201 note says
    @catch keeps the exception as its text, Metaflow's MetaflowExceptionWrapper is that text
    (``module.Type: message``), and an artifact a failed step never set (absent in Metaflow) is
    None."""
    if not any(d.code == "TP201" and "@catch" in d.message for d in diagnostics):
        return expected
    unset = {k: None for k, v in actual.items() if v is None and k not in expected}

    def text(value: Any) -> Any:
        if isinstance(value, dict) and value.get("object", [None])[0] == WRAPPER:
            fields = {k["str"]: v.get("str") for k, v in value["object"][1]["dict"]}
            return {"str": f"{fields['type']}: {fields['exception']}"}
        if isinstance(value, dict):
            return {k: text(v) for k, v in value.items()}
        if isinstance(value, list):
            return [text(v) for v in value]
        return value

    return {**text(expected), **unset}


def verdict_of(values: list[Compared]) -> Verdict:
    bad = {"differs", "only-source", "only-target"}
    return "differs" if any(c.status in bad for c in values) else "same"


def explain(values: list[Compared] | tuple[Compared, ...], labels: tuple[str, str]) -> str:
    """One readable entry per value that differs (empty if none does)."""
    expected = {c.name: c.source for c in values if c.status in ("differs", "only-source")}
    actual = {c.name: c.target for c in values if c.status in ("differs", "only-target")}
    return diff(expected, actual, labels)


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


def typed_params(pipeline: Pipeline, given: dict[str, str]) -> dict[str, Any]:
    """``-p NAME=TEXT`` values as the pipeline's parameters take them: by the parameter's type
    (int, float, bool, str), JSON for a JSON parameter or a container type, else JSON if the text
    is JSON, else the text."""
    declared = {p.name: p for p in pipeline.parameters}
    values = {}
    for name, text in given.items():
        param = declared.get(name)
        if param is None:
            known = ", ".join(sorted(declared)) or "none"
            raise VerifyError(f"no parameter {name!r} (parameters: {known})")
        values[name] = _typed(name, param.type.expr, param.kind, text)
    return values


def _typed(name: str, kind: str, how: str, text: str) -> Any:
    try:
        if kind == "bool":
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError(f"{text!r} is not true or false")
            return text.lower() in ("true", "1")
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "str" and how != "json":
            return text
        if how == "json" or kind.startswith(("list", "dict", "tuple")):
            return json.loads(text)
    except ValueError as exc:
        raise VerifyError(f"parameter {name}: {exc}") from None
    try:
        return json.loads(text)
    except ValueError:
        return text


def target_params(converted: Converted, target: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters as the target takes them: Metaflow renames a parameter whose name it
    reserves (TP230)."""
    if target != "metaflow":
        return params
    from transpile.frameworks.metaflow.writer.names import FlowNames

    names = FlowNames(converted.pipeline, [])
    return {names.option(k) if k in names.params else k: v for k, v in params.items()}


# ---------------------------------------------------------------------------------------------
# Running both sides
# ---------------------------------------------------------------------------------------------


def missing_frameworks(*names: str) -> list[str]:
    """The packages of ``names`` this Python cannot import (looked up, never imported)."""
    return [RUNNERS[n] for n in names if importlib.util.find_spec(RUNNERS[n]) is None]


def entry_function(text: str, line: int) -> str:
    """The name of the function defined at ``line`` of ``text`` (a pipeline's span starts at its
    decorator or its ``def``)."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if first <= line <= (node.end_lineno or node.lineno):
                return node.name
    return ""


@dataclass(frozen=True)
class Side:
    """One run: a framework, a module text to run, and what to call in it."""

    framework: str
    code: str
    entry: str  # Metaflow: the flow class; Flyte, KFP: the function ("" for the last one);
    # Airflow: the dag_id, or that id as an identifier ("" for the file's only DAG)
    params: dict[str, Any]
    module: str = ""  # where the code goes in the working folder (default: MODULES)
    # a KFP run also reports these tasks' outputs: (result name, step, output)
    finals: tuple[tuple[str, str, str], ...] = ()
    # a Metaflow run also reports these artifacts, whose leading underscore would hide them
    hidden: tuple[str, ...] = ()

    def run(self, folder: Path, workdir: Path, skip: frozenset[str], cache: bool, timeout: float):
        # a package is copied as itself, so the module's relative imports find their siblings
        package = (folder / "__init__.py").is_file()
        stage(folder, workdir / folder.name if package else workdir, skip)
        if self.finals:
            (workdir / FINALS_FILE).write_text(json.dumps(self.finals), encoding="utf-8")
        if self.framework == "metaflow" and self.hidden:
            (workdir / HIDDEN_FILE).write_text(json.dumps(self.hidden), encoding="utf-8")
        module = workdir / (self.module or MODULES[self.framework])
        module.write_text(self.code, encoding="utf-8")
        if self.framework == "metaflow":
            return run_metaflow(module, self.entry, self.params, timeout, cache=cache)
        if self.framework == "airflow":
            return run_airflow(module, self.params, module.parent, timeout, self.entry, cache)
        runner = run_flyte if self.framework == "flyte" else run_kfp
        return runner(module, self.params, workdir, timeout, self.entry, cache=cache)


def package_of(source: Path) -> tuple[Path, str]:
    """The folder copied beside each run, and where the source goes in the working folder: the
    source's folder and its module name there, or, for a module of a package (its folder has an
    ``__init__.py``), the top package and the source's own path under it."""
    top = source.parent
    if not (top / "__init__.py").is_file():
        return top, ""
    while (top.parent / "__init__.py").is_file():
        top = top.parent
    return top, source.relative_to(top.parent).as_posix()


def stage_skips(folder: Path, source: Path, packaged: bool = False) -> frozenset[str]:
    """What is not copied beside a run: hidden entries; outside a package, the source itself (it
    runs under its module name) and files named like a package a run imports (``kfp.py`` would
    shadow kfp)."""
    hidden = {p.name for p in folder.iterdir() if p.name.startswith(".")}
    if packaged:  # nothing in a package is on sys.path by its own name
        return frozenset(hidden)
    shadows = {f"{root}.py" for fw in frameworks.registry().values() for root in fw.import_roots}
    shadows |= {"flyte.py", "transpile.py", "transpile"}
    return frozenset({source.name, *shadows, *hidden, *MODULES.values()})


def _folder_size(folder: Path, skip: frozenset[str]) -> int:
    total = 0
    for item in folder.iterdir():
        if item.name in skip or item.is_symlink():
            continue
        paths = [item] if item.is_file() else item.rglob("*")
        total += sum(p.stat().st_size for p in paths if p.is_file() and not p.is_symlink())
        if total > STAGE_LIMIT:
            break
    return total


def verify_file(
    path: str,
    target: str,
    *,
    source: str = "auto",
    entry: str | None = None,
    params: dict[str, Any] | None = None,
    text_params: dict[str, str] | None = None,
    source_runs: int = 2,
    timeout: float = 600.0,
    workdir: Path | None = None,
    folder: Path | None = None,
    skip: frozenset[str] | None = None,
    cache: bool = False,
) -> Verification:
    """Convert ``path`` to ``target``, run both, compare. Raises VerifyError when it cannot start;
    a run that fails is a Verification with verdict "error".

    ``folder`` (the source's folder by default) is copied beside each run, without ``skip``;
    ``workdir`` (a temporary folder, removed afterwards, by default) holds the runs.
    """
    converted = convert_file(path, target, source, entry)
    if isinstance(converted, Skipped):
        raise NothingToVerify(converted.reason)
    if isinstance(converted, Failed) and converted.diagnostics[0].code == "TP006":
        raise NothingToVerify(converted.diagnostics[0].message)
    if not isinstance(converted, Converted):
        raise VerifyError(f"cannot convert: {converted.reason}")
    pipeline = converted.pipeline
    missing = missing_frameworks(pipeline.framework, target)
    if missing:
        raise VerifyError(f"verify needs {', '.join(missing)} installed: {INSTALL}")
    declared = {p.name for p in pipeline.parameters}
    unknown = sorted(set(params or {}) - declared)
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise VerifyError(f"no parameter {unknown[0]!r} (parameters: {known})")
    values = dict(params or {})
    values.update(typed_params(pipeline, text_params or {}))
    required = [p.name for p in pipeline.parameters if p.required and p.name not in values]
    if required:
        given = " ".join(f"-p {name}=VALUE" for name in required)
        raise VerifyError(f"parameter {required[0]!r} has no default: give it ({given})")
    source_path = Path(path).resolve()
    module = ""
    if folder is None:
        folder, module = package_of(source_path)
    skip = skip if skip is not None else stage_skips(folder, source_path, bool(module))
    if workdir is not None and Path(workdir).resolve() == folder:
        raise VerifyError(f"--workdir {workdir}: the runs need a folder of their own")
    if workdir is not None and Path(workdir).resolve().is_relative_to(folder):
        # --workdir inside the folder copied into it: never copied into itself
        inside = Path(workdir).resolve().relative_to(folder).parts
        skip = skip | set(inside[:1])
    if _folder_size(folder, skip) > STAGE_LIMIT:
        raise VerifyError(
            f"the folder beside {path} holds more than {STAGE_LIMIT // 2**20} MB; verify copies it "
            "for every run: move the pipeline into a smaller folder"
        )
    text = source_path.read_text(encoding="utf-8")
    source_entry = pipeline.name
    if pipeline.framework == "airflow":
        source_entry = entry or pipeline.name
    elif pipeline.framework != "metaflow":
        source_entry = entry or entry_function(text, pipeline.span.line)
    finals = final_results(pipeline) if pipeline.framework == "kfp" else ()
    code = converted.code
    if finals:  # the same conversion, returning the final tasks' outputs as its results
        code = write(target, replace(pipeline, results=finals))[0]
    spots = tuple((r.name, r.refs[0].source, r.refs[0].name) for r in finals)
    hidden = tuple(r.name for r in pipeline.results if r.name.startswith("_"))
    sides = [Side(pipeline.framework, text, source_entry, values, module, spots, hidden)]
    sides *= max(source_runs, 1)
    target_entry = pipeline.name if target == "metaflow" else ""
    notes: tuple[str, ...] = ()
    if target == "metaflow":
        code, dropped = without_environments(code)
        if dropped:
            note = (
                f"the conversion's {', '.join(dropped)} steps ran in this environment (a local "
                "run, as the source's did), not in the environment the decorator builds"
            )
            notes = (note,)
    sides.append(Side(target, code, target_entry, target_params(converted, target, values)))
    own = workdir is None
    root = Path(tempfile.mkdtemp(prefix="transpile-verify-")) if own else Path(workdir)
    try:
        found = _verify(converted, sides, root, folder, skip, cache, timeout, values)
        return replace(found, notes=notes) if notes else found
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)


STAGGER = 1.1  # seconds between the first source run's end and the next one's start
ENVIRONMENTS = {"pypi", "conda", "pypi_base", "conda_base"}


def without_environments(code: str) -> tuple[str, list[str]]:
    """A Metaflow module without its ``@pypi`` / ``@conda`` decorators (a local run needs
    ``--environment=pypi`` and a package index for them), and the decorators taken out."""
    tree = ast.parse(code)
    spans, dropped = [], []
    for node in ast.walk(tree):
        for decorator in getattr(node, "decorator_list", ()):
            called = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(called, ast.Name) and called.id in ENVIRONMENTS:
                spans.append((decorator.lineno, decorator.end_lineno or decorator.lineno))
                dropped.append(f"@{called.id}")
    if not spans:
        return code, []
    lines = code.splitlines(keepends=True)
    gone = {n for first, last in spans for n in range(first, last + 1)}
    return "".join(t for n, t in enumerate(lines, 1) if n not in gone), sorted(set(dropped))


def final_results(pipeline: Pipeline) -> tuple[Result, ...]:
    """A KFP pipeline that returns nothing is judged by its final tasks: the outputs of the steps
    no other step reads from, outside loops and conditions, each as a result ``<step>_<output>``
    (none when the pipeline has outputs of its own)."""
    if pipeline.results:
        return ()
    read = {
        r.source for s in pipeline.steps for i in s.inputs for r in i.refs if r.kind == "output"
    }
    nested = {
        t.step
        for n in walk(pipeline.flow)
        if isinstance(n, Map | Switch)
        for t in walk(n)
        if isinstance(t, Task)
    }
    taken = {p.name for p in pipeline.parameters} | {s.name for s in pipeline.steps}
    found = []
    for step in pipeline.steps:
        if step.name in read or step.name in nested or step.role != "task":
            continue
        for output in step.outputs:
            name = f"{step.name}_{output.name}"
            if name.isidentifier() and name not in taken:
                found.append(Result(name, output.type, (Ref("output", step.name, output.name),)))
    return tuple(found)


def _by_result_name(
    values: dict[str, Normalized], pipeline: Pipeline, framework: str, target: bool = False
) -> dict[str, Normalized]:
    """A KFP pipeline that returns one value exposes it as ``Output``: the name of the
    pipeline's one result, as the other frameworks call it. An Airflow run exposes its tasks'
    XComs: those of the pipeline's results (the final tasks' return values), by result name."""
    if framework == "airflow":
        return airflow_results(values, pipeline, written=target)
    if framework == "kfp" and set(values) == {"Output"} and len(pipeline.results) == 1:
        return {pipeline.results[0].name: values["Output"]}
    return values


def _verify(
    converted: Converted,
    sides: list[Side],
    root: Path,
    folder: Path,
    skip: frozenset[str],
    cache: bool,
    timeout: float,
    params: dict[str, Any],
) -> Verification:
    *sources, target = sides
    names = [f"source-{i + 1}" for i in range(len(sources))] + ["target"]

    first_done = threading.Event()

    def job(i: int) -> Callable[[], dict[str, Normalized]]:
        # repeated source runs never come from the cache, and start once the first has ended
        # (the target runs beside it): a value that depends on when the run happens (a
        # shell's `date`, to the second) then changes between them instead of agreeing by
        # running at the same moment
        side, workdir = sides[i], root / names[i]
        cached = cache and i in (0, len(sides) - 1)

        def run() -> dict[str, Normalized]:
            if 0 < i < len(sides) - 1:
                first_done.wait()
                time.sleep(STAGGER)
            try:
                return side.run(folder, workdir, skip, cached, timeout)
            finally:
                if i == 0:
                    first_done.set()

        return run

    order = [len(sides) - 1, *range(len(sources))]
    base = Verification(
        converted.path,
        converted.pipeline.framework,
        target.framework,
        "error",
        params,
        diagnostics=converted.diagnostics,
        source_runs=len(sources),
    )
    results: dict[int, dict[str, Normalized]] = {}
    failures: dict[int, RunFailed] = {}
    with ThreadPoolExecutor(max_workers=len(sides)) as pool:
        futures = {i: pool.submit(job(i)) for i in order}
        for i, future in futures.items():
            try:
                results[i] = future.result()
            except RunFailed as exc:
                failures[i] = exc
    if failures:  # a source that cannot run explains a target that cannot either
        i = min(failures)
        side = "target" if i == len(sides) - 1 else "source"
        error = f"the {side} ({sides[i].framework}): {failures[i].headline}"
        return replace(base, error=error, details=failures[i].details)
    results = {
        i: _by_result_name(r, converted.pipeline, sides[i].framework, i == len(sides) - 1)
        for i, r in results.items()
    }
    finals = sides[0].finals
    if finals:  # compared where the source run found the task (kfp names its folders)
        results[len(sides) - 1] = {
            k: v for k, v in results[len(sides) - 1].items() if k in results[0]
        }
        base = replace(base, final_tasks=tuple(f"{step}.{output}" for _, step, output in finals))
    first = results[0]
    unstable = frozenset(
        name
        for i in range(1, len(sources))
        for name in first
        if results[i].get(name) != first[name]
    )
    values = compare(
        first, results[len(sides) - 1], converted.diagnostics, target.framework, unstable
    )
    verdict = verdict_of(values)
    found = CHANCE.findall(sides[0].code) if verdict == "differs" else []
    chance = ", ".join(sorted(set(found)))
    return replace(base, verdict=verdict, values=tuple(values), chance=chance)
