"""Running a pipeline in its own framework, locally, and collecting its normalized results.

Each run is a subprocess (``sys.executable``) with HOME, TMPDIR and every framework store inside
its working folder, so the calling process never imports metaflow, flytekit or kfp and two runs
never share state. The child (``child.py``) normalizes what the run produced and hands it back as
JSON in a file (stdout belongs to the user's code).

What a run exposes: Metaflow, the artifacts of ``end`` as its Client API reads them (without the
Parameters and class constants Metaflow stores in every task); Flyte, the entry workflow's
outputs; KFP, the entry pipeline's outputs under ``kfp.local``; Airflow, the XComs each task of
the ``airflow dags test`` run pushed (``check.py`` keeps those of the DAG's final tasks).

With ``$TRANSPILE_METAFLOW_CACHE`` set to a folder (the test suite sets it once per session),
a run whose working folder holds the same files, with the same entry and parameters, runs once,
and Airflow's migrated database is made once per session (else once per process) and copied.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import pickle
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from .values import Normalized, normalize

METAFLOW_TIMEOUT = float(os.environ.get("TRANSPILE_METAFLOW_TIMEOUT", "600"))
FLYTE_TIMEOUT = float(os.environ.get("TRANSPILE_FLYTE_TIMEOUT", "300"))
KFP_TIMEOUT = float(os.environ.get("TRANSPILE_KFP_TIMEOUT", "600"))
AIRFLOW_TIMEOUT = float(os.environ.get("TRANSPILE_AIRFLOW_TIMEOUT", "600"))
AIRFLOW_DB = "airflow.db"
CACHE_ENV = "TRANSPILE_METAFLOW_CACHE"  # a folder every process of a test session shares
RESULT_FILE = "result.json"
PARAMS_FILE = "params.json"
# (result name, step, output) of the final tasks a KFP run reports too (child.final_outputs)
FINALS_FILE = "final-tasks.json"
# user artifacts with a leading underscore a Metaflow run reports too (child._read_metaflow)
HIDDEN_FILE = "hidden-artifacts.json"
KFP_ROOT = ".kfp-root"  # kfp.local's pipeline root: hidden, so never a staged user folder
TAIL_CHARS = 6000
# what a run writes into its working folder: never part of what identifies the run
_RUN_STATE = frozenset(
    {"home", "tmp", ".metaflow", KFP_ROOT, "run_id", ".airflowignore", RESULT_FILE, PARAMS_FILE}
)
_RUN_STATE |= {FINALS_FILE}
# __main__ stays a blank module: the child gives it the flow module's names (Metaflow unpickles
# artifacts whose classes the flow script defined as __main__.X), so none of its own may be there
_BOOTSTRAP = "import sys; from transpile.verify.child import main; main(sys.argv[1:])"
_CODE = [Path(__file__).with_name(name) for name in ("runs.py", "child.py", "values.py")]


class RunFailed(Exception):
    """A run that failed, hung or produced nothing: ``headline`` is one line, ``details`` the
    command, folder and the tails of its output."""

    def __init__(self, headline: str, details: str = ""):
        super().__init__(f"{headline}\n{details}" if details else headline)
        self.headline = headline
        self.details = details


# ---------------------------------------------------------------------------------------------
# Working folders and processes
# ---------------------------------------------------------------------------------------------


def stage(folder: Path | str, workdir: Path | str, skip: Collection[str] = ()) -> None:
    """Copy ``folder``'s files and folders into ``workdir``, except the names in ``skip`` and
    ``__pycache__``: the data files and helper modules a pipeline finds beside it."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    for item in sorted(Path(folder).iterdir()):
        if item.name in skip or item.name == "__pycache__":
            continue
        if item.is_dir():
            shutil.copytree(item, workdir / item.name, dirs_exist_ok=True, symlinks=True)
        else:
            shutil.copy2(item, workdir / item.name)


def isolated_env(workdir: Path) -> dict[str, str]:
    """The parent's environment without framework settings, with HOME and stores in ``workdir``."""
    prefixes = ("METAFLOW_", "FLYTE_", "AIRFLOW_", "AIRFLOW__")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    home, tmp = workdir / "home", workdir / "tmp"
    airflow_home = home / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(parents=True, exist_ok=True)
    env.update(
        USER="transpile",
        USERNAME="transpile",
        HOME=str(home),  # Flyte's local cache is ~/.flyte/local-cache
        TMPDIR=str(tmp),  # Flyte's sandbox and Metaflow's temporary files
        METAFLOW_HOME=str(home / ".metaflowconfig"),
        METAFLOW_DEFAULT_METADATA="local",
        METAFLOW_DEFAULT_DATASTORE="local",
        METAFLOW_DATASTORE_SYSROOT_LOCAL=str(workdir / ".metaflow"),
        # Same string hashing in every run, so set iteration order cannot make two differ by chance.
        PYTHONHASHSEED="0",
        FLYTE_SDK_RICH_TRACEBACKS="0",  # plain tracebacks: boxes wrap the message in failure tails
        # Airflow: its home, sqlite database and logs in HOME; the working folder is the dags folder
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{airflow_home / AIRFLOW_DB}",
        AIRFLOW__CORE__DAGS_FOLDER=str(workdir),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX="glob",  # .airflowignore as written here
    )
    return env


def run_process(
    cmd: list[str], cwd: Path, timeout: float, what: str, env: dict[str, str] | None = None
) -> tuple[str, str]:
    """Run ``cmd`` in ``cwd`` (with ``env``, else ``isolated_env(cwd)``); its stdout and stderr,
    or RunFailed if it fails or hangs."""
    proc = _completed(cmd, cwd, timeout, what, env)
    if proc.returncode != 0:
        raise _failed(what, proc, cwd)
    return proc.stdout, proc.stderr


def _completed(
    cmd: list[str], cwd: Path, timeout: float, what: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``cmd`` run in ``cwd`` to its end, whatever its exit code; RunFailed if it hangs."""
    try:
        return subprocess.run(
            cmd,
            check=False,
            cwd=cwd,
            env=env or isolated_env(cwd),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        out, err = _text(exc.stdout), _text(exc.stderr)
        raise RunFailed(
            f"{what} timed out after {timeout:g}s", _details(cmd, cwd, out, err)
        ) from None


def _failed(what: str, proc: subprocess.CompletedProcess[str], cwd: Path) -> RunFailed:
    """The RunFailed of ``proc``, which exited non-zero: ``what`` failed, with the error its
    output ended with."""
    headline = f"{what} failed (exit {proc.returncode}): {error_line(proc.stdout, proc.stderr)}"
    return RunFailed(headline, _details(proc.args, cwd, proc.stdout, proc.stderr))


# Metaflow prefixes each line a task prints: "2026-12-05 12:00:00.000 [run/step/task (pid N)] "
_TASK_PREFIX = re.compile(r"^(\d{4}-\d\d-\d\d [\d:.]+ )?(\[[^\]]*\] )?")
_EXCEPTION = re.compile(
    r"^([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Failure|Warning)|[A-Z]\w*Error)\b:?"
)


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def error_line(stdout: str, stderr: str) -> str:
    """The error a failed run ended with: the last ``SomeError: message`` line of its stderr,
    else of its stdout (Metaflow prints a task's traceback there, each line prefixed), else the
    last unindented line of stderr."""
    stdout, stderr = _ANSI.sub("", stdout), _ANSI.sub("", stderr)  # kfp.local colours names
    for text in (stderr, stdout):
        found = [
            line
            for line in (_TASK_PREFIX.sub("", raw).strip() for raw in text.splitlines())
            if _EXCEPTION.match(line)
        ]
        if found:
            return found[-1][:300]
    return last_line(stderr)


def last_line(text: str) -> str:
    """The last line of the output, with its heading when it is the second line of a message
    (Metaflow's validation prints ``Incompatible environment:`` and then the reason, both
    indented, after ``Validating your flow...``)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "(no output on stderr)"
    if len(lines) > 1 and lines[-2].endswith(":"):
        return f"{lines[-2]} {lines[-1]}"[:300]
    return lines[-1][:300]


def _text(output: str | bytes | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


def _tail(text: str) -> str:
    return text if len(text) <= TAIL_CHARS else "…" + text[-TAIL_CHARS:]


def _details(cmd: list[str], cwd: Path, out: str, err: str) -> str:
    return (
        f"  cwd: {cwd}\n  cmd: {' '.join(cmd).replace(_BOOTSTRAP, '<transpile.verify.child>')}\n"
        f"--- stdout (tail) ---\n{_tail(out)}\n--- stderr (tail) ---\n{_tail(err)}"
    )


def _child(args: list[str], cwd: Path, timeout: float, what: str) -> dict[str, Normalized]:
    """Run ``child.py`` in ``cwd`` with ``args``; the results it wrote."""
    result = cwd / RESULT_FILE
    result.unlink(missing_ok=True)
    cmd = [sys.executable, "-c", _BOOTSTRAP, *args, str(result)]
    run_process(cmd, cwd, timeout, what)
    if not result.is_file():
        raise RunFailed(f"{what} wrote no results")
    return json.loads(result.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# One run per working folder, entry and parameters
# ---------------------------------------------------------------------------------------------


def _cache_entry(workdir: Path, key: list[Any]) -> Path | None:
    """The cache file of a run: the runner's code, every file in ``workdir`` and ``key``."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        return None
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in _CODE))
    for path in sorted(p for p in workdir.rglob("*") if p.is_file()):
        relative = path.relative_to(workdir)
        if "__pycache__" in relative.parts or relative.parts[0] in _RUN_STATE:
            continue
        digest.update(str(relative).encode() + b"\0" + path.read_bytes())
    digest.update(json.dumps(key, sort_keys=True, default=repr).encode())
    return Path(root) / f"{key[0]}-{digest.hexdigest()}.json"


def _once(entry: Path | None, run: Callable[[], dict[str, Normalized]]) -> dict[str, Normalized]:
    """``run()``, or the result an earlier call with the same cache ``entry`` stored."""
    if entry is None:
        return run()
    entry.parent.mkdir(parents=True, exist_ok=True)
    with open(entry.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second process waits here, then reads the entry
        if entry.is_file():
            return json.loads(entry.read_text(encoding="utf-8"))
        result = run()
        partial = entry.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(result), encoding="utf-8")
        partial.replace(entry)  # atomic: readers never see half an entry
        return result


# ---------------------------------------------------------------------------------------------
# Metaflow
# ---------------------------------------------------------------------------------------------


def metaflow_cli_value(value: Any) -> str:
    """How a Python value is written on Metaflow's command line (checked against metaflow 2.19).

    str as is; bool as true/false (click's BOOL); int as digits; float by repr (round-trips
    exactly); anything else (list, dict: the values of JSONType parameters) as JSON.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if value is None:
        raise ValueError(
            "None cannot be passed on Metaflow's command line: leave the parameter out"
        )
    return json.dumps(value)


def metaflow_cli_args(params: dict[str, Any]) -> list[str]:
    # --name=value, so a value that starts with '-' (or is empty) is never read as an option.
    return [f"--{name}={metaflow_cli_value(value)}" for name, value in params.items()]


def run_metaflow(
    flow_file: Path | str,
    flow_class: str,
    params: dict[str, Any],
    timeout: float = METAFLOW_TIMEOUT,
    cache: bool = True,
) -> dict[str, Normalized]:
    """Run the flow in ``flow_file`` (its folder is the working folder) with ``params``; the
    normalized artifacts of its end step.

    Left out: Parameters (IncludeFiles and Configs too) and class-level constants, which Metaflow
    stores as artifacts of every task; the artifact ``name``; names starting with ``_``. The file
    must not be named ``metaflow.py``: the script's folder comes first on sys.path.
    """
    flow_file = Path(flow_file).resolve()
    workdir = flow_file.parent
    key = ["metaflow", flow_file.name, flow_class, params]
    entry = _cache_entry(workdir, key) if cache else None
    return _once(entry, lambda: _run_metaflow(flow_file, flow_class, params, timeout))


def _run_metaflow(
    flow_file: Path, flow_class: str, params: dict[str, Any], timeout: float
) -> dict[str, Normalized]:
    workdir = flow_file.parent
    (workdir / ".metaflow").mkdir(exist_ok=True)
    run_id_file = workdir / "run_id"
    run_id_file.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        flow_file.name,
        "--no-pylint",
        "run",
        f"--run-id-file={run_id_file}",
        *metaflow_cli_args(params),
    ]
    output = run_process(cmd, workdir, timeout, f"metaflow run of {flow_class}")
    if not run_id_file.is_file():
        raise RunFailed(
            f"metaflow run of {flow_class} exited 0 but started no run (is there an "
            f"`if __name__ == '__main__': {flow_class}()` block?)",
            _details(cmd, workdir, *output),
        )
    run_id = run_id_file.read_text().strip()
    return _child(
        ["metaflow", flow_file.name, flow_class, run_id],
        workdir,
        timeout,
        f"reading back metaflow run {flow_class}/{run_id}",
    )


# ---------------------------------------------------------------------------------------------
# Flyte and KFP
# ---------------------------------------------------------------------------------------------


def run_flyte(
    module_path: Path | str,
    params: dict[str, Any],
    workdir: Path | str | None = None,
    timeout: float = FLYTE_TIMEOUT,
    entry: str | None = None,
    cache: bool = True,
) -> dict[str, Normalized]:
    """Import the Flyte module and call its entry workflow (``entry``, else the last @workflow)
    with ``params``; its normalized outputs, by output name (NamedTuple fields, else o0, o1...).

    The child runs in ``workdir`` (the module's folder by default) and imports the module from
    its own folder. ``cache=False``: never from (nor into) the cache.
    """
    return _run_module("flyte", module_path, params, workdir, timeout, entry, cache)


def run_kfp(
    module_path: Path | str,
    params: dict[str, Any],
    workdir: Path | str | None = None,
    timeout: float = KFP_TIMEOUT,
    entry: str | None = None,
    cache: bool = True,
) -> dict[str, Normalized]:
    """Run the module's entry pipeline (``entry``, else the last ``@dsl.pipeline``) under
    kfp.local with ``params``; its normalized outputs.

    The child uses ``local.SubprocessRunner(use_venv=False)``: every task is a subprocess running
    the component text KFP ships, so a component that needs a module-level name it does not carry
    fails. Outputs that are artifacts are read back with the module's own ``load_value``.
    """
    return _run_module("kfp", module_path, params, workdir, timeout, entry, cache)


def _run_module(
    mode: str,
    module_path: Path | str,
    params: dict[str, Any],
    workdir: Path | str | None,
    timeout: float,
    entry: str | None,
    cache: bool,
) -> dict[str, Normalized]:
    module_path = Path(module_path).resolve()
    workdir = Path(workdir).resolve() if workdir is not None else module_path.parent
    workdir.mkdir(parents=True, exist_ok=True)
    params_file = workdir / PARAMS_FILE
    params_file.write_text(json.dumps(params), encoding="utf-8")
    folder = module_path.parent
    key = [mode, str(module_path.relative_to(folder)), entry or "", params]
    key.append(hashlib.sha256(module_path.read_bytes()).hexdigest())
    finals = workdir / FINALS_FILE
    if finals.is_file():
        key.append(finals.read_text(encoding="utf-8"))
    runner = "kfp.local" if mode == "kfp" else "flyte"
    return _once(
        _cache_entry(folder, key) if cache else None,
        lambda: _child(
            [mode, str(module_path), str(params_file), entry or ""],
            workdir,
            timeout,
            f"{runner} run of {module_path.name}",
        ),
    )


# ---------------------------------------------------------------------------------------------
# Airflow
# ---------------------------------------------------------------------------------------------

_migrated: dict[str, Path] = {}  # this process's migrated database, when no cache folder is set
_migrating = threading.Lock()
# what `airflow dags reserialize` logs for a file it could not import (it still exits 0)
_IMPORT_FAILED = re.compile(r"Error loading DAG from (?P<file>\S+): (?P<error>.*?)\s+\[airflow")


def airflow_database(timeout: float = AIRFLOW_TIMEOUT) -> Path:
    """An empty Airflow database, migrated: made once per test session in the cache folder
    (``$TRANSPILE_METAFLOW_CACHE``, shared by every xdist worker, under a lock), else once per
    process in a temporary folder. ``airflow db migrate`` takes a few seconds; copying its file,
    none."""
    root = os.environ.get(CACHE_ENV)
    with _migrating:
        if root:
            folder = Path(root) / "airflow-db"
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / "migrate.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                return _migrate(folder, timeout)
        if "db" not in _migrated:
            _migrated["db"] = _migrate(Path(tempfile.mkdtemp(prefix="transpile-airflow-")), timeout)
        return _migrated["db"]


def _migrate(folder: Path, timeout: float) -> Path:
    done = folder / AIRFLOW_DB
    if done.is_file():
        return done
    env = isolated_env(folder)
    run_process(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        folder,
        timeout,
        "airflow db migrate",
        env,
    )
    made = folder / "home" / "airflow" / AIRFLOW_DB
    if not made.is_file():
        raise RunFailed(f"airflow db migrate made no {made}")
    partial = done.with_suffix(f".{os.getpid()}.tmp")
    shutil.copy2(made, partial)
    partial.replace(done)
    return done


def run_airflow(
    module_path: Path | str,
    params: dict[str, Any],
    workdir: Path | str | None = None,
    timeout: float = AIRFLOW_TIMEOUT,
    entry: str | None = None,
    cache: bool = True,
) -> dict[str, Normalized]:
    """Run the DAG of ``module_path`` (``entry``: its dag_id or that id as an identifier; else the
    file's only DAG) with ``airflow dags test`` and ``params`` as the run's conf; every XCom its
    tasks pushed, by ``task_id|key`` (map_index -1: a mapped task's items are left out).

    The working folder is the dags folder and AIRFLOW_HOME is inside it, with a copy of the
    migrated database; ``airflow dags reserialize`` comes first, as ``dags test`` runs only a
    serialized DAG. Both commands and the read-back run in one child interpreter (``child.py``),
    which saves two imports of Airflow per run.
    """
    module_path = Path(module_path).resolve()
    workdir = Path(workdir).resolve() if workdir is not None else module_path.parent
    if workdir != module_path.parent:
        raise ValueError(f"an Airflow DAG runs from its own folder, not {workdir}")
    key = ["airflow", module_path.name, entry or "", params]
    return _once(
        _cache_entry(workdir, key) if cache else None,
        lambda: _run_airflow(module_path, params, timeout, entry or ""),
    )


def _run_airflow(
    module_path: Path, params: dict[str, Any], timeout: float, entry: str
) -> dict[str, Normalized]:
    workdir = module_path.parent
    env = isolated_env(workdir)
    database = Path(env["AIRFLOW_HOME"]) / AIRFLOW_DB
    database.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(airflow_database(timeout), database)
    xcom_values_as_text(database)
    # the runs' own folders are not part of the DAG bundle, nor the other files copied beside
    # the DAG (a sibling defining the same dag_id, or one that does not import, would stop the
    # run): they stay importable, only Airflow does not parse them for DAGs
    ignored = f"home/\ntmp/\nroot/\n*.py\n!/{module_path.name}\n"
    (workdir / ".airflowignore").write_text(ignored, encoding="utf-8")
    result = workdir / RESULT_FILE
    result.unlink(missing_ok=True)
    args = ["airflow-run", str(module_path), entry, json.dumps(params), str(result)]
    cmd = [sys.executable, "-c", _BOOTSTRAP, *args]
    proc = _completed(cmd, workdir, timeout, "airflow dags reserialize and test", env)
    state = json.loads(result.read_text(encoding="utf-8")) if result.is_file() else {}
    if "dag_id" not in state:
        if proc.returncode != 0:
            raise _failed("airflow dags reserialize", proc, workdir)
        raise _no_dag(state.get("ids", []), module_path, entry, proc.stdout + proc.stderr)
    what = f"airflow dags test {state['dag_id']}"
    if proc.returncode != 0:
        raise _failed(what, proc, workdir)
    if "values" not in state:
        raise RunFailed(f"reading back the XComs of {what} wrote no results")
    return state["values"]


def xcom_values_as_text(database: Path) -> None:
    """Give the ``xcom`` table's ``value`` column (declared ``JSON``) TEXT affinity in the SQLite
    ``database``, as Postgres (JSONB) and MySQL (JSON) keep a value, the metadata databases
    Airflow runs on in production: with SQLite's NUMERIC affinity for ``JSON``, an XCom that is
    one whole-number float (``4.0``, stored as the text ``4.0``) is stored as the integer 4 and
    every task pulling it, and the read-back, sees ``4`` (an int beyond 64 bits becomes a
    float). The table is empty here, so it is made again with the one word changed."""
    with sqlite3.connect(database) as db:
        made = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'xcom'")
        table = made.fetchone()[0]
        text = re.sub(r"\bvalue JSON\b", "value TEXT", table)
        if text == table:
            return
        indexes = db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'xcom'"
            " AND sql IS NOT NULL"
        ).fetchall()
        db.execute("DROP TABLE xcom")
        db.execute(text)
        for (index,) in indexes:
            db.execute(index)


def dag_ids(database: Path, module_path: Path) -> list[str]:
    """The dag_ids the database has for the DAGs ``module_path`` defines."""
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT dag_id, fileloc FROM dag").fetchall()
    return sorted(dag_id for dag_id, fileloc in rows if Path(fileloc).resolve() == module_path)


def choose_dag(ids: list[str], entry: str) -> str | None:
    """The DAG among ``ids`` that ``entry`` names (its dag_id or that id as an identifier; no
    entry: the only one); None when there is no such single DAG."""
    if not entry:
        return ids[0] if len(ids) == 1 else None
    wanted = [i for i in ids if entry in (i, _identifier(i, "dag_"))]
    return wanted[0] if wanted else None


def _no_dag(ids: list[str], module_path: Path, entry: str, log: str) -> RunFailed:
    """Why ``choose_dag`` chose no DAG among ``ids``: the error Airflow logged loading the file
    when it defines none."""
    if not ids:
        failed = [m["error"] for m in _IMPORT_FAILED.finditer(_ANSI.sub("", log))]
        reason = failed[-1] if failed else "it defines no DAG at module level"
        return RunFailed(f"Airflow could not load {module_path.name}: {reason}", _tail(log))
    if not entry:
        return RunFailed(f"{module_path.name} defines several DAGs: {', '.join(ids)}")
    return RunFailed(f"no DAG {entry} in {module_path.name} (it defines {', '.join(ids)})")


def _identifier(name: str, prefix: str = "t_") -> str:
    """A task_id (or with ``prefix="dag_"`` a dag_id) as transpile names its step (pipeline):
    the Airflow reader's rule."""
    cleaned = "".join(c if c.isalnum() else "_" for c in name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"{prefix}{cleaned}"


def airflow_results(
    xcoms: dict[str, Normalized], pipeline: Any, written: bool = False
) -> dict[str, Normalized]:
    """The XComs (``task_id|key``) that are ``pipeline``'s results, by result name: a result
    reading step S's output O is the XCom O of the task whose id is S as an identifier (a task
    with several outputs pushes each under its name), else, when S has one output, that task's
    ``return_value``. A result no task pushed is left out, so
    the comparison names it as missing. In a DAG transpile ``written``, a bytes output is pushed
    as base64 text: decoded here, as the tasks reading it decode it."""
    from transpile.frameworks.airflow.writer.write import encoded, pickled

    by_step: dict[tuple[str, str], Normalized] = {}
    for name, value in xcoms.items():
        task_id, _, key = name.rpartition("|")
        by_step.setdefault((_identifier(task_id), key), value)
    found = {}
    for result in pipeline.results:
        # several: the cases of a switch, of which the one that ran pushed its value
        for ref in result.refs:
            if ref.kind != "output":
                continue
            wanted = (ref.source, ref.name)
            step = next((s for s in pipeline.steps if s.name == ref.source), None)
            if wanted not in by_step and step is not None and len(step.outputs) == 1:
                wanted = (ref.source, "return_value")  # a task with one output returns it
            if wanted in by_step:
                value = by_step[wanted]
                kinds = [o.type.expr for o in (step.outputs if step else ()) if o.name == ref.name]
                if written and kinds and encoded(kinds[0]) and set(value or {}) == {"str"}:
                    raw = base64.b64decode(value["str"])
                    # a pickled stdlib container (Counter...): loaded here, as its readers do
                    value = (
                        normalize(pickle.loads(raw)) if pickled(kinds[0]) else {"bytes": raw.hex()}
                    )
                found[result.name] = value
                break
    return found
