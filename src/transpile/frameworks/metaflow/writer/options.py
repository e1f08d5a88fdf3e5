"""Options → Metaflow decorators, or a TODO comment and a diagnostic; parameters → Parameter lines."""

from __future__ import annotations

import ast
import json

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Option, Parameter
from transpile.model.quantity import whole_mb
from transpile.util.text import todo
from transpile.writing.options import launch_setting

from .. import FRAMEWORK

STEP_DECORATORS = frozenset(
    {"retry", "timeout", "resources", "environment", "catch", "card", "secrets", "pypi", "conda"}
)
REMOTE_DECORATORS = frozenset({"kubernetes", "batch"})
FLOW_DECORATORS = frozenset(
    {"schedule", "project", "trigger", "trigger_on_finish", "pypi_base", "conda_base", "exit_hook"}
)
SCALAR_TYPES = ("str", "int", "float", "bool")
# a date or time has no JSON form: the parameter is ISO text, and a step reads it back with
# ``<type>.fromisoformat(...)`` (see ``is_iso_parameter``)
ISO_TYPES = frozenset({"datetime.datetime", "datetime.date", "datetime", "date"})


def is_iso_parameter(param: Parameter) -> bool:
    return param.kind == "value" and param.type.expr in ISO_TYPES


MAX_RETRIES = 4  # "The maximum number of retries is @retry(times=4)."


def decorator(option: Option) -> str:
    """``@kind(args)``; positional arguments are stored as ``_0``, ``_1``..."""
    args = [v if k.startswith("_") and k[1:].isdigit() else f"{k}={v}" for k, v in option.written]
    return f"@{option.kind}({', '.join(args)})" if args else f"@{option.kind}"


class OptionWriter:
    def __init__(self, framework: str, diagnostics: list[Diagnostic]):
        self.framework = framework
        self.diagnostics = diagnostics
        self.imports: set[str] = set()

    def decorators(self, options: tuple[Option, ...], flow: bool) -> tuple[list[str], list[str]]:
        """The decorators for a step (or the flow class), and TODO lines for what has none."""
        native = FLOW_DECORATORS if flow else STEP_DECORATORS
        lines: list[str] = []
        todos: list[str] = []
        for option in options:
            remote = option.kind in REMOTE_DECORATORS
            if option.kind == "catch" and option.arg("in_body") is not None:
                # the step's body holds the try that does what @catch did
                message = "@catch is a try around the step's body: the exception is kept as text"
                self.diagnostics.append(
                    Diagnostic("TP201", "warning", message, option.span, lossy=True)
                )
                continue
            if option.kind == "launch_settings":
                todos.append(self._lost(option))
            elif option.kind == "custom" and self.framework == "metaflow":
                lines.insert(0, f"@{_literal(option.arg('decorator'))}")  # outermost, as read
            elif self._foreign(option):
                todos.append(self._todo(option, remote=False, why="takes values Metaflow lacks"))
            elif option.kind in native or (remote and self.framework == "metaflow"):
                lines.append(decorator(self._native(option)))
                self.imports.add(option.kind)
            else:
                todos.append(self._todo(option, remote))
        return lines, todos

    def _lost(self, option: Option) -> str:
        """A setting of a deployed pipeline (a Flyte LaunchPlan's) Metaflow has no place for."""
        text = f"{launch_setting(option)} ({FRAMEWORK.capabilities['launch_settings'][1]})"
        self.diagnostics.append(Diagnostic("TP202", "warning", text, option.span, lossy=True))
        return todo("TP202", text)

    def _native(self, option: Option) -> Option:
        """Retries from other frameworks start at once; Metaflow's default waits two minutes.
        More than Metaflow's maximum is that maximum (Metaflow refuses the flow otherwise).
        @resources has no GPU vendor (Metaflow refuses it): @kubernetes takes it."""
        if option.kind in ("resources", *REMOTE_DECORATORS):
            option = _whole_megabytes(option)
        if option.kind == "resources" and option.arg("gpu_vendor") is not None:
            vendor = option.arg("gpu_vendor")
            message = (
                f"GPU vendor {vendor} is not carried over: @resources has none "
                f"(@kubernetes(gpu_vendor={vendor}) takes it when the step runs there)"
            )
            self.diagnostics.append(
                Diagnostic("TP202", "warning", message, option.span, lossy=True)
            )
            args = tuple((k, v) for k, v in option.args if k != "gpu_vendor")
            return Option(option.kind, args, option.span)
        if option.kind != "retry" or self.framework == "metaflow":
            return option
        times = _literal(option.arg("times", "0"))
        if isinstance(times, int) and times > MAX_RETRIES:
            message = (
                f"{times} retries became {MAX_RETRIES}, the most Metaflow allows "
                f"(it refuses @retry(times={times}))"
            )
            self.diagnostics.append(
                Diagnostic("TP202", "warning", message, option.span, lossy=True)
            )
            args = tuple((k, str(MAX_RETRIES) if k == "times" else v) for k, v in option.args)
            option = Option(option.kind, args, option.span)
        if option.arg("minutes_between_retries") is not None:
            return option
        return Option(option.kind, (*option.args, ("minutes_between_retries", "0")), option.span)

    def _foreign(self, option: Option) -> bool:
        """An option read from another framework whose values are not plain literals (a Flyte
        ``Secret(...)``): written as is it would name things this module does not have."""
        if self.framework == "metaflow" or option.kind == "exit_hook":
            return False  # an exit hook names functions of the module
        return any(_literal(value) is _NOT_LITERAL for _, value in option.args)

    def _todo(self, option: Option, remote: bool, why: str = "has no Metaflow equivalent") -> str:
        if remote:
            text = (
                f"{decorator(option)} runs the step on {option.kind} (locally too): "
                "add it, or run with --with " + option.kind
            )
            if option.arg("secret_env"):  # KFP's use_secret_as_env names each variable
                text += (
                    f"; the body reads the secrets' keys as {option.arg('secret_env')}, "
                    "Metaflow names each variable by its key"
                )
            lacking = _pod_volumes(option)
            if lacking:
                text += f"; @kubernetes has no setting for {', '.join(lacking)}"
        else:
            note = FRAMEWORK.capabilities.get(option.kind, ("none", ""))[1]
            text = f"{decorator(option)} {why}" + (f": {note}" if note else "")
        self.diagnostics.append(Diagnostic("TP232", "warning", text, option.span, lossy=True))
        return todo("TP232", text)


def _pod_volumes(option: Option) -> list[str]:
    """What a KFP source mounts or reads that Metaflow's @kubernetes cannot: secrets and config
    maps as files, a config map's keys as environment variables, empty-dir volumes."""
    found = []
    for name, path in _notes(option, "secret_volumes").items():
        found.append(f"the secret {name!r} mounted at {path!r}")
    for name, keys in _notes(option, "config_map_env").items():
        found.append(f"the keys of the config map {name!r} as environment variables {keys!r}")
    for name, path in _notes(option, "config_map_volumes").items():
        found.append(f"the config map {name!r} mounted at {path!r}")
    for name, settings in _notes(option, "empty_dirs").items():
        extra = "".join(f", {k} {v!r}" for k, v in settings.items() if k != "mount_path")
        found.append(f"the empty-dir volume {name!r} at {settings['mount_path']!r}{extra}")
    return found


def _notes(option: Option, key: str) -> dict:
    value = _literal(option.arg(key, "{}"))
    return value if isinstance(value, dict) else {}


def parameter_line(
    param: Parameter, attr: str, diagnostics: list[Diagnostic], option: str | None = None
) -> tuple[str, set[str]]:
    """``attr = Parameter(...)`` (or IncludeFile) and the metaflow names it needs; ``option``
    is the parameter's name when it is not ``attr`` (``start_value = Parameter("start")``: the
    step is ``start``)."""
    kind = "IncludeFile" if param.kind == "file" else "Parameter"
    json_kind = param.kind == "json" or (
        param.kind == "value"
        and param.type.expr not in SCALAR_TYPES
        and param.type.known
        and not is_iso_parameter(param)
    )
    if is_iso_parameter(param):
        message = f"parameter {param.name!r} ({param.type.expr}) is ISO text; steps read it back"
        diagnostics.append(Diagnostic("TP233", "info", message, param.span))
    if param.kind == "value" and json_kind:
        message = f"parameter {param.name!r} ({param.type.expr}) is a JSONType"
        diagnostics.append(Diagnostic("TP233", "info", message, param.span))
    args = [repr(option or attr), *_parameter_args(param, json_kind)]
    names = {kind, "JSONType"} if json_kind else {kind}
    return f"{attr} = {kind}({', '.join(args)})", names


def _parameter_args(param: Parameter, json_kind: bool) -> list[str]:
    """default, then type (left out where Metaflow infers it from the default, as written)."""
    args = []
    if param.default is not None and is_iso_parameter(param):
        args.append(f"default={_iso_default(param.default)}")
    elif param.default is not None:
        args.append(f"default={_json_default(param.default) if json_kind else param.default}")
    if is_iso_parameter(param):
        args.append("type=str")
    elif json_kind:
        args.append("type=JSONType")
    elif param.kind == "value" and param.type.origin != "default" and param.type.known:
        args.append(f"type={param.type.expr}")
    if param.kind == "file":
        args.append(f"is_text={param.is_text}")
    if param.required and param.default is None:
        args.append("required=True")
    return [*args, *([f"help={param.help!r}"] if param.help else [])]


_NOT_LITERAL = object()


def _literal(source: str) -> object:
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NOT_LITERAL


def _json_default(default: str) -> str:
    """JSONType defaults are JSON text (Metaflow parses them like a command-line value)."""
    try:
        return repr(json.dumps(ast.literal_eval(default)))
    except (ValueError, SyntaxError, TypeError):
        return f"json.dumps({default})"


def _whole_megabytes(option: Option) -> Option:
    """Metaflow takes memory and disk as an int in MB: 524.288 (from ``"500Mi"``) is 525."""
    args = []
    for key, value in option.args:
        amount = _literal(value)
        if key in ("memory", "disk") and isinstance(amount, float):
            value = str(whole_mb(amount))
        args.append((key, value))
    return Option(option.kind, tuple(args), option.span)


def _iso_default(default: str) -> str:
    """``datetime.datetime(2024, 1, 2)`` → ``datetime.datetime(2024, 1, 2).isoformat()``."""
    if _literal(default) is None:
        return default
    try:
        plain = isinstance(
            ast.parse(default, mode="eval").body, (ast.Call, ast.Name, ast.Attribute)
        )
    except SyntaxError:
        plain = False
    return f"{default}.isoformat()" if plain else f"({default}).isoformat()"
