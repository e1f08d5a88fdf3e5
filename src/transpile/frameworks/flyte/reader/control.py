"""Fan-out in a workflow body: map_task, and @dynamic functions that loop over an input list."""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import Input, Map, Output, Ref, Step, Task, TypeRef
from transpile.reading.cst import code, dotted, keyword_args, positional_args

from . import files
from .names import FUNCTOOLS_PARTIAL
from .shape import Item, structure
from .values import Scope, Val, element, outer_deps

MAP_SETTINGS = {"concurrency", "min_success_ratio"}
ANY_LIST = TypeRef("list", "annotation")


class ControlFlow:
    """Mixed into WorkflowReader, whose expression and step machinery it uses."""

    # map_task ---------------------------------------------------------------------------------
    def map_task(self, node: cst.Call, scope: Scope) -> Val:
        setup: cst.Call = node.func  # type: ignore[assignment]
        target = (positional_args(setup) or [None])[0]
        if target is not None and code(target) in self.partials:
            target = self.partials[code(target)]
        fixed: dict[str, Val] = {}
        if isinstance(target, cst.Call) and self.r.names.resolve(target) == FUNCTOOLS_PARTIAL:
            fixed = {k: self.expr(v, scope) for k, v in keyword_args(target).items()}
            target = (positional_args(target) or [None])[0]
        fn = self.r.functions.get(code(target)) if target is not None else None
        if fn is None or fn.kind != "task":
            raise error("TP160", "map_task maps one @task of this file", self.span)
        for key in sorted(set(keyword_args(setup)) & MAP_SETTINGS):
            self.note("TP201", f"map_task({key}=...) is not carried over")
        free = [p for p in fn.params if p.name not in fixed]
        mapped = self.bind_args(_partial(fn, free), node, scope)
        if not mapped:
            raise error("TP160", "map_task is called without a list to map over", self.span)
        if len(mapped) > 1:
            return self._zipped_map(fn, fixed, mapped, scope)
        (name, collection), = mapped.items()  # fmt: skip
        placeholder = self.placeholder()
        inner: list[Item] = []
        item_type = fn.param(name).annotation  # type: ignore[union-attr]
        item_val = Val((Ref("item", placeholder, "item"),), type=item_type)
        result = self.task_step(fn, {**fixed, name: item_val}, Scope({}, inner, scope.prefix))
        item = self.close_map(placeholder, collection, item_type, inner, scope)
        return self.collected(result, item)

    def _zipped_map(self, fn, fixed: dict[str, Val], mapped: dict[str, Val], scope: Scope) -> Val:
        """``map_task(t)(a=xs, b=ys)``: Flyte runs ``t`` once per position of the lists, which
        must have the same length (its array node fails the run otherwise). A small step zips
        the lists into one list of tuples, checking their lengths as Flyte does; the map runs
        over those tuples and the task's body unpacks its item into the mapped inputs."""
        names = [p.name for p in fn.params if p.name in mapped]  # the task's order
        resolve = self.r.type_name
        annotations = [fn.param(n).annotation for n in names]  # type: ignore[union-attr]
        for name, annotation in zip(names, annotations):
            if files.kind_of(annotation, resolve):
                message = f"map_task over several lists, one of files ('{name}'), is not supported"
                raise error("TP160", message, self.span)
        known = all(annotations)
        item_type = f"tuple[{', '.join(annotations)}]" if known else None  # type: ignore[arg-type]
        zipped = self._zip_step(fn, names, annotations, mapped, item_type, scope)
        placeholder = self.placeholder()
        inner: list[Item] = []
        item_val = Val((Ref("item", placeholder, "item"),), type=item_type)
        result = self.task_step(
            fn, dict(fixed), Scope({}, inner, scope.prefix), packed=(tuple(names), item_val)
        )
        item = self.close_map(placeholder, zipped, item_type, inner, scope)
        return self.collected(result, item)

    def _zip_step(self, fn, names, annotations, mapped, item_type, scope: Scope) -> Val:
        step = self.step_name(f"{scope.prefix}{fn.name}_zip")
        inputs, lines = [], []
        for name, annotation in zip(names, annotations):
            value = mapped[name]
            if value.literal is not None:
                lines.append(f"{name} = {value.literal}")
                continue
            if value.fields is not None or len(value.refs) != 1:
                message = f"map_task's '{name}' must be one list: a workflow input or an output"
                raise error("TP161", message, self.span)
            kind = TypeRef(f"list[{annotation}]", "annotation") if annotation else ANY_LIST
            kind = self.r.portable(kind, self.span)
            inputs.append(Input(name, kind, value.refs, value.mode))  # type: ignore[arg-type]
        lengths = ", ".join(f"{n} {{len({n})}}" for n in names)
        lines += [
            f"if len({{{', '.join(f'len({n})' for n in names)}}}) > 1:",
            f'    raise ValueError(f"input arrays have different lengths: {lengths}")',
            f"items = list(zip({', '.join(names)}))",
        ]
        kind = TypeRef(f"list[{item_type}]", "annotation") if item_type else ANY_LIST
        doc = "Added by transpile: map_task's lists zipped (Flyte requires equal lengths)."
        self.steps.append(
            Step(
                step,
                self.span,
                tuple(inputs),
                (Output("items", kind),),
                "\n".join(lines) + "\n",
                (),
                doc,
            )
        )
        deps = set().union(*(mapped[n].deps for n in names))
        item = self.add_item(Task(step), deps, scope)
        message = f"map_task over {', '.join(names)}: step '{step}' zips the lists"
        self.r.diagnostics.append(Diagnostic("TP201", "info", message, self.span))
        return Val((Ref("output", step, "items"),), deps=frozenset({item.id}), type=kind.expr)

    def placeholder(self) -> str:
        mark = f"<split {len(self.placeholders) + 1}>"
        self.placeholders[mark] = mark
        return mark

    def close_map(self, mark: str, collection: Val, item_type, inner: list[Item], scope) -> Item:
        """The Map item; its split is the step that made the list, or a synthetic name."""
        if collection.literal is not None:
            collection = self._literal_items(collection, item_type, inner, scope)
        if len(collection.refs) != 1 or collection.mode != "value":
            raise error("TP161", "a map needs one list: a workflow input or an output", self.span)
        ref = collection.refs[0]
        first = next(s for s in self._tasks(inner))
        self.placeholders[mark] = ref.source if ref.kind == "output" else f"{first}_split"
        kind = TypeRef(item_type, "annotation") if item_type else TypeRef("typing.Any", "fallback")
        body = structure(inner, self.span)
        return self.add_item(Map(mark, ref, kind, body), outer_deps(inner) | collection.deps, scope)

    def _literal_items(self, collection: Val, item_type, inner: list[Item], scope) -> Val:
        """A map over a list written in the body: a small step makes the list to split."""
        first = next(s for s in self._tasks(inner))
        name = self.step_name(f"{first}_items")
        kind = TypeRef(f"list[{item_type}]" if item_type else "list", "annotation")
        doc = "Added by transpile: the list the workflow maps over, as written."
        body = f"items = {collection.literal}\n"
        self.steps.append(Step(name, self.span, (), (Output("items", kind),), body, (), doc))
        item = self.add_item(Task(name), set(), scope)
        return Val((Ref("output", name, "items"),), deps=frozenset({item.id}), type=kind.expr)

    def _tasks(self, items: list[Item]):
        for item in items:
            if isinstance(item.node, Task):
                yield item.node.step
        yield "map"

    def collected(self, value: Val, item: Item) -> Val:
        if not value.refs or any(r.kind != "output" for r in value.refs):
            raise error("TP161", "a map's result must be a task output", self.span)
        kind = f"list[{value.type}]" if value.type else None
        return Val(value.refs, "collected", frozenset({item.id}), type=kind)

    def note(self, code_: str, message: str) -> None:
        self.r.diagnostics.append(Diagnostic(code_, "warning", message, self.span, lossy=True))

    # @dynamic ---------------------------------------------------------------------------------
    def dynamic(self, fn, bound: dict[str, Val], scope: Scope) -> Val:
        """A @dynamic that loops over an input list is a map; anything else needs a human."""
        names = dict(bound)
        for param in fn.params:
            if param.name not in names:
                names[param.name] = Val(literal=code(param.default))  # type: ignore[arg-type]
        local = Scope(
            names, scope.items, scope.prefix, concrete=frozenset(p.name for p in fn.params)
        )
        outer_span = self.span
        statements = list(fn.node.body.body)[1 if fn.doc is not None else 0 :]
        for stmt in statements:
            self.span = self.r.spans.find(code(stmt).strip(), fn.span)
            if isinstance(stmt, cst.For):
                self._loop(stmt, local)
            elif _empty_list(stmt):
                local.lists[_empty_list(stmt)] = None  # type: ignore[index]
            elif isinstance(stmt, cst.SimpleStatementLine) and not _appends(stmt, local):
                returned = self.statement(stmt, local)
                if returned is not None:
                    local.names.update({k: v for k, v in local.lists.items() if v is not None})
                    value = self.returned(fn, returned, local)
                    self.span = outer_span
                    return value or Val()
            else:
                self._not_a_map(fn)
        self.span = outer_span
        return Val()

    def _not_a_map(self, fn) -> None:
        message = f"@dynamic '{fn.name}' is read only when it is a plain loop over an input list"
        raise error("TP159", message, self.span)

    def _loop(self, node: cst.For, scope: Scope) -> None:
        target, iterable, index = node.target, node.iter, None
        if isinstance(iterable, cst.Call) and dotted(iterable.func) == "enumerate":
            iterable = iterable.args[0].value
            if isinstance(target, cst.Tuple) and len(target.elements) == 2:
                index, target = target.elements[0].value, target.elements[1].value
        if not isinstance(target, cst.Name) or not isinstance(index, (cst.Name, type(None))):
            raise error("TP159", "a @dynamic loop binds one item (and its index)", self.span)
        collection = self.expr(iterable, scope)
        mark = self.placeholder()
        inner: list[Item] = []
        loop_names = {target.value} | ({index.value} if index is not None else set())
        # the loop's item is a value when the @dynamic runs, as its inputs are
        body = Scope(
            dict(scope.names), inner, scope.prefix, scope.lists, scope.concrete | loop_names
        )
        item_type = element(collection.type)
        body.names[target.value] = Val((Ref("item", mark, "item"),), type=item_type)
        if index is not None:
            body.names[index.value] = Val((Ref("index", mark, "index"),), type="int")
        appended = self._loop_body(node, body, set(scope.names))
        item = self.close_map(mark, collection, item_type, inner, scope)
        for name, value in appended.items():
            scope.lists[name] = self.collected(value, item)

    def _loop_body(self, node: cst.For, body: Scope, outer: set[str]) -> dict[str, Val]:
        """``outer``: the names bound before the loop (one the body assigns is carried)."""
        appended: dict[str, Val] = {}
        for stmt in node.body.body:  # type: ignore[union-attr]
            rest = replace(self.span, end_line=len(self.r.spans.lines))  # the loop body follows
            self.span = self.r.spans.find(code(stmt).strip(), rest)
            call = _appends(stmt, body)
            if call is not None:
                appended[code(call.func.value)] = self.expr(call.args[0].value, body)  # type: ignore[attr-defined]
            elif isinstance(stmt, cst.SimpleStatementLine):
                carried = _rebinds(stmt) & set(outer)
                if carried:
                    message = (
                        f"the @dynamic loop carries {', '.join(sorted(carried))} from one "
                        "iteration to the next: it runs in order, not as a map"
                    )
                    raise error("TP159", message, self.span)
                if self.statement(stmt, body) is not None:
                    raise error("TP159", "a return inside a @dynamic loop", self.span)
            else:
                raise error("TP159", "a @dynamic loop body may only call tasks", self.span)
        return appended


def _partial(fn, params):
    """``fn`` seen with only the parameters a map call may bind."""
    return replace(fn, params=params)


def _empty_list(stmt: cst.BaseStatement) -> str | None:
    if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Assign):
        assign = stmt.body[0]
        target = assign.targets[0].target
        if isinstance(target, cst.Name) and isinstance(assign.value, cst.List):
            return target.value if not assign.value.elements else None
    return None


def _appends(stmt: cst.BaseStatement, scope: Scope) -> cst.Call | None:
    """``acc.append(value)`` on a result list of the @dynamic."""
    if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Expr):
        call = stmt.body[0].value
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute):
            owner = code(call.func.value)
            if call.func.attr.value == "append" and owner in scope.lists and len(call.args) == 1:
                return call
    return None


def _rebinds(stmt: cst.SimpleStatementLine) -> set[str]:
    """Names a statement assigns."""
    found = set()
    for small in stmt.body:
        targets = small.targets if isinstance(small, cst.Assign) else []
        if isinstance(small, (cst.AnnAssign, cst.AugAssign)):
            targets = [small]
        for target in targets:
            node = target.target
            found |= {n.value for n in ([node] if isinstance(node, cst.Name) else [])}
    return found
