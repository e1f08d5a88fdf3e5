"""Step and pipeline options (decorators) → component arguments, task settings, or TODO comments."""

from __future__ import annotations

from dataclasses import dataclass, field

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Option
from transpile.model.quantity import kubernetes_memory
from transpile.writing.options import (
    RESOURCE_KINDS,
    SCHEDULES,
    BaseOptionMapper,
    key_values,
    launch_setting,
    literal,
    merge_resources,
    number,
    schedule_cron,
)

from .. import FRAMEWORK

BASE_IMAGE = "python:3.11"
PLATFORM_ONLY = {
    "kubernetes": {"cpu", "memory", "gpu", "gpu_vendor", "disk", "image"},
    "batch": {"cpu", "memory", "gpu", "image"},
}
GPU_RESOURCE = {"nvidia": "nvidia.com/gpu", "amd": "amd.com/gpu"}
# @kubernetes settings KFP takes for a whole run, not a task
POD_ELSEWHERE = {
    "namespace": "KFP runs every task in the namespace of the run",
    "service_account": (
        "KFP runs every task with the service account of the run "
        "(kfp.Client().create_run_from_pipeline_func(..., service_account=...))"
    ),
}
# a KFP source's volumes and config map variables (the kubernetes option's notes) → the call
# that makes each, and the argument naming it
VOLUME_CALLS = {
    "secret_volumes": ("use_secret_as_volume", "secret_name"),
    "config_map_env": ("use_config_map_as_env", "config_map_name"),
    "config_map_volumes": ("use_config_map_as_volume", "config_map_name"),
    "empty_dirs": ("empty_dir_mount", "volume_name"),
}
# the keys of a toleration add_toleration takes (Metaflow's are V1Toleration's, the same)
TOLERATION_KEYS = ("key", "operator", "value", "effect", "toleration_seconds")


@dataclass
class TaskSettings:
    base_image: str = BASE_IMAGE
    packages: dict[str, str] = field(default_factory=dict)  # name → requirement
    calls: list[str] = field(default_factory=list)  # PipelineTask setters, e.g. set_retry(...)
    # kfp-kubernetes calls on the task (its first argument): (function, the other arguments)
    pod_calls: list[tuple[str, str]] = field(default_factory=list)
    todos: list[str] = field(default_factory=list)
    card: bool = False


class OptionMapper(BaseOptionMapper):
    COLUMN, LABEL, SETTINGS = FRAMEWORK.capabilities, "KFP", TaskSettings
    pod_noted = False  # the note that the module needs kfp-kubernetes is made

    def _finish(
        self, settings: TaskSettings, resources: dict[str, object], options: tuple[Option, ...]
    ) -> None:
        self._resources(resources, options, settings)

    # resources ------------------------------------------------------------------------------------
    def _collect_resources(
        self, option: Option, resources: dict[str, object], settings: TaskSettings
    ) -> None:
        merge_resources(option, resources)
        if literal(option.arg("gpu_vendor")):
            resources["gpu_vendor"] = str(literal(option.arg("gpu_vendor"))).lower()
        if option.kind in PLATFORM_ONLY:
            image = literal(option.arg("image"))
            if image:
                settings.base_image = str(image)
            if option.kind == "kubernetes":
                option = self._pod_settings(option, settings)
            self._platform_extras(option, PLATFORM_ONLY, settings.todos)

    def _pod_settings(self, option: Option, settings: TaskSettings) -> Option:
        """@kubernetes settings kfp-kubernetes takes → its calls on the task (each a setting of
        the task's pod, as Metaflow makes it); the option without them. Secrets whose keys are
        not named (Metaflow puts every key of a secret in the environment; KFP names each) are a
        TODO here, the rest of what is left a TODO of ``_platform_extras``."""
        calls = settings.pod_calls
        carried: set[str] = set()
        for key, _ in option.args:
            value = literal(option.arg(key))
            made = _pod_calls(key, value)
            if made is not None:
                calls += made
                carried.add(key)
        secrets = literal(option.arg("secrets"))
        mapping = literal(option.arg("secret_env"))
        if "secrets" in dict(option.args) and isinstance(mapping, dict | type(None)):
            names = secrets.split(",") if isinstance(secrets, str) else secrets
            if isinstance(names, list):
                mapping = mapping or {}
                for name in names:
                    if name in mapping:
                        args = f"secret_name={name!r}, secret_key_to_env={mapping[name]!r}"
                        calls.append(("use_secret_as_env", args))
                    else:
                        self._unnamed_keys(option, str(name).strip(), settings)
                carried |= {"secrets", "secret_env"}
        for key, why in POD_ELSEWHERE.items():
            if option.arg(key) is not None:
                message = f"@kubernetes({key}={option.arg(key)}) is not carried over: {why}"
                self.note(option, "compute_platform", message, settings.todos, True)
                carried.add(key)
        if not carried:
            return option
        if calls and not self.pod_noted:  # once a module
            self.pod_noted = True
            message = (
                "@kubernetes settings became kfp-kubernetes calls: the module imports "
                "kfp.kubernetes, which the kfp-kubernetes package provides "
                "(pip install kfp-kubernetes)"
            )
            self.diagnostics.append(Diagnostic("TP201", "info", message, option.span))
        args = tuple((k, v) for k, v in option.args if k not in carried)
        return Option(option.kind, args, option.span)

    def _unnamed_keys(self, option: Option, name: str, settings: TaskSettings) -> None:
        message = (
            f"@kubernetes(secrets=[{name!r}]) puts every key of the secret in the environment; "
            f"kfp-kubernetes names each: add kubernetes.use_secret_as_env(task, secret_name="
            f"{name!r}, secret_key_to_env={{KEY: VARIABLE, ...}}) with the secret's keys"
        )
        self.note(option, "secrets", message, settings.todos, True)

    def _resources(
        self, resources: dict[str, object], options: tuple[Option, ...], settings: TaskSettings
    ) -> None:
        """Requests and limits alike; Metaflow's memory and disk are in megabytes (its own
        Kubernetes plugin writes them as ``<n>M``)."""
        if "cpu" in resources:
            cpu = str(resources["cpu"])
            settings.calls += [f"set_cpu_request({cpu!r})", f"set_cpu_limit({cpu!r})"]
        if "memory" in resources:
            memory = kubernetes_memory(resources["memory"])
            settings.calls += [f"set_memory_request({memory!r})", f"set_memory_limit({memory!r})"]
        option = next(o for o in options if o.kind in RESOURCE_KINDS) if resources else None
        if number(resources.get("gpu")) > 0 and option is not None:
            vendor = str(resources.get("gpu_vendor", "nvidia"))
            kind = GPU_RESOURCE.get(vendor, f"{vendor}.com/gpu")
            settings.calls += [
                f"set_accelerator_type({kind!r})",
                f"set_accelerator_limit({str(resources['gpu'])!r})",
            ]
            message = f"the accelerator type {kind} is a guess from the GPU vendor ({vendor})"
            self.note(option, "resources", message, settings.todos, False)
        if "disk" in resources and option is not None:
            message = f"disk={resources['disk']} MB is not carried over (no KFP setter)"
            self.note(option, "compute_platform", message, settings.todos, True)

    # other step options ---------------------------------------------------------------------------
    def _retry(self, option: Option, settings: TaskSettings) -> None:
        times = literal(option.arg("times", "3"))
        minutes = number(literal(option.arg("minutes_between_retries", "2")))
        seconds = int(minutes * 60) if float(minutes * 60).is_integer() else minutes * 60
        args = f"num_retries={times!r}, backoff_duration={f'{seconds}s'!r}"
        if seconds:
            args += ", backoff_factor=1.0"  # Metaflow waits the same time before every attempt
        settings.calls.append(f"set_retry({args})")

    def _timeout(self, option: Option, settings: TaskSettings) -> None:
        parts = ", ".join(f"{unit}={option.arg(unit)}" for unit, _ in option.args)
        message = f"@timeout({parts}) is not carried over"
        self.note(option, "timeout", message, settings.todos, True)

    def _cache(self, option: Option, settings: TaskSettings) -> None:
        settings.calls.append("set_caching_options(enable_caching=True)")  # after the default off

    def _environment(self, option: Option, settings: TaskSettings) -> None:
        variables = literal(option.arg("vars", "{}")) or {}
        for name, value in variables.items():
            settings.calls.append(f"set_env_variable(name={name!r}, value={str(value)!r})")

    def _pypi(self, option: Option, settings: TaskSettings) -> None:
        self._packages(option, settings, "packages", "==")

    def _conda(self, option: Option, settings: TaskSettings) -> None:
        self._packages(option, settings, "libraries", "==")
        message = "@conda packages are installed with pip (names and builds can differ)"
        self.note(option, "packages", message, settings.todos, False)

    _pypi_base = _pypi
    _conda_base = _conda

    def _packages(self, option: Option, settings: TaskSettings, key: str, pin: str) -> None:
        """@pypi/@conda and their flow-level _base forms merge into one list (the step wins)."""
        packages = literal(option.arg("packages") or option.arg(key, "{}")) or {}
        for name, version in packages.items():
            settings.packages.setdefault(name, f"{name}{pin}{version}" if version else name)
        python = literal(option.arg("python"))
        if python:
            settings.base_image = f"python:{'.'.join(str(python).split('.')[:2])}"

    def _catch(self, option: Option, settings: TaskSettings) -> None:
        var = literal(option.arg("var"))
        message = f"@catch(var={var!r}) is dropped: a failure now fails the pipeline"
        self.note(option, "catch", message, settings.todos, True)

    def _card(self, option: Option, settings: TaskSettings) -> None:
        settings.card = True
        message = "@card became a Markdown artifact listing the step's results"
        self.note(option, "card", message, settings.todos, False)

    def _secrets(self, option: Option, settings: TaskSettings) -> None:
        message = f"@secrets({option.arg('sources')}) must be mounted as Kubernetes secrets"
        self.note(option, "secrets", message, settings.todos, True)

    # pipeline level -------------------------------------------------------------------------------
    def pipeline_settings(self, options: tuple[Option, ...]) -> tuple[str | None, list[str]]:
        """The cron expression of @schedule in KFP's six-field form, and TODOs for the rest."""
        todos: list[str] = []
        cron = None
        for option in options:
            if option.kind == "schedule":
                cron = schedule_cron(option) or SCHEDULES["daily"]
                message = "@schedule became a function that creates a recurring run"
                self.note(option, "schedule", message, todos, False)
                if option.arg("timezone"):
                    message = (
                        f"the schedule's timezone {option.arg('timezone')} is not carried over"
                    )
                    self.note(option, "schedule_timezone", message, todos, True)
            elif option.kind == "project":
                name = literal(option.arg("name"))
                message = f"@project(name={name!r}): run the pipeline in a KFP experiment"
                self.note(option, "project", message, todos, True)
            elif option.kind in ("trigger", "trigger_on_finish"):
                self.note(option, "trigger", f"@{option.kind} is not carried over", todos, True)
            elif option.kind == "exit_hook":
                message = "@exit_hook is not carried over (wrap the tasks in dsl.ExitHandler)"
                self.note(option, "exit_hook", message, todos, True)
            elif option.kind == "launch_settings":
                self.note(option, "launch_settings", launch_setting(option), todos, True)
            elif option.kind == "custom":
                self.flow_custom(option, todos)
        return (f"0 {cron}" if cron else None), todos


def _pod_calls(key: str, value: object) -> list[tuple[str, str]] | None:
    """The kfp-kubernetes calls for one @kubernetes setting (not ``secrets``), or None when
    kfp-kubernetes has none or the value is not of the form Metaflow takes."""
    pairs = key_values(value)
    if key == "node_selector" and pairs is not None:
        return [("add_node_selector", f"label_key={k!r}, label_value={v!r}") for k, v in pairs]
    if key == "labels" and pairs is not None:
        return [("add_pod_label", f"label_key={k!r}, label_value={v!r}") for k, v in pairs]
    if key == "annotations" and pairs is not None:
        return [
            ("add_pod_annotation", f"annotation_key={k!r}, annotation_value={v!r}")
            for k, v in pairs
        ]
    if key == "tolerations" and isinstance(value, list):
        if not all(isinstance(t, dict) and set(t) <= set(TOLERATION_KEYS) for t in value):
            return None
        return [
            ("add_toleration", ", ".join(f"{k}={t[k]!r}" for k in TOLERATION_KEYS if k in t))
            for t in value
        ]
    if key == "image_pull_secrets" and isinstance(value, list):
        return [("set_image_pull_secrets", f"secret_names={[str(n) for n in value]!r}")]
    if key == "image_pull_policy" and isinstance(value, str):
        return [("set_image_pull_policy", f"policy={value!r}")]
    if key in VOLUME_CALLS and isinstance(value, dict):  # a KFP source's (ir.NOTES)
        function, name = VOLUME_CALLS[key]
        if key == "config_map_env":
            return [
                (function, f"{name}={n!r}, config_map_key_to_env={keys!r}")
                for n, keys in value.items()
            ]
        if key == "empty_dirs":
            return [
                (function, ", ".join([f"{name}={n!r}", *(f"{k}={v!r}" for k, v in s.items())]))
                for n, s in value.items()
            ]
        return [(function, f"{name}={n!r}, mount_path={p!r}") for n, p in value.items()]
    if key == "persistent_volume_claims" and isinstance(value, dict):
        return [
            ("mount_pvc", f"pvc_name={str(claim)!r}, mount_path={str(path)!r}")
            for claim, path in value.items()
        ]
    return None
