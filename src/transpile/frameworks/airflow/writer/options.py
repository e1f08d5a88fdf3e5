"""Step options (decorators) → ``@task`` arguments (retries, retry_delay, execution_timeout), or
a TODO comment and a diagnostic where Airflow has no exact equivalent."""

from __future__ import annotations

from dataclasses import dataclass, field

from transpile.model.ir import Option
from transpile.writing.options import BaseOptionMapper, literal, merge_resources

from .. import FRAMEWORK

# the @kubernetes / @batch settings the resources note below speaks for; the rest are TODOs
PLATFORM_ONLY = {
    "kubernetes": {"cpu", "memory", "gpu", "disk"},
    "batch": {"cpu", "memory", "gpu"},
}


@dataclass
class TaskSettings:
    args: list[tuple[str, str]] = field(default_factory=list)
    todos: list[str] = field(default_factory=list)
    std_imports: set[str] = field(default_factory=set)
    environment: str | None = None  # a dict literal the task body sets in os.environ


class OptionMapper(BaseOptionMapper):
    COLUMN, LABEL, SETTINGS = FRAMEWORK.capabilities, "Airflow", TaskSettings

    def _retry(self, option: Option, settings: TaskSettings) -> None:
        settings.args.append(("retries", repr(literal(option.arg("times", "3")))))
        delay = literal(option.arg("minutes_between_retries", "2"))
        settings.args.append(("retry_delay", f"timedelta(minutes={delay!r})"))
        settings.std_imports.add("from datetime import timedelta")

    def _timeout(self, option: Option, settings: TaskSettings) -> None:
        parts = [
            f"{unit}={option.arg(unit)}"
            for unit in ("hours", "minutes", "seconds")
            if option.arg(unit)
        ]
        settings.args.append(("execution_timeout", f"timedelta({', '.join(parts)})"))
        settings.std_imports.add("from datetime import timedelta")

    def _environment(self, option: Option, settings: TaskSettings) -> None:
        settings.environment = option.arg("vars", "{}")
        message = "@environment variables are set at the top of the task's body"
        self.note(option, "environment", message, settings.todos, False)

    def _card(self, option: Option, settings: TaskSettings) -> None:
        self.note(option, "card", "@card is not carried over", settings.todos, True)

    def _cache(self, option: Option, settings: TaskSettings) -> None:
        self.note(option, "cache", "the step's cache is not carried over", settings.todos, True)

    def _catch(self, option: Option, settings: TaskSettings) -> None:
        self.note(option, "catch", "@catch is not carried over", settings.todos, True)

    def _pypi(self, option: Option, settings: TaskSettings) -> None:
        message = f"@{option.kind} packages are not installed for the task"
        self.note(option, "packages", message, settings.todos, True)

    _conda = _pypi_base = _conda_base = _pypi

    def _collect_resources(
        self, option: Option, resources: dict[str, object], settings: TaskSettings
    ) -> None:
        merge_resources(option, resources)
        if option.kind in PLATFORM_ONLY:  # node selector, secrets, image...: named, not dropped
            self._platform_extras(option, PLATFORM_ONLY, settings.todos)

    def _finish(
        self, settings: TaskSettings, resources: dict[str, object], options: tuple[Option, ...]
    ) -> None:
        if resources:
            spots = [o for o in options if o.kind in ("resources", "kubernetes", "batch")]
            wanted = ", ".join(f"{k}={v}" for k, v in sorted(resources.items()))
            message = f"resources ({wanted}) are not set: give the task an executor_config"
            self.note(spots[0], "resources", message, settings.todos, True)
