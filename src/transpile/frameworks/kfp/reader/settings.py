"""KFP task settings (``set_cpu_limit``, ``set_retry``, ...) and decorator arguments → Options.

Options carry the Metaflow reader's units, which every writer reads: cpu in cores, memory and
disk in megabytes, retry ``times`` and ``minutes_between_retries``, environment ``vars`` as a
dict literal, packages as a ``{name: version}`` dict literal.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from transpile.model import quantity
from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Option, Span
from transpile.reading.cst import code

DEFAULT_IMAGE = "python:3.11"  # KFP's default base image (and what our KFP writer spells out)
_SECONDS = {"s": 1, "m": 60, "h": 3600}
# the kubernetes option's arguments, as Metaflow's @kubernetes names them (kubernetes.py)
POD_ORDER = (
    "secrets",
    "secret_env",
    "node_selector",
    "tolerations",
    "labels",
    "annotations",
    "image_pull_secrets",
    "image_pull_policy",
    "persistent_volume_claims",
    "secret_volumes",
    "config_map_env",
    "config_map_volumes",
    "empty_dirs",
)
NOT_CARRIED = {
    "set_display_name": "the task's display name",
    "ignore_upstream_failure": "running after a failed upstream task",
    "add_node_selector_constraint": "the node selector",
}


@dataclass
class Settings:
    """What the setters of one task say, merged into Options at the end."""

    span: Span
    resources: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    options: list[Option] = field(default_factory=list)
    resource_span: Span | None = None
    env_span: Span | None = None
    pod: dict[str, Any] = field(default_factory=dict)  # kfp-kubernetes settings (kubernetes.py)
    pod_span: Span | None = None

    def finish(self) -> tuple[Option, ...]:
        extra = []
        if self.resources:
            order = ("cpu", "memory", "gpu", "gpu_vendor")
            args = tuple((k, self.resources[k]) for k in order if k in self.resources)
            extra.append(Option("resources", args, self.resource_span or self.span))
        if self.env:
            extra.append(
                Option("environment", (("vars", repr(self.env)),), self.env_span or self.span)
            )
        if self.pod:
            args = tuple((k, repr(self.pod[k])) for k in POD_ORDER if k in self.pod)
            extra.append(Option("kubernetes", args, self.pod_span or self.span))
        return (*self.options, *extra)


def _value(node: cst.BaseExpression):
    try:
        return ast.literal_eval(code(node))
    except (ValueError, SyntaxError):
        return None


def cpu_cores(value: object) -> str | None:
    """``"500m"`` → ``0.5``; ``"2"`` / ``2`` → ``2``."""
    cores = quantity.cpu_cores(value)
    return None if cores is None else quantity.number_text(cores)


def memory_mb(value: object) -> str | None:
    """A Kubernetes quantity (``"4Gi"``, ``"512M"``) in megabytes."""
    size = quantity.memory_mb(value)
    return None if size is None else quantity.number_text(size)


def duration_minutes(value: object) -> str | None:
    text = str(value).strip()
    try:
        seconds = float(text[:-1]) * _SECONDS[text[-1]] if text[-1:] in _SECONDS else float(text)
    except ValueError:
        return None
    minutes = seconds / 60
    return str(int(minutes)) if minutes.is_integer() else repr(minutes)


class SettingsReader:
    """Reads one setter call at a time into a task's Settings; diagnostics for what is lost."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics

    def note(self, code_: str, message: str, span: Span, lossy: bool = True) -> None:
        severity = "warning" if lossy else "info"
        self.diagnostics.append(Diagnostic(code_, severity, message, span, lossy=lossy))

    def apply(self, settings: Settings, call: cst.Call, setter: str, span: Span) -> None:
        handler = getattr(self, f"_{setter}", None)
        if handler is not None:
            handler(settings, call, span)
        elif setter in NOT_CARRIED:
            self.note("TP201", f"{setter}: {NOT_CARRIED[setter]} is not carried over", span)
        else:
            self.note("TP202", f"task setting {setter}(...) is not carried over", span)

    def _arg(self, call: cst.Call, key: str, position: int = 0):
        for i, arg in enumerate(call.args):
            if (arg.keyword and arg.keyword.value == key) or (not arg.keyword and i == position):
                return _value(arg.value)
        return None

    def _resource(self, settings: Settings, key: str, value: str | None, span: Span) -> None:
        if value is None:
            self.note("TP202", f"cannot read the {key} setting", span)
            return
        previous = settings.resources.get(key)
        settings.resources[key] = value if previous is None else max(previous, value, key=float)
        settings.resource_span = settings.resource_span or span

    def _set_cpu_limit(self, settings: Settings, call: cst.Call, span: Span) -> None:
        self._resource(settings, "cpu", cpu_cores(self._arg(call, "cpu")), span)

    _set_cpu_request = _set_cpu_limit

    def _set_memory_limit(self, settings: Settings, call: cst.Call, span: Span) -> None:
        self._resource(settings, "memory", memory_mb(self._arg(call, "memory")), span)

    _set_memory_request = _set_memory_limit

    def _set_accelerator_limit(self, settings: Settings, call: cst.Call, span: Span) -> None:
        self._resource(settings, "gpu", cpu_cores(self._arg(call, "limit")), span)

    _set_gpu_limit = _set_accelerator_limit

    def _set_accelerator_type(self, settings: Settings, call: cst.Call, span: Span) -> None:
        vendor = str(self._arg(call, "accelerator")).split(".")[0]
        settings.resources["gpu_vendor"] = repr(vendor)

    def _set_retry(self, settings: Settings, call: cst.Call, span: Span) -> None:
        times = self._arg(call, "num_retries")
        minutes = duration_minutes(self._arg(call, "backoff_duration", 1) or "0s")
        factor = self._arg(call, "backoff_factor", 2)
        if minutes not in (None, "0") and factor not in (None, 1, 1.0):
            self.note("TP201", f"backoff_factor={factor} became a constant wait", span)
        if self._arg(call, "backoff_max_duration", 3) is not None:
            self.note("TP201", "backoff_max_duration is not carried over", span)
        args = (("times", repr(times)), ("minutes_between_retries", minutes or "0"))
        settings.options.append(Option("retry", args, span))

    def _set_env_variable(self, settings: Settings, call: cst.Call, span: Span) -> None:
        name, value = self._arg(call, "name", 0), self._arg(call, "value", 1)
        settings.env[str(name)] = str(value)
        settings.env_span = settings.env_span or span

    def _set_caching_options(self, settings: Settings, call: cst.Call, span: Span) -> None:
        # the model's default is Metaflow's and Flyte's: no reuse of earlier results
        if self._arg(call, "enable_caching") is True:
            settings.options.append(Option("cache", (("enabled", "True"),), span))

    def _set_container_image(self, settings: Settings, call: cst.Call, span: Span) -> None:
        image = self._arg(call, "name")
        if image != DEFAULT_IMAGE:
            settings.options.append(Option("kubernetes", (("image", repr(image)),), span))

    def decorator(self, settings: Settings, args: dict[str, str], span: Span) -> None:
        """``@dsl.component(base_image=..., packages_to_install=[...])``."""
        image = _literal(args.get("base_image"))
        if image is not None and image != DEFAULT_IMAGE:
            settings.options.append(Option("kubernetes", (("image", repr(image)),), span))
        packages = _literal(args.get("packages_to_install")) or []
        if packages:
            pins = dict(_pin(str(p)) for p in packages)
            settings.options.append(Option("pypi", (("packages", repr(pins)),), span))
        for key in sorted(set(args) - {"base_image", "packages_to_install", "additional_funcs"}):
            self.note("TP201", f"@dsl.component({key}=...) is not carried over", span)


def _literal(source: str | None):
    try:
        return ast.literal_eval(source) if source else None
    except (ValueError, SyntaxError):
        return None


def _pin(requirement: str) -> tuple[str, str]:
    """``"pandas==2.2"`` → ``("pandas", "2.2")``; other specifiers stay whole in the name."""
    name, sep, version = requirement.partition("==")
    return (name.strip(), version.strip()) if sep else (requirement.strip(), "")
