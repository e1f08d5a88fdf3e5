"""Python sensors (``PythonSensor``, ``@task.sensor``): a step that polls its callable.

Airflow's ``BaseSensorOperator.execute`` calls ``poke`` until it is truthy (a
``PokeReturnValue`` by its ``is_done``), sleeping ``poke_interval`` seconds (default 60) between
calls and failing once ``timeout`` seconds (default ``[sensors] default_timeout``, 7 days) have
passed since the first call; a ``PokeReturnValue``'s ``xcom_value`` is the task's return value.
The step body does the same with ``time``. ``mode="reschedule"`` frees Airflow's worker between
pokes: the same result (TP201, info). ``soft_fail`` / ``never_fail`` skip the task instead of
failing it, which the targets do not carry (TP189).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import ANY, Output

from .bound import Unread
from .constants import NotConstant, fold

POKE_INTERVAL = 60.0  # BaseSensorOperator(poke_interval=60)
TIMEOUT = 7 * 24 * 60 * 60.0  # [sensors] default_timeout = 604800
SECONDS = {
    "weeks": 604800,
    "days": 86400,
    "hours": 3600,
    "minutes": 60,
    "seconds": 1,
    "milliseconds": 0.001,
    "microseconds": 0.000001,
}
# the keywords a sensor reads (from its call, its decorator or the DAG's default_args)
SENSOR_KEYS = (
    "poke_interval",
    "timeout",
    "mode",
    "soft_fail",
    "never_fail",
    "silent_fail",
    "exponential_backoff",
    "max_wait",
)
# the class a callable's PokeReturnValue becomes in the output (Airflow's is not imported there)
POKE_RETURN_VALUE = '''\
class {name}:
    """Added by transpile: Airflow's sensor result (done when is_done is true)."""

    def __init__(self, is_done, xcom_value=None):
        self.is_done = is_done
        self.xcom_value = xcom_value

    def __bool__(self):
        return bool(self.is_done)
'''


@dataclass(frozen=True)
class Poll:
    """How a sensor polls: seconds between calls and before failing; errors read as False."""

    interval: float
    timeout: float
    silent: bool = False


def seconds(node: ast.expr, reader, constants: dict[str, object]) -> float | None:
    """A number of seconds or a ``timedelta`` (``pendulum.duration``) of constants, else None."""
    try:
        node = reader.constants.option("execution_timeout", node, reader.constants.home)
    except Unread:
        return None
    if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "timedelta":
        if node.args:
            return None
        total = 0.0
        for keyword in node.keywords:
            value = _number(keyword.value, constants)
            if keyword.arg not in SECONDS or value is None:
                return None
            total += value * SECONDS[keyword.arg]
        return total
    return _number(node, constants)


def _number(node: ast.expr, constants: dict[str, object]) -> float | None:
    try:
        value = fold(node, constants)
    except NotConstant:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def flag(node: ast.expr | None, constants: dict[str, object]) -> bool | None:
    """A keyword's truth when it is a constant, else None (False when not given)."""
    if node is None:
        return False
    try:
        value = fold(node, constants)
    except NotConstant:
        return None
    return bool(value)


def shown(value: float) -> str:
    return repr(int(value)) if value == int(value) else repr(value)


def poll_body(call: str, task: str, callable_: str, poll: Poll, poke_class: str | None) -> str:
    """The step body: ``call`` until it is truthy, as Airflow's poke mode runs a sensor.
    With ``poke_class`` the step returns the ``xcom_value`` of the PokeReturnValue that ended
    the wait (None for a plain truthy value, as Airflow pushes)."""
    interval, timeout = shown(poll.interval), shown(poll.timeout)
    if poll.silent:  # silent_fail: an error in the callable is logged and read as False
        poke = (
            "    try:\n"
            f"        _poked = {call}\n"
            "    except Exception as _error:\n"
            f'        print(f"{task}: {callable_} failed ({{_error!r}}), poking again")\n'
            "        _poked = False\n"
        )
    else:
        poke = f"    _poked = {call}\n"
    body = (
        "import time\n"
        "\n"
        "_started = time.monotonic()\n"
        "while True:\n"
        f"{poke}"
        "    if _poked:\n"
        "        break\n"
        f"    if time.monotonic() - _started > {timeout}:\n"
        "        raise TimeoutError(\n"
        f'            "sensor {task} timed out: {callable_} was not true within {timeout} s"\n'
        "        )\n"
        f"    time.sleep({interval})\n"
    )
    if poke_class is not None:
        body += f"return_value = _poked.xcom_value if isinstance(_poked, {poke_class}) else None\n"
    return body


def poke_class_names(reader) -> list[str]:
    """The local names the file gives Airflow's PokeReturnValue."""
    return sorted(k for k, v in reader.names.names.items() if v == "PokeReturnValue")


def uses(function: ast.FunctionDef | None, names: list[str]) -> str | None:
    """The first of ``names`` the function reads (its body or its annotation), else None."""
    if function is None:
        return None
    read = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)}
    return next((n for n in names if n in read), None)


def make_sensor(dag, step: str, node: ast.AST, keywords: dict, function, shown_as: str) -> None:
    """Turn ``step`` (built as a call of the sensor's callable ``function``) into a step that
    polls it; ``keywords`` are the sensor's own (its call's or its decorator's), over the
    default_args. ``shown_as`` names the sensor in diagnostics (``PythonSensor``)."""
    constants = dag.constants()
    given = {k: v for k, v in dag.task_defaults().items() if k in SENSOR_KEYS}
    given |= {k: v for k, v in keywords.items() if k in SENSOR_KEYS}
    func = getattr(node, "func", None)
    if isinstance(func, ast.Call) and getattr(func.func, "attr", None) == "override":
        given |= {k.arg: k.value for k in func.keywords if k.arg in SENSOR_KEYS}
    index = next(i for i, s in enumerate(dag.steps) if s.name == step)
    this = dag.steps[index]
    task = dag.task_ids[step]
    call = (
        this.body.strip().split(" = ", 1)[-1] if this.body.startswith("return_value = ") else None
    )
    if call is None:
        call = this.body.strip()
    values = {}
    for key, default in (("poke_interval", POKE_INTERVAL), ("timeout", TIMEOUT)):
        if key not in given:
            values[key] = default
            continue
        values[key] = seconds(given[key], dag.reader, constants)
        if values[key] is None:
            _stub(
                dag,
                index,
                given[key],
                f"{shown_as} {task!r}: {key}={ast.unparse(given[key])} "
                "is not a number of seconds or a timedelta of constants",
            )
            return
    mode = given.get("mode")
    if mode is not None and not (isinstance(mode, ast.Constant) and mode.value == "poke"):
        dag.reader.diagnostics.append(
            Diagnostic(
                "TP201",
                "info",
                f"{shown_as} {task!r}: mode={ast.unparse(mode)} runs as a step that sleeps "
                "between pokes (Airflow's poke mode; it holds its worker while it waits): the "
                "same result",
                dag.span(mode),
            )
        )
    for key in ("soft_fail", "never_fail"):
        if key in given and flag(given[key], constants) is not False:
            what = "times out" if key == "soft_fail" else "fails"
            dag.note(
                "TP189",
                f"{shown_as} {task!r}: {key}={ast.unparse(given[key])} is not carried: where "
                f"Airflow skips the sensor when it {what}, the step fails the run",
                given[key],
            )
    if (
        "exponential_backoff" in given
        and flag(given["exponential_backoff"], constants) is not False
    ):
        dag.reader.diagnostics.append(
            Diagnostic(
                "TP201",
                "info",
                f"{shown_as} {task!r}: exponential_backoff is not carried: the step waits "
                "poke_interval between every two pokes (the same result, more pokes)",
                dag.span(given["exponential_backoff"]),
            )
        )
    if any(o.kind == "retry" for o in this.options):
        dag.note(
            "TP189",
            f"{shown_as} {task!r} has retries: a target retries the step after a timeout too, "
            "polling again (Airflow fails a timed-out sensor without retrying)",
            node,
        )
    silent = "silent_fail" in given and flag(given["silent_fail"], constants) is not False
    poll = Poll(values["poke_interval"], values["timeout"], silent)  # type: ignore[arg-type]
    names = poke_class_names(dag.reader)
    poke_class = uses(function, names)
    shims = dag.__dict__.setdefault("_poke_classes", set())
    if poke_class is not None and poke_class not in shims:
        for name in names:  # under each name the file gives it
            dag.preamble.append(POKE_RETURN_VALUE.format(name=name))
            shims.add(name)
    callable_ = function.name if function is not None else call.split("(", 1)[0]
    body = poll_body(call, task, callable_, poll, poke_class)
    outputs = (Output("return_value", ANY),) if poke_class is not None else ()
    if poke_class is None:
        dag.__dict__.setdefault("_valueless", set()).add(step)
    dag.steps[index] = replace(this, body=body, outputs=outputs)


def _stub(dag, index: int, where: ast.AST, why: str) -> None:
    """A sensor whose polling cannot be read: a step that raises with a TODO (TP188)."""
    this = dag.steps[index]
    dag.note("TP188", f"{why}: a step that raises with a TODO", where)
    body = f'raise NotImplementedError("TODO(transpile): TP188 sensor {dag.task_ids[this.name]} not converted")\n'
    dag.steps[index] = replace(this, body=body, inputs=(), outputs=())


def check_reads(dag) -> None:
    """A task that reads the value of a sensor whose callable returns no PokeReturnValue:
    Airflow pushes nothing for it (its value is None); refused at the task that reads it."""
    valueless = dag.__dict__.get("_valueless", set())
    for step in dag.steps:
        for given in step.inputs:
            for ref in given.refs:
                if ref.kind == "output" and ref.source in valueless:
                    raise error(
                        "TP186",
                        f"{dag.task_ids[step.name]} reads the value of the sensor "
                        f"{dag.task_ids[ref.source]}, whose callable returns no PokeReturnValue "
                        "(Airflow pushes no value for it)",
                        step.span,
                    )
