"""kfp-kubernetes settings of a task's pod → the model's ``kubernetes`` option.

The option's arguments are Metaflow's ``@kubernetes`` ones (``secrets``, ``node_selector``,
``tolerations``, ``labels``, ``annotations``, ``image_pull_secrets``, ``image_pull_policy``,
``persistent_volume_claims``), so each writer reads one form; ``secret_env`` (a note, see
``ir.NOTES``) keeps which key of each secret becomes which environment variable, which Flyte's
``Secret(env_var=...)`` takes and Metaflow's ``@kubernetes(secrets=...)`` does not (it names each
variable by its key). Secrets and config maps mounted as files, a config map's keys in the
environment and empty-dir volumes are notes too (``VOLUME_NOTES``): a Flyte pod template holds
them, Metaflow's ``@kubernetes`` has no setting for them. ``set_timeout`` is the model's
``timeout``.
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Option, Span

from .settings import Settings

VOLUME_CALLS = ("CreatePVC", "DeletePVC")
# each call's arguments after the task, in order (they may be given by position)
PARAMETERS = {
    "use_secret_as_env": ("secret_name", "secret_key_to_env", "optional"),
    "add_node_selector": ("label_key", "label_value"),
    "add_toleration": ("key", "operator", "value", "effect", "toleration_seconds"),
    "add_pod_label": ("label_key", "label_value"),
    "add_pod_annotation": ("annotation_key", "annotation_value"),
    "set_image_pull_secrets": ("secret_names",),
    "set_image_pull_policy": ("policy",),
    "mount_pvc": ("pvc_name", "mount_path", "sub_path"),
    "use_secret_as_volume": ("secret_name", "mount_path", "optional"),
    "use_config_map_as_env": ("config_map_name", "config_map_key_to_env", "optional"),
    "use_config_map_as_volume": ("config_map_name", "mount_path", "optional"),
    "empty_dir_mount": ("volume_name", "mount_path", "medium", "size_limit"),
    "set_timeout": ("seconds",),
}
UNKNOWN = object()

Literal = Callable[[cst.BaseExpression], object]  # an argument's value, UNKNOWN when not literal


def pod_setting(
    settings: Settings,
    call: str,
    node: cst.Call,
    span: Span,
    diagnostics: list[Diagnostic],
    literal: Literal,
) -> str | None:
    """Record one kfp-kubernetes call on a task's settings; the reason when it is not carried
    (a TODO at the step, and a lossy diagnostic, say so)."""
    if call not in PARAMETERS:
        return "transpile maps it to no setting of the targets"
    args = _arguments(node, PARAMETERS[call], literal)
    if any(v is UNKNOWN for v in args.values()):
        return "its values are known only when the pipeline runs"
    pod = settings.pod
    if call != "set_timeout":  # the kubernetes option is said where its first setting is
        settings.pod_span = settings.pod_span or span
    if call == "use_secret_as_env":
        name, keys = args.get("secret_name"), args.get("secret_key_to_env")
        if not isinstance(name, str) or not isinstance(keys, dict):
            return "secret_name and secret_key_to_env must be literals"
        if name not in pod.setdefault("secrets", []):
            pod["secrets"].append(name)
        pod.setdefault("secret_env", {}).setdefault(name, {}).update(keys)
        if args.get("optional"):
            message = f"optional=True of secret {name!r} is not carried: the secret must exist"
            diagnostics.append(Diagnostic("TP201", "warning", message, span, lossy=True))
    elif call in ("add_node_selector", "add_pod_label", "add_pod_annotation"):
        key, value = list(args.values())[:2] if len(args) >= 2 else (None, None)
        field = {"add_node_selector": "node_selector", "add_pod_label": "labels"}
        pod.setdefault(field.get(call, "annotations"), {})[str(key)] = str(value)
    elif call == "add_toleration":
        toleration = {k: v for k, v in args.items() if v is not None}
        pod.setdefault("tolerations", []).append(toleration)
    elif call == "set_image_pull_secrets":
        names = args.get("secret_names")
        if not isinstance(names, list):
            return "secret_names must be a literal list"
        pod.setdefault("image_pull_secrets", []).extend(str(n) for n in names)
    elif call == "set_image_pull_policy":
        if not isinstance(args.get("policy"), str):
            return "policy must be a literal string"
        pod["image_pull_policy"] = args["policy"]
    elif call == "mount_pvc":
        if args.get("sub_path"):
            return "a sub_path of a volume has no @kubernetes equivalent"
        claims = pod.setdefault("persistent_volume_claims", {})
        claims[str(args.get("pvc_name"))] = str(args.get("mount_path"))
    elif call in VOLUME_NOTES:
        return _volume(pod, call, args, span, diagnostics)
    elif call == "set_timeout":
        seconds = args.get("seconds")
        if not isinstance(seconds, int):
            return "seconds must be a literal int"
        settings.options.append(Option("timeout", (("seconds", str(seconds)),), span))
    return None


# calls that mount a volume or read a config map: the note of the kubernetes option they make
# (see ``ir.NOTES``; Metaflow's @kubernetes has no such setting), and the argument it keys on
VOLUME_NOTES = {
    "use_secret_as_volume": ("secret_volumes", "secret_name"),
    "use_config_map_as_env": ("config_map_env", "config_map_name"),
    "use_config_map_as_volume": ("config_map_volumes", "config_map_name"),
    "empty_dir_mount": ("empty_dirs", "volume_name"),
}


def _volume(
    pod: dict, call: str, args: dict[str, object], span: Span, diagnostics: list[Diagnostic]
) -> str | None:
    """A secret or config map mounted as files, a config map's keys as environment variables,
    an empty-dir volume: ``{name: mount path}`` (``{name: {key: variable}}`` for the config
    map's environment, ``{name: {"mount_path": ..., "medium": ..., "size_limit": ...}}`` for
    an empty dir) under the call's note."""
    note, key = VOLUME_NOTES[call]
    name = args.get(key)
    if call == "use_config_map_as_env":
        value = args.get("config_map_key_to_env")
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            return "config_map_key_to_env must be a literal dict"
    elif call == "empty_dir_mount":
        value = {k: args[k] for k in ("mount_path", "medium", "size_limit") if args.get(k)}
    else:
        value = args.get("mount_path")
    mounted = call != "use_config_map_as_env"
    if not isinstance(name, str) or (mounted and not isinstance(args.get("mount_path"), str)):
        return f"{key} and mount_path must be literal strings"
    found = pod.setdefault(note, {})
    if name in found and mounted:
        return f"{name!r} is mounted twice"
    if call == "use_config_map_as_env":
        found.setdefault(name, {}).update(value)
    else:
        found[name] = value
    if args.get("optional"):
        what = "config map" if "config_map" in call else "secret"
        message = f"optional=True of {what} {name!r} is not carried: the {what} must exist"
        diagnostics.append(Diagnostic("TP201", "warning", message, span, lossy=True))
    return None


def _arguments(node: cst.Call, names: tuple[str, ...], literal: Literal) -> dict[str, object]:
    """The call's arguments after the task, by name (positional ones in ``names``' order)."""
    positional = [a for a in node.args if a.keyword is None]
    if not any(a.keyword and a.keyword.value == "task" for a in node.args):
        positional = positional[1:]  # the first is the task
    given = {n: a.value for n, a in zip(names, positional, strict=False)}
    given |= {
        a.keyword.value: a.value for a in node.args if a.keyword and a.keyword.value != "task"
    }
    return {n: literal(given[n]) for n in names if n in given}
