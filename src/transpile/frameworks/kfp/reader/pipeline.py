"""A ``@dsl.pipeline`` body → steps and a flow tree, statement by statement.

Every component call is one step; names bound to task calls become handles whose ``.output`` /
``.outputs[...]`` are references. Control flow (``ParallelFor``, ``If``, ``ExitHandler``, nested
pipelines) lives in kfp_control.py.
"""

from __future__ import annotations

import ast

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import Input, Ref, Span, Task
from transpile.reading.cst import code, keyword_args, positional_args
from transpile.util.text import todo as todo_comment

from .branches import Branches
from .component import Component, inferred, output_aliases
from .control import ControlFlow
from .draft import Draft
from .flow import Handle, Item, Value, ref_steps
from .json_text import JsonTexts
from .scope import Context, Scope
from .settings import Settings, SettingsReader

STATUS_STUB = (
    "from types import SimpleNamespace\n\n"
    '{name} = SimpleNamespace(state="SUCCEEDED", error_code=None, error_message=None, '
    'pipeline_job_resource_name="", pipeline_task_name="")'
)
POSITIONS_HELPERS = ("foreach_positions", "foreach_artifact_positions")  # our KFP writer's


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
        self.origin: dict[str, str] = {}  # step → the component it calls

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
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            self.call(small.value, stmt, scope)
        elif isinstance(small, cst.Assign) and len(small.targets) == 1:
            target = small.targets[0].target
            if not isinstance(target, cst.Name):
                raise error("TP178", "assign task calls to a plain name", scope.locator.at(stmt))
            bound = self.expression(small.value, stmt, scope)
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

    # calls ----------------------------------------------------------------------------------
    def call(self, node: cst.Call, stmt, scope: Scope) -> Handle | Value:
        func = node.func
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
            return Value(refs, kind if kfp == "OneOf" else None, kfp.lower())
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
        body = "".join(f"{b}\n" for b in bindings) + self.component_body(comp, span)
        settings = Settings(span, options=list(self.component_options(comp)))
        known = {i.name: i.type.expr for i in inputs if i.type.known}  # what reaches this call
        outputs = inferred(comp.outputs, comp.statements, known)
        self.drafts[name] = Draft(name, span, inputs, outputs, body, settings, comp.doc)
        self.origin[name] = comp.name
        waits = {r.source for i in inputs for r in i.refs if r.kind == "output"}
        item = Item(Task(name), {name}, waits)
        scope.items.append(item)
        return self.handle_of(comp, name, item)

    def arguments(self, comp: Component, args: dict, stmt, scope: Scope):
        """Inputs for the arguments that carry references; literals and defaults bound in the
        body (the model has no literal inputs)."""
        unknown = sorted(set(args) - {p.name for p in comp.params})
        if unknown:
            raise error(
                "TP173", f"{comp.name} has no input named {unknown[0]}", scope.locator.at(stmt)
            )
        inputs, bindings = [], []
        for param in comp.params:
            value = self.value(args[param.name], stmt, scope) if param.name in args else None
            if value is not None and value.literal is None:
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

    def component_body(self, comp: Component, span: Span) -> str:
        if comp.kind == "python":
            return comp.body
        message = f"container component {comp.name} has no Python body to carry over"
        self.ctx.diagnostics.append(Diagnostic("TP202", "warning", message, span, lossy=True))
        todo = todo_comment("TP202", f"{message}: it ran {comp.spec}")
        return f"{todo}\nraise NotImplementedError({message!r})\n"

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

    def lookup(self, node, scope: Scope, owner: str | None = None) -> Value | None:
        """The value of a parameter, loop item or task output expression; None for others."""
        if isinstance(node, cst.Name) and node.value in scope.values:
            return scope.values[node.value]
        if isinstance(node, cst.Attribute) and node.attr.value == "output":
            handle = scope.handles.get(owner or code(node.value))
            return handle.single if handle else None
        if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute):
            handle = scope.handles.get(owner or code(node.value.value))
            key = _literal(code(node.slice[0].slice)) if len(node.slice) == 1 else None
            if handle and node.value.attr.value == "outputs":
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
            return {
                a.keyword.value: self.value(a.value, stmt, scope) for a in node.args if a.keyword
            }
        return {"Output": self.value(node, stmt, scope)}


def _input_type(comp: Component, param, value: Value):
    """The parameter's annotation; for an artifact or an untyped one, the type that reaches it."""
    if value.type and (not param.type.known or param.name in comp.artifacts):
        return value.type
    return param.type


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
