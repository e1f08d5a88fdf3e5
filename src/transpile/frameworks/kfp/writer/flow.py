"""The structured flow → the entry ``@dsl.pipeline``, one small pipeline per foreach, helper tasks.

A foreach becomes its own pipeline around a ``dsl.ParallelFor`` that returns ``dsl.Collected``
values, called from the enclosing pipeline like a component. Every value its body reads from
outside arrives as an input of that pipeline, never as a task output crossing into the loop
(kfp.local 2.17 hands such an input the loop item instead of the value), and the loop's items
are always a parameter input of it (kfp.local reads loop items from a task only if that task has
a single output, and drops the inputs of a pipeline task that has no parameter input). A switch becomes ``dsl.If``/``dsl.Elif`` per case and a ``dsl.Else`` that
fails as Metaflow does; values leaving it are ``dsl.OneOf`` of the cases' outputs.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from transpile import frameworks
from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import Case, Map, Parameter, Ref, Step, Switch
from transpile.util.docstrings import with_args
from transpile.util.text import todo
from transpile.writing.flow import FlowFunction, FlowWalker, bound_value, numbered_name
from transpile.writing.graph import Key, all_steps, free_refs, key
from transpile.writing.options import handler_inputs
from transpile.writing.render import camel_case, converted_doc, free_name, snake_case
from transpile.writing.types import iso_class, iso_default

from .component import ComponentView, Param
from .helpers import (
    POSITIONS_NAMES,
    chosen_component,
    failure_handler_component,
    no_case_component,
    no_step_component,
    positions_component,
)
from .types import annotation, is_scalar

if TYPE_CHECKING:
    from .plan import Loop, ModulePlan

NO_CACHE = "set_caching_options(enable_caching=False)"


ARTIFACTS = ("artifact", "file")  # carriers that travel as files, not parameters


@dataclass
class Scope:
    """Names bound in one pipeline function while its body is emitted."""

    values: dict[Key, str] = field(default_factory=dict)
    collected: dict[tuple[str, str], str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    last: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    depth: int = 0
    in_loop: bool = False  # a foreach pipeline's body (KFP cannot collect a dsl.OneOf)

    def fresh(self, name: str) -> str:
        return numbered_name(name, self.names)

    def add(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)


class PipelineView(FlowFunction):
    """A ``@dsl.pipeline`` function: the entry pipeline or a foreach's."""


class FlowEmitter(FlowWalker):
    def __init__(self, writer: ModulePlan):
        self.w = writer
        self.p = writer.p
        self.steps = writer.steps
        self.subpipelines: list[PipelineView] = []
        self.helpers: list[ComponentView] = []
        self.defaults: list[tuple[str, str, str]] = []
        self.todos: list[str] = []  # comments above the entry pipeline
        self.consumers = [i for s in self.p.steps for i in s.inputs]
        self._helper_names: dict[str, str] = {}
        self.carried_options: set[int] = set()  # pipeline options written here (not TODOs)

    # the entry pipeline -----------------------------------------------------------------------------
    def pipeline(self) -> PipelineView:
        scope = Scope(names=set(self.w.taken))
        for param in self.p.parameters:
            scope.values[("param", param.name, param.name)] = param.name
            scope.names.add(param.name)
        self._files(scope)
        exit_task = self._failure_handler(scope)
        if exit_task:
            scope.add(f"with dsl.ExitHandler({exit_task}):")
            scope.depth += 1
        self.emit(self.p.flow, scope)
        if exit_task:
            scope.depth -= 1
        name = free_name(snake_case(self.p.name), self.w.taken)
        self.w.taken.add(name)
        ordered = sorted(self.p.parameters, key=lambda p: p.default is not None)  # required first
        signature = ", ".join(self._parameter(p) for p in ordered)
        returns, output_class = "", None
        if self.p.results:
            cls = free_name(f"{self.p.name}Results", self.w.taken)
            fields = [(r.name, self._annotation(r.refs[0], r.type.expr)) for r in self.p.results]
            output_class = (cls, fields)
            self.w.typing_names.add("NamedTuple")
            args = ", ".join(f"{r.name}={self._value(r.refs, scope)}" for r in self.p.results)
            scope.add(f"return {cls}({args})")
            returns = f" -> {cls}"
        caching = (
            "Caching is off on every task: Metaflow never reuses the results of an earlier run."
            if self.p.framework == "metaflow"
            else "Caching is off on every task the source did not cache."
        )
        doc = f"{converted_doc(self.p, frameworks.get(self.p.framework))}\n\n{caching}"
        doc = with_args(doc, [(p.name, p.help or "") for p in ordered])  # the compiler reads them
        return PipelineView(name, signature, returns, scope.lines, output_class, doc)

    def _failure_handler(self, scope: Scope) -> str | None:
        """A failure handler read from Flyte's ``on_failure`` (an ``exit_hook`` option naming
        the pipeline inputs it takes): the exit task of a ``dsl.ExitHandler`` around the whole
        pipeline. KFP runs an exit task after every run, so it calls the handler only when the
        run failed (``PipelineTaskFinalStatus``). The task is made here, the ``with`` line
        follows; None (and a TODO) where KFP cannot carry it."""
        hook = next((o for o in self.p.options if o.kind == "exit_hook" and o.arg("inputs")), None)
        if hook is None:
            return None
        self.carried_options.add(id(hook))
        handler = hook.arg("on_error", "[]").strip("[]")
        given = handler_inputs(hook)
        params = {p.name: p for p in self.p.parameters}
        why = None
        if self.p.results:
            why = (
                "KFP refuses pipeline outputs from inside a dsl.ExitHandler "
                "(InvalidTopologyException) and this pipeline returns results"
            )
        for n, p in given:
            param = params.get(p)
            if n != "err" and (
                param is None
                or self.w.param_carrier(param) != "param"
                or not is_scalar(param.type.expr)
            ):
                why = f"its input {n} is not a str, int, float or bool pipeline parameter"
        if why is not None:
            message = f"on_failure={handler} is not carried over: {why}"
            self.w.diagnostics.append(Diagnostic("TP202", "warning", message, hook.span, True))
            self.todos.append(todo("TP202", message))
            return None
        name = free_name(f"{handler}_on_failure", self.w.taken)
        self.w.taken.add(name)
        self.helpers.append(failure_handler_component(name, handler, given, params, self.w))
        message = (
            f"on_failure={handler} became the exit task {name} of a dsl.ExitHandler around the "
            f"pipeline: KFP runs it after every run, and it calls {handler} only when the run "
            "failed"
        )
        self.w.diagnostics.append(Diagnostic("TP201", "info", message, hook.span))
        args = ", ".join(f"{p}={p}" for n, p in given if n != "err")
        return self._helper_task(name, args, scope)

    def _parameter(self, param) -> str:
        kind = self.w.param_carrier(param)
        annotation_text = {"file": "str", "json": "str", "iso": "str"}.get(kind) or annotation(
            param.type.expr
        )
        default = param.default
        if kind == "json":
            self.w.diagnostics.append(_json_note(param))
        if kind == "iso":
            default = self._iso_parameter(param)
        if default is None:
            return f"{param.name}: {annotation_text}"
        if _breaks_yaml_header(default):
            self._line_break_note(param)
        if kind == "json":
            try:
                default = repr(json_text(default))
            except (TypeError, ValueError) as exc:  # bytes, a set, a float('nan'), a call...
                # the message says what the default is, never an object's address
                why = str(exc) if " object at 0x" not in str(exc) else "not a literal"
                raise error(
                    "TP246",
                    f"parameter '{param.name}' has a default KFP cannot hold as a parameter "
                    f"({default[:60]}: {why}); give it a str, int, float, bool, list or dict "
                    "default",
                    param.span,
                ) from None
        elif default.startswith(("[", "{")):
            # a module-level value, not a mutable literal in the signature (shared between calls)
            constant = f"DEFAULT_{param.name.upper()}"
            self.defaults.append((constant, annotation_text, default))
            default = constant
        return f"{param.name}: {annotation_text} = {default}"

    def _iso_parameter(self, param: Parameter) -> str | None:
        """A date or time parameter: ISO 8601 text (KFP has none), its default worked out as
        that text; refused where the default is not a literal date."""
        cls = iso_class(param.type.expr) or "datetime"
        message = (
            f"parameter '{param.name}' ({param.type.expr}) is ISO 8601 text: KFP has no date or "
            f"time parameter; each component reads it back with {cls}.fromisoformat"
        )
        self.w.diagnostics.append(Diagnostic("TP221", "info", message, param.span))
        if param.default is None or param.default == "None":
            return param.default
        default, known = iso_default(param.default, cls)
        if not known:
            message = (
                f"parameter '{param.name}' defaults to {param.default[:60]}, worked out when the "
                "module is imported (compiled), as Flyte does when it registers the workflow"
            )
            self.w.diagnostics.append(Diagnostic("TP201", "info", message, param.span))
        return default

    def _line_break_note(self, param: Parameter) -> None:
        text = (
            f"parameter '{param.name}' has a default with a line break: the KFP compiler copies "
            "string defaults unescaped into the YAML header comment, so the compiled file does "
            "not load; pass the value at run time instead"
        )
        self.w.diagnostics.append(Diagnostic("TP202", "warning", text, param.span, lossy=True))
        self.todos.append(todo("TP202", text))

    def _files(self, scope: Scope) -> None:
        """IncludeFile parameters: a path or URI imported as a Dataset once, read where used."""
        used = {r.name for i in self.consumers for r in i.refs if r.kind == "param"}
        for param in self.p.parameters:
            if param.kind != "file" or param.name not in used:
                continue
            self.w.kfp_names.add("Dataset")
            var = scope.fresh(f"{param.name}_file")
            scope.add(
                f"{var} = dsl.importer(artifact_uri={param.name}, artifact_class=Dataset, "
                "reimport=True)"
            )
            scope.values[("param", param.name, param.name)] = f"{var}.output"

    # nodes --------------------------------------------------------------------------------------------
    def _value(self, refs: tuple[Ref, ...], scope: Scope) -> str:
        return bound_value(refs, scope.values)

    def _feed(self, param: Param, scope: Scope) -> str:
        kind, what = param.feed
        if kind == "ref" and what.mode == "collected":
            return scope.collected[(what.refs[0].source, what.refs[0].name)]
        if kind == "ref":
            return self._value(what.refs, scope)
        if kind == "collection":
            return self._value((what,), scope)
        if kind == "position":
            return scope.values[("index", what, "index")]
        return what  # a placeholder

    def _task(self, step: Step, scope: Scope) -> None:
        plan = self.w.plans[step.name]
        args = ", ".join(f"{p.name}={self._feed(p, scope)}" for p in plan.params)
        var = scope.fresh(f"{step.name}_task")
        scope.add(f"{var} = {plan.function}({args})")
        for call in (NO_CACHE, *plan.calls):
            scope.add(f"{var}.{call}")
        for function, args in plan.pod_calls:
            scope.add(f"{self.w.kubernetes_module()}.{function}({var}, {args})")
        self._order({r.source for i in step.inputs for r in i.refs}, var, scope)
        for out in step.outputs:
            name = plan.outputs[out.name]
            expr = f"{var}.output" if plan.single else f'{var}.outputs["{name}"]'
            scope.values[("output", step.name, out.name)] = expr
        scope.last = [(var, frozenset({step.name}))]

    def _order(self, sources: set[str], var: str, scope: Scope) -> None:
        """Keep the source's order where no data flows: `b.after(a)`."""
        previous = [task for task, steps in scope.last if not sources & steps]
        if previous:
            scope.add(f"{var}.after({', '.join(previous)})")

    def _helper_task(self, name: str, args: str, scope: Scope, var: str = "") -> str:
        var = scope.fresh(var or f"{name}_task")
        scope.add(f"{var} = {name}({args})")
        scope.add(f"{var}.{NO_CACHE}")
        return var

    # foreach ------------------------------------------------------------------------------------------
    def _map(self, node: Map, scope: Scope) -> None:
        """A foreach pipeline around a ParallelFor, defined apart and called here."""
        inner = Scope(names=self.w.taken - set(self.w.params), in_loop=True)
        params = [
            (name, annotation_text, self._value((ref,), scope))
            for name, annotation_text, ref in self._bindfree_name(
                free_refs(node, self.steps), inner
            )
        ]
        params += self._loop(node, scope, inner)
        inner.depth += 1
        self.emit(node.body, inner)
        inner.depth -= 1
        name = free_name(f"{node.split}_foreach", self.w.taken)
        self.w.taken.add(name)
        keys = self._collected_keys(node)
        returns, output_class, fields = self._map_returns(node, keys, inner)
        signature = ", ".join(f"{n}: {t}" for n, t, _ in params)
        doc = f"The foreach over {node.collection.name}: its body once per element" + (
            ", results collected in order."
            if self.w.loops[node.split].direct
            else " (KFP loops have no index)."
        )
        view = PipelineView(name, signature, returns, inner.lines, output_class, doc)
        self.subpipelines.append(view)
        var = scope.fresh(f"{name}_task")
        scope.add(f"{var} = {name}({', '.join(f'{n}={v}' for n, _, v in params)})")
        self._order({r.source for r in free_refs(node, self.steps)}, var, scope)
        for k, field_name in zip(keys, fields):
            single = len(keys) == 1
            scope.collected[k] = f"{var}.output" if single else f'{var}.outputs["{field_name}"]'
        scope.last = [(var, all_steps(node.body))]

    def _loop(self, node: Map, scope: Scope, inner: Scope) -> list[tuple[str, str, str]]:
        """The ParallelFor line, over the items or over positions computed outside (a loop's
        items must be an input of its pipeline); the extra input that takes the positions."""
        if self.w.loops[node.split].direct:
            items = inner.values[key(node.collection)]
            var = inner.values[("item", node.split, "item")] = inner.fresh("item")
            inner.add(f"with dsl.ParallelFor(items={items}) as {var}:")
            return []
        helper = self._positions_helper(self.w.loops[node.split])
        collection = self._value((node.collection,), scope)
        label = f"{node.collection.name}_positions_task"
        task = self._helper_task(helper, f"items={collection}", scope, label)
        items = inner.fresh("positions")
        var = inner.values[("index", node.split, "index")] = inner.fresh("index")
        inner.add(f"with dsl.ParallelFor(items={items}) as {var}:")
        return [(items, "list[int]", f"{task}.output")]

    def _map_returns(self, node: Map, keys: list, inner: Scope):
        names = [name for _, name in keys]  # two steps' outputs of one name: by step too
        fields = [
            f"{name}_values" if names.count(name) == 1 else f"{step}_{name}_values"
            for step, name in keys
        ]
        types = [
            f"list[{self._annotation(Ref('output', *k), self._collected_element(node, k))}]"
            for k in keys
        ]
        values = [f"dsl.Collected({self._collected_value(inner, node, k)})" for k in keys]
        if not keys:
            return "", None, fields
        if len(keys) == 1:
            inner.add(f"return {values[0]}")
            return f" -> {types[0]}", None, fields
        cls = free_name(f"{camel_case(node.split)}ForeachOutputs", self.w.taken)
        self.w.taken.add(cls)
        self.w.typing_names.add("NamedTuple")
        inner.add(f"return {cls}({', '.join(f'{f}={v}' for f, v in zip(fields, values))})")
        return f" -> {cls}", (cls, list(zip(fields, types))), fields

    def _annotation(self, ref: Ref, expr: str) -> str:
        """How a value is declared in a pipeline signature or outputs."""
        kind = self.w.carrier(ref)
        if kind == "artifact":
            self.w.kfp_names.add("Artifact")
            return "Artifact"
        if kind == "file":
            self.w.kfp_names.add("Dataset")
            return "Dataset"
        return "str" if kind in ("json", "iso") else annotation(expr)

    def _bindfree_name(self, free: list[Ref], inner: Scope) -> list[tuple[str, str, Ref]]:
        """Inputs of a foreach pipeline for the values its body reads: (name, annotation, ref)."""
        params = []
        for ref in free:  # an outer loop's item or index is passed in like any other value
            name = inner.fresh(ref.name)
            inner.values[key(ref)] = name
            params.append((name, self._annotation(ref, self.w.ref_type(ref)), ref))
        return params

    def _positions_helper(self, loop: Loop) -> str:
        """The component listing a foreach's positions, one per way its items travel."""
        kind = self.w.carrier(loop.collection)
        if kind not in self._helper_names:
            name = free_name(POSITIONS_NAMES[kind], self.w.taken)
            self.w.taken.add(name)
            self._helper_names[kind] = name
            self.helpers.append(positions_component(name, kind, self.w))
        return self._helper_names[kind]

    # switch -------------------------------------------------------------------------------------------
    def _switch(self, node: Switch, scope: Scope) -> None:
        condition = self._value((node.condition,), scope)
        kind, expr = self.w.carrier(node.condition), self.w.ref_type(node.condition)
        if kind != "param" or not is_scalar(expr):
            raise error(
                "TP142",
                f"switch on '{node.condition.name}' of type {expr}: KFP conditions compare "
                "int, float, str or bool values (annotate the condition artifact)",
                self.steps[node.condition.source].span if node.condition.kind == "output" else None,
            )
        inside = all_steps(node)
        outputs = self._switch_outputs(inside)
        # the condition orders the cases after the step that set it
        entry = [(t, s) for t, s in scope.last if node.condition.source not in s]
        exits, per_case = [], []
        for i, case in enumerate(node.cases):
            scope.add(f"with dsl.{'If' if i == 0 else 'Elif'}({condition} == {case.value}):")
            scope.depth += 1
            scope.last = list(entry)
            before = len(scope.lines)
            self.emit(case.body, scope)
            if len(scope.lines) == before:  # kfp.local cannot run an empty branch
                scope.last = [(self._helper_task(self._no_step_helper(), "", scope), frozenset())]
            exits += scope.last
            per_case.append(self._case_values(case, outputs, scope))
            scope.depth -= 1
        scope.add("with dsl.Else():")
        scope.depth += 1
        helper = self._no_case_helper(node, expr)
        exits.append(
            (self._helper_task(helper, f"{node.condition.name}={condition}", scope), frozenset())
        )
        scope.depth -= 1
        for index, (artifact, refs) in enumerate(outputs):
            chosen = f"dsl.OneOf({', '.join(values[index] for values in per_case)})"
            if scope.in_loop:  # ParallelFor refuses to collect a OneOf: a task passes it on
                helper = self._chosen_helper(artifact, refs[0])
                task = self._helper_task(helper, f"value={chosen}", scope)
                var = (
                    f"{task}.output"
                    if self.w.carrier(refs[0]) not in ARTIFACTS
                    else (f'{task}.outputs["chosen"]')
                )
            else:
                var = scope.fresh(artifact)
                scope.add(f"{var} = {chosen}")
            for ref in refs:
                scope.values[key(ref)] = var
        scope.last = [(task, steps | inside) for task, steps in exits]

    def _switch_outputs(self, inside: frozenset[str]) -> list[tuple[str, tuple[Ref, ...]]]:
        """Values that leave the switch, by artifact name, in name order."""
        return sorted(self._leaving(inside).items())

    def _case_values(self, case: Case, outputs: list, scope: Scope) -> list[str]:
        steps = all_steps(case.body)
        values = []
        for artifact, refs in outputs:
            chosen = [r for r in refs if r.kind == "output" and r.source in steps]
            if not chosen:
                raise error(
                    "TP130",
                    f"'{artifact}' is set in only some cases of the switch (case {case.value})",
                    None,
                )
            values.append(scope.values[key(chosen[-1])])
        return values

    def _no_step_helper(self) -> str:
        if "no step" not in self._helper_names:
            name = free_name("case_runs_no_step", self.w.taken)
            self.w.taken.add(name)
            self._helper_names["no step"] = name
            self.helpers.append(no_step_component(name))
        return self._helper_names["no step"]

    def _chosen_helper(self, artifact: str, ref: Ref) -> str:
        """A component handing on the value the case taken set (one per artifact)."""
        label = f"chosen {artifact}"
        if label not in self._helper_names:
            name = free_name(f"{artifact}_chosen", self.w.taken)
            self.w.taken.add(name)
            self._helper_names[label] = name
            kind = self.w.carrier(ref)
            if kind in ARTIFACTS:
                self.w.kfp_names |= {"Input", "Output"}
            annotation_text = self._annotation(ref, self.w.ref_type(ref))
            self.helpers.append(chosen_component(name, annotation_text, kind in ARTIFACTS))
        return self._helper_names[label]

    def _no_case_helper(self, node: Switch, expr: str) -> str:
        name = free_name(f"{node.condition.name}_matches_no_case", self.w.taken)
        self.w.taken.add(name)
        cases = [c.value for c in node.cases]
        self.helpers.append(no_case_component(name, node.condition.name, expr, cases))
        return name


def _json_note(param: Parameter) -> Diagnostic:
    return Diagnostic(
        "TP221",
        "info",
        f"parameter '{param.name}' is JSON of unknown shape: the pipeline takes it as JSON text "
        "(a dict or list parameter would turn its ints into floats)",
        param.span,
    )


def _breaks_yaml_header(default: str) -> bool:
    """A string default holding a YAML line break (see FlowEmitter._line_break_note)."""
    try:
        value = ast.literal_eval(default)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return isinstance(value, str) and any(c in value for c in "\n\r\x85\u2028\u2029")


def json_text(default: str) -> str:
    """A JSON parameter's default (a Python literal) as the JSON text Metaflow parsed it from;
    TypeError or ValueError when JSON has no such value."""
    return json.dumps(ast.literal_eval(default), allow_nan=False)
