"""@task settings and LaunchPlans → options in the units the Metaflow reader uses (memory and disk
in MB, cpu as a number, timeouts split into hours/minutes/seconds, retries as times)."""

from __future__ import annotations

import ast

import libcst as cst

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Option, Span
from transpile.model.quantity import cpu_cores, memory_mb, number_text
from transpile.reading.cst import code, keyword_args, positional_args

from .names import FlyteNames

RESOURCE_KEYS = {"cpu": "cpu", "mem": "memory", "gpu": "gpu", "ephemeral_storage": "disk"}


class TaskOptions:
    """Translate one @task(...) call's keywords; what has no equivalent becomes a diagnostic."""

    def __init__(
        self,
        names: FlyteNames,
        diagnostics: list[Diagnostic],
        span: Span,
        constants: dict[str, cst.BaseExpression] | None = None,
    ):
        self.names, self.diagnostics, self.span = names, diagnostics, span
        self.constants = constants or {}  # module-level names: ``img = ImageSpec(...)``
        self.options: list[Option] = []

    def read(self, decorator: cst.BaseExpression) -> list[Option]:
        if not isinstance(decorator, cst.Call):
            return []
        kwargs = keyword_args(decorator)
        # resources= (newer flytekit) is one Resources for requests and limits alike
        requests = kwargs.get("requests", kwargs.get("resources"))
        self._requests_and_limits(requests, kwargs.get("limits"))
        for key, value in kwargs.items():
            handler = getattr(self, f"_{key}", None)
            if handler is not None:
                handler(value)
            elif key not in ("requests", "limits", "resources"):
                self.note("TP202", f"@task({key}=...) is not carried over")
        return self.options

    def add(self, kind: str, *args: tuple[str, str]) -> None:
        self.options.append(Option(kind, tuple(args), self.span))

    def note(self, code_: str, message: str) -> None:
        self.diagnostics.append(Diagnostic(code_, "warning", message, self.span, lossy=True))

    def _retries(self, value: cst.BaseExpression) -> None:
        # Flyte retries at once; Metaflow's @retry waits 2 minutes unless told otherwise
        self.add("retry", ("times", code(value)), ("minutes_between_retries", "0"))

    def _timeout(self, value: cst.BaseExpression) -> None:
        if isinstance(value, cst.Integer):
            self.add("timeout", ("seconds", code(value)))
        elif isinstance(value, cst.Call) and (code(value.func).split(".")[-1] == "timedelta"):
            args = keyword_args(value)
            units = [(u, code(args[u])) for u in ("hours", "minutes", "seconds") if u in args]
            if "days" in args:
                units.insert(0, ("hours", f"{code(args['days'])} * 24"))
            if units and not positional_args(value):
                self.add("timeout", *units)
                return
            self.note("TP202", f"timeout={code(value)} is not carried over; write timedelta(...)")
        else:
            self.note("TP202", f"timeout={code(value)} is not carried over; write timedelta(...)")

    def _cache(self, value: cst.BaseExpression) -> None:
        if isinstance(value, cst.Call):  # flytekit's Cache(version=..., ...) object
            version = keyword_args(value).get("version")
            extra = (("version", code(version)),) if version else ()
            self.add("cache", ("enabled", "True"), *extra)
        elif code(value) == "True":
            self.add("cache", ("enabled", "True"))

    def _cache_version(self, value: cst.BaseExpression) -> None:
        cache = next((o for o in self.options if o.kind == "cache"), None)
        if cache is not None:
            self.options.remove(cache)
            self.add("cache", ("enabled", "True"), ("version", code(value)))

    def _environment(self, value: cst.BaseExpression) -> None:
        self.add("environment", ("vars", code(value)))

    def _container_image(self, value: cst.BaseExpression) -> None:
        seen: set[str] = set()
        while isinstance(value, cst.Name) and value.value in self.constants:
            if value.value in seen:
                break
            seen.add(value.value)
            value = self.constants[value.value]  # ``container_image=img``: what img is
        if self.names.resolve(value) == "ImageSpec" and isinstance(value, cst.Call):
            self._image_spec(value)
        elif isinstance(value, cst.SimpleString):
            # the model spells an image the way Metaflow does: @kubernetes(image=...)
            self.add("kubernetes", ("image", code(value)))
        else:
            self.note("TP202", f"container_image={code(value)} is not carried over")

    def _image_spec(self, call: cst.Call) -> None:
        args = keyword_args(call)
        packages = _literal(args.get("packages"))
        if isinstance(packages, list):
            pins = dict(_requirement(p) for p in packages if isinstance(p, str))
            extra = [("python", code(args["python_version"]))] if "python_version" in args else []
            self.add("pypi", ("packages", repr(pins)), *extra)
        conda = _literal(args.get("conda_packages"))
        if isinstance(conda, list):
            pins = dict(_requirement(p, "=") for p in conda if isinstance(p, str))
            self.add("conda", ("packages", repr(pins)))
        if isinstance(args.get("env"), cst.Dict):  # the image's environment variables
            self._environment(args["env"])
        carried = {"packages", "conda_packages", "python_version", "name", "base_image"}
        rest = sorted(
            set(args) - carried - ({"env"} if isinstance(args.get("env"), cst.Dict) else set())
        )
        if rest:
            self.note("TP202", f"ImageSpec settings {', '.join(rest)} are not carried over")
        if "base_image" in args:
            self.add("kubernetes", ("image", code(args["base_image"])))

    def _secret_requests(self, value: cst.BaseExpression) -> None:
        self.add("secrets", ("sources", code(value)))
        self.note("TP201", "secret_requests become secrets sources; their names need a human")

    def _enable_deck(self, value: cst.BaseExpression) -> None:
        if code(value) == "True":
            self.add("card")
            self.note("TP201", "enable_deck=True is approximated by a card")

    def _requests_and_limits(self, requests, limits) -> None:
        merged: dict[str, float] = {}
        seen: list[dict[str, float]] = []
        for call in (requests, limits):
            values = self._resource_values(call) if call is not None else {}
            seen.append(values)
            for key, number in values.items():
                merged[key] = max(merged.get(key, number), number)
        if not merged:
            return
        if all(seen) and seen[0] != seen[1]:
            self.note("TP201", "requests and limits differ; both become the larger value")
        order = ("cpu", "memory", "gpu", "disk")
        self.add("resources", *((k, number_text(merged[k])) for k in order if k in merged))

    def _resource_values(self, call: cst.BaseExpression) -> dict[str, float]:
        if not isinstance(call, cst.Call) or self.names.resolve(call) != "Resources":
            self.note("TP202", f"resources {code(call)} are not carried over")
            return {}
        values = {}
        for key, node in keyword_args(call).items():
            number = _quantity(_literal(node), key)
            if key in RESOURCE_KEYS and number is not None:
                values[RESOURCE_KEYS[key]] = number
            else:
                self.note("TP202", f"Resources({key}={code(node)}) is not carried over")
        return values


def _literal(node: cst.BaseExpression | None):
    try:
        return ast.literal_eval(code(node)) if node is not None else None
    except (ValueError, SyntaxError):
        return None


def _quantity(value, key: str) -> float | None:
    """A Kubernetes quantity as Metaflow counts it: cpus, or megabytes for memory and disk."""
    return cpu_cores(value) if key in ("cpu", "gpu") else memory_mb(value)


def _requirement(text: str, pin: str = "==") -> tuple[str, str]:
    """``numpy==1.26`` → (numpy, 1.26); other specifiers stay in the name, unpinned."""
    parts = text.split(pin, 1) if not (pin == "=" and "==" in text) else [text]
    return (parts[0].strip(), parts[1].strip() if len(parts) > 1 else "")


def schedule_option(
    call: cst.Call, names: FlyteNames, span: Span, diagnostics, lost: list[tuple[str, str, str]]
) -> Option | None:
    """A LaunchPlan's schedule → the model's schedule option (Metaflow's ``@schedule`` terms):
    ``CronSchedule(schedule=...)`` its cron; ``FixedRate(duration=timedelta(...))`` the cron of
    that period where one exists (a period dividing an hour or a day, or a week). What cannot
    be carried goes to ``lost`` as (setting, its code, why), for a TODO in the output."""

    def note(code_: str, message: str) -> None:
        diagnostics.append(Diagnostic(code_, "warning", message, span, True))

    kind = names.resolve(call)
    args = keyword_args(call)
    if kind == "CronSchedule":
        cron = args.get("schedule") or args.get("cron_expression")
        cron = cron or (positional_args(call) or [None])[0]
        kickoff = args.get("kickoff_time_input_arg")
        if kickoff is not None:
            why = (
                "the target's scheduler does not pass the scheduled time; a scheduled run must "
                f"set input {code(kickoff)} itself"
            )
            lost.append(("kickoff_time_input_arg", code(kickoff), why))
        if cron is not None:
            return Option("schedule", (("cron", code(cron)),), span)
    if kind == "FixedRate":
        duration = args.get("duration") or (positional_args(call) or [None])[0]
        seconds = _seconds(duration)
        schedule = _period_schedule(seconds) if seconds else None
        if schedule is not None:
            key, value = schedule
            shown = f"cron {value}" if key == "cron" else f"{key}=True"
            note(
                "TP201",
                f"schedule {code(call)} becomes @schedule({shown}): runs at clock-aligned "
                "times, where Flyte counts the period from the launch plan's activation",
            )
            return Option("schedule", ((key, value),), span)
    why = "a period no cron expression can say" if kind == "FixedRate" else ""
    lost.append(("schedule", code(call), why))
    return None


_TIMEDELTA_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def _seconds(node: cst.BaseExpression | None) -> int | None:
    """``timedelta(minutes=10)`` (keywords with literal numbers) in seconds; None otherwise."""
    if not isinstance(node, cst.Call) or code(node.func).split(".")[-1] != "timedelta":
        return None
    if positional_args(node):
        return None
    total = 0.0
    for key, value in keyword_args(node).items():
        number = _literal(value)
        if key not in _TIMEDELTA_UNITS or not isinstance(number, (int, float)):
            return None
        total += number * _TIMEDELTA_UNITS[key]
    return int(total) if total == int(total) and total > 0 else None


def _period_schedule(seconds: int) -> tuple[str, str] | None:
    """The @schedule argument running every ``seconds``, where a cron expression can say it."""
    if seconds == 3600:
        return ("hourly", "True")
    if seconds == 86400:
        return ("daily", "True")
    if seconds == 604800:
        return ("weekly", "True")
    minutes, hours = seconds // 60, seconds // 3600
    if seconds % 60 == 0 and minutes < 60 and 60 % minutes == 0:
        return ("cron", repr("* * * * *" if minutes == 1 else f"*/{minutes} * * * *"))
    if seconds % 3600 == 0 and hours < 24 and 24 % hours == 0:
        return ("cron", repr(f"0 */{hours} * * *"))
    return None
