"""A ``KubernetesPodOperator`` as a step that runs the pod's command with ``subprocess``.

Airflow starts a pod from ``image`` running ``cmds + arguments`` with ``env_vars`` and fails the
task when the command fails. The step does the same in its own environment, its image the
step's image option (Metaflow's ``@kubernetes(image=...)``, Flyte's ``container_image``, KFP's
``base_image``), as the KFP reader does for a container component; said as a lossy warning
(the programs the command calls must be in the step's environment). What a literal cannot say
(a template, a computed list, the image's own entrypoint when ``cmds`` is left out) stays a
TODO step (TP188); pod settings that change what runs (resources, volumes, secrets) are named
as not carried (TP189), those that do not (name, namespace, labels, logs) are dropped.
"""

from __future__ import annotations

import ast
import dataclasses

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Option

# pod settings that do not change what the command computes
QUIET = {
    "task_id",
    "name",
    "namespace",
    "labels",
    "annotations",
    "get_logs",
    "log_events_on_failure",
    "in_cluster",
    "is_delete_operator_pod",
    "on_finish_action",
    "startup_timeout_seconds",
    "image_pull_policy",
    "reattach_on_restart",
    "random_name_suffix",
    "dag",
    "do_xcom_push",
    "image",
    "cmds",
    "arguments",
    "env_vars",
}
# settings the step's options carry (retries, timeouts, trigger rules: the reader's own)
CARRIED = {"retries", "retry_delay", "execution_timeout", "trigger_rule", "task_group", "pool"}


def _texts(node: ast.expr | None) -> list[str] | None:
    """A literal list of strings without Jinja templates, else None."""
    if not isinstance(node, ast.List | ast.Tuple):
        return None
    found = []
    for element in node.elts:
        if not (isinstance(element, ast.Constant) and isinstance(element.value, str)):
            return None
        if "{{" in element.value or "{%" in element.value:
            return None
        found.append(element.value)
    return found


def _env(node: ast.expr | None) -> dict[str, str] | None:
    """A literal dict of strings (``env_vars``), {} when left out, else None."""
    if node is None:
        return {}
    if not isinstance(node, ast.Dict):
        return None
    found = {}
    for key, value in zip(node.keys, node.values, strict=True):
        if not (
            isinstance(key, ast.Constant)
            and isinstance(key.value, str)
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
            and "{{" not in value.value
        ):
            return None
        found[key.value] = value.value
    return found


def pod_step(dag, node: ast.Call, variable: str | None) -> str | None:
    """The step for a ``KubernetesPodOperator`` whose image, command and environment are
    literals; None (a TODO step, said by the caller) otherwise."""
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    image = keywords.get("image")
    cmds, arguments = _texts(keywords.get("cmds")), _texts(keywords.get("arguments", ast.List([])))
    env = _env(keywords.get("env_vars"))
    if not (isinstance(image, ast.Constant) and isinstance(image.value, str)):
        return None
    if cmds is None or arguments is None or env is None or not cmds:
        return None
    task_id = dag._task_id(node, variable or "pod")
    for key, value in keywords.items():
        if key not in QUIET and key not in CARRIED:
            dag.note("TP189", f"{key}= of a KubernetesPodOperator is not carried", value)
    pushed = keywords.get("do_xcom_push")
    if isinstance(pushed, ast.Constant) and pushed.value is True:
        dag.note(
            "TP189",
            "do_xcom_push=True: the result the pod writes to /airflow/xcom/return.json is not "
            "carried",
            pushed,
        )
    command = [*cmds, *arguments]
    if env:
        body = (
            "import os\nimport subprocess\n\n"
            f"subprocess.run({command!r}, check=True, env={{**os.environ, **{env!r}}})\n"
        )
    else:
        body = f"import subprocess\n\nsubprocess.run({command!r}, check=True)\n"
    options = dag._options(None, dag._settings(node), node)
    step = dag.add(task_id, node, (), (), body, options)
    span = dag.span(node)
    made = dag.steps[-1]
    image_option = Option("kubernetes", (("image", repr(image.value)),), span)
    dag.steps[-1] = dataclasses.replace(made, options=(*made.options, image_option))
    message = (
        f"KubernetesPodOperator {dag.task_ids[step]} runs its command with subprocess in the "
        f"step's own environment, its image {image.value} the step's image: the programs it "
        f"calls must be there ({' '.join(command)[:80]})"
    )
    dag.reader.diagnostics.append(Diagnostic("TP201", "warning", message, span, lossy=True))
    return step
