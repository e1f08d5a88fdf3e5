"""Step and pipeline options (decorators) → @task arguments, LaunchPlans, or TODO comments."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..capabilities import lookup
from ..diagnostics import Diagnostic
from ..ir import Option

RESOURCE_KINDS = ("resources", "kubernetes", "batch")
PLATFORM_ONLY = {
    "kubernetes": {"cpu", "memory", "gpu", "disk", "image"},
    "batch": {"cpu", "memory", "gpu", "image"},
}
SCHEDULES = {"daily": "0 0 * * *", "hourly": "0 * * * *", "weekly": "0 0 * * 0"}


@dataclass
class TaskSettings:
    args: list[tuple[str, str]] = field(default_factory=list)
    todos: list[str] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)  # flytekit names
    std_imports: set[str] = field(default_factory=set)
    image: dict = field(default_factory=dict)


def _value(source: str | None):
    if source is None:
        return None
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return source


class OptionMapper:
    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics

    def note(
        self, option: Option, key: str, message: str, settings: TaskSettings, todo: bool
    ) -> None:
        """Record a construct without an exact equivalent: a diagnostic, and a TODO where asked."""
        capability = lookup(key)
        code = "TP202" if todo else "TP201"
        text = f"{message} ({capability.notes['flyte']})"
        self.diagnostics.append(Diagnostic(code, "warning", text, option.span, lossy=True))
        if todo:
            settings.todos.append(f"# TODO(transpile): {code} {text}")

    def task_settings(self, options: tuple[Option, ...]) -> TaskSettings:
        settings = TaskSettings()
        resources: dict[str, object] = {}
        for option in options:
            handler = getattr(self, f"_{option.kind}", None)
            if option.kind in RESOURCE_KINDS:
                self._collect_resources(option, resources, settings)
            elif handler is not None:
                handler(option, settings)
            else:
                self.note(
                    option,
                    "compute_platform",
                    f"@{option.kind} has no Flyte equivalent",
                    settings,
                    True,
                )
        self._image_spec(settings)
        if resources:
            text = self._resources_call(resources)
            settings.args += [("requests", text), ("limits", text)]
            settings.imports.add("Resources")
        return settings

    def _collect_resources(
        self, option: Option, resources: dict[str, object], settings: TaskSettings
    ) -> None:
        for key in ("cpu", "memory", "gpu", "disk"):
            value = _value(option.arg(key))
            if value is not None and key in dict(option.args):
                previous = resources.get(key)
                resources[key] = value if previous is None else max(previous, value, key=_number)
        if option.kind in PLATFORM_ONLY:
            image = _value(option.arg("image"))
            if image:
                settings.args.append(("container_image", repr(image)))
            extra = sorted(k for k, _ in option.args if k not in PLATFORM_ONLY[option.kind])
            if extra:
                self.note(
                    option,
                    "compute_platform",
                    f"@{option.kind} settings {', '.join(extra)} are not carried over",
                    settings,
                    True,
                )

    @staticmethod
    def _resources_call(resources: dict[str, object]) -> str:
        parts = []
        if "cpu" in resources:
            parts.append(f"cpu={str(resources['cpu'])!r}")
        if "memory" in resources:
            parts.append(f"mem={str(resources['memory']) + 'Mi'!r}")
        if "gpu" in resources and _number(resources["gpu"]) > 0:
            parts.append(f"gpu={str(resources['gpu'])!r}")
        if "disk" in resources:
            parts.append(f"ephemeral_storage={str(resources['disk']) + 'Mi'!r}")
        return f"Resources({', '.join(parts)})"

    def _retry(self, option: Option, settings: TaskSettings) -> None:
        times = _value(option.arg("times", "3"))
        settings.args.append(("retries", repr(times)))
        delay = _value(option.arg("minutes_between_retries", "2"))
        if delay not in (0, "0"):
            self.note(
                option,
                "retry_delay",
                f"@retry waits {delay} minutes between attempts",
                settings,
                True,
            )

    def _timeout(self, option: Option, settings: TaskSettings) -> None:
        parts = [
            f"{unit}={option.arg(unit)}"
            for unit in ("hours", "minutes", "seconds")
            if option.arg(unit)
        ]
        settings.args.append(("timeout", f"timedelta({', '.join(parts)})"))
        settings.std_imports.add("from datetime import timedelta")

    def _cache(self, option: Option, settings: TaskSettings) -> None:
        version = _value(option.arg("version", "'1.0'"))  # args hold Python literals
        settings.args += [("cache", "True"), ("cache_version", repr(str(version)))]

    def _environment(self, option: Option, settings: TaskSettings) -> None:
        settings.args.append(("environment", option.arg("vars", "{}")))  # type: ignore[arg-type]

    def _pypi(self, option: Option, settings: TaskSettings) -> None:
        self._image(option, settings, "packages", "==")

    def _conda(self, option: Option, settings: TaskSettings) -> None:
        self._image(option, settings, "libraries", "=")

    _pypi_base = _pypi
    _conda_base = _conda

    def _image(self, option: Option, settings: TaskSettings, key: str, pin: str) -> None:
        """@pypi/@conda and their flow-level _base forms merge into one ImageSpec (the step wins)."""
        field_name = "packages" if key == "packages" else "conda_packages"
        packages = (
            _value(option.arg("packages") or option.arg(key, "{}")) or {}
        )  # @conda: either name
        for name, version in packages.items():
            settings.image.setdefault(field_name, {}).setdefault(
                name, f"{name}{pin}{version}" if version else name
            )
        python = _value(option.arg("python"))
        if python:
            settings.image.setdefault("python_version", python)

    def _image_spec(self, settings: TaskSettings) -> None:
        if not settings.image:
            return
        args = []
        for field_name in ("packages", "conda_packages"):
            if settings.image.get(field_name):
                args.append(f"{field_name}={sorted(settings.image[field_name].values())!r}")
        if "python_version" in settings.image:
            args.append(f"python_version={settings.image['python_version']!r}")
        settings.args.append(("container_image", f"ImageSpec({', '.join(args)})"))
        settings.imports.add("ImageSpec")

    def _catch(self, option: Option, settings: TaskSettings) -> None:
        var = _value(option.arg("var"))
        self.note(
            option,
            "catch",
            f"@catch(var={var!r}) is not carried over",
            settings,
            True,
        )

    def _card(self, option: Option, settings: TaskSettings) -> None:
        settings.args.append(("enable_deck", "True"))
        self.note(option, "card", "@card is approximated", settings, False)

    def _secrets(self, option: Option, settings: TaskSettings) -> None:
        self.note(
            option,
            "secrets",
            f"@secrets({option.arg('sources')}) must be re-declared as Flyte secrets",
            settings,
            True,
        )

    # pipeline level ----------------------------------------------------------------------------
    def schedule(self, options: tuple[Option, ...]) -> tuple[str | None, TaskSettings]:
        """The cron expression of @schedule, if any; TODOs for the other pipeline options."""
        settings = TaskSettings()
        cron = None
        for option in options:
            if option.kind == "schedule":
                cron = _value(option.arg("cron"))
                for key, expr in SCHEDULES.items():
                    if _value(option.arg(key)) is True:
                        cron = expr
                if option.arg("timezone"):
                    self.note(
                        option,
                        "schedule_timezone",
                        "the schedule's timezone is not carried over",
                        settings,
                        True,
                    )
            elif option.kind == "project":
                name = _value(option.arg("name"))
                self.note(
                    option,
                    "project",
                    f"@project(name={name!r}) is not carried over",
                    settings,
                    True,
                )
            elif option.kind in ("trigger", "trigger_on_finish"):
                self.note(option, "trigger", f"@{option.kind} is not carried over", settings, True)
            elif option.kind == "exit_hook":
                self.note(option, "exit_hook", "@exit_hook is not carried over", settings, True)
        return cron, settings


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
