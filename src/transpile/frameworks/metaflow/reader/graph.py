"""Questions about a flow's step graph: where branches join again, where switch cases meet."""

from __future__ import annotations

from transpile.model.diagnostics import error

from .scan import FlowDef, StepDef


def find_join(flow: FlowDef, start: str) -> str:
    """The join step where the branches starting at ``start`` meet again."""
    current, seen = start, set()
    while True:
        if current in seen or current not in flow.steps:
            raise error("TP107", f"branch starting at '{start}' never reaches a join", flow.span)
        seen.add(current)
        t = flow.steps[current].transition
        if t.kind == "linear":
            if flow.steps.get(t.targets[0]) and flow.steps[t.targets[0]].inputs_name:
                return t.targets[0]
            current = t.targets[0]
        elif t.kind in ("split", "foreach"):
            current = find_join(flow, t.targets[0])
        elif t.kind == "switch":
            current = merge_point(flow, flow.steps[current])
            if flow.steps[current].inputs_name:
                return current
        else:
            raise error("TP107", f"branch starting at '{start}' never reaches a join", flow.span)


def merge_point(flow: FlowDef, step: StepDef) -> str:
    """The step where the cases of ``step``'s switch meet again."""
    paths = [_path(flow, target, step.name) for target in step.transition.targets]
    for candidate in paths[0]:
        if all(candidate in p for p in paths[1:]):
            return candidate  # a join, too: the cases end the branch or foreach body
    raise error(
        "TP109", f"the cases of the switch in '{step.name}' never meet", step.transition.span
    )


def _path(flow: FlowDef, start: str, origin: str) -> list[str]:
    out: list[str] = []
    current: str | None = start
    while current is not None and current not in out:
        if current == origin:
            raise error(
                "TP109",
                f"the switch in '{origin}' loops back; recursion is not supported",
                flow.steps[origin].transition.span,
            )
        out.append(current)
        t = flow.steps[current].transition
        if t.kind == "linear":
            current = t.targets[0]
        elif t.kind in ("split", "foreach"):
            current = find_join(flow, t.targets[0])
            out.append(current)
            current = (
                flow.steps[current].transition.targets[0]
                if flow.steps[current].transition.targets
                else None
            )
        elif t.kind == "switch":
            current = merge_point(flow, flow.steps[current])
        else:
            current = None
    return out
