"""A container component, a ``dsl.importer`` or a Flyte ``ContainerTask``, for a target whose steps
are Python code.

Why: a Metaflow step is a Python method; it has no way to run an arbitrary image's command as the
step itself, nor to register an external artifact URI without running code.

Instead: wrap the command in a Python step that calls ``subprocess.run([...], check=True)`` under
``@kubernetes(image=...)``, and read external data inside a step (``metaflow.S3``), or keep this
pipeline on a container-native orchestrator.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import Hit, LintUnit

CODE = "TP509"
NAME = "container-step"
MESSAGE = "{what} is not Python code; {targets} steps must be"
FRAMEWORKS = frozenset({"kfp", "flyte"})
TARGETS = frozenset({"metaflow"})

VALID = [
    """
from kfp import dsl

@dsl.component(base_image="python:3.11")
def train(epochs: int) -> int:
    return epochs
""",
]
INVALID = [
    """
from kfp import dsl
from kfp.dsl import Dataset

@dsl.container_component  # error
def fetch(url: str):
    return dsl.ContainerSpec(image="curlimages/curl", command=["curl"], args=[url])

@dsl.pipeline
def flow():
    data = dsl.importer(artifact_uri="gs://b/data.csv", artifact_class=Dataset)  # error
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    targets = " and ".join(sorted(TARGETS & unit.targets)) or "the target's"
    for function in unit.functions("kfp", "container_component"):
        decorator = unit.decorated(function, "kfp", "container_component")
        what = f"container component '{function.name}'"
        yield unit.hit(decorator, MESSAGE.format(what=what, targets=targets))
    for node in ast.walk(unit.tree):
        if isinstance(node, ast.Call):
            what = _container_call(unit, node)
            if what:
                yield unit.hit(node, MESSAGE.format(what=what, targets=targets))


def _container_call(unit: LintUnit, call: ast.Call) -> str | None:
    if unit.refers_to(call, "kfp", "importer"):
        return "dsl.importer"
    if unit.refers_to(call, "flyte", "ContainerTask"):
        return "ContainerTask"
    return None
