"""One pipeline step → one self-contained ``@dsl.component`` and the plan for calling it.

KFP ships a component as the text of its function, so everything the body uses from the module
(imports, constants, helpers, classes) is inlined in it. Inputs arrive as typed parameters (with
the ints KFP turned into floats restored) or as artifacts loaded with ``load_value``; outputs leave
as return values or as artifacts written with ``save_value``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Input, Output, Ref, Step
from transpile.util.text import todo
from transpile.writing.cards import Content, carry_cards, markdown_table, markdown_text
from transpile.writing.deps import closure, free_names, local_names
from transpile.writing.flow import FunctionText, numbered_name
from transpile.writing.types import declarable, iso_class, utc_aware

from .types import annotation, mentions, restore

if TYPE_CHECKING:
    from .plan import ModulePlan

PLACEHOLDERS = {
    "run_id": "dsl.PIPELINE_JOB_ID_PLACEHOLDER",
    "task_id": "dsl.PIPELINE_TASK_ID_PLACEHOLDER",
}
CONSTANTS = {"retry_count": "0", "is_running_flow": "True"}
RESTORE_NOTE = "# KFP hands over numbers in lists, dicts and loop items as floats: restore the ints"
JSON_NOTE = "# JSON text: a dict or list parameter would turn its ints into floats"
ISO_NOTE = "# ISO 8601 text: KFP has no date or time parameter"


@dataclass
class Param:
    """A component input the pipeline feeds: ``feed`` says with what."""

    name: str
    annotation: str
    feed: (
        tuple  # ("ref", Input) | ("collection", Ref) | ("position", split) | ("placeholder", expr)
    )


@dataclass
class StepPlan:
    function: str
    params: list[Param]
    outputs: dict[str, str]  # model output name → component output name
    single: bool  # one output in all: reached as `.output`
    calls: list[str]  # PipelineTask setters
    pod_calls: list[tuple[str, str]] = field(default_factory=list)  # kfp-kubernetes calls


class ComponentView(FunctionText):
    """One ``@dsl.component`` function, its body self-contained."""


@dataclass
class _Parts:
    params: list[Param] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # Output[...] parameters
    json_text: list[str] = field(default_factory=list)  # parameters taken as JSON text
    prelude: list[str] = field(default_factory=list)
    declared: list[str] = field(default_factory=list)  # bare annotations of pickled outputs
    typed: dict[str, str] = field(default_factory=dict)  # loaded value → its annotation
    locals: set[str] = field(default_factory=set)  # names the function binds: no annotation's
    epilogue: list[str] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)
    restored: bool = False
    card: str = ""  # the Output[Markdown] of the step's @card
    card_filled: bool = False  # the step writes to it before the list of its results
    artifacts: bool = False
    classes: bool = False  # some loaded or saved value may hold module classes
    taken: set[str] = field(default_factory=set)

    def fresh(self, name: str) -> str:
        return numbered_name(name, self.taken)


class ComponentBuilder:
    def __init__(self, writer: ModulePlan):
        self.w = writer

    def build(self, step: Step) -> tuple[ComponentView, StepPlan]:
        settings = self.w.options.task_settings(self.w.step_options(step))
        taken = set(re.findall(r"\w+", step.body)) | {i.name for i in step.inputs}
        parts = _Parts(taken=taken | self.w.module_names)
        if settings.card:
            parts.card = parts.fresh("card")
        body, extra = self._current(step, self._card_content(step, parts))
        parts.params = extra
        parts.locals = local_names(body, [i.name for i in step.inputs])
        # a position input first: an item read by position uses it
        for inp in sorted(step.inputs, key=lambda i: i.refs[0].kind != "index"):
            self._input(inp, parts)
        if settings.card:
            self._card(step, parts)
        artifacts = self._artifact_outputs(step, parts)
        returned = [o for o in step.outputs if o.name not in artifacts]
        returns = self._returns(step, returned, named=bool(parts.outputs))
        view = ComponentView(
            self.w.functions[step.name],
            self._decorator(settings, parts),
            settings.todos + self.w.todos.get(step.name, []),
            ", ".join([f"{p.name}: {p.annotation}" for p in parts.params] + parts.outputs),
            returns,
            step.doc,
            self._body(step, body, parts, [o.var for o in returned], returns),
        )
        keys = {o.name: o.name for o in returned}
        if len(returned) == 1 and not parts.outputs:
            keys = {returned[0].name: "Output"}  # KFP's name for a single return value
        keys.update(artifacts)
        single = len(returned) + len(parts.outputs) == 1
        plan = StepPlan(
            self.w.functions[step.name],
            parts.params,
            keys,
            single,
            settings.calls,
            settings.pod_calls,
        )
        return view, plan

    def _body(self, step: Step, body: str, parts: _Parts, returned: list[str], returns: str) -> str:
        """Inlined module code, then loading and restoring inputs, the step, saving outputs."""
        inlined = self._inlined(step, body, parts)
        declared, body = _hoisted_globals(body)  # before the inlined module code they rebind
        lines = [*declared, *inlined, *([""] if inlined or declared else [])]
        if parts.json_text:
            lines += [JSON_NOTE, *(f"{n} = json.loads({n})" for n in parts.json_text)]
        lines += [RESTORE_NOTE] if parts.restored else []
        lines += [*parts.prelude, *parts.declared, body.strip("\n"), *parts.epilogue]
        if returned:
            names = ", ".join(returned)
            tupled = len(returned) == 1 and returns.startswith(" -> NamedTuple")
            lines.append(f"return ({names},)" if tupled else f"return {names}")
        text = "\n".join(lines).strip("\n")
        return text if ast.parse(text).body else f"{text}\npass".strip()

    # inputs ---------------------------------------------------------------------------------------
    def _input(self, inp: Input, parts: _Parts) -> None:
        ref = inp.refs[0]
        if ref.kind == "item":
            self._item(inp, ref, parts)
        elif ref.kind == "index":
            parts.params.append(Param(inp.name, "int", ("position", ref.source)))
            parts.prelude.append(f"{inp.name} = int({inp.name})")
        elif inp.mode == "collected":
            self._collected(inp, parts)
        else:
            self._value(inp, parts)

    def _value(self, inp: Input, parts: _Parts) -> None:
        kind = self.w.carrier(inp.refs[0])
        expr = self.w.value_type(inp)
        if kind == "file":
            parts.params.append(Param(inp.name, "Input[Dataset]", ("ref", inp)))
            self.w.kfp_names |= {"Input", "Dataset"}
            mode = "" if self.w.param(inp.refs[0].name).is_text else ', "rb"'
            parts.prelude.append(f"with open({inp.name}.path{mode}) as file:")
            parts.prelude.append(f"    {inp.name} = file.read()")
        elif kind == "json":
            parts.params.append(Param(inp.name, "str", ("ref", inp)))
            parts.imports.add("import json")
            parts.json_text.append(inp.name)
        elif kind == "iso":
            self._iso(inp, parts)
        elif kind == "param":
            parts.params.append(Param(inp.name, annotation(expr), ("ref", inp)))
            self._restore(inp.name, expr, parts)
        else:
            parts.params.append(Param(inp.name, "Input[Artifact]", ("ref", inp)))
            load = self._load(f"{inp.name}.path", self.w.ref_type(inp.refs[0]), parts)
            known = inp.type.expr if inp.type.known else self.w.ref_type(inp.refs[0])
            parts.prelude.append(f"{self._typed(inp.name, known, parts)} = {load}")

    def _iso(self, inp: Input, parts: _Parts) -> None:
        """A date or time pipeline parameter arrives as ISO 8601 text: made a date again first
        (under a private name: the body may bind ``datetime`` to the module or the class)."""
        param = self.w.param(inp.refs[0].name)
        cls = iso_class(param.type.expr) or "datetime"
        parts.params.append(Param(inp.name, "str", ("ref", inp)))
        parts.imports.add(f"from datetime import {cls} as _{cls}")
        read = f"_{cls}.fromisoformat({inp.name})"
        if param.default == "None":  # an optional date: None stays None
            read = f"{inp.name} and {read}"
        if ISO_NOTE not in parts.prelude:
            parts.prelude.append(ISO_NOTE)
        parts.prelude.append(f"{inp.name} = {read}")
        if utc_aware(self.w.p.framework, cls):  # Flyte hands a task UTC-aware datetimes
            parts.imports.add("from datetime import timezone as _timezone")
            fix = f"{inp.name}.replace(tzinfo={inp.name}.tzinfo or _timezone.utc)"
            if param.default == "None":
                fix = f"{inp.name} and {fix}"
            parts.prelude.append(f"{inp.name} = {fix}")

    def _collected(self, inp: Input, parts: _Parts) -> None:
        if self.w.carrier(inp.refs[0]) == "param":
            parts.params.append(Param(inp.name, annotation(inp.type.expr), ("ref", inp)))
            self._restore(inp.name, inp.type.expr, parts)
            return
        parts.params.append(Param(inp.name, "Input[list[Artifact]]", ("ref", inp)))
        load = self._load("artifact.path", self.w.ref_type(inp.refs[0]), parts)
        target = self._typed(inp.name, inp.type.expr if inp.type.known else "", parts)
        parts.prelude.append(f"{target} = [{load} for artifact in {inp.name}]")

    def _item(self, inp: Input, ref: Ref, parts: _Parts) -> None:
        loop = self.w.loops[ref.source]
        if loop.direct:
            parts.params.append(Param(inp.name, annotation(loop.item_type), ("ref", inp)))
            self._restore(inp.name, loop.item_type, parts, top=True)
            return
        collection = loop.collection
        name = parts.fresh(collection.name)
        kind = self.w.carrier(collection)
        expr = self.w.ref_type(collection)
        if kind == "param":
            parts.params.append(Param(name, annotation(expr), ("collection", collection)))
        elif kind == "json":
            parts.params.append(Param(name, "str", ("collection", collection)))
            parts.imports.add("import json")
            parts.json_text.append(name)
        else:
            parts.params.append(Param(name, "Input[Artifact]", ("collection", collection)))
            target = self._typed(name, expr, parts)
            parts.prelude.append(f"{target} = {self._load(f'{name}.path', expr, parts)}")
        position = next((p.name for p in parts.params if p.feed == ("position", ref.source)), None)
        if position is None:
            position = parts.fresh("index")
            parts.params.append(Param(position, "int", ("position", ref.source)))
            parts.prelude.append(f"{position} = int({position})")
        item = f"{name}[{position}]"
        fixed = restore(item, loop.item_type, top=True) if kind == "param" else None
        parts.restored |= fixed is not None
        parts.prelude.append(f"{inp.name} = {fixed or item}")

    def _restore(self, name: str, expr: str, parts: _Parts, top: bool = False) -> None:
        fixed = restore(name, expr, top)
        if fixed is not None:
            parts.restored = True
            parts.prelude.append(f"{name} = {fixed}")

    def _load(self, path: str, expr: str, parts: _Parts) -> str:
        parts.artifacts = True
        self.w.kfp_names.add("Input")
        self.w.serializers.add("load_value")
        return f"{self.w.serializer('load_value')}({path}{self._classes(expr, parts)})"

    def _typed(self, name: str, expr: str, parts: _Parts) -> str:
        """``name: <type>`` for a pickled value whose type is known, else ``name``: pickle keeps
        no type a reader of the component (or of this file) could see."""
        classes = set(self.w.traveling)
        if not declarable(expr, classes) or mentions(expr, parts.locals):
            return name  # a local named like a builtin (`list`) hides the type
        parts.classes |= mentions(expr, classes)  # the component defines the classes it names
        parts.typed[name] = expr
        return f"{name}: {expr}"

    def _classes(self, expr: str, parts: _Parts) -> str:
        """``classes=`` for a value that may hold instances of module classes (its type names one,
        or is unknown); the component then defines them all."""
        classes = self.w.traveling
        if not classes or not ("typing.Any" in expr or mentions(expr, set(classes))):
            return ""
        parts.classes = True
        return f", classes=({', '.join(classes)},)"

    # outputs ------------------------------------------------------------------------------------
    def _artifact_outputs(self, step: Step, parts: _Parts) -> dict[str, str]:
        """Outputs KFP cannot carry as parameters: written with save_value to Output[Artifact]s."""
        names = {}
        for out in step.outputs:
            if self.w.carrier_of(step.name, out.name) == "param":
                continue
            name = names[out.name] = parts.fresh(f"{out.name}_out")
            parts.outputs.append(f"{name}: Output[Artifact]")
            self.w.kfp_names |= {"Output", "Artifact"}
            self.w.serializers.add("save_value")
            parts.artifacts = True
            save = self.w.serializer("save_value")
            classes = self._classes(out.type.expr, parts)
            parts.epilogue.append(f"{save}({out.var}, {name}.path{classes})")
            self._declare_output(out, parts)
        return names

    def _declare_output(self, out: Output, parts: _Parts) -> None:
        """A bare annotation of an output saved as an artifact: its type, for readers. Not when
        its input of the same name has that type already (loaded, or a parameter)."""
        expr = out.type.expr
        params = {p.name: p.annotation for p in parts.params}
        if not out.type.known or expr in (parts.typed.get(out.var), params.get(out.var)):
            return
        declared = self._typed(out.var, expr, parts)
        if declared != out.var:
            parts.declared.append(declared)

    def _returns(self, step: Step, returned: list, named: bool) -> str:
        """One output: its type; several (or one beside artifacts): a NamedTuple, so each has a name."""
        fields = [(o.name, annotation(o.type.expr)) for o in returned]
        if not fields:
            return ""
        if len(fields) == 1 and not named:
            return f" -> {fields[0][1]}"
        self.w.typing_names.add("NamedTuple")
        spec = ", ".join(f'("{n}", {t})' for n, t in fields)
        return f' -> NamedTuple("{_camel(step.name)}Outputs", [{spec}])'

    def _card(self, step: Step, parts: _Parts) -> None:
        """@card: the step's results as a Markdown artifact, a visualization in the KFP UI,
        after what the step added to the card."""
        name = parts.card
        parts.outputs.insert(0, f"{name}: Output[Markdown]")
        self.w.kfp_names |= {"Output", "Markdown"}
        rows = ", ".join(f"({o.name!r}, {o.name})" for o in step.outputs)
        parts.epilogue += [
            f"with open({name}.path, {'a' if parts.card_filled else 'w'!r}) as file:",
            f"    file.write('# {step.name}\\n\\n| artifact | value |\\n| --- | --- |\\n')",
            f"    file.writelines(f'| {{k}} | {{v!r}} |\\n' for k, v in [{rows}])",
        ]

    # module code and `current` --------------------------------------------------------------------
    def _inlined(self, step: Step, body: str, parts: _Parts) -> list[str]:
        """The imports and module-level definitions the body uses, transitively, as source lines."""
        params = [p.name for p in parts.params] + [o.split(":")[0] for o in parts.outputs]
        wanted = free_names(body, params) & self.w.module_names
        if parts.classes:
            wanted |= set(self.w.traveling)
        chosen = closure(wanted, self.w.definitions)
        clash = {n for d in chosen for n in d.binds} & set(params)
        if clash:
            self.w.clash(step, sorted(clash))
        imports = sorted({d.source for d in chosen if d.kind == "import"} | parts.imports)
        lines, previous = list(imports), "import"
        for definition in (d for d in chosen if d.kind != "import"):
            together = previous == definition.kind == "value"  # constants stay in one block
            lines += [definition.source] if together or not lines else ["", definition.source]
            previous = definition.kind
        return lines

    def _card_content(self, step: Step, parts: _Parts) -> str:
        """Card content KFP shows exactly, as Markdown written to an ``Output[Markdown]`` where
        the step adds it: the @card's artifact for the step's only card or the one without an
        id, another for a card with an id beside others; other card statements are dropped with a
        TODO."""
        if "current.card" not in step.body:
            return step.body
        named: dict[str, str] = {}
        file = parts.fresh("card_file")

        def artifact(content: Content) -> str:
            if content.card is None or content.only:
                parts.card_filled = True
                return parts.card
            if content.card not in named:
                word = re.sub(r"\W", "_", content.card).strip("_").lower() or "card"
                named[content.card] = parts.fresh(f"card_{word}")
            return named[content.card]

        def render(content: Content) -> list[str]:
            lines = [f"with open({artifact(content)}.path, 'a') as {file}:"]
            for piece in content.pieces:
                if piece.kind == "table":
                    lines.append(f"    {file}.write({markdown_table(piece) + chr(10) * 2!r})")
                elif piece.literal is not None:
                    lines.append(f"    {file}.write({piece.literal + chr(10) * 2!r})")
                else:
                    parts.imports.add("import textwrap")
                    lines.append(f"    {file}.write({markdown_text(piece)} + '\\n\\n')")
            return lines

        body, _, _ = carry_cards(step.body, step.options, render)
        for name in named.values():
            parts.outputs.append(f"{name}: Output[Markdown]")
        return body

    def _current(self, step: Step, body: str) -> tuple[str, list[Param]]:
        if "current." not in body:
            return body, []
        rewriter = _CurrentRewriter()
        body = cst.parse_module(body).visit(rewriter).code if "current." in body else body
        params = [
            Param(f"current_{name}", "str", ("placeholder", PLACEHOLDERS[name]))
            for name in sorted(rewriter.placeholders)
        ]
        for name in rewriter.missing:
            message = f"current.{name} has no KFP equivalent; it is None here"
            self.w.todos.setdefault(step.name, []).append(todo("TP211", message))
            self.w.diagnostics.append(
                Diagnostic("TP211", "warning", message, step.span, lossy=True)
            )
        return body, params

    def _decorator(self, settings, parts: _Parts) -> str:
        args = [f"base_image={settings.base_image!r}"]
        if settings.packages:
            args.append(f"packages_to_install={sorted(settings.packages.values())!r}")
        funcs = [self.w.serializer(n) for n in ("load_value", "save_value") if self._uses(n, parts)]
        if funcs:
            args.append(f"additional_funcs=[{', '.join(funcs)}]")
        return f"@dsl.component({', '.join(args)})"

    def _uses(self, name: str, parts: _Parts) -> bool:
        call = f"{self.w.serializer(name)}("
        return any(call in line for line in parts.prelude + parts.epilogue)


class _CurrentRewriter(cst.CSTTransformer):
    """`current.<attr>`: run ids from KFP placeholders, constants, or None (with a TODO)."""

    def __init__(self) -> None:
        self.placeholders: set[str] = set()
        self.missing: list[str] = []

    def leave_Attribute(
        self, original: cst.Attribute, updated: cst.Attribute
    ) -> cst.BaseExpression:
        if not (isinstance(updated.value, cst.Name) and updated.value.value == "current"):
            return updated
        name = updated.attr.value
        if name in PLACEHOLDERS:
            self.placeholders.add(name)
            return cst.Name(f"current_{name}")
        if name in CONSTANTS:
            return cst.parse_expression(CONSTANTS[name])
        self.missing.append(name)
        return cst.Name("None")


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


__all__ = ["ComponentBuilder", "ComponentView", "Param", "StepPlan"]


def _hoisted_globals(body: str) -> tuple[list[str], str]:
    """The step's own ``global`` statements, and the body without them: a declaration holds for
    the whole function, and must come before the module code a component copies in."""
    try:
        tree = ast.parse(body)
    except SyntaxError:
        return [], body
    lines = body.splitlines()
    found = [
        n
        for n in tree.body
        if isinstance(n, ast.Global)
        and lines[n.lineno - 1].strip().startswith("global")
        and ";" not in lines[n.lineno - 1]  # alone on its line
    ]
    if not found:
        return [], body
    for node in reversed(found):
        del lines[node.lineno - 1 : node.end_lineno]
    return [f"global {', '.join(n.names)}" for n in found], "\n".join(lines) + "\n"
