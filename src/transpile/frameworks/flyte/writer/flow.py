"""The structured flow → the body of a Flyte @workflow, plus @dynamic foreach bodies and case workflows."""

from __future__ import annotations

from dataclasses import dataclass, field

from transpile import frameworks
from transpile.model.added import case_doc
from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import Case, Input, Map, Node, Ref, Sequence, Step, Switch, Task, walk
from transpile.util.docstrings import with_args
from transpile.writing.flow import FlowFunction, FlowWalker, bound_value, numbered_name
from transpile.writing.graph import Key, all_steps, free_refs, key, maps
from transpile.writing.render import camel_case, converted_doc, free_name, snake_case

from .. import FRAMEWORK
from .module_state import ModuleState
from .types import is_tuple


@dataclass
class Line:
    expr: str
    var: str | None = None


@dataclass
class Scope:
    """Names bound in one function body (workflow, dynamic or case workflow) while emitting it."""

    values: dict[Key, str] = field(default_factory=dict)
    collected: dict[tuple[str, str], str] = field(default_factory=dict)
    lines: list[Line | str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    last: list[tuple[str, frozenset[str]]] = field(default_factory=list)

    def fresh(self, name: str) -> str:
        return numbered_name(name, self.names)

    def use(self, expr: str) -> str:
        self.used.add(expr.split(".")[0])
        return expr

    def render(self) -> list[str]:
        out = []
        for line in self.lines:
            if isinstance(line, str):
                out.append(line)
            elif line.var and line.var in self.used:
                out.append(f"{line.var} = {line.expr}")
            else:
                out.append(line.expr)
        return out


@dataclass
class FunctionView(FlowFunction):
    """A Flyte function whose body is flow code: a ``@workflow`` or a ``@dynamic``."""

    decorator: str = "@workflow"


class FlowEmitter(FlowWalker):
    def __init__(self, writer: ModuleState):
        self.w = writer
        self.p = writer.p
        self.steps = {s.name: s for s in self.p.steps}
        self.extra_defs: list[FunctionView] = []
        self.defaults: list[tuple[str, str, str]] = []

    # the entry workflow -----------------------------------------------------------------------------
    def workflow(self) -> FunctionView:
        scope = Scope(names=set(self.w.taken))
        for param in self.p.parameters:
            scope.values[("param", param.name, param.name)] = param.name
            scope.names.add(param.name)
        self.emit(self.p.flow, scope)
        name = self._workflow_name()
        ordered = sorted(self.p.parameters, key=lambda p: p.default is not None)  # required first
        signature = ", ".join(self._parameter(p) for p in ordered)
        returns, output_class = "None", None
        if self.p.results:
            # never a name the module or the workflow's locals already use (a step, an artifact)
            used = set(self.w.taken) | set(scope.names) | {r.name for r in self.p.results}
            used |= {o.name for s in self.p.steps for o in s.outputs}
            cls = free_name(f"{self.p.name}Results", used)
            fields = [(r.name, self.w.ftype(r.type.expr)) for r in self.p.results]
            output_class = (cls, fields)
            self.w.std_imports.add("from typing import NamedTuple")
            args = ", ".join(
                f"{r.name}={scope.use(self._value(r.refs, 'oneof', scope))}" for r in self.p.results
            )
            scope.lines.append(f"return {cls}({args})")
            returns = cls
            for result in self.p.results:
                if is_tuple(result.type.expr):
                    self._tuple_result(result.name)
        doc = converted_doc(self.p, frameworks.get(self.p.framework))
        doc = with_args(doc, [(p.name, p.help or "") for p in ordered])  # flytekit reads them
        return FunctionView(name, signature, returns, scope.render(), output_class, doc)

    def _tuple_result(self, name: str) -> None:
        note = FRAMEWORK.capabilities["tuple_results"][1]
        self.w.diagnostics.append(
            Diagnostic(
                "TP220",
                "warning",
                f"artifact '{name}' is a tuple; the workflow returns it as a list ({note})",
                self.p.span,
                lossy=True,
            )
        )

    def _workflow_name(self) -> str:
        name = snake_case(self.p.name)
        return name if name not in self.w.taken else f"{name}_wf"

    def _parameter(self, param) -> str:
        annotation = self.w.ftype(param.type.expr)
        default = param.default
        if param.kind == "file":
            self.w.flytekit_files = True
            annotation = "FlyteFile"
            default = f"FlyteFile({default})" if default is not None else None
        if default is None:
            return f"{param.name}: {annotation}"
        if default.startswith(("[", "{", "FlyteFile(")):
            # a module-level value, not a mutable literal in the signature (shared between calls)
            constant = f"DEFAULT_{param.name.upper()}"
            self.defaults.append((constant, annotation, default))
            default = constant
        return f"{param.name}: {annotation} = {default}"

    def branch_order(self, branches: tuple[Node, ...]) -> tuple[Node, ...]:
        """Branches with a conditional last: flytekit's local execution runs nothing after a
        conditional inside a workflow that is itself a conditional's case (LOCAL_CASES in
        write.py), so independent work goes before it."""
        return tuple(sorted(branches, key=lambda b: any(isinstance(n, Switch) for n in walk(b))))

    # nodes --------------------------------------------------------------------------------------------
    def _value(self, refs: tuple[Ref, ...], mode: str, scope: Scope) -> str:
        if mode == "collected":
            found = scope.collected.get((refs[0].source, refs[0].name))
            if found is None:  # gathered outside the loop that made it (KFP allows it)
                raise error(
                    "TP249",
                    f"the collected values of {refs[0].source}.{refs[0].name} are used outside "
                    "the loop that makes them; the Flyte output cannot gather them there",
                    next((t.span for t in self.p.steps if t.name == refs[0].source), None),
                )
            return found
        return bound_value(refs, scope.values)

    def _task(self, step: Step, scope: Scope) -> None:
        args = [(i.name, scope.use(self._value(i.refs, i.mode, scope))) for i in step.inputs]
        call = f"{self.w.functions[step.name]}({', '.join(f'{k}={v}' for k, v in args)})"
        var = scope.fresh(
            step.outputs[0].name
            if len(step.outputs) == 1
            else f"{step.name}_out"
            if step.outputs
            else f"{step.name}_run"
        )
        scope.lines.append(Line(call, var))
        # a node with several outputs orders through one of them: `Output >> x` is not supported
        handle = f"{var}.{step.outputs[0].name}" if len(step.outputs) > 1 else var
        self._order(step.inputs, handle, scope)
        for output in step.outputs:
            expr = var if len(step.outputs) == 1 else f"{var}.{output.name}"
            scope.values[("output", step.name, output.name)] = expr
        scope.last = [(handle, frozenset({step.name}))]

    def _order(self, inputs: tuple[Input, ...], var: str, scope: Scope) -> None:
        """Keep the source's order where no data flows: `a >> b`."""
        sources = {r.source for i in inputs for r in i.refs}
        for previous, steps in scope.last:
            if not sources & steps:
                scope.use(previous)
                scope.use(var)
                scope.lines.append(f"{previous} >> {var}")

    # foreach ------------------------------------------------------------------------------------------
    def _map(self, node: Map, scope: Scope) -> None:
        body = node.body.nodes if isinstance(node.body, Sequence) else (node.body,)
        collection = scope.use(self._value((node.collection,), "value", scope))
        keys = self._collected_keys(node)
        typed = self.w.ftype(self._ref_type(node.collection)).startswith("list[")
        if (
            typed
            and len(body) == 1
            and isinstance(body[0], Task)
            and self._mappable(node, self.steps[body[0].step])
        ):
            self._map_task(node, self.steps[body[0].step], collection, keys, scope)
        else:
            self._dynamic(node, collection, keys, scope)

    def _mappable(self, node: Map, step: Step) -> bool:
        """One task whose one input is this loop's item (an outer loop's item is a fixed input)."""
        loop = [
            (r.kind, i)
            for i in step.inputs
            for r in i.refs
            if r.kind in ("item", "index") and r.source == node.split
        ]
        kinds = {r.kind for i in step.inputs for r in i.refs}
        return (
            [k for k, _ in loop] == ["item"]
            and len(loop[0][1].refs) == 1
            and "index" not in kinds
            and len(step.outputs) <= 1
        )

    def _map_task(self, node: Map, step: Step, collection: str, keys: list, scope: Scope) -> None:
        self.w.flytekit.add("map_task")
        item = next(i for i in step.inputs if i.refs[0] == Ref("item", node.split, "item"))
        fixed = [
            (i.name, scope.use(self._value(i.refs, i.mode, scope)))
            for i in step.inputs
            if i is not item
        ]
        target = self.w.functions[step.name]
        if fixed:
            self.w.std_imports.add("import functools")
            target = f"functools.partial({target}, {', '.join(f'{k}={v}' for k, v in fixed)})"
        call = f"map_task({target})({item.name}={collection})"
        var = scope.fresh(f"{step.outputs[0].name}_values" if step.outputs else f"{step.name}_runs")
        scope.lines.append(Line(call, var))
        self._order(step.inputs, var, scope)
        for k in keys:
            scope.collected[k] = var
        scope.last = [(var, frozenset({step.name}))]

    def _dynamic(self, node: Map, collection: str, keys: list, scope: Scope) -> None:
        self.w.flytekit.add("dynamic")
        inner = Scope(names={*self.w.taken})
        free = self._free_refs(node.body, exclude_split=node.split)
        params = self._bind_free(free, inner)
        items = inner.fresh("items")
        loop_item, loop_index = inner.fresh("item"), inner.fresh("index")
        inner.values[("item", node.split, "item")] = loop_item
        inner.values[("index", node.split, "index")] = loop_index
        lists = [inner.fresh(f"{name}_values") for _, name in keys]
        inner.lines += [f"{name} = []" for name in lists]
        body_scope = Scope(values=dict(inner.values), names=inner.names, used=inner.used)
        self.emit(node.body, body_scope)
        uses_index = loop_index in body_scope.used
        header = (
            f"for {loop_index}, {loop_item} in enumerate({items}):"
            if uses_index
            else f"for {loop_item} in {items}:"
        )
        appends = [
            f"{name}.append({body_scope.use(self._collected_value(body_scope, node, k))})"
            for name, k in zip(lists, keys)
        ]
        inner.lines.append(header)
        inner.lines += ["    " + line for line in [*body_scope.render(), *appends]]
        items_type = self.w.ftype(self._ref_type(node.collection))
        signature = ", ".join([f"{items}: {items_type}", *(f"{n}: {t}" for n, t, _ in params)])
        # two maps over one collection (Airflow expands one list twice) need two names
        taken = set(self.w.taken) | {d.name for d in self.extra_defs}
        name = free_name(f"{node.split}_foreach", taken)
        returns, output_class = self._dynamic_returns(node, keys, lists, inner, name)
        self.extra_defs.append(
            FunctionView(
                name,
                signature,
                returns,
                inner.render(),
                output_class,
                f"One run of the foreach body per element of {node.collection.name}.",
                decorator="@dynamic",
            )
        )
        args = [f"{items}={collection}", *(f"{n}={self._outer(r, scope)}" for n, _, r in params)]
        var = scope.fresh(name.replace("_foreach", "_results") if len(keys) != 1 else lists[0])
        scope.lines.append(Line(f"{name}({', '.join(args)})", var))
        for k, field_name in zip(keys, lists):
            scope.collected[k] = var if len(keys) == 1 else f"{var}.{field_name}"
        handle = var if len(keys) <= 1 else f"{var}.{lists[0]}"
        scope.last = [(handle, all_steps(node.body))]

    def _dynamic_returns(self, node: Map, keys: list, lists: list[str], inner: Scope, name: str):
        types = [self.w.collected(self._collected_element(node, k)) for k in keys]
        if not keys:
            return "None", None
        if len(keys) == 1:
            inner.lines.append(f"return {lists[0]}")
            return types[0], None
        cls = f"{camel_case(name)}Outputs"
        self.w.std_imports.add("from typing import NamedTuple")
        inner.lines.append(f"return {cls}({', '.join(f'{n}={n}' for n in lists)})")
        return cls, (cls, list(zip(lists, types)))

    def _free_refs(self, node: Node, exclude_split: str | None = None) -> list[Ref]:
        """References used inside ``node`` that are bound outside it, less the item and index of
        the map whose body ``node`` is (the loop binds them)."""
        return [
            r
            for r in free_refs(node, self.steps)
            if not (r.kind in ("item", "index") and r.source == exclude_split)
        ]

    def _bind_free(self, free: list[Ref], inner: Scope) -> list[tuple[str, str, Ref]]:
        """Parameters of a nested function for free references: (name, annotation, outer value)."""
        params = []
        for ref in free:
            base = ref.name if ref.kind in ("param", "output") else f"{ref.source}_{ref.name}"
            name = inner.fresh(base)
            inner.values[key(ref)] = name
            annotation = (
                "FlyteFile" if self.w.file_param(ref) else self.w.ftype(self._ref_type(ref))
            )
            params.append((name, annotation, ref))
        return params

    def _outer(self, ref: Ref, scope: Scope) -> str:
        return scope.use(self._value((ref,), "value", scope))

    def _ref_type(self, ref: Ref) -> str:
        if ref.kind == "param":
            return next(p.type.expr for p in self.p.parameters if p.name == ref.name)
        if ref.kind == "index":
            return "int"
        if ref.kind == "item":
            return next(m.item_type.expr for m in maps(self.p.flow) if m.split == ref.source)
        return self._output_type(ref.source, ref.name)

    # switch -------------------------------------------------------------------------------------------
    def _switch(self, node: Switch, scope: Scope) -> None:
        self.w.flytekit.add("conditional")
        inside = all_steps(node)
        outputs = self._switch_outputs(node, inside)
        condition = scope.use(self._value((node.condition,), "value", scope))
        branches = [self._case(node, case, outputs, scope) for case in node.cases]
        name = node.condition.name
        parts = [f'conditional("{name}")']
        for i, (case, call) in enumerate(zip(node.cases, branches)):
            parts.append(
                f".{'if_' if i == 0 else 'elif_'}({condition} == {case.value}).then({call})"
            )
        message = (
            f"Switch condition variable '{name}' has a value which is not in the available cases"
        )
        parts.append(f".else_().fail({message!r})")
        expr = "(\n    " + "\n    ".join(parts) + "\n)"
        names = [scope.fresh(a) for a, _ in outputs]
        var = ", ".join(names) if names else scope.fresh(f"{name}_switch")
        scope.lines.append(Line(expr, var))
        if len(names) > 1:
            scope.used.add(var)
        if names:
            for n in names:
                scope.used.add(n)
        for (artifact, refs), n in zip(outputs, names):
            for ref in refs:
                scope.values[key(ref)] = n
        scope.last = [(names[0] if len(names) == 1 else var, inside)] if names else [(var, inside)]

    def _switch_outputs(
        self, node: Switch, inside: frozenset[str]
    ) -> list[tuple[str, tuple[Ref, ...]]]:
        outputs = self._leaving(inside)
        # the first case's own output order when it is one task (so it can be called directly)
        first = node.cases[0].body
        first = first.nodes[0] if isinstance(first, Sequence) and len(first.nodes) == 1 else first
        order = [o.name for o in self.steps[first.step].outputs] if isinstance(first, Task) else []
        return sorted(
            outputs.items(),
            key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0]),
        )

    def _case(self, node: Switch, case: Case, outputs: list, scope: Scope) -> str:
        steps = case.body.nodes if isinstance(case.body, Sequence) else (case.body,)
        if len(steps) == 1 and isinstance(steps[0], Task):
            step = self.steps[steps[0].step]
            if [o.name for o in step.outputs] == [a for a, _ in outputs]:
                args = [
                    (i.name, scope.use(self._value(i.refs, i.mode, scope))) for i in step.inputs
                ]
                return f"{self.w.functions[step.name]}({', '.join(f'{k}={v}' for k, v in args)})"
        return self._case_workflow(node, case, outputs, scope)

    def _case_workflow(self, node: Switch, case: Case, outputs: list, scope: Scope) -> str:
        inner = Scope(names={*self.w.taken})
        free = self._free_refs(case.body)
        case_steps = all_steps(case.body)
        passthrough = [r for _, refs in outputs for r in refs if r.source not in all_steps(node)]
        for ref in passthrough:
            if ref not in free:
                free.append(ref)
        params = self._bind_free(free, inner)
        self.emit(case.body, inner)
        results = []
        for artifact, refs in outputs:
            chosen = [r for r in refs if r.source in case_steps] or [
                r for r in refs if r in passthrough
            ]
            if not chosen:
                raise error("TP130", f"'{artifact}' is set in only some cases of the switch", None)
            results.append((artifact, inner.use(inner.values[key(chosen[0])])))
        label = _case_label(case.value)
        name = (
            f"{node.condition.source}_{label}_case"
            if node.condition.kind == "output"
            else f"{label}_case"
        )
        returns, output_class = "None", None
        if len(results) == 1:
            returns = self.w.ftype(self._artifact_type(outputs[0][1]))
            inner.lines.append(f"return {results[0][1]}")
        elif results:
            cls = f"{camel_case(name)}Outputs"
            self.w.std_imports.add("from typing import NamedTuple")
            output_class = (
                cls,
                [(a, self.w.ftype(self._artifact_type(refs))) for a, refs in outputs],
            )
            inner.lines.append(f"return {cls}({', '.join(f'{a}={v}' for a, v in results)})")
            returns = cls
        signature = ", ".join(f"{n}: {t}" for n, t, _ in params)
        doc = case_doc(case.value, node.condition.name)
        self.extra_defs.append(
            FunctionView(name, signature, returns, inner.render(), output_class, doc)
        )
        args = ", ".join(f"{n}={self._outer(r, scope)}" for n, _, r in params)
        return f"{name}({args})"

    def _artifact_type(self, refs: tuple[Ref, ...]) -> str:
        kinds = {self._ref_type(r) for r in refs}
        return kinds.pop() if len(kinds) == 1 else "typing.Any"


def _case_label(value: str) -> str:
    import re

    text = re.sub(r"\W+", "_", value.strip("'\"")).strip("_").lower()
    return text or "case"
