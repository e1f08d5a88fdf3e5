"""Step and pipeline options (decorators) → @task arguments, LaunchPlans, or TODO comments."""

from __future__ import annotations

from dataclasses import dataclass, field

from transpile.model.ir import Option
from transpile.model.quantity import kubernetes_memory
from transpile.writing.options import (
    BaseOptionMapper,
    key_values,
    launch_setting,
    literal,
    merge_resources,
    number,
    schedule_cron,
)

from .. import FRAMEWORK

PLATFORM_ONLY = {
    "kubernetes": {"cpu", "memory", "gpu", "disk", "image"},
    "batch": {"cpu", "memory", "gpu", "image"},
}
# @kubernetes settings a Flyte PodTemplate holds: pod spec fields, then the pod's metadata
POD_SPEC = (
    "node_selector",
    "tolerations",
    "image_pull_secrets",
    "image_pull_policy",
    "persistent_volume_claims",
)
POD_METADATA = ("labels", "annotations")
# the notes of a KFP source's volumes and config map variables (kfp/reader/kubernetes.py)
POD_VOLUMES = ("config_map_env", "secret_volumes", "config_map_volumes", "empty_dirs")


@dataclass
class TaskSettings:
    args: list[tuple[str, str]] = field(default_factory=list)
    todos: list[str] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)  # flytekit names
    std_imports: set[str] = field(default_factory=set)
    image: dict = field(default_factory=dict)
    client: set[str] = field(default_factory=set)  # kubernetes.client names (a pod template)


class OptionMapper(BaseOptionMapper):
    COLUMN, LABEL, SETTINGS = FRAMEWORK.capabilities, "Flyte", TaskSettings

    def _finish(
        self, settings: TaskSettings, resources: dict[str, object], options: tuple[Option, ...]
    ) -> None:
        self._image_spec(settings)
        if resources:
            text = self._resources_call(resources)
            settings.args += [("requests", text), ("limits", text)]
            settings.imports.add("Resources")

    def _collect_resources(
        self, option: Option, resources: dict[str, object], settings: TaskSettings
    ) -> None:
        merge_resources(option, resources)
        if option.kind in PLATFORM_ONLY:
            image = literal(option.arg("image"))
            if image:
                settings.image["base_image"] = image
            if option.kind == "kubernetes" and option.arg("secret_env"):
                option = self._secret_requests(option, settings)
            if option.kind == "kubernetes":
                option = self._pod_template(option, settings)
            self._platform_extras(option, PLATFORM_ONLY, settings.todos)

    @staticmethod
    def _pod_template(option: Option, settings: TaskSettings) -> Option:
        """Node selector, tolerations, image pull secrets and policy, volumes (claims, secrets
        and config maps as files, empty dirs), a config map's keys as environment variables,
        pod labels and annotations → ``pod_template=PodTemplate(...)`` (what Flyte runs the
        task's pod with). The option without them."""
        keys = (*POD_SPEC, *POD_VOLUMES, *POD_METADATA)
        given = {k: literal(option.arg(k)) for k in keys if option.arg(k)}
        if "node_selector" in given:  # Metaflow takes "key=value,key2=value2" too
            given["node_selector"] = key_values(given["node_selector"])
        if not given or any(v is None for v in given.values()):
            return option
        spec, container = [], ['name="primary"']
        if "node_selector" in given:
            spec.append(f"node_selector={dict(given['node_selector'])!r}")
        if "tolerations" in given:
            made = [
                f"V1Toleration({', '.join(f'{k}={v!r}' for k, v in t.items())})"
                for t in given["tolerations"]
            ]
            spec.append(f"tolerations=[{', '.join(made)}]")
            settings.client.add("V1Toleration")
        if "image_pull_secrets" in given:
            refs = [f"V1LocalObjectReference(name={n!r})" for n in given["image_pull_secrets"]]
            spec.append(f"image_pull_secrets=[{', '.join(refs)}]")
            settings.client.add("V1LocalObjectReference")
        if "image_pull_policy" in given:
            container.append(f"image_pull_policy={given['image_pull_policy']!r}")
        if "config_map_env" in given:
            variables = [
                f"V1EnvVar(name={env!r}, value_from=V1EnvVarSource(config_map_key_ref="
                f"V1ConfigMapKeySelector(name={name!r}, key={key!r})))"
                for name, mapping in given["config_map_env"].items()
                for key, env in mapping.items()
            ]
            container.append(f"env=[{', '.join(variables)}]")
            settings.client |= {"V1EnvVar", "V1EnvVarSource", "V1ConfigMapKeySelector"}
        volumes, mounts = _volumes(given, settings.client)
        if volumes:
            spec.append(f"volumes=[{', '.join(volumes)}]")
            container.append(f"volume_mounts=[{', '.join(mounts)}]")
            settings.client |= {"V1Volume", "V1VolumeMount"}
        parts = []
        if spec or len(container) > 1:
            spec.insert(0, f"containers=[V1Container({', '.join(container)})]")
            parts.append(f"pod_spec=V1PodSpec({', '.join(spec)})")
            settings.client |= {"V1Container", "V1PodSpec"}
        parts += [f"{k}={given[k]!r}" for k in POD_METADATA if k in given]
        settings.args.append(("pod_template", f"PodTemplate({', '.join(parts)})"))
        settings.imports.add("PodTemplate")
        args = tuple((k, v) for k, v in option.args if k not in given)
        return Option(option.kind, args, option.span)

    @staticmethod
    def _secret_requests(option: Option, settings: TaskSettings) -> Option:
        """Secrets read as environment variables (KFP's ``use_secret_as_env``): Flyte mounts
        each key as the variable named (``Secret(env_var=...)``). The option without them."""
        mapping = literal(option.arg("secret_env")) or {}
        requests = [
            f"Secret(group={group!r}, key={key!r}, env_var={env!r}, "
            "mount_requirement=Secret.MountType.ENV_VAR)"
            for group, keys in mapping.items()
            for key, env in keys.items()
        ]
        settings.args.append(("secret_requests", f"[{', '.join(requests)}]"))
        settings.imports.add("Secret")
        rest = [s for s in literal(option.arg("secrets")) or [] if s not in mapping]
        args = [(k, v) for k, v in option.args if k not in ("secrets", "secret_env")]
        return Option(
            option.kind, (*args, *([("secrets", repr(rest))] if rest else [])), option.span
        )

    @staticmethod
    def _resources_call(resources: dict[str, object]) -> str:
        parts = []
        if "cpu" in resources:
            parts.append(f"cpu={str(resources['cpu'])!r}")
        if "memory" in resources:
            parts.append(f"mem={kubernetes_memory(resources['memory'])!r}")
        if "gpu" in resources and number(resources["gpu"]) > 0:
            parts.append(f"gpu={str(resources['gpu'])!r}")
        if "disk" in resources:
            parts.append(f"ephemeral_storage={kubernetes_memory(resources['disk'])!r}")
        return f"Resources({', '.join(parts)})"

    def _retry(self, option: Option, settings: TaskSettings) -> None:
        times = literal(option.arg("times", "3"))
        settings.args.append(("retries", repr(times)))
        delay = literal(option.arg("minutes_between_retries", "2"))
        if delay not in (0, "0"):
            self.note(
                option,
                "retry_delay",
                f"@retry waits {delay} minutes between attempts",
                settings.todos,
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
        version = literal(option.arg("version", "'1.0'"))  # args hold Python literals
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
            literal(option.arg("packages") or option.arg(key, "{}")) or {}
        )  # @conda: either name
        for name, version in packages.items():
            settings.image.setdefault(field_name, {}).setdefault(
                name, f"{name}{pin}{version}" if version else name
            )
        python = literal(option.arg("python"))
        if python:
            settings.image.setdefault("python_version", python)

    def _image_spec(self, settings: TaskSettings) -> None:
        """One ``container_image=``: the image named, or an ImageSpec when packages are added
        (on the image named, if any)."""
        if not settings.image:
            return
        if set(settings.image) == {"base_image"}:
            settings.args.append(("container_image", repr(settings.image["base_image"])))
            return
        args = []
        if "base_image" in settings.image:
            args.append(f"base_image={settings.image['base_image']!r}")
        for field_name in ("packages", "conda_packages"):
            if settings.image.get(field_name):
                args.append(f"{field_name}={sorted(settings.image[field_name].values())!r}")
        if "python_version" in settings.image:
            args.append(f"python_version={settings.image['python_version']!r}")
        settings.args.append(("container_image", f"ImageSpec({', '.join(args)})"))
        settings.imports.add("ImageSpec")

    def _catch(self, option: Option, settings: TaskSettings) -> None:
        var = literal(option.arg("var"))
        self.note(
            option,
            "catch",
            f"@catch(var={var!r}) is not carried over",
            settings.todos,
            True,
        )

    def _card(self, option: Option, settings: TaskSettings) -> None:
        if ("enable_deck", "True") not in settings.args:  # a step may have several cards
            settings.args.append(("enable_deck", "True"))
        self.note(option, "card", "@card is approximated", settings.todos, False)

    def _secrets(self, option: Option, settings: TaskSettings) -> None:
        self.note(
            option,
            "secrets",
            f"@secrets({option.arg('sources')}) must be re-declared as Flyte secrets",
            settings.todos,
            True,
        )

    # pipeline level ----------------------------------------------------------------------------
    def schedule(self, options: tuple[Option, ...]) -> tuple[str | None, TaskSettings]:
        """The cron expression of @schedule, if any; TODOs for the other pipeline options."""
        settings = TaskSettings()
        cron = None
        for option in options:
            if option.kind == "schedule":
                cron = schedule_cron(option)
                if option.arg("timezone"):
                    self.note(
                        option,
                        "schedule_timezone",
                        "the schedule's timezone is not carried over",
                        settings.todos,
                        True,
                    )
            elif option.kind == "project":
                name = literal(option.arg("name"))
                self.note(
                    option,
                    "project",
                    f"@project(name={name!r}) is not carried over",
                    settings.todos,
                    True,
                )
            elif option.kind in ("trigger", "trigger_on_finish"):
                self.note(
                    option, "trigger", f"@{option.kind} is not carried over", settings.todos, True
                )
            elif option.kind == "exit_hook":
                self.note(
                    option, "exit_hook", "@exit_hook is not carried over", settings.todos, True
                )
            elif option.kind == "launch_settings":
                message = launch_setting(option)
                self.note(option, "launch_settings", message, settings.todos, True)
            elif option.kind == "custom":
                self.flow_custom(option, settings.todos)
        return cron, settings


def _volumes(given: dict[str, object], client: set[str]) -> tuple[list[str], list[str]]:
    """The pod's volumes and the container's mounts of them: claims (``volume-N``), secrets
    (``secret-N``), config maps (``config-map-N``), empty dirs (by their own names)."""
    volumes, mounts = [], []

    def add(name: str, source: str, path: object) -> None:
        volumes.append(f"V1Volume(name={name!r}, {source})")
        mounts.append(f"V1VolumeMount(name={name!r}, mount_path={str(path)!r})")

    for n, (claim, path) in enumerate(dict(given.get("persistent_volume_claims", {})).items()):
        source = f"V1PersistentVolumeClaimVolumeSource(claim_name={claim!r})"
        add(f"volume-{n}", f"persistent_volume_claim={source}", path)
        client.add("V1PersistentVolumeClaimVolumeSource")
    for n, (secret, path) in enumerate(dict(given.get("secret_volumes", {})).items()):
        add(f"secret-{n}", f"secret=V1SecretVolumeSource(secret_name={secret!r})", path)
        client.add("V1SecretVolumeSource")
    for n, (name, path) in enumerate(dict(given.get("config_map_volumes", {})).items()):
        add(f"config-map-{n}", f"config_map=V1ConfigMapVolumeSource(name={name!r})", path)
        client.add("V1ConfigMapVolumeSource")
    for name, settings in dict(given.get("empty_dirs", {})).items():
        args = ", ".join(f"{k}={settings[k]!r}" for k in ("medium", "size_limit") if k in settings)
        add(str(name), f"empty_dir=V1EmptyDirVolumeSource({args})", settings["mount_path"])
        client.add("V1EmptyDirVolumeSource")
    return volumes, mounts
