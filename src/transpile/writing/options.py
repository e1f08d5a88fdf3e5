"""What the Flyte and KFP option mappers share: reading option values, dispatch, notes, resources."""

from __future__ import annotations

import ast
import re

from ..model.capabilities import Column
from ..model.diagnostics import Diagnostic
from ..model.ir import Option
from ..util.syntax import is_literal
from ..util.text import todo as todo_comment

RESOURCE_KINDS = ("resources", "kubernetes", "batch")
SCHEDULES = {"daily": "0 0 * * *", "hourly": "0 * * * *", "weekly": "0 0 * * 0"}


def literal(source: str | None):
    """An option argument's value; its source text when that is not a literal."""
    if source is None:
        return None
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return source


# Option arguments that must be numbers (a numeric string such as "4096" counts).
NUMERIC = {
    "retry": ("times", "minutes_between_retries"),
    "timeout": ("seconds", "minutes", "hours"),
    "resources": ("cpu", "memory", "gpu", "disk"),
    "kubernetes": ("cpu", "memory", "gpu", "disk"),
    "batch": ("cpu", "memory", "gpu"),
}


def unknown_values(option: Option) -> list[str]:
    """Why some arguments of ``option`` have no value to write: an expression whose value is not
    known before the run (``times=RETRIES`` with RETRIES not a module constant), or a value that
    is not a number where the option needs one. Empty when every argument is usable."""
    reasons = []
    for key, source in option.args:
        if not is_literal(source):
            reasons.append(f"{key}={source} is not known before the run")
        elif key in NUMERIC.get(option.kind, ()) and not _numeric(ast.literal_eval(source)):
            reasons.append(f"{key}={source} is not a number")
    return reasons


def _numeric(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def merge_resources(option: Option, resources: dict[str, object]) -> None:
    """Add one option's cpu, memory, gpu and disk; where several options set one, the most wins."""
    for name in ("cpu", "memory", "gpu", "disk"):
        value = literal(option.arg(name))
        if value is not None:
            previous = resources.get(name)
            resources[name] = value if previous is None else max(previous, value, key=number)


def handler_inputs(option: Option) -> list[tuple[str, str]]:
    """A failure handler's (an ``exit_hook`` with ``inputs``) keywords, each with the pipeline
    parameter that gives it: the parameter of the same name, or the one ``input_params`` names
    in its place (a parameter a writer renamed, Metaflow's ``name_`` for ``name``)."""
    names = ast.literal_eval(option.arg("inputs") or "()")
    given = ast.literal_eval(option.arg("input_params") or "()") or names
    return [(str(n), str(p)) for n, p in zip(names, given, strict=False)]


def key_values(value: object) -> list[tuple[str, str]] | None:
    """A dict's items as text, or of Metaflow's ``"key=value,key2=value2"`` form of one (a node
    selector); None for anything else."""
    if isinstance(value, dict):
        return [(str(k), str(v)) for k, v in value.items()]
    if isinstance(value, str) and value.strip():
        items = [part.split("=", 1) for part in value.split(",")]
        if all(len(item) == 2 for item in items):
            return [(k.strip(), v.strip()) for k, v in items]
    return None


def schedule_cron(option: Option) -> str | None:
    """The cron expression of a @schedule: ``cron=`` or one of daily, hourly, weekly."""
    cron = literal(option.arg("cron"))
    for name, expr in SCHEDULES.items():
        if literal(option.arg(name)) is True:
            cron = expr
    return cron


def launch_setting(option: Option) -> str:
    """What a ``launch_settings`` option says is lost: ``LaunchPlan "n" notifications=[...] is
    not carried over: why`` (the setting shortened to one line), or the whole plan when it names
    no setting."""
    setting = ", ".join(f"{k}={_short(v)}" for k, v in option.written)
    subject = " ".join(s for s in ("LaunchPlan", option.arg("plan") or "", setting) if s)
    why = literal(option.arg("why"))
    return f"{subject} is not carried over" + (f": {why}" if why else "")


def _short(text: str, limit: int = 100) -> str:
    """Source text on one line (runs of white space as one space), cut at ``limit``."""
    flat = re.sub(r"([(\[{]) | ([)\]}])", r"\1\2", " ".join(text.split()))
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def custom_flow_message(option: Option, label: str) -> str:
    """What a TODO says of a decorator of the flow class transpile does not know."""
    text = literal(option.arg("decorator")) or "?"
    return (
        f"@{text} on the flow is not carried over: transpile does not know what it changes "
        f"(apply its equivalent in {label} by hand)"
    )


class BaseOptionMapper:
    """Maps each step option with the ``_<kind>`` method of a subclass, notes what has none."""

    COLUMN: Column  # the framework's column of the capability table
    LABEL = ""  # the framework's name in messages
    SETTINGS: type  # what task_settings returns: has a ``todos`` list

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics

    def note(self, option: Option, key: str, message: str, todos: list[str], todo: bool) -> None:
        """Record a construct without an exact equivalent: a diagnostic, and a TODO where asked."""
        code = "TP202" if todo else "TP201"
        text = f"{message} ({self.COLUMN[key][1]})"
        self.diagnostics.append(Diagnostic(code, "warning", text, option.span, lossy=True))
        if todo:
            todos.append(todo_comment(code, text))

    def task_settings(self, options: tuple[Option, ...]):
        """A step's settings: each option to its handler, then what the resources gathered become."""
        settings, resources = self.SETTINGS(), {}
        for option in options:
            if option.kind == "custom":
                self._custom(option, settings.todos)
                continue
            if option.kind == "catch" and option.arg("in_body") is not None:
                var = literal(option.arg("var"))
                message = f"@catch(var={var!r}) is a try around the step's body"
                self.note(option, "catch", message, settings.todos, False)
                continue
            unknown = unknown_values(option)
            if unknown:
                self._unknown(option, unknown, settings.todos)
                continue
            name = f"_{option.kind}"
            # a decorator named like one of the shared hooks (@finish) is not a handler
            handler = None if hasattr(BaseOptionMapper, name) else getattr(self, name, None)
            if option.kind in RESOURCE_KINDS:
                self._collect_resources(option, resources, settings)
            elif handler is not None:
                handler(option, settings)
            else:
                message = f"@{option.kind} has no {self.LABEL} equivalent"
                self.note(option, "compute_platform", message, settings.todos, True)
        self._finish(settings, resources, options)
        return settings

    def _custom(self, option: Option, todos: list[str]) -> None:
        """A decorator transpile does not know (the user's own, a newer Metaflow one): named,
        with its text, where it stood."""
        text = literal(option.arg("decorator")) or "?"
        message = (
            f"@{text} is not carried over: transpile does not know what it does "
            f"(apply its equivalent in {self.LABEL} by hand)"
        )
        self.diagnostics.append(Diagnostic("TP203", "warning", message, option.span, lossy=True))
        todos.append(todo_comment("TP203", message))

    def flow_custom(self, option: Option, todos: list[str]) -> None:
        """A decorator of the flow class transpile does not know (a FlowMutator, the user's
        own): named, with its text, at the pipeline's definition."""
        message = custom_flow_message(option, self.LABEL)
        self.diagnostics.append(Diagnostic("TP202", "warning", message, option.span, lossy=True))
        todos.append(todo_comment("TP202", message))

    def _unknown(self, option: Option, unknown: list[str], todos: list[str]) -> None:
        """An option with a value transpile cannot know is left out whole, at the spot."""
        text = (
            f"@{option.kind} is not carried over: {'; '.join(unknown)} "
            "(set it in the output by hand)"
        )
        self.diagnostics.append(Diagnostic("TP202", "warning", text, option.span, lossy=True))
        todos.append(todo_comment("TP202", text))

    def _collect_resources(self, option: Option, resources: dict[str, object], settings) -> None:
        raise NotImplementedError

    def _finish(self, settings, resources: dict[str, object], options: tuple[Option, ...]) -> None:
        """What the gathered resources and images become, once every option is read."""

    def _platform_extras(self, option: Option, allowed: dict[str, set[str]], todos: list[str]):
        """A TODO for the settings of @kubernetes or @batch that are not carried over."""
        extra = sorted(k for k, _ in option.args if k not in allowed[option.kind])
        if extra:
            message = f"@{option.kind} settings {', '.join(extra)} are not carried over"
            self.note(option, "compute_platform", message, todos, True)
