"""Equivalence harness: run a Metaflow flow and a Flyte workflow locally and compare their results.

Each framework runs in its own subprocess (``sys.executable``), with HOME, TMPDIR and every
framework store isolated inside a work directory, so pytest workers never import metaflow or
flytekit and runs never share state. The children normalize what they produced (``normalize``)
and hand it back as JSON in a file (stdout belongs to the user's code). Two runs are equivalent
iff their normalized dicts are equal; ``diff`` says how they differ.

This file is also the children's code: they load it by path (see ``_BOOTSTRAP``) and call
``child_main``.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import fcntl
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

Normalized = Any  # JSON-able: None, or a one-key dict {tag: payload}; see normalize()

HARNESS = Path(__file__).resolve()
# A file named metaflow.py next to the flow would shadow the metaflow package (the script's
# folder is sys.path[0]), so the flow runs under this name; the other sources of a case stay out.
FLOW_FILE = "mf_flow.py"
OTHER_SOURCES = {"metaflow.py", "flyte.py", "kfp.py", "case.toml", "ir.json", "__pycache__"}
METAFLOW_TIMEOUT = float(os.environ.get("TRANSPILE_METAFLOW_TIMEOUT", "600"))
FLYTE_TIMEOUT = float(os.environ.get("TRANSPILE_FLYTE_TIMEOUT", "300"))
TAIL_CHARS = 6000
RESULT_FILE = "result.json"
METAFLOW_CACHE_ENV = "TRANSPILE_METAFLOW_CACHE"  # a folder every pytest worker of a session shares

_BOOTSTRAP = """\
import importlib.util, sys
spec = importlib.util.spec_from_file_location("_transpile_harness", sys.argv[1])
harness = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = harness
spec.loader.exec_module(harness)
harness.child_main(sys.argv[2:])
"""


# ---------------------------------------------------------------------------------------------
# Normalized values
# ---------------------------------------------------------------------------------------------


def normalize(value: Any) -> Normalized:
    """A type-strict JSON-able form of ``value``: equal forms mean equal values of equal types.

    Floats compare exactly (their shortest repr, so nan equals nan and -0.0 differs from 0.0):
    both frameworks run the same Python on the same machine, so any drift is a real difference.
    Dict entries and set members are sorted, so insertion order does not count.
    """
    if value is None:
        return None
    for kind, convert in _SCALARS:
        if type(value) is kind:  # exact type: bool is not int, and a str subclass is not str
            return {kind.__name__: convert(value)}
    if isinstance(value, enum.Enum):
        return {"enum": [type(value).__qualname__, value.name]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: normalize(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"dataclass": [type(value).__qualname__, fields]}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        fields = {name: normalize(getattr(value, name)) for name in value._fields}
        return {"namedtuple": [type(value).__qualname__, fields]}
    return _normalize_container(value)


def _normalize_container(value: Any) -> Normalized:
    kind = type(value)
    if kind in (list, tuple):
        return {kind.__name__: [normalize(item) for item in value]}
    if kind in (set, frozenset):
        return {kind.__name__: sorted((normalize(item) for item in value), key=_sort_key)}
    if kind is dict:
        pairs = [[normalize(k), normalize(v)] for k, v in value.items()]
        return {"dict": sorted(pairs, key=lambda pair: _sort_key(pair[0]))}
    return _normalize_other(value)


_BUILTIN_BASES = (int, float, complex, str, bytes, bytearray, list, tuple, set, frozenset, dict)


def _normalize_other(value: Any) -> Normalized:
    """Values of other types: their class name and state, or their repr as a last resort."""
    name = f"{type(value).__module__}.{type(value).__qualname__}"
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta, decimal.Decimal)):
        return {"object": [name, str(value)]}
    if isinstance(value, os.PathLike):
        return {"path": os.fspath(value)}
    base = next((t for t in _BUILTIN_BASES if isinstance(value, t)), None)
    if base is not None:  # a subclass of a builtin (OrderedDict, a str subclass): class + value
        return {"object": [name, normalize(base(value))]}
    state = getattr(value, "__dict__", None)
    if isinstance(state, dict):
        public = {k: v for k, v in state.items() if not k.startswith("_")}
        return {"object": [name, normalize(public)]}
    return {"object": [name, repr(value)]}


def _float(value: float) -> str:
    return repr(value) if math.isfinite(value) else str(value)


_SCALARS = (
    (bool, lambda v: v),
    (int, lambda v: v),
    (float, _float),
    (str, lambda v: v),
    (complex, repr),
    (bytes, bytes.hex),
    (bytearray, bytearray.hex),
)


def _sort_key(norm: Normalized) -> str:
    return json.dumps(norm, sort_keys=True)


def render(norm: Normalized) -> str:
    """Python-like text of a normalized value, for failure messages (type differences stay visible)."""
    if norm is None:
        return "None"
    ((tag, payload),) = norm.items()
    if tag in ("int", "bool", "str"):
        return repr(payload)
    if tag in ("float", "complex"):
        return payload if tag == "complex" or not payload[-1:].isalpha() else f"float({payload!r})"
    if tag in ("bytes", "bytearray"):
        text = repr(bytes.fromhex(payload))
        return text if tag == "bytes" else f"bytearray({text})"
    if tag == "list":
        return "[" + ", ".join(map(render, payload)) + "]"
    if tag == "tuple":
        items = ", ".join(map(render, payload))
        return f"({items},)" if len(payload) == 1 else f"({items})"
    if tag in ("set", "frozenset"):
        items = "{" + ", ".join(map(render, payload)) + "}" if payload else ""
        return items if tag == "set" and payload else f"{tag}({items})"
    if tag == "dict":
        return "{" + ", ".join(f"{render(k)}: {render(v)}" for k, v in payload) + "}"
    if tag in ("dataclass", "namedtuple"):
        cls, fields = payload
        return f"{cls}(" + ", ".join(f"{k}={render(v)}" for k, v in fields.items()) + ")"
    if tag == "enum":
        return ".".join(payload)
    if tag == "path":
        return f"Path({payload!r})"
    cls, state = payload
    return f"<{cls} {state if isinstance(state, str) else render(state)}>"


def diff(
    expected: dict[str, Normalized],
    actual: dict[str, Normalized],
    labels: tuple[str, str] = ("metaflow", "flyte"),
) -> str:
    """Empty if both result dicts are equal, else one readable line per differing name."""
    lines = []
    left, right = labels
    for name in sorted(expected.keys() | actual.keys()):
        if name not in actual:
            lines.append(f"  {name}: only in {left}: {render(expected[name])}")
        elif name not in expected:
            lines.append(f"  {name}: only in {right}: {render(actual[name])}")
        elif expected[name] != actual[name]:
            a, b = render(expected[name]), render(actual[name])
            if a == b:  # same text, different normalized form: show the forms themselves
                a, b = json.dumps(expected[name]), json.dumps(actual[name])
            lines.append(f"  {name}:\n    {left:<8}: {a}\n    {right:<8}: {b}")
    return "\n".join(lines)


def assert_equivalent(
    expected: dict[str, Normalized],
    actual: dict[str, Normalized],
    labels: tuple[str, str] = ("metaflow", "flyte"),
) -> None:
    text = diff(expected, actual, labels)
    if text:
        raise AssertionError(f"results differ ({labels[0]} vs {labels[1]}):\n{text}")


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------


def isolated_env(workdir: Path) -> dict[str, str]:
    """The parent's environment without framework settings, with HOME and stores in ``workdir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("METAFLOW_", "FLYTE_"))}
    home, tmp = workdir / "home", workdir / "tmp"
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
        # Same string hashing in both runs, so set iteration order cannot make them differ by chance.
        PYTHONHASHSEED="0",
        FLYTE_SDK_RICH_TRACEBACKS="0",  # plain tracebacks: boxes wrap the message in failure tails
    )
    return env


def _tail(text: str) -> str:
    return text if len(text) <= TAIL_CHARS else "…" + text[-TAIL_CHARS:]


def _run(cmd: list[str], cwd: Path, timeout: float, what: str) -> tuple[str, str]:
    """Run ``cmd``; its stdout and stderr, or AssertionError with their tails if it fails or hangs."""
    try:
        proc = subprocess.run(
            cmd,
            check=False,
            cwd=cwd,
            env=isolated_env(cwd),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        out, err = _text(exc.stdout), _text(exc.stderr)
        headline = f"{what} timed out after {timeout:g}s"
        raise AssertionError(_report(headline, cmd, cwd, out, err)) from None
    if proc.returncode != 0:
        headline = f"{what} failed (exit {proc.returncode}): {_last_line(proc.stderr)}"
        raise AssertionError(_report(headline, cmd, cwd, proc.stdout, proc.stderr))
    return proc.stdout, proc.stderr


def _last_line(text: str) -> str:
    """The last unindented line of a traceback: usually ``SomeError: message``."""
    lines = [line for line in text.splitlines() if line.strip() and not line[0].isspace()]
    return lines[-1][:300] if lines else "(no output on stderr)"


def _text(output: str | bytes | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


def _report(headline: str, cmd: list[str], cwd: Path, out: str, err: str) -> str:
    shown = " ".join(cmd if cmd[1] != "-c" else [cmd[0], "-c <harness bootstrap>", *cmd[3:]])
    return (
        f"{headline}\n  cwd: {cwd}\n  cmd: {shown}\n"
        f"--- stdout (tail) ---\n{_tail(out)}\n--- stderr (tail) ---\n{_tail(err)}"
    )


def _child(args: list[str], cwd: Path, timeout: float, what: str) -> dict[str, Normalized]:
    result = cwd / RESULT_FILE
    result.unlink(missing_ok=True)
    _run([sys.executable, "-c", _BOOTSTRAP, str(HARNESS), *args, str(result)], cwd, timeout, what)
    return json.loads(result.read_text())


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


def stage_fixture(fixture_dir: Path, workdir: Path) -> None:
    """Copy a fixture's files (data files, helpers) into ``workdir``, but not its pipeline sources."""
    workdir.mkdir(parents=True, exist_ok=True)
    for item in Path(fixture_dir).iterdir():
        if item.name in OTHER_SOURCES:
            continue
        if item.is_dir():
            shutil.copytree(item, workdir / item.name, dirs_exist_ok=True)
        else:
            shutil.copy2(item, workdir / item.name)


def run_metaflow(
    fixture_dir: Path | str,
    flow_class: str,
    params: dict[str, Any],
    workdir: Path | str,
    timeout: float = METAFLOW_TIMEOUT,
) -> dict[str, Normalized]:
    """Run ``fixture_dir/metaflow.py`` with ``params``; the normalized artifacts of its end step.

    Left out: Parameters (IncludeFiles too) and class-level constants, which Metaflow stores as
    artifacts of every task; the artifact ``name``; names starting with ``_``. With
    ``$TRANSPILE_METAFLOW_CACHE`` set (tests/conftest.py sets it per session), a (flow files,
    params) pair runs once, whichever test file or xdist worker asks first.
    """
    entry = _cache_entry(Path(fixture_dir), flow_class, params)
    return _once(
        entry, lambda: _run_metaflow(Path(fixture_dir), flow_class, params, workdir, timeout)
    )


def _once(entry: Path | None, run: Any) -> dict[str, Normalized]:
    """``run()``, or the result an earlier call with the same cache ``entry`` stored."""
    if entry is None:
        return run()
    entry.parent.mkdir(parents=True, exist_ok=True)
    with open(entry.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second worker waits here, then reads the entry
        if entry.is_file():
            return json.loads(entry.read_text())
        result = run()
        partial = entry.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(result))
        partial.replace(entry)  # atomic: readers never see half an entry
        return result


def _cache_entry(fixture_dir: Path, flow_class: str, params: dict[str, Any]) -> Path | None:
    """The cache file of one run, keyed by the harness, every file of the flow, and the params."""
    root = os.environ.get(METAFLOW_CACHE_ENV)
    if not root:
        return None
    digest = hashlib.sha256(HARNESS.read_bytes())
    skipped = OTHER_SOURCES - {"metaflow.py"}
    for path in sorted(p for p in fixture_dir.rglob("*") if p.is_file()):
        parts = set(path.relative_to(fixture_dir).parts)
        if not parts & {"__pycache__", "expected"} and path.name not in skipped:
            digest.update(str(path.relative_to(fixture_dir)).encode() + b"\0" + path.read_bytes())
    digest.update(json.dumps([flow_class, params], sort_keys=True, default=repr).encode())
    return Path(root) / f"{digest.hexdigest()}.json"


def _run_metaflow(
    fixture_dir: Path, flow_class: str, params: dict[str, Any], workdir: Path | str, timeout: float
) -> dict[str, Normalized]:
    workdir = Path(workdir).resolve()
    stage_fixture(fixture_dir, workdir)
    shutil.copy2(fixture_dir / "metaflow.py", workdir / FLOW_FILE)
    (workdir / ".metaflow").mkdir(exist_ok=True)
    run_id_file = workdir / "run_id"
    cmd = [
        sys.executable,
        FLOW_FILE,
        "--no-pylint",
        "run",
        f"--run-id-file={run_id_file}",
        *metaflow_cli_args(params),
    ]
    output = _run(cmd, workdir, timeout, f"metaflow run of {flow_class}")
    if not run_id_file.is_file():
        raise AssertionError(
            _report(
                f"metaflow run of {flow_class} exited 0 but started no run (is there an "
                f"`if __name__ == '__main__': {flow_class}()` block?)",
                cmd,
                workdir,
                *output,
            )
        )
    run_id = run_id_file.read_text().strip()
    return _child(
        ["metaflow", FLOW_FILE, flow_class, run_id],
        workdir,
        timeout,
        f"reading back metaflow run {flow_class}/{run_id}",
    )


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
    task = Run(f"{flow_class}/{run_id}")["end"].task
    return {
        a.id: normalize(a.data) for a in task if not a.id.startswith("_") and a.id not in hidden
    }


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


# ---------------------------------------------------------------------------------------------
# Flyte
# ---------------------------------------------------------------------------------------------


def run_flyte(
    module_path: Path | str,
    params: dict[str, Any],
    workdir: Path | str,
    timeout: float = FLYTE_TIMEOUT,
) -> dict[str, Normalized]:
    """Import the Flyte module, call its entry workflow with ``params``; its normalized outputs.

    The child runs in ``workdir``; the module keeps its own folder (it is imported from there).
    """
    module_path, workdir = Path(module_path).resolve(), Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    entry = _flyte_cache_entry(module_path, params)
    params_file = workdir / "params.json"
    params_file.write_text(json.dumps(params))
    return _once(
        entry,
        lambda: _child(
            ["flyte", str(module_path), str(params_file)],
            workdir,
            timeout,
            f"flyte run of {module_path.name}",
        ),
    )


def _flyte_cache_entry(module_path: Path, params: dict[str, Any]) -> Path | None:
    """Flyte runs of the same code (a golden and the conversion that equals it, in two test
    files) with the same files beside it and the same params run once per session."""
    root = os.environ.get(METAFLOW_CACHE_ENV)
    if not root:
        return None
    digest = hashlib.sha256(HARNESS.read_bytes() + module_path.read_bytes())
    folder = module_path.parent
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p != module_path):
        if "__pycache__" not in path.parts and path.name != "params.json":
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    digest.update(json.dumps(params, sort_keys=True, default=repr).encode())
    return Path(root) / f"flyte-{digest.hexdigest()}.json"


def _read_flyte(module_path: str, params_file: str) -> dict[str, Normalized]:
    """In the child: import the module, find the last @workflow, run it, map outputs to names."""
    import importlib

    from flytekit.core.workflow import WorkflowBase

    path = Path(module_path)
    sys.path.insert(0, str(path.parent))
    module = importlib.import_module(path.stem)
    workflows = [v for v in vars(module).values() if isinstance(v, WorkflowBase)]
    if not workflows:
        raise SystemExit(f"no @workflow in {module_path}")
    wf = workflows[-1]
    params = json.loads(Path(params_file).read_text())
    result = wf(**params)
    names = list(wf.python_interface.outputs)
    return {name: normalize(value) for name, value in _outputs(result, names).items()}


def _outputs(result: Any, names: list[str]) -> dict[str, Any]:
    if not names:
        return {}
    if len(names) == 1 and not (hasattr(result, "_fields") and list(result._fields) == names):
        return {names[0]: result}
    if hasattr(result, "_fields"):
        return {name: getattr(result, name) for name in names}
    return dict(zip(names, result, strict=True))


def child_main(argv: list[str]) -> None:
    mode, *args, result_file = argv
    values = _read_metaflow(*args) if mode == "metaflow" else _read_flyte(*args)
    Path(result_file).write_text(json.dumps(values))
