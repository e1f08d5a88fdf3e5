"""Small generated components that stand in for what KFP lacks: a loop index, a failing switch."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from transpile.writing.deps import closure

from .component import ComponentView
from .options import BASE_IMAGE
from .types import annotation

if TYPE_CHECKING:
    from .plan import ModulePlan

DECORATOR = f'@dsl.component(base_image="{BASE_IMAGE}")'
POSITIONS_DOC = (
    "The positions 0..n-1 of a foreach's items. KFP loops have no index, so the loop runs\n"
    "over positions and each iteration reads its index and its element (items[index])."
)
POSITIONS_NAMES = {
    "param": "foreach_positions",
    "json": "foreach_json_positions",
    "artifact": "foreach_artifact_positions",
}


def positions_component(name: str, kind: str, writer: ModulePlan) -> ComponentView:
    """Lists the positions of a foreach's items, however they travel (``kind``)."""
    if kind == "param":
        return _positions(name, DECORATOR, "items: list", "return list(range(len(items)))")
    if kind == "json":
        body = "import json\n\nreturn list(range(len(json.loads(items))))"
        return _positions(name, DECORATOR, "items: str", body)
    load = writer.serializer("load_value")
    writer.serializers.add("load_value")
    writer.kfp_names |= {"Input", "Artifact"}
    classes = writer.traveling  # the items may hold them: unpickling needs them
    lines = []
    for definition in closure(classes, writer.definitions):
        lines += [definition.source, ""]
    suffix = f", classes=({', '.join(classes)},)" if classes else ""
    lines.append(f"return list(range(len({load}(items.path{suffix}))))")
    decorator = f'@dsl.component(base_image="{BASE_IMAGE}", additional_funcs=[{load}])'
    return _positions(name, decorator, "items: Input[Artifact]", "\n".join(lines))


def _positions(name: str, decorator: str, signature: str, body: str) -> ComponentView:
    return ComponentView(name, decorator, [], signature, " -> list[int]", POSITIONS_DOC, body)


def no_step_component(name: str) -> ComponentView:
    """Stands in for a switch case that runs no step: a KFP branch needs a task to run."""
    doc = "A case of the switch that runs no step; every KFP branch needs a task."
    return ComponentView(name, DECORATOR, [], "", "", doc, "")


def chosen_component(name: str, annotation_text: str, artifact: bool) -> ComponentView:
    """Hands on the value of a ``dsl.OneOf``: a foreach collects this task's output, since
    KFP refuses to collect the OneOf itself."""
    doc = "The value the switch case taken in this iteration set; the foreach collects it."
    if artifact:
        signature = f"value: Input[{annotation_text}], chosen: Output[{annotation_text}]"
        body = "import shutil\n\nshutil.copyfile(value.path, chosen.path)"
        return ComponentView(name, DECORATOR, [], signature, "", doc, body)
    return ComponentView(
        name,
        DECORATOR,
        [],
        f"value: {annotation_text}",
        f" -> {annotation_text}",
        doc,
        "return value",
    )


def no_case_component(name: str, condition: str, expr: str, cases: list[str]) -> ComponentView:
    """Fails the run with Metaflow's message when a switch value matches none of ``cases``."""
    values = [_literal(c) for c in cases]
    message = (
        f"f\"Switch condition variable '{condition}' has value '{{{condition}}}' \"\n"
        f'    "which is not in the available cases: {values!r}"'
    )
    body = f"raise RuntimeError(\n    {message}\n)"
    doc = "Metaflow fails a run whose switch value matches no case; so does this task."
    return ComponentView(name, DECORATOR, [], f"{condition}: {expr}", "", doc, body)


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def failure_handler_component(
    name: str, handler: str, inputs: list[tuple[str, str]], params: dict, writer: ModulePlan
) -> ComponentView:
    """The exit task that runs a failure handler (a module function taking pipeline inputs:
    ``inputs`` pairs each keyword with the parameter giving it; ``err``, Flyte's error, is None)
    when the pipeline failed: KFP hands an exit task the run's final status and runs it after
    every run."""
    status = "status"
    while status in {p for _, p in inputs}:
        status += "_"
    signature = [f"{status}: dsl.PipelineTaskFinalStatus"]
    signature += [f"{p}: {annotation(params[p].type.expr)}" for n, p in inputs if n != "err"]
    lines = [d.source for d in closure({handler}, writer.definitions) if d.kind == "import"]
    lines = sorted(set(lines))
    for definition in closure({handler}, writer.definitions):
        if definition.kind != "import":
            lines += ["", definition.source] if lines else [definition.source]
    call = ", ".join(f"{n}=None" if n == "err" else f"{n}={p}" for n, p in inputs)
    lines += ["", f'if {status}.state == "FAILED":', f"    {handler}({call})"]
    doc = (
        f"Added by transpile: the failure handler {handler}, run when the pipeline failed "
        "(KFP runs an exit task after every run)."
    )
    return ComponentView(name, DECORATOR, [], ", ".join(signature), "", doc, "\n".join(lines))
