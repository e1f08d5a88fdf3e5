"""A ``@dsl.pipeline`` body → steps and a flow tree, statement by statement.

Every component call is one step; names bound to task calls become handles whose ``.output`` /
``.outputs[...]`` are references. Control flow (``ParallelFor``, ``If``, ``ExitHandler``, nested
pipelines) lives in kfp_control.py.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import ANY, Input, Output, Ref, Span, Task, TypeRef
from transpile.reading.cst import code, keyword_args, positional_args
from transpile.util.text import todo as todo_comment

from .branches import Branches, Channels
from .component import Component, Param, inferred, named_fields, output_aliases
from .control import ControlFlow
from .draft import Draft
from .flow import Handle, Item, Value, ref_steps
from .json_text import JsonTexts
from .kubernetes import UNKNOWN, VOLUME_CALLS, pod_setting
from .loaded import LOADERS, loaded_component
from .scope import Context, Scope
from .settings import Settings, SettingsReader

STATUS_STUB = (
    "from types import SimpleNamespace\n\n"
    '{name} = SimpleNamespace(state="SUCCEEDED", error_code=None, error_message=None, '
    'pipeline_job_resource_name="", pipeline_task_name="")'
)
POSITIONS_HELPERS = ("foreach_positions", "foreach_artifact_positions")  # our KFP writer's
PLAIN_RESULT_TYPES = ("int", "float", "str", "bool")


class PipelineBuilder(ControlFlow, Branches):
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.drafts: dict[str, Draft] = {}
        self.settings = SettingsReader(ctx.diagnostics)
        self.decorator_options: dict[str, tuple] = {}
        self.file_params: set[str] = set()
        self.json_texts = JsonTexts()
        self.depth = 0
        self.loops = 0
        self.open_loops: list[str] = []  # the ParallelFors being read, outermost first
        self.loop_depth: dict[str, int] = {}  # step → how many ParallelFors it is in
        self.formatted_taken: frozenset[str] = frozenset()  # names a formatted input avoids
        self.origin: dict[str, str] = {}  # step → the component it calls
        self._one_of: set[str] | None = None  # see Branches.one_of_names
        # exit tasks (control.py): step, where, made by our writer, the steps the handler guards
        self.exits: list[tuple[str, Span, bool, set[str]]] = []

    # statements -----------------------------------------------------------------------------
    def walk(self, statements, scope: Scope) -> dict[str, Value] | None:
        """Read a body; the values it returns (None without a ``return``)."""
        results = None
        pending = list(statements)
        while pending:
            stmt = pending.pop(0)
            if isinstance(stmt, cst.With):
                self.with_block(stmt, pending, scope)
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    results = self.simple(small, stmt, scope) or results
            else:
                self.refuse(stmt, scope)
        return results

    def refuse(self, stmt: cst.BaseStatement, scope: Scope) -> None:
        span = scope.locator.at(stmt)
        if isinstance(stmt, cst.If):
            raise error(
                "TP176",
                "Python `if` in a pipeline body is decided once, when the pipeline is compiled "
                "(a test on a task output is always true): use dsl.If / dsl.Elif / dsl.Else",
                span,
            )
        if isinstance(stmt, (cst.For, cst.While)):
            raise error(
                "TP177", "Python loops in a pipeline body are not read: use dsl.ParallelFor", span
            )
        raise error("TP178", f"unsupported statement in a pipeline body: {_head(stmt)}", span)

    def simple(self, small, stmt, scope: Scope) -> dict[str, Value] | None:
        if isinstance(small, cst.Return):
            return self.returned(small.value, stmt, scope) if small.value else {}
        if isinstance(small, (cst.Import, cst.ImportFrom)):
            return None  # for the body's own expressions, run when KFP compiles the pipeline
        if (
            isinstance(small, cst.Expr)
            and isinstance(small.value, cst.Call)
            and code(small.value.func) == "print"
        ):
            message = "print in a pipeline body runs when KFP compiles the pipeline: left out"
            self.ctx.diagnostics.append(
                Diagnostic("TP201", "info", message, scope.locator.at(stmt))
            )
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            self.call(small.value, stmt, scope)
        elif isinstance(small, cst.Assign):  # ``t = u = task(...)`` binds both names
            targets = [t.target for t in small.targets]
            if not all(isinstance(t, cst.Name) for t in targets):
                raise error("TP178", "assign task calls to a plain name", scope.locator.at(stmt))
            if self.named_tuple(small.value, targets, stmt, scope):
                return None
            if self.load(small.value, targets[0].value, stmt, scope) is not None:
                for target in targets[1:]:
                    self.ctx.components[target.value] = self.ctx.components[targets[0].value]
                return None
            bound = self.expression(small.value, stmt, scope)
            for target in targets:
                (scope.handles if isinstance(bound, Handle) else scope.values)[target.value] = bound
        elif not isinstance(small, (cst.Pass, cst.Expr)):
            raise error(
                "TP178",
                f"unsupported statement in a pipeline body: {_head(stmt)}",
                scope.locator.at(stmt),
            )
        return None

    def expression(self, node, stmt, scope: Scope) -> Handle | Value:
        if isinstance(node, cst.Call):
            return self.call(node, stmt, scope)
        if isinstance(node, cst.Name) and node.value in scope.handles:
            return scope.handles[node.value]
        return self.value(node, stmt, scope)

    def named_tuple(self, node, targets: list, stmt, scope: Scope) -> bool:
        """``Outputs = NamedTuple("Outputs", [("a", int)])`` in the body: the class the
        pipeline's ``return Outputs(a=...)`` builds."""
        if not (
            isinstance(node, cst.Call)
            and self.ctx.names.resolve(node.func) in ("NamedTuple", "namedtuple")
        ):
            return False
        outputs = named_fields(node, scope.locator.at(stmt))
        for target in targets:
            self.ctx.tuples[target.value] = [(o.name, o.type) for o in outputs]
        return True

    # calls ----------------------------------------------------------------------------------
    def call(self, node: cst.Call, stmt, scope: Scope) -> Handle | Value:
        func = node.func
        if self.ctx.names.is_kubernetes(func):
            return self.kubernetes(node, stmt, scope)
        loaded = self.load(func, None, stmt, scope)  # load_component_from_file(...)(x=1)
        if loaded is not None:
            return self.task(loaded, node, stmt, scope)
        if isinstance(func, cst.Attribute) and not self.ctx.names.resolve(func):
            target = self.expression(func.value, stmt, scope)
            if isinstance(target, Handle):
                self.setter(target, func.attr.value, node, stmt, scope)
                return target
        kfp = self.ctx.names.resolve(func)
        if kfp in ("Collected", "OneOf"):
            parts = [self.value(a.value, stmt, scope) for a in node.args]
            refs = tuple(r for p in parts for r in p.refs)
            kind = parts[0].type if parts else None
            if kfp == "Collected":
                kind = self.collected_type(refs, kind)
            return Value(refs, kind, kfp.lower())
        if kfp == "importer":
            return self.importer(node, stmt, scope)
        name = func.value if isinstance(func, cst.Name) else None
        if name in POSITIONS_HELPERS and name in self.ctx.components:
            return self.positions(node, stmt, scope)
        if name in self.ctx.components and self.ctx.components[name].passes_on:
            args = keyword_args(node)
            if "value" in args:  # the value itself: no step of its own
                value = self.value(args["value"], stmt, scope)
                return Handle(None, {"chosen": value, "Output": value}, value)
        if name in self.ctx.components:
            return self.task(self.ctx.components[name], node, stmt, scope)
        if name in self.ctx.pipelines:
            return self.inline(name, node, stmt, scope)
        raise error(
            "TP175", f"unknown call in a pipeline body: {code(func)}", scope.locator.at(stmt)
        )

    def load(self, node, name: str | None, stmt, scope: Scope) -> Component | None:
        """A component loaded from YAML in the pipeline body (loaded.py), under ``name`` or, when
        called at once, a name of its own."""
        loader = self.ctx.names.resolve(node.func) if isinstance(node, cst.Call) else None
        if loader not in LOADERS:
            return None
        span = scope.locator.at(stmt)
        name = name or self.unique("loaded_component")
        comp, why = loaded_component(name, node, str(loader), self.ctx.path, {}, span)
        if why is not None:
            message = f"component {name} is not read ({why}): its step raises until you fill it in"
            self.ctx.diagnostics.append(Diagnostic("TP202", "warning", message, span, lossy=True))
        self.ctx.components[name] = comp
        return comp

    def kubernetes(self, node: cst.Call, stmt, scope: Scope) -> Handle:
        """A kfp-kubernetes call: a setting of a task's pod (kubernetes.py maps what a target
        can take: secrets as environment variables, node selectors, tolerations, pod labels,
        PVC mounts, a timeout) or a volume made or deleted around the tasks (no step)."""
        span = scope.locator.at(stmt)
        what = code(node.func)
        call = what.split(".")[-1]
        if call in VOLUME_CALLS:
            return self.volume(call, node, span)
        given = keyword_args(node).get("task") or (positional_args(node) or [None])[0]
        handle = self.expression(given, stmt, scope) if given is not None else None
        if not isinstance(handle, Handle):
            raise error("TP175", f"{what}(...) makes a Kubernetes resource, not a step", span)
        if handle.step is None:
            self.settings.note("TP202", f"{what}(...) on a nested pipeline is not carried", span)
            return handle
        draft = self.drafts[handle.step]
        why = pod_setting(
            draft.settings, call, node, span, self.ctx.diagnostics, self.literal_of(scope)
        )
        if why is not None:
            message = f"{what}(...) is not carried over: {why}"
            self.settings.note("TP202", message, span)
            draft.body = f"{todo_comment('TP202', message)}\n{draft.body}"
        return handle

    def literal_of(self, scope: Scope):
        """A function giving an argument's Python value (a literal, or a name or output bound
        to one), or kubernetes.UNKNOWN."""

        def value(node: cst.BaseExpression) -> object:
            found = self.lookup(node, scope)
            if found is None or found.literal is None:
                return UNKNOWN
            try:
                return ast.literal_eval(found.literal)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                return UNKNOWN

        return value

    def volume(self, call: str, node: cst.Call, span: Span) -> Handle:
        """``CreatePVC``/``DeletePVC``: Kubernetes makes and removes the volume; no step. Its
        ``outputs["name"]`` is the claim's name as written (mount_pvc names it)."""
        args = keyword_args(node)
        name = args.get("pvc_name") or args.get("pvc_name_suffix")
        text = _literal(code(name)) if name is not None else None
        claim = repr(text if isinstance(text, str) else "pvc")
        if "pvc_name" not in args and call == "CreatePVC":  # KFP makes the name when it runs
            claim += " (KFP names the claim when it runs; the mounts name this)"
        message = (
            f"kubernetes.{call}(...) makes or removes a Kubernetes volume, not a step: left out; "
            f"the tasks that mount it keep its mount path and name the claim {claim}"
        )
        self.settings.note("TP202", message, span)
        value = Value(literal=repr(text if isinstance(text, str) else "pvc"))
        return Handle(None, {"name": value}, value, Item(Task(""), set()))

    def computed_results(
        self, results: dict[str, Value], declared: dict[str, TypeRef], scope: Scope, span: Span
    ) -> dict[str, Value]:
        """Results that are not one task's output (a parameter, a literal, values collected
        from a loop, text made of values): a small step computes them at the end, and the
        pipeline returns its outputs (every target returns a step's outputs)."""
        computed = {k: v for k, v in results.items() if not _task_output(v)}
        if not computed:
            return results
        name = self.unique(f"{scope.prefix}pipeline_results")
        inputs: list[Input] = []
        lines: list[str] = []
        outputs: list[Output] = []
        for key, value in computed.items():
            if value.literal is not None:
                lines.append(f"{key} = {value.literal}")
            elif value.formatted is not None:
                text, parts = value.formatted
                for part, given in parts.items():
                    inputs.append(Input(part, given.type or ANY, given.refs, given.mode))
                lines.append(f"{key} = {text}")
            elif value.refs and value.field is None and value.positions_of is None:
                local = _free_name(f"{key}_value", frozenset(computed))
                inputs.append(Input(local, value.type or ANY, value.refs, value.mode))  # type: ignore[arg-type]
                lines.append(f"{key} = {local}")
            else:
                raise error("TP183", f"pipeline result {key} must be a task output", span)
            outputs.append(Output(key, _result_type(value, declared.get(key))))
        body = "".join(f"{line}\n" for line in lines)
        self.drafts[name] = Draft(name, span, inputs, outputs, body, Settings(span))
        self.loop_depth[name] = 0
        waits = {r.source for i in inputs for r in i.refs if r.kind == "output"}
        scope.items.append(Item(Task(name), {name}, waits))
        message = (
            f"a new step {name} computes the pipeline results {', '.join(computed)} (not one "
            "task's output in the source); the pipeline returns its outputs"
        )
        self.ctx.diagnostics.append(Diagnostic("TP201", "info", message, span))
        made = {k: Value((Ref("output", name, k),), o.type) for k, o in zip(computed, outputs)}
        return {k: made.get(k, v) for k, v in results.items()}

    def collected_type(self, refs: tuple[Ref, ...], kind: TypeRef | None) -> TypeRef | None:
        """``dsl.Collected`` of a value made ``n`` loops deeper than here: ``n`` nested lists."""
        depth = max((self.loop_depth.get(r.source, 0) for r in refs), default=0)
        levels = depth - len(self.open_loops)
        if kind is None or not kind.known or levels < 1:
            return None
        text = kind.expr
        for _ in range(levels):
            text = f"list[{text}]"
        return TypeRef(text, kind.origin)

    def setter(self, handle: Handle, setter: str, node: cst.Call, stmt, scope: Scope) -> None:
        span = scope.locator.at(stmt)
        if setter == "after":
            for arg in node.args:
                other = self.expression(arg.value, stmt, scope)
                if isinstance(other, Handle) and handle.item and other.item:
                    handle.item.deps |= other.item.steps
            return
        if handle.step is None and "enable_caching=False" in code(node):
            return  # no reuse of results is already the model's default
        if handle.step is None:
            self.settings.note("TP201", f"{setter} on a nested pipeline is not carried over", span)
            return
        self.settings.apply(self.drafts[handle.step].settings, node, setter, span)

    def task(self, comp: Component, node: cst.Call, stmt, scope: Scope) -> Handle:
        """One step for one component call."""
        span = scope.locator.at(stmt)
        if positional_args(node):
            message = f"call {comp.name} with keyword arguments (KFP requires them)"
            raise error("TP174", message, span)
        name = self.unique(scope.prefix + comp.name)
        inputs, bindings = self.arguments(comp, keyword_args(node), stmt, scope)
        bindings += self.json_texts.reached(name, inputs, comp.json_text)
        bound = [b.split(" = ", 1)[0] for b in bindings] if comp.loose else []
        body = "".join(f"{b}\n" for b in bindings) + self.component_body(comp, span, bound)
        settings = Settings(span, options=list(self.component_options(comp)))
        known = {i.name: i.type.expr for i in inputs if i.type.known}  # what reaches this call
        outputs = inferred(comp.outputs, comp.statements, known)
        self.drafts[name] = Draft(name, span, inputs, outputs, body, settings, comp.doc)
        self.origin[name] = comp.name
        self.loop_depth[name] = len(self.open_loops)
        waits = {r.source for i in inputs for r in i.refs if r.kind == "output"}
        item = Item(Task(name), {name}, waits)
        scope.items.append(item)
        return self.handle_of(comp, name, item)

    def arguments(self, comp: Component, args: dict, stmt, scope: Scope):
        """Inputs for the arguments that carry references; literals and defaults bound in the
        body (the model has no literal inputs)."""
        if comp.loose:  # not read: every argument is an input (or a binding) as given
            comp = replace(comp, params=[Param(k, ANY, None) for k in args])
        unknown = sorted(set(args) - {p.name for p in comp.params})
        if unknown:
            raise error(
                "TP173", f"{comp.name} has no input named {unknown[0]}", scope.locator.at(stmt)
            )
        inputs, bindings = [], []
        wholes: dict[tuple, str] = {}  # a loop item whose fields are passed → its input's name
        self.formatted_taken = _taken(comp)
        for param in comp.params:
            value = self.value(args[param.name], stmt, scope) if param.name in args else None
            if value is not None and value.formatted is not None:
                text, parts = value.formatted
                for part, given in parts.items():
                    inputs.append(Input(part, given.type or ANY, given.refs, given.mode))
                bindings.append(f"{param.name} = {text}")
            elif value is not None and value.field is not None:
                if value.refs not in wholes:
                    wholes[value.refs] = _free_name("item", self.formatted_taken)
                    kind = value.type or ANY
                    inputs.append(Input(wholes[value.refs], kind, value.refs, value.mode))
                bindings.append(f"{param.name} = {wholes[value.refs]}[{value.field!r}]")
            elif value is not None and value.literal is None:
                inputs.append(
                    Input(param.name, _input_type(comp, param, value), value.refs, value.mode)
                )  # type: ignore[arg-type]
            elif value is not None or param.default is not None:
                bindings.append(f"{param.name} = {value.literal if value else param.default}")
            elif param.type.expr.endswith("PipelineTaskFinalStatus"):
                bindings.append(STATUS_STUB.format(name=param.name))
            else:
                message = f"{comp.name} needs an argument for {param.name}"
                raise error("TP173", message, scope.locator.at(stmt))
        return inputs, bindings

    def handle_of(self, comp: Component, name: str, item: Item) -> Handle:
        """What ``.output`` / ``.outputs[key]`` of the task refer to."""
        typed = self.drafts[name].outputs
        outputs = {o.name: Value((Ref("output", name, o.name),), o.type) for o in typed}
        for key, output in output_aliases(comp).items():
            outputs[key] = outputs[output]
        single = next(iter(outputs.values())) if len(comp.outputs) == 1 else None
        return Handle(name, outputs, single, item)

    def positions(self, node: cst.Call, stmt, scope: Scope) -> Handle:
        """Our writer's ``foreach_positions(items=xs)``: a loop over it is a loop over ``xs``."""
        items = self.value(keyword_args(node).get("items") or node.args[0].value, stmt, scope)
        single = Value(positions_of=items)
        return Handle(None, {}, single, Item(Task(""), set(), set(ref_steps(items.refs))))

    def component_body(self, comp: Component, span: Span, bound: list[str]) -> str:
        """The step's code; ``bound``: arguments of a component that was not read, which the
        stand-in's error shows (so they are used)."""
        if comp.kind == "python":
            return comp.body
        if comp.body:
            message = (
                f"container component {comp.name} runs its command with subprocess in the "
                "step's own environment, not in the component's image: the programs it calls "
                f"must be there ({comp.spec[:80]})"
            )
            self.ctx.diagnostics.append(Diagnostic("TP201", "warning", message, span, lossy=True))
            return comp.body
        message = f"container component {comp.name} has no Python body to carry over"
        if comp.loose:
            message = f"component {comp.name} was not read"
        else:
            self.ctx.diagnostics.append(Diagnostic("TP202", "warning", message, span, lossy=True))
        todo = todo_comment("TP202", f"{message}: {comp.spec}")
        # the outputs are bound so the step's code stays complete; it never gets past the raise
        unset = "".join(f"{o.name} = None\n" for o in comp.outputs)
        given = f", {{{', '.join(f'{n!r}: {n}' for n in bound)}}}" if bound else ""
        return f"{todo}\n{unset}raise NotImplementedError({message!r}{given})\n"

    def component_options(self, comp: Component) -> tuple:
        if comp.name not in self.decorator_options:
            settings = Settings(comp.span)
            self.settings.decorator(settings, comp.decorator, comp.span)
            self.decorator_options[comp.name] = settings.finish()
        return self.decorator_options[comp.name]

    def unique(self, base: str) -> str:
        name, n = base, 1
        while name in self.drafts:
            n += 1
            name = f"{base}_{n}"
        return name

    # values ---------------------------------------------------------------------------------
    def value(self, node, stmt, scope: Scope) -> Value:
        """What an argument expression stands for; an error for what a pipeline cannot pass."""
        found = self.lookup(node, scope)
        if found is not None:
            return found
        owner = _output_owner(node)
        if owner is not None and not isinstance(owner, cst.Name):
            handle = self.expression(owner, stmt, scope)  # ``double(x=k).output``
            if isinstance(handle, Handle):
                found = self.lookup(node, Scope({}, {"_": handle}, "", scope.locator), "_")
                if found is not None:
                    return found
        if isinstance(node, cst.Call):
            result = self.call(node, stmt, scope)
            if isinstance(result, Value):
                return result
        formatted = self.formatted(node, scope)
        if formatted is not None:
            return formatted
        placeholder = self.ctx.names.resolve(node)
        if placeholder and placeholder.endswith("_PLACEHOLDER"):
            message = f"dsl.{placeholder} is run metadata with no neutral value: bound to ''"
            span = scope.locator.at(stmt)
            self.ctx.diagnostics.append(Diagnostic("TP202", "warning", message, span, lossy=True))
            return Value(literal="''")
        raise error(
            "TP175",
            f"cannot pass {code(node)}: only pipeline parameters, task outputs, loop items "
            "and literals reach a component",
            scope.locator.at(stmt),
        )

    def loose(self, handle: Handle) -> bool:
        comp = self.ctx.components.get(self.origin.get(handle.step or "", ""))
        return comp is not None and comp.loose

    def loose_output(self, handle: Handle, key: str) -> Value:
        """An output of a component that was not read, as the pipeline uses it."""
        draft = self.drafts[str(handle.step)]
        if key.isidentifier() and key not in {o.name for o in draft.outputs}:
            draft.outputs.append(Output(key, ANY))
            stop = "raise NotImplementedError"  # bound before the stand-in's raise
            draft.body = draft.body.replace(stop, f"{key} = None\n{stop}", 1)
        value = Value((Ref("output", str(handle.step), key),), ANY)
        handle.outputs[key] = value
        return value

    def formatted(self, node, scope: Scope) -> Value | None:
        """Text built from values (``f"{p}.csv"``, ``"data_" + p``, ``"%s" % p``): KFP puts
        each value's text in its place when the task runs; the step computes the same text."""
        if not isinstance(node, (cst.FormattedString, cst.ConcatenatedString, cst.BinaryOperation)):
            return None
        renamer = Channels(self, scope, self.formatted_taken, literals=True)
        text = code(node.visit(renamer))
        found = renamer.found
        if not found:  # made of literals and names bound to literals: a constant
            return Value(literal=text) if _constant(text) else None
        strings = (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)
        text_like = isinstance(node, strings) or (
            isinstance(node.operator, cst.Modulo)  # type: ignore[attr-defined]
            and isinstance(node.left, strings)  # type: ignore[attr-defined]
        )
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            # "a" + f"{x}": each part text KFP knows when compiling (a value only inside an
            # f-string: KFP cannot add a str and a value that is not known yet)
            text_like = all(
                isinstance(leaf, strings) or self.literal_name(leaf, scope)
                for leaf in _leaves(node)
            )
        if not text_like or any(not v.refs for v in found.values()):
            return None  # KFP itself computes nothing else with a value that is not known yet
        return Value(formatted=(text, found))

    def literal_name(self, node, scope: Scope) -> bool:
        """A name the pipeline body bound to a literal (``suffix = "_v2"``)."""
        found = self.lookup(node, scope) if isinstance(node, cst.Name) else None
        return found is not None and found.literal is not None

    def lookup(self, node, scope: Scope, owner: str | None = None) -> Value | None:
        """The value of a parameter, loop item or task output expression; None for others."""
        if isinstance(node, cst.Name) and node.value in scope.values:
            return scope.values[node.value]
        field = _item_field(node, scope)
        if field is not None:
            return field
        if isinstance(node, cst.Attribute) and node.attr.value == "output":
            handle = scope.handles.get(owner or code(node.value))
            if handle and handle.single is None and self.loose(handle):
                handle.single = self.loose_output(handle, "Output")
            return handle.single if handle else None
        if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute):
            handle = scope.handles.get(owner or code(node.value.value))
            key = _literal(code(node.slice[0].slice)) if len(node.slice) == 1 else None
            if handle and node.value.attr.value == "outputs":
                if str(key) not in handle.outputs and self.loose(handle):
                    return self.loose_output(handle, str(key))
                return handle.outputs.get(str(key))
            return None
        try:
            ast.literal_eval(code(node))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
        return Value(literal=code(node))

    def returned(self, node, stmt, scope: Scope) -> dict[str, Value]:
        """A pipeline's results by name: NamedTuple fields, or the one value it returns."""
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value in self.ctx.tuples
        ):
            fields = [f for f, _ in self.ctx.tuples[node.func.value]]
            given = [a for a in node.args if not a.keyword]
            if len(given) > len(fields) or any(a.star for a in node.args):
                message = f"{node.func.value}(...) takes its fields by name or in order"
                raise error("TP172", message, scope.locator.at(stmt))
            named = {f: a.value for f, a in zip(fields, given, strict=False)}
            named |= {a.keyword.value: a.value for a in node.args if a.keyword}
            return {key: self.value(value, stmt, scope) for key, value in named.items()}
        if isinstance(node, cst.Attribute) and node.attr.value == "outputs":  # all of them
            handle = self.expression(node.value, stmt, scope)
            if isinstance(handle, Handle):
                return {k: v for k, v in handle.outputs.items() if k.isidentifier()}
        return {"Output": self.value(node, stmt, scope)}


def _task_output(value: Value) -> bool:
    """A value that is one task's output (or whichever of a switch's cases ran)."""
    plain = value.literal is None and value.formatted is None and value.field is None
    return plain and value.mode != "collected" and all(r.kind == "output" for r in value.refs)


def _result_type(value: Value, declared: TypeRef | None) -> TypeRef:
    """A computed result's type: what reaches it, else the pipeline's annotation (never an
    artifact class, which a step does not make from a value)."""
    if value.type is not None and value.type.known:
        return value.type
    if value.literal is not None:
        kind = type(_literal(value.literal)).__name__
        if kind in ("int", "float", "str", "bool"):
            return TypeRef(kind, "literal")
    if declared is not None and declared.known and declared.expr in PLAIN_RESULT_TYPES:
        return declared
    if declared is not None and declared.expr.startswith(("list[", "dict[")):
        inner = re.findall(r"\w+", declared.expr)
        if set(inner) <= {"list", "dict", *PLAIN_RESULT_TYPES}:
            return declared
    return ANY


def _input_type(comp: Component, param, value: Value):
    """The parameter's annotation; for an artifact or an untyped one, the type that reaches it."""
    bare = param.type.expr in ("list", "List", "typing.List")  # Collected: its element type
    if value.type and (not param.type.known or param.name in comp.artifacts or bare):
        return value.type
    return param.type


def _leaves(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The operands of a chain of binary operations."""
    if isinstance(node, cst.BinaryOperation):
        return [*_leaves(node.left), *_leaves(node.right)]
    return [node]


def _constant(text: str) -> bool:
    """Whether an expression is computed from literals only (and small)."""
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    allowed = (ast.Expression, ast.Constant, ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop)
    allowed += (ast.JoinedStr, ast.FormattedValue, ast.List, ast.Tuple, ast.Dict, ast.Load)
    return len(text) < 10_000 and all(isinstance(n, allowed) for n in ast.walk(tree))


def _item_field(node: cst.CSTNode, scope: Scope) -> Value | None:
    """``item.a`` / ``item["a"]`` of a loop over dicts: the item, and the field read from it."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
        base, key = node.value.value, node.attr.value
    elif (
        isinstance(node, cst.Subscript)
        and isinstance(node.value, cst.Name)
        and len(node.slice) == 1
        and isinstance(node.slice[0].slice, cst.Index)
    ):
        base, key = node.value.value, _literal(code(node.slice[0].slice))
    else:
        return None
    value = scope.values.get(base)
    if not isinstance(key, str) or value is None or [r.kind for r in value.refs] != ["item"]:
        return None
    return Value(value.refs, value.type, value.mode, field=key)


def _taken(comp: Component) -> frozenset[str]:
    """The names an input added to a call of ``comp`` must not take: its parameters and every
    word of its body."""
    return frozenset({p.name for p in comp.params} | set(re.findall(r"\w+", comp.body)))


def _free_name(base: str, taken: frozenset[str]) -> str:
    """``base`` or ``base_2``...: a name not in ``taken``."""
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def _output_owner(node: cst.CSTNode) -> cst.BaseExpression | None:
    """``t`` in ``t.output`` / ``t.outputs["k"]``."""
    if isinstance(node, cst.Attribute) and node.attr.value == "output":
        return node.value
    if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute):
        return node.value.value if node.value.attr.value == "outputs" else None
    return None


def _head(stmt: cst.CSTNode) -> str:
    return code(stmt).strip().splitlines()[0][:60]


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
