"""Control flow in a pipeline body: ``ParallelFor``, ``If``/``Elif``/``Else``, ``ExitHandler``,
nested pipelines and ``importer``. Mixed into PipelineBuilder (pipeline.py)."""

from __future__ import annotations

import re

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import ANY, Input, Map, Output, Ref, Task, TypeRef
from transpile.reading.cst import code, keyword_args, positional_args
from transpile.reading.inference import element_type
from transpile.util.text import todo

from .draft import Draft
from .exits import OUR_HANDLER
from .flow import Handle, Item, Value, group, ref_steps, steps_in
from .scope import Locator, Scope, body_of
from .settings import Settings

BRANCHES = ("If", "Elif", "Else", "Condition")
MAX_NESTING = 20


class ControlFlow:
    def with_block(self, stmt: cst.With, pending: list, scope: Scope) -> None:
        call = stmt.items[0].item if len(stmt.items) == 1 else None
        kind = self.ctx.names.resolve(call.func) if isinstance(call, cst.Call) else None
        if kind == "ParallelFor":
            self.parallel_for(stmt, call, scope)  # type: ignore[arg-type]
        elif kind in ("If", "Condition"):
            chain = [stmt]
            while pending and _branch_kind(self, pending[0]) in ("Elif", "Else"):
                chain.append(pending.pop(0))
                if _branch_kind(self, chain[-1]) == "Else":
                    break
            self.branches(chain, scope)
        elif kind == "ExitHandler":
            self.exit_handler(stmt, call, scope)  # type: ignore[arg-type]
        else:
            what = f"dsl.{kind}" if kind else code(stmt.items[0].item)
            message = f"{what} without a dsl.If before it" if kind in BRANCHES else ""
            message = message or f"unsupported `with {what}` in a pipeline body"
            raise error("TP178", message, scope.locator.at(stmt))

    # ParallelFor ----------------------------------------------------------------------------
    def parallel_for(self, stmt: cst.With, call: cst.Call, scope: Scope) -> None:
        """A loop → a Map over the collection; its item is the loop variable."""
        span = scope.locator.at(stmt)
        collection, kind = self.loop_collection(stmt, call, scope)
        element = element_type(collection.type.expr if collection.type else None)
        item_type = TypeRef(element, "annotation") if element else ANY
        self.loops += 1
        placeholder = f"\0split{self.loops}"  # the split's name is known after the body
        asname = stmt.items[0].asname
        loop_type = TypeRef("int", "annotation") if kind == "index" else item_type
        if asname is not None:  # without `as`, the body runs once per item without reading it
            scope.values[asname.name.value] = Value((Ref(kind, placeholder, kind),), loop_type)  # type: ignore[union-attr]
        inner = self.nested(scope)
        self.open_loops.append(placeholder)
        self.walk(body_of(stmt), inner)
        self.open_loops.pop()
        if not inner.items:
            raise error("TP179", "dsl.ParallelFor with no task in it", span)
        ref = collection.refs[0]
        split = ref.source if ref.kind == "output" else f"{steps_in(inner.items[0].node)[0]}_split"
        self.rename_split(placeholder, split)
        if kind == "index":
            self.element_inputs(inner.items, collection, split, item_type)
        body = group(inner.items)
        node = Map(split, ref, item_type, body.node)
        scope.items.append(Item(node, body.steps, body.deps | ref_steps(collection.refs)))

    def loop_collection(self, stmt: cst.With, call: cst.Call, scope: Scope):
        """What a loop runs over, and whether its variable is the item or (our writer's loop
        over positions) the index."""
        span = scope.locator.at(stmt)
        args = keyword_args(call)
        source = args.get("items") or (positional_args(call) or [None])[0]
        if source is None:
            raise error("TP179", "dsl.ParallelFor needs items=...", span)
        if "parallelism" in args:
            message = f"parallelism={code(args['parallelism'])} is not carried over: "
            message += "every iteration may run at once"
            self.ctx.diagnostics.append(Diagnostic("TP201", "warning", message, span, lossy=True))
        collection, kind = self.value(source, stmt, scope), "item"
        if collection.positions_of is not None:
            collection, kind = collection.positions_of, "index"
        if collection.literal is not None:
            collection = self.literal_items(collection.literal, stmt, scope)
        elif collection.field is not None:
            collection = self.computed_items(collection, stmt, scope)
        if len(collection.refs) != 1 or collection.mode != "value":
            raise error("TP179", f"cannot loop over {code(source)}", span)
        return collection, kind

    def literal_items(self, literal: str, stmt, scope: Scope) -> Value:
        """A loop over a literal list: a small step that makes the list (the model maps refs)."""
        name = self.unique(f"{scope.prefix}loop_items")
        kind = TypeRef(_list_type(literal), "literal")
        span = scope.locator.at(stmt)
        body = f"items = {literal}\n"
        self.drafts[name] = Draft(name, span, [], [Output("items", kind)], body, Settings(span))
        scope.items.append(Item(Task(name), {name}))
        return Value((Ref("output", name, "items"),), kind)

    def computed_items(self, given: Value, stmt, scope: Scope) -> Value:
        """A loop over a field of an outer loop's item (``ParallelFor(item.rows)``): a small
        step that takes the item and hands on the field, which the loop runs over."""
        name = self.unique(f"{scope.prefix}loop_items")
        span = scope.locator.at(stmt)
        inputs = [Input("item", given.type or ANY, given.refs, given.mode)]
        output = Output("items", ANY)
        body = f"items = item[{given.field!r}]\n"
        self.drafts[name] = Draft(name, span, inputs, [output], body, Settings(span))
        self.loop_depth[name] = len(self.open_loops)
        scope.items.append(Item(Task(name), {name}, ref_steps(given.refs)))
        return Value((Ref("output", name, "items"),), output.type)

    def rename_split(self, placeholder: str, split: str) -> None:
        """Item and index references of a loop get the split's name, once it is known."""
        for draft in self.drafts.values():
            draft.inputs = [_renamed(i, placeholder, split) for i in draft.inputs]

    def element_inputs(
        self, items: list[Item], collection: Value, split: str, item_type: TypeRef
    ) -> None:
        """Our writer's loop over positions: a step that takes the whole list and starts with
        ``item = <list>[index]`` reads the loop's item."""
        for name in (s for i in items for s in i.steps):
            draft = self.drafts[name]
            for i, given in enumerate(draft.inputs):
                line = f"item = {given.name}[index]\n"
                if given.refs == collection.refs and line in draft.body:
                    draft.inputs[i] = Input("item", item_type, (Ref("item", split, "item"),))
                    draft.body = draft.body.replace(line, "", 1)
            _drop_unused_index(draft)

    def nested(self, scope: Scope) -> Scope:
        """A scope for a block: same names (a task in it is visible after it), own items."""
        return Scope(scope.values, scope.handles, scope.prefix, scope.locator)

    # ExitHandler ----------------------------------------------------------------------------
    def exit_handler(self, stmt: cst.With, call: cst.Call, scope: Scope) -> None:
        span = scope.locator.at(stmt)
        args = keyword_args(call)
        target = (
            args.get("exit_task") or args.get("exit_op") or (positional_args(call) or [None])[0]
        )
        handle = scope.handles.get(code(target)) if target is not None else None
        if isinstance(target, cst.Call):  # the exit task made in the with line itself
            made = self.expression(target, stmt, scope)  # type: ignore[attr-defined]
            handle = made if isinstance(made, Handle) else None
        if handle is None or handle.item not in scope.items:
            raise error("TP181", "dsl.ExitHandler needs the exit task created just before it", span)
        scope.items.remove(handle.item)
        before = len(scope.items)
        self.walk(body_of(stmt), scope)
        component = self.ctx.components.get(self.origin.get(str(handle.step), ""))
        ours = bool(component and (component.doc or "").startswith(OUR_HANDLER))
        inside = {s for i in scope.items[before:] for s in i.steps}
        self.exits.append((str(handle.step), span, ours, inside))
        if ours:  # our KFP writer's exit task for a failure handler: only the handler
            return
        handle.item.deps |= {s for i in scope.items[before:] for s in i.steps}
        scope.items.append(handle.item)

    # nested pipelines and importer ----------------------------------------------------------
    def inline(self, name: str, node: cst.Call, stmt, scope: Scope) -> Handle:
        """A nested pipeline's steps join this flow, prefixed with its name."""
        span = scope.locator.at(stmt)
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise error("TP182", f"pipeline {name} calls itself", span)
        fn = self.ctx.pipelines[name]
        args = keyword_args(node)
        values = {}
        for p in fn.params.params:
            given = args.get(p.name.value, p.default)
            if given is None:
                raise error("TP173", f"pipeline {name} needs an argument for {p.name.value}", span)
            values[p.name.value] = self.value(given, stmt, scope)
        prefix = scope.prefix if _wraps_one_loop(fn) else f"{scope.prefix}{name}_"
        inner = Scope(values, {}, prefix, Locator(self.ctx.spans, self.ctx.spans.span("def", name)))
        results = self.walk(body_of(fn), inner) or {}
        self.depth -= 1
        item = group(inner.items)
        scope.items.append(item)
        single = next(iter(results.values())) if len(results) == 1 else None
        return Handle(None, results, single, item)

    def importer(self, node: cst.Call, stmt, scope: Scope) -> Handle:
        """``dsl.importer``: a file parameter when it imports a parameter's URI, else a TODO."""
        span = scope.locator.at(stmt)
        uri = keyword_args(node).get("artifact_uri")
        given = self.lookup(uri, scope) if uri is not None else None
        if given is not None and len(given.refs) == 1 and given.refs[0].kind == "param":
            # a file named by a pipeline parameter: Metaflow's IncludeFile, read at run start
            self.file_params.add(given.refs[0].source)
            message = f"dsl.importer of parameter {given.refs[0].source} became a file parameter"
            self.ctx.diagnostics.append(Diagnostic("TP201", "info", message, span))
            return Handle(None, {"artifact": given}, given, Item(Task(""), set()))
        name = self.unique(f"{scope.prefix}importer")
        message = (
            f"dsl.importer of {code(uri) if uri else 'an artifact'} has no Python body to carry "
            "over: fetch the file in a step"
        )
        self.ctx.diagnostics.append(Diagnostic("TP202", "warning", message, span, lossy=True))
        body = f"{todo('TP202', message)}\nraise NotImplementedError({message!r})\n"
        output = Output("artifact", TypeRef("bytes", "annotation"))
        self.drafts[name] = Draft(name, span, [], [output], body, Settings(span))
        item = Item(Task(name), {name})
        scope.items.append(item)
        value = Value((Ref("output", name, "artifact"),), output.type)
        return Handle(name, {"artifact": value}, value, item)


def _renamed(given: Input, placeholder: str, split: str) -> Input:
    refs = tuple(Ref(r.kind, split, r.name) if r.source == placeholder else r for r in given.refs)
    return Input(given.name, given.type, refs, given.mode)


def _drop_unused_index(draft) -> None:
    """Without ``item = xs[index]`` a body may not need its index at all (as in Metaflow)."""
    cast = "index = int(index)\n"
    rest = draft.body.replace(cast, "", 1)
    if not re.search(r"\bindex\b", rest):
        draft.inputs = [i for i in draft.inputs if i.name != "index"]
        draft.body = rest


def _branch_kind(builder, stmt) -> str | None:
    if not isinstance(stmt, cst.With) or len(stmt.items) != 1:
        return None
    call = stmt.items[0].item
    return builder.ctx.names.resolve(call.func) if isinstance(call, cst.Call) else None


def _wraps_one_loop(fn: cst.FunctionDef) -> bool:
    """Our writer's foreach wrapper: a pipeline holding one ParallelFor and its return."""
    statements = [s for s in body_of(fn) if not _is_doc(s)]
    return (
        len(statements) == 2
        and isinstance(statements[0], cst.With)
        and "ParallelFor" in code(statements[0].items[0].item)
        and isinstance(statements[1], cst.SimpleStatementLine)
    )


def _is_doc(stmt) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, cst.SimpleString)
    )


def _list_type(literal: str) -> str:
    from transpile.reading.inference import TypeEnv, annotation, infer

    return annotation(infer(cst.parse_expression(literal), TypeEnv())) or "list"
