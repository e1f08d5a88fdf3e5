"""Options (decorators and settings) in framework-neutral form: capability key → normalised value.

Readers give ``Option`` kinds and arguments in the units the Metaflow reader uses (memory and disk
in MB, timeouts in seconds/minutes/hours, ``@retry(times=, minutes_between_retries=)``). This
module folds them into one value per capability key so that ``@resources(memory=4096)`` and a
reader's view of ``Resources(mem="4096M")`` or ``set_memory_limit("4096M")`` compare equal (``"4096Mi"`` is
4294.967296 MB, and differs).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable

from ..frameworks import capabilities
from ..model.ir import Option
from ..model.quantity import cpu_cores, memory_mb, whole_mb

# Option kind → the capability keys it touches (the report cites these, diff compares by them).
OPTION_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "retry": ("retry", "retry_delay"),
    "timeout": ("timeout",),
    "resources": ("resources",),
    "kubernetes": ("resources", "image", "compute_platform"),
    "batch": ("resources", "image", "compute_platform"),
    "environment": ("environment",),
    "pypi": ("packages",),
    "conda": ("packages",),
    "pypi_base": ("packages",),
    "conda_base": ("packages",),
    "image": ("image",),
    "catch": ("catch",),
    "card": ("card",),
    "secrets": ("secrets",),
    "schedule": ("schedule", "schedule_timezone"),
    "project": ("project",),
    "trigger": ("trigger",),
    "trigger_on_finish": ("trigger",),
    "exit_hook": ("exit_hook",),
    "cache": ("cache",),
    "caching": ("cache",),
}
SCHEDULES = {"daily": "0 0 * * *", "hourly": "0 * * * *", "weekly": "0 0 * * 0"}
RESOURCE_NAMES = ("cpu", "memory", "gpu", "disk")


def capability_keys(kind: str) -> tuple[str, ...]:
    """The capability keys an option kind stands for; an unknown kind stands for itself."""
    return OPTION_CAPABILITIES.get(kind, (kind,))


def used_capabilities(option: Option) -> tuple[str, ...]:
    """The capability keys this option actually exercises (``@retry(minutes_between_retries=0)``
    asks for no delay; ``@kubernetes(image=...)`` alone sets no resources)."""
    if option.kind == "retry":
        no_delay = literal(option.arg("minutes_between_retries", "2")) == 0
        return ("retry",) if no_delay else ("retry", "retry_delay")
    if option.kind == "schedule":
        return ("schedule", "schedule_timezone") if option.arg("timezone") else ("schedule",)
    if option.kind in ("kubernetes", "batch"):
        names = {k for k, _ in option.args}
        used = ["resources"] if names & set(RESOURCE_NAMES) else []
        used += ["image"] if "image" in names else []
        used += ["compute_platform"] if names - {*RESOURCE_NAMES, "image"} else []
        return tuple(used)
    return capability_keys(option.kind)


def literal(source: str | None) -> object:
    """A Python literal's value, or its source text with spaces removed when it is not one."""
    if source is None:
        return None
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return re.sub(r"\s+", "", source)


def comparable(key: str, framework_a: str, framework_b: str) -> bool:
    """Whether both frameworks express ``key`` exactly: a conversion cannot carry anything else
    over unchanged, so a known loss or approximation (which the report lists) is no difference."""
    capability = capabilities().get(key)
    if capability is None:
        return True
    return all(capability.support.get(f, "none") == "exact" for f in (framework_a, framework_b))


def normalise(options: Iterable[Option]) -> dict[str, object]:
    """Capability key → canonical value (numbers as floats, units as Metaflow's)."""
    values: dict[str, object] = {}
    resources: dict[str, float] = {}
    for option in options:
        if option.kind in ("resources", "kubernetes", "batch"):
            _merge_resources(option, resources)
        handler = _HANDLERS.get(option.kind)
        if handler is not None:
            _update(values, handler(option))
        elif option.kind != "resources":
            values.setdefault(capability_keys(option.kind)[0], _args(option))
    if resources:
        values["resources"] = dict(sorted(resources.items()))
    if values.get("cache") is False:
        del values["cache"]  # off is what every framework does when nothing is said
    return dict(sorted(values.items()))


def _update(values: dict[str, object], found: dict[str, object]) -> None:
    """Add one option's values; package lists merge (a step's own pins win over the base's)."""
    for key, value in found.items():
        if key == "packages" and isinstance(values.get(key), dict) and isinstance(value, dict):
            value = {**values[key], **value}
        values[key] = value


def _args(option: Option) -> dict[str, object]:
    return {k: literal(v) for k, v in sorted(option.written)}


def _merge_resources(option: Option, resources: dict[str, float]) -> None:
    for name in RESOURCE_NAMES:
        value = quantity(option.arg(name), memory=name in ("memory", "disk"))
        if value is not None:
            resources[name] = max(resources.get(name, value), value)


def quantity(source: str | None, memory: bool = False) -> float | None:
    """A resource amount as a number: memory and disk in whole MB (Metaflow's granularity, so
    ``"512Mi"`` and the 537 a Metaflow writer makes of it compare equal), cpu in cores."""
    value = literal(source)
    if not memory:
        return cpu_cores(value)
    size = memory_mb(value)
    return None if size is None else float(whole_mb(size))


def _retry(option: Option) -> dict[str, object]:
    # Metaflow's defaults for a bare @retry: 3 times, 2 minutes apart
    times = literal(option.arg("times", "3"))
    delay = literal(option.arg("minutes_between_retries", "2"))
    return {
        "retry": float(times) if isinstance(times, (int, float)) else times,
        "retry_delay": float(delay) if isinstance(delay, (int, float)) else delay,
    }


def _timeout(option: Option) -> dict[str, object]:
    scale = {"seconds": 1, "minutes": 60, "hours": 3600}
    total = sum(_number(option.arg(unit)) * factor for unit, factor in scale.items())
    return {"timeout": total}


def _schedule(option: Option) -> dict[str, object]:
    cron = literal(option.arg("cron"))
    for word, expression in SCHEDULES.items():
        if literal(option.arg(word)) is True:
            cron = expression
    found: dict[str, object] = {"schedule": re.sub(r"\s+", " ", str(cron)).strip()}
    if option.arg("timezone") is not None:
        found["schedule_timezone"] = literal(option.arg("timezone"))
    return found


def _environment(option: Option) -> dict[str, object]:
    variables = literal(option.arg("vars", "{}"))
    if isinstance(variables, dict):
        return {"environment": {str(k): str(v) for k, v in sorted(variables.items())}}
    return {"environment": variables}


def _packages(option: Option) -> dict[str, object]:
    """``@pypi(packages=)`` / ``@conda(libraries=)``: name → version; the Python version is an
    image detail KFP does not carry, so it is left out."""
    found = literal(option.arg("packages", option.arg("libraries", "{}")))
    return {"packages": dict(sorted(found.items())) if isinstance(found, dict) else found}


def _caching(option: Option) -> dict[str, object]:
    enabled = literal(option.arg("enabled", option.arg("enable_caching", "True")))
    return {"cache": bool(enabled)}


def _platform(option: Option) -> dict[str, object]:
    """``@kubernetes``/``@batch``: the image and the scheduler settings besides resources."""
    found: dict[str, object] = {}
    if option.arg("image") is not None:
        found["image"] = literal(option.arg("image"))
    rest = {k: literal(v) for k, v in sorted(option.args) if k not in (*RESOURCE_NAMES, "image")}
    if rest:
        found["compute_platform"] = rest
    return found


def _number(source: str | None) -> float:
    value = literal(source)
    return float(value) if isinstance(value, (int, float)) else 0.0


_HANDLERS: dict[str, Callable[[Option], dict[str, object]]] = {
    "retry": _retry,
    "timeout": _timeout,
    "schedule": _schedule,
    "environment": _environment,
    "cache": _caching,
    "caching": _caching,
    "pypi": _packages,
    "conda": _packages,
    "pypi_base": _packages,
    "conda_base": _packages,
    "kubernetes": _platform,
    "batch": _platform,
}
