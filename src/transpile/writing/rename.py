"""Names the output cannot keep, renamed before the pipeline is written again: a step input a
target framework refuses by name (renamed in its step), and a module-level name of the user's
that the output needs for its own import or constant (renamed everywhere the code reads it).

libcst's scope analysis finds every use of a name (and every rebinding), never an attribute, a
keyword argument or a nested function's own name.
"""

from __future__ import annotations

import dataclasses
import keyword
import re
from collections.abc import Callable

import libcst as cst
from libcst.metadata import MetadataWrapper, ScopeProvider

from ..model.diagnostics import Diagnostic
from ..model.ir import Output, Pipeline, Ref, Result, Step
from .render import NameClash, free_name


def rename_inputs(
    pipeline: Pipeline, forbidden: frozenset[str], why: str
) -> tuple[Pipeline, list[Diagnostic]]:
    """``pipeline`` with every step input named in ``forbidden`` renamed (TP251 says so), or
    unchanged when a body cannot be analysed (the writer's own check then refuses it)."""
    steps, notes = [], []
    for step in pipeline.steps:
        clashing = [i.name for i in step.inputs if i.name in forbidden]
        renamed = _renamed(step, clashing) if clashing else None
        if renamed is None:
            steps.append(step)
            continue
        new_step, names = renamed
        steps.append(new_step)
        for old, new in names.items():
            message = f"input '{old}' of step '{step.name}' becomes '{new}': {why}"
            notes.append(Diagnostic("TP251", "warning", message, step.span))
    return dataclasses.replace(pipeline, steps=tuple(steps)), notes


def _renamed(step: Step, clashing: list[str]) -> tuple[Step, dict[str, str]] | None:
    try:
        module = cst.parse_module(step.body)
    except cst.ParserSyntaxError:
        return None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    scopes = wrapper.resolve(ScopeProvider)
    used = {i.name for i in step.inputs} | set(re.findall(r"[A-Za-z_]\w*", step.body))
    names: dict[str, str] = {}
    targets: dict[cst.Name, str] = {}
    scope = scopes.get(module)
    for old in clashing:
        new = free_name(
            old.lower() if old.lower() != old else f"{old}_", used | set(names.values())
        )
        names[old] = new
        if scope is None:
            continue
        for access in scope.accesses[old]:
            if isinstance(access.node, cst.Name):
                targets[access.node] = new
        for assignment in scope.assignments[old]:
            node = getattr(assignment, "node", None)
            if isinstance(node, cst.Name):
                targets[node] = new
    body = wrapper.module.visit(_Renamer(targets)).code if targets else step.body
    inputs = tuple(dataclasses.replace(i, name=names.get(i.name, i.name)) for i in step.inputs)
    return dataclasses.replace(step, inputs=inputs, body=body), names


class _Renamer(cst.CSTTransformer):
    def __init__(self, targets: dict[cst.Name, str]):
        self.targets = {id(node): new for node, new in targets.items()}

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        new = self.targets.get(id(original))
        return updated.with_changes(value=new) if new else updated


def write_renaming(
    write: Callable[[Pipeline], tuple[str, list[Diagnostic]]], pipeline: Pipeline, target: str
) -> tuple[str, list[Diagnostic]]:
    """``write(pipeline)``; where the output needs a module-level name the user's code binds too
    (a helper called ``task``, a constant ``DEFAULT_N``: TP247), the user's name is renamed
    everywhere the pipeline's code reads it (TP253 says so) and the pipeline written again."""
    notes: list[Diagnostic] = []
    for _ in range(RENAME_ROUNDS):
        try:
            code, diagnostics = write(pipeline)
        except NameClash as clash:
            if clash.field:
                pipeline, new = rename_output(pipeline, clash.name)
                message = (
                    f"'{clash.name}' becomes '{new}' in the {target} output: it is passed as a "
                    "NamedTuple field, and those cannot start with an underscore"
                )
                notes.append(Diagnostic("TP254", "warning", message, pipeline.span))
                continue
            renamed = rename_module_name(pipeline, clash.name)
            if renamed is None:
                raise
            pipeline, new = renamed
            message = (
                f"'{clash.name}' of the source becomes '{new}' in the output: the {target} "
                f"output needs the name '{clash.name}' for its own code"
            )
            notes.append(Diagnostic("TP253", "warning", message, pipeline.span))
            continue
        return code, [*notes, *diagnostics]
    return write(pipeline)  # a name clash after that many renames is the writer's to report


RENAME_ROUNDS = 8


def rename_module_name(pipeline: Pipeline, old: str) -> tuple[Pipeline, str] | None:
    """``pipeline`` with the user's module-level name ``old`` renamed in its imports, module
    definitions, step bodies and parameter defaults, and the new name; None when the user's code
    does not bind ``old`` at module level, or binds it in a way an alias cannot rename
    (``import a.b`` binds ``a``)."""
    module = pipeline.module
    texts = [*module.imports, *module.definitions, *(s.body for s in pipeline.steps)]
    texts += [p.default for p in pipeline.parameters if p.default]
    taken = {w for text in texts for w in re.findall(r"[A-Za-z_]\w*", text)}
    new = f"{old}_"
    while new in taken:
        new += "_"
    imports = [_import_renamed(text, old, new) for text in module.imports]
    if any(i is None for i in imports):
        return None
    definitions = [_code_renamed(text, old, new, defines=True) for text in module.definitions]
    if all(i == t for i, t in zip(imports, module.imports, strict=True)) and all(
        d == t for d, t in zip(definitions, module.definitions, strict=True)
    ):
        return None  # not the user's name: the writer's own names clash
    steps = tuple(
        dataclasses.replace(s, body=_code_renamed(s.body, old, new, defines=False))
        for s in pipeline.steps
    )
    parameters = tuple(
        dataclasses.replace(p, default=_code_renamed(p.default, old, new, defines=False))
        if p.default
        else p
        for p in pipeline.parameters
    )
    renamed_module = dataclasses.replace(
        module, imports=tuple(imports), definitions=tuple(definitions)
    )
    return (
        dataclasses.replace(pipeline, module=renamed_module, steps=steps, parameters=parameters),
        new,
    )


def _import_renamed(text: str, old: str, new: str) -> str | None:
    """An import statement with the name it binds as ``old`` bound as ``new`` (an alias)."""
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError:
        return text
    renamer = _AliasRenamer(old, new)
    changed = module.visit(renamer)
    return None if renamer.refused else changed.code


class _AliasRenamer(cst.CSTTransformer):
    def __init__(self, old: str, new: str):
        self.old, self.new = old, new
        self.refused = False  # `import old.sub`: an alias would bind old.sub, not old

    def leave_ImportAlias(
        self, original: cst.ImportAlias, updated: cst.ImportAlias
    ) -> cst.ImportAlias:
        if updated.asname is not None:
            bound = updated.asname.name
            if isinstance(bound, cst.Name) and bound.value == self.old:
                return updated.with_changes(asname=cst.AsName(name=cst.Name(self.new)))
            return updated
        if isinstance(updated.name, cst.Name):
            if updated.name.value == self.old:
                return updated.with_changes(asname=cst.AsName(name=cst.Name(self.new)))
            return updated
        if updated.evaluated_name.split(".")[0] == self.old:
            self.refused = True
        return updated


def _code_renamed(text: str, old: str, new: str, defines: bool) -> str:
    """``text`` with every use of the module-level ``old`` as ``new``. The text is read after a
    stand-in binding of ``old``, so the uses that resolve to the module's name are that binding's
    references (nested functions, classes and comprehensions included). A step body (``defines``
    false) that binds ``old`` itself has a local of that name: left as it is."""
    if old not in text:
        return text
    try:
        module = cst.parse_module(f"{old} = None\n{text}")
    except cst.ParserSyntaxError:
        return text
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    scope = wrapper.resolve(ScopeProvider).get(wrapper.module)
    if scope is None:
        return text
    bindings = list(scope.assignments[old])
    if len(bindings) > 1 and not defines:
        return text
    targets: dict[cst.CSTNode, str] = {}
    for binding in bindings:
        node = getattr(binding, "node", None)
        if isinstance(node, cst.Name):
            targets[node] = new
        elif isinstance(node, cst.FunctionDef | cst.ClassDef):
            targets[node.name] = new
        for reference in binding.references:
            if isinstance(reference.node, cst.Name):
                targets[reference.node] = new
    code = wrapper.module.visit(_Renamer(targets)).code
    return code.split("\n", 1)[1]


def rename_output(pipeline: Pipeline, old: str) -> tuple[Pipeline, str]:
    """``pipeline`` with every output and result named ``old`` (a leading underscore) named
    without it: the steps' bodies keep their own variable (``Output.local``), every reference
    to the output follows."""
    taken = {p.name for p in pipeline.parameters} | {s.name for s in pipeline.steps}
    taken |= {o.name for s in pipeline.steps for o in s.outputs}
    taken |= {i.name for s in pipeline.steps for i in s.inputs} | {r.name for r in pipeline.results}
    new = old.lstrip("_") or "value"
    while new in taken or keyword.iskeyword(new) or not new.isidentifier():
        new += "_"

    def renamed(node: object) -> object:
        if isinstance(node, Ref):
            if node.kind == "output" and node.name == old:
                return dataclasses.replace(node, name=new)
            return node
        if isinstance(node, Output) and node.name == old:
            return dataclasses.replace(node, name=new, local=node.local or old)
        if isinstance(node, Result) and node.name == old:
            return dataclasses.replace(node, name=new, refs=renamed(node.refs))
        if isinstance(node, tuple):
            items = tuple(renamed(item) for item in node)
            return node if all(a is b for a, b in zip(items, node, strict=True)) else items
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            changes = {}
            for f in dataclasses.fields(node):
                value = getattr(node, f.name)
                new_value = renamed(value)
                if new_value is not value:
                    changes[f.name] = new_value
            return dataclasses.replace(node, **changes) if changes else node
        return node

    return renamed(pipeline), new  # type: ignore[return-value]
