"""The exit task of a ``dsl.ExitHandler`` as the model's failure handler.

KFP runs an exit task after every run, with ``PipelineTaskFinalStatus`` saying how it ended. The
model has two halves of that: the exit task stays the last step (it runs when the run
succeeded, its status reading ``SUCCEEDED``), and a failure handler, a module function taking
the pipeline's inputs that runs the task's body with a ``FAILED`` status, is the pipeline's
``exit_hook`` option (``inputs`` names what it takes), which Flyte writes as ``on_failure=`` and
Metaflow as ``@exit_hook(on_error=...)``. The exit task our own KFP writer makes for a failure
handler (its docstring says so) reads back as that handler alone.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Option, Parameter, Span

from .draft import Draft

OUR_HANDLER = "Added by transpile: the failure handler "
SUCCEEDED = 'state="SUCCEEDED", error_code=None, error_message=None'
FAILED = 'state="FAILED", error_code=1, error_message="a task of the pipeline failed"'


@dataclass
class Handlers:
    """What the exit tasks add to the pipeline: options, module imports and definitions."""

    options: list[Option] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    definitions: list[str] = field(default_factory=list)
    drop: set[str] = field(default_factory=set)  # our writer's exit steps: no step of their own


def failure_handlers(
    exits: list[tuple[str, Span, bool, set[str]]],
    drafts: dict[str, Draft],
    steps: set[str],
    parameters: list[Parameter],
    taken: set[str],
    diagnostics: list[Diagnostic],
) -> Handlers:
    found = Handlers()
    for number, (step, span, ours, inside) in enumerate(exits):
        draft = drafts[step]
        if number > 0:  # the model has one failure handler per pipeline
            message = f"exit task {step} became the last step: it does not run when the run fails"
            diagnostics.append(Diagnostic("TP202", "warning", message, span, lossy=True))
            continue
        if ours and _ours(draft, found, span):
            found.drop.add(step)
            continue
        if any(r.kind != "param" for i in draft.inputs for r in i.refs):
            message = (
                f"exit task {step} became the last step: it does not run when the run fails "
                "(it reads values other than pipeline inputs)"
            )
            diagnostics.append(Diagnostic("TP202", "warning", message, span, lossy=True))
            continue
        name = f"{step}_on_failure"
        while name in taken:
            name += "_"
        taken.add(name)
        found.definitions.append(_handler(name, step, draft, parameters))
        names = tuple(p.name for p in parameters)
        found.options.append(
            Option("exit_hook", (("on_error", f"[{name}]"), ("inputs", repr(names))), span)
        )
        message = (
            f"exit task {step} runs as the last step when the run succeeds, and as the failure "
            f"handler {name} when it fails (Flyte's on_failure, Metaflow's @exit_hook)"
        )
        diagnostics.append(Diagnostic("TP201", "info", message, span))
        outside = sorted(steps - inside - {step})
        if outside:
            message = (
                f"the failure handler {name} also runs when a task outside the dsl.ExitHandler "
                f"fails ({', '.join(outside[:3])}{', ...' if len(outside) > 3 else ''}): a "
                "failure handler guards the whole run"
            )
            diagnostics.append(Diagnostic("TP202", "warning", message, span, lossy=True))
    return found


def _handler(name: str, step: str, draft: Draft, parameters: list[Parameter]) -> str:
    signature = ", ".join(f"{p.name}: {p.type.expr}" for p in parameters)
    bindings = [f"{i.name} = {i.refs[0].name}" for i in draft.inputs if i.name != i.refs[0].name]
    body = "\n".join([*bindings, draft.body.replace(SUCCEEDED, FAILED).rstrip("\n")]).strip("\n")
    lines = [
        f"def {name}({signature}) -> None:",
        f'    """Added by transpile: the exit task {step}, run when the pipeline failed."""',
        *(f"    {line}" if line.strip() else "" for line in body.splitlines()),
    ]
    return "\n".join(lines)


def _ours(draft: Draft, found: Handlers, span: Span) -> bool:
    """Our KFP writer's exit task: imports and the handler's definitions, then
    ``if status.state == "FAILED": handler(a=a, err=None)``; read as that handler."""
    match = re.match(re.escape(OUR_HANDLER) + r"(\w+)", draft.doc or "")
    try:
        tree = ast.parse(draft.body)
    except SyntaxError:
        return False
    if match is None or not tree.body or not isinstance(tree.body[-1], ast.If):
        return False
    handler = match.group(1)
    calls = [
        n
        for n in ast.walk(tree.body[-1])
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == handler
    ]
    if len(calls) != 1 or calls[0].args:
        return False
    imports, definitions = [], []
    for node in tree.body[:-1]:
        text = ast.get_source_segment(draft.body, node) or ""
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if text != "from types import SimpleNamespace":  # the status stand-in's
                imports.append(text)
        elif not (
            isinstance(node, ast.Assign) and "SimpleNamespace(" in text and SUCCEEDED in text
        ):
            definitions.append(_with_decorators(draft.body, node, text))
    found.imports += imports
    found.definitions += definitions
    keywords = [k for k in calls[0].keywords if k.arg]
    names = tuple(k.arg for k in keywords)
    # the parameter giving each (the task takes the pipeline's parameters by their names)
    given = tuple(k.value.id if isinstance(k.value, ast.Name) else k.arg for k in keywords)
    args = (("on_error", f"[{handler}]"), ("inputs", repr(names)))
    if given != names:
        args += (("input_params", repr(given)),)
    found.options.append(Option("exit_hook", args, span))
    return True


def _with_decorators(body: str, node: ast.stmt, text: str) -> str:
    """A definition's text from its first decorator (``get_source_segment`` starts at ``def``)."""
    decorators = getattr(node, "decorator_list", [])
    if not decorators:
        return text
    lines = body.splitlines()
    first = decorators[0].lineno - 1
    return "\n".join([*lines[first : node.lineno - 1], text])
