"""Read a Metaflow flow into the pipeline model, statically.

Dataflow analysis decides which upstream write reaches each ``self.x`` read: every artifact flows
down linear edges and into foreach bodies; a join passes on only what its code pulls through
(``inputs.<step>.x``, iteration over ``inputs``, ``merge_artifacts``).
"""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error, no_such_entry, other_entries
from transpile.model.ir import (
    Case,
    Map,
    Module,
    Node,
    Output,
    Parallel,
    Pipeline,
    Ref,
    Result,
    Sequence,
    Span,
    Step,
    Switch,
    Task,
    TypeRef,
    task_steps,
)
from transpile.reading.cst import SpanIndex, calls_in, code
from transpile.reading.inference import (
    EMPTY,
    EMPTY_LIST,
    INPUTS,
    NUMBER,
    RECORD,
    HelperCalls,
    SiblingFunctions,
    TypeEnv,
    args_of,
    element_type,
    infer,
    module_env,
    plain,
)
from transpile.reading.values import module_constants
from transpile.writing.cards import card_statements

from .added_steps import drop_added_steps
from .analysis import StepReader
from .bases import merge_bases
from .catch import catch_body, in_body
from .graph import find_join, merge_point
from .hooks import our_failure_hooks
from .methods import analyse, module_function
from .scan import FlowDef, FlowScanner, StepDef
from .state import Avail, Incoming
from .step import (
    rewrite_body,
)

# What a Metaflow Config's value is in a step (metaflow.user_configs.ConfigValue): a dict whose
# keys also read as attributes, nested dicts too.
CONFIG_VALUE = '''class ConfigValue(dict):
    """A Metaflow Config's value: a dict whose keys also read as attributes (config.a.b)."""

    def __getattr__(self, name):
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(name) from None
        return ConfigValue(value) if isinstance(value, dict) else value'''

EXACT_CURRENT = {"flow_name", "step_name"}


def read(
    module: cst.Module, path: str, spans: SpanIndex | None = None, entry: str | None = None
) -> tuple[Pipeline, list[Diagnostic]]:
    """``spans`` indexes the same text (built from ``module`` when not given); ``entry`` names
    the pipeline to read when the file holds several (``--entry``)."""
    reader = MetaflowReader(module, path, spans)
    reader.entry_name = entry
    return reader.read()


class MetaflowReader(StepReader):
    entry_name: str | None = None  # --entry: must name the file's flow
    """Reads the flow: its graph in order, each step's reads and writes, the joins (join.py)."""

    # module ---------------------------------------------------------------------------------
    def read(self) -> tuple[Pipeline, list[Diagnostic]]:
        for stmt in self.module.body:  # metaflow's names first: which classes are flows
            if _is_import_line(stmt):
                for small in stmt.body:  # type: ignore[attr-defined]
                    self.names.add_import(small)
        lent = merge_bases(self)  # base classes from modules of the same tree
        classes = {c.name.value: c for c in self.module.body if isinstance(c, cst.ClassDef)}
        classes.update({k: v for k, v in lent.items() if k not in classes})
        self.flow_classes = _flow_classes(classes, self.names)
        imports, definitions, flow_node = self._split_module()
        self.env = self._module_env()
        scanner = FlowScanner(self.names, self.spans, self.env, module_constants(self.module))
        self.flow = scanner.scan(flow_node, classes)
        self.diagnostics += scanner.notes
        if getattr(self, "entry_name", None) not in (None, self.flow.name):
            raise no_such_entry(self.entry_name, [self.flow.name])  # type: ignore[arg-type]
        if self.flow.start not in self.flow.steps or self.flow.end not in self.flow.steps:
            raise error(
                "TP105", f"flow {self.flow.name} needs a start and an end step", self.flow.span
            )
        for name, source in self.flow.constants.items():  # self.LABEL: a class constant
            kind = infer(cst.parse_expression(source), self.env)
            if kind:
                self.env.names[f"self.{name}"] = kind
        self._typed_methods()
        self.params = {p.name: p for p in self.flow.parameters}
        params = {f"self.{p.name}": p.type.expr for p in self.flow.parameters}
        env = self.env.child(**params)
        self.current_names = {k for k, v in self.names.names.items() if v == "current"}
        self.current_names |= {f"{m}.current" for m in self.names.modules}
        self.diagnostics += analyse(
            self.flow.methods,
            set(self.flow.constants),
            self.spans,
            env,
            frozenset(self.current_names),
        )
        if self.env.calls is not None:  # what the typed methods read, now that it is known
            for name in self.env.calls.functions.keys() & {f"self.{m}" for m in self.flow.methods}:
                method = self.flow.methods[name.removeprefix("self.")]
                if method.all_mutates or method.changed_params:
                    del self.env.calls.functions[name]  # it changes what it is given, or self
                    continue
                self.env.calls.reads[name] = method.reads if method.kind != "class" else []
                self.env.calls.sets[name] = method.all_sets
        if self.flow.config_files and "import json" not in imports:
            imports.append("import json")  # the steps parse a Config's file
        if self.flow.configs:
            definitions.append(CONFIG_VALUE)
        definitions += [
            module_function(m, self.flow.methods, set(self.flow.constants))
            for m in self.flow.methods.values()
        ]
        flow, avail = self._sequence(self.flow.start, None, {}, ())
        self._typed_empty_lists()
        self._plain_types()
        results = self._results(avail)
        steps = tuple(self._step(name) for name in self._order(flow))
        if self.needs_namespace:
            imports = ("from types import SimpleNamespace", *imports)
        constants = tuple(f"{k} = {v}" for k, v in self.flow.constants.items())
        pipeline = Pipeline(
            name=self.flow.name,
            framework="metaflow",
            span=self.flow.span,
            parameters=tuple(self.flow.parameters),
            steps=steps,
            flow=flow,
            results=results,
            module=Module(tuple(imports), (*constants, *definitions)),
            options=tuple(self.flow.options),
            doc=self.flow.doc,
        )
        return drop_added_steps(our_failure_hooks(pipeline)), self.diagnostics

    def _split_module(self) -> tuple[list[str], list[str], cst.ClassDef]:
        imports: list[str] = []
        definitions: list[str] = []
        flows: list[cst.ClassDef] = []
        started: list[str] = []  # the flows the `__main__` block runs
        for stmt in self.module.body:
            if _is_import_line(stmt):
                if not any(self.names.add_import(s) for s in stmt.body):  # type: ignore[arg-type]
                    imports.append(code(stmt).strip())
            elif isinstance(stmt, cst.ClassDef) and stmt.name.value in self.flow_classes:
                if stmt.name.value not in self.flow_classes.values():  # not a base of a flow
                    flows.append(stmt)
            elif _is_main_guard(stmt):
                started += [code(c.func) for c in calls_in(stmt) if isinstance(c.func, cst.Name)]
                continue
            elif not _is_docstring_stmt(stmt):
                self._refuse_hidden_metaflow_import(stmt)
                definitions.append(code(stmt).strip("\n"))
        if not flows:
            raise error("TP005", "no Metaflow FlowSpec subclass found", None)
        if len(flows) > 1:
            return imports, definitions, self._chosen_flow(flows, started)
        return imports, definitions, flows[0]

    def _chosen_flow(self, flows: list[cst.ClassDef], started: list[str]) -> cst.ClassDef:
        """Of several flows in one file, the one ``--entry`` names, else the one its
        ``__main__`` block runs, else the last with a start and an end step; a TP202 names the
        others (as for a Flyte or KFP file with several pipelines)."""
        names = [f.name.value for f in flows]
        entry = getattr(self, "entry_name", None)
        if entry is not None and entry not in names:
            raise no_such_entry(entry, names)
        complete = [f for f in flows if {"start", "end"} <= _method_names(f)] or flows
        chosen = next(
            (f for f in flows if f.name.value == entry),
            next((f for f in complete if f.name.value in started), complete[-1]),
        )
        others = [f.name.value for f in complete if f is not chosen]  # flows that can run
        if entry is None and others:  # with --entry the user chose: nothing to say
            how = (
                "the one __main__ runs"
                if chosen.name.value in started
                else "the last with a start and an end step"
            )
            where = self.spans.span("class", chosen.name.value)
            self.diagnostics.append(other_entries("flow", chosen.name.value, others, where, how))
        return chosen

    def _refuse_hidden_metaflow_import(self, stmt: cst.BaseStatement) -> None:
        """An import sharing its line with other code (``import os; x = 1``) is kept as code,
        which is right unless it imports metaflow: those names must be seen to be understood."""
        if not isinstance(stmt, cst.SimpleStatementLine):
            return
        for small in stmt.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)) and self.names.add_import(small):
                whole = Span(self.spans.path, 1, 0, len(self.spans.lines), 0)
                where = self.spans.find(code(small), whole)
                raise error("TP115", "put the metaflow import on a line of its own", where)

    def _typed_methods(self) -> None:
        """The flow's methods that change nothing in place (no artifact or argument changed)
        are typed at each ``self.m(...)`` call as module helpers are; what one sets is typed
        at the call apart (``set_by_call``), and unknown to its own body."""
        if self.env.calls is None:
            self.env.calls = HelperCalls({}, self.env)
        calls = self.env.calls
        for method in self.flow.methods.values():
            if (
                method.kind in ("method", "static", "class", "property")
                and not (method.all_mutates or method.changed_params)
                and method.node.returns is None
            ):
                name = f"self.{method.name}"
                calls.functions[name] = method.node
                calls.bound[name] = 0 if method.kind == "static" else 1
                if method.kind == "property":
                    calls.properties.add(name)

    def _flow_name_note(self, step) -> None:
        """``self.name = x``: Metaflow 2.19 keeps it for the rest of this step only; a later step
        reading ``self.name`` (or a join's ``inp.name``) gets the flow's name (FlowSpec.name).
        The converted code hands the value set on, so a lossy warning names the difference."""
        self.diagnostics.append(
            Diagnostic(
                "TP212",
                "warning",
                "Metaflow gives later steps the flow's name for self.name (FlowSpec.name), not "
                "the value set here; the converted code hands this value on (rename the artifact "
                "to keep both the same)",
                self.spans.find("self.name", step.span),
                lossy=True,
            )
        )

    def _module_env(self) -> TypeEnv:
        return module_env(self.module, SiblingFunctions(self.path))

    def _typed_empty_lists(self) -> None:
        """An artifact a step sets to an empty list (``self.out = []``) that other steps set to
        lists of one type (``self.out = self.out + [self.input]``) is a list of that type where
        it is empty too; with no such agreement it is unknown, and so is every type still
        holding the empty-list marker (an element of an empty list)."""
        agreed: dict[str, set[str]] = {}
        for (_, name), kind in self.types.items():
            if EMPTY not in kind.expr and kind.known and args_of(kind.expr, "list"):
                agreed.setdefault(name, set()).add(plain(kind.expr))

        def settled(kind: TypeRef, name: str) -> TypeRef:
            if EMPTY not in kind.expr:
                return kind
            found = agreed.get(name, set())
            if kind.expr == EMPTY_LIST and len(found) == 1:
                return TypeRef(next(iter(found)), "inferred")
            return TypeRef("typing.Any", "fallback")

        for key, kind in self.types.items():
            self.types[key] = settled(kind, key[1])
        for step, inputs in self.inputs.items():
            self.inputs[step] = [
                replace(i, type=settled(i.type, i.refs[0].name if i.refs else i.name))
                for i in inputs
            ]

    def _plain_types(self) -> None:
        """The types the steps hand on, as annotations: no record (inference.RECORD); a type
        holding a number of no known kind (inference.NUMBER) is unknown."""

        def annotation(kind: TypeRef) -> TypeRef:
            if NUMBER in kind.expr:
                return TypeRef("typing.Any", "fallback")
            return replace(kind, expr=plain(kind.expr)) if RECORD in kind.expr else kind

        for key, kind in self.types.items():
            self.types[key] = annotation(kind)
        for step, inputs in self.inputs.items():
            self.inputs[step] = [replace(i, type=annotation(i.type)) for i in inputs]

    # structure and dataflow -------------------------------------------------------------------
    def _sequence(
        self, start: str, stop: str | None, avail: Avail, maps: tuple
    ) -> tuple[Sequence, Avail]:
        nodes: list[Node] = []
        current: str | None = start
        incoming: Incoming | None = None
        seen: set[str] = set()
        while current is not None and current != stop:
            if current in seen or current not in self.flow.steps:
                where = (
                    self.flow.steps[current].span if current in self.flow.steps else self.flow.span
                )
                raise error("TP107", f"step '{current}' is missing or forms a loop", where)
            seen.add(current)
            step = self.flow.steps[current]
            avail = self._analyse(step, avail, maps, incoming)
            incoming = None
            nodes.append(Task(current))
            t = step.transition
            if t.kind == "linear":
                current = t.targets[0]
            elif t.kind == "split":
                join = find_join(self.flow, t.targets[0])
                branches, states = [], {}
                for target in t.targets:
                    seq, out = self._sequence(target, join, avail, maps)
                    branches.append(seq)
                    states[_last_step(seq)] = out
                nodes.append(Parallel(tuple(branches)))
                incoming = Incoming("parallel", states)
                current = join
            elif t.kind == "foreach":
                nodes.append(self._map(step, avail, maps))
                body: Map = nodes[-1]  # type: ignore[assignment]
                incoming = Incoming(
                    "foreach",
                    {step.name: self._map_out},  # one entry: what each iteration ends with
                    frozenset(task_steps(body.body)),
                    body.collection,
                    body.item_type,
                )
                current = find_join(self.flow, t.targets[0])
            elif t.kind == "switch":
                node, avail = self._switch(step, avail, maps)
                nodes.append(node)
                current = merge_point(self.flow, step)
            else:
                current = None
        return Sequence(tuple(nodes)), avail

    def _map(self, step: StepDef, avail: Avail, maps: tuple) -> Map:
        t = step.transition
        collection = self._ref_for(t.foreach, avail, step)  # type: ignore[arg-type]
        item_type = element_type(self._type_of(collection).expr) or None
        item = (
            TypeRef(item_type, "inferred")
            if item_type and item_type != INPUTS
            else TypeRef("typing.Any", "fallback")
        )
        join = find_join(self.flow, t.targets[0])
        body, self._map_out = self._sequence(t.targets[0], join, avail, (*maps, (step.name, item)))
        if NUMBER in item.expr:
            return Map(step.name, collection, TypeRef("typing.Any", "fallback"), body)
        return Map(step.name, collection, replace(item, expr=plain(item.expr)), body)

    def _switch(self, step: StepDef, avail: Avail, maps: tuple) -> tuple[Switch, Avail]:
        t = step.transition
        condition = self._ref_for(t.condition, avail, step)  # type: ignore[arg-type]
        merge = merge_point(self.flow, step)
        cases, merged = [], {}
        for value, target in zip(t.cases, t.targets):
            seq, out = self._sequence(target, merge, avail, maps)
            cases.append(Case(value, seq))
            for name, defs in out.items():
                merged[name] = tuple(dict.fromkeys((*merged.get(name, ()), *defs)))
        return Switch(condition, tuple(cases)), merged

    def _ref_for(self, artifact: str, avail: Avail, step: StepDef) -> Ref:
        if artifact in self.params:
            return Ref("param", artifact, artifact)
        defs = avail.get(artifact, ())
        if len(defs) != 1:
            raise error(
                "TP108",
                f"'{artifact}' must be set by exactly one step before {step.name} uses it",
                step.transition.span,
            )
        self.consumed.add((defs[0], artifact))
        return Ref("output", defs[0], artifact)

    def _type_of(self, ref: Ref) -> TypeRef:
        if ref.kind == "param":
            return self.params[ref.source].type
        return self.types.get((ref.source, ref.name), TypeRef("typing.Any", "fallback"))

    # results and steps ------------------------------------------------------------------------
    def _results(self, avail: Avail) -> tuple[Result, ...]:
        results = []
        for name in sorted(avail):
            if name in self.params:
                continue
            defs = avail[name]
            for d in defs:
                self.consumed.add((d, name))
            kinds = {self.types.get((d, name)) for d in defs}
            kind = kinds.pop() if len(kinds) == 1 else TypeRef("typing.Any", "fallback")
            results.append(
                Result(
                    name,
                    kind or TypeRef("typing.Any", "fallback"),
                    tuple(Ref("output", d, name) for d in defs),
                )
            )
        return tuple(results)

    def _card_notes(self, step, uses: int) -> None:
        """A note at each statement that fills a card: info where Flyte and KFP show its content
        exactly (the Airflow writer says it drops it), lossy where no target can; lossy at any
        other use of ``current.card``."""
        within = step.span
        statements = card_statements(step.node, step.options)
        for text, content in statements:
            where = self.spans.find(text, within)
            if where != within:  # the next statement is further down
                within = replace(within, line=where.line + 1, column=0)
            if content is None:
                message = "current.card has no exact equivalent outside Metaflow"
                self.diagnostics.append(Diagnostic("TP210", "warning", message, where, lossy=True))
                continue
            kinds = sorted(
                {"Markdown" if p.kind == "markdown" else "Table" for p in content.pieces}
            )
            message = (
                f"current.card: the {' and '.join(kinds)} content is shown in a Flyte Deck "
                "and a KFP Markdown artifact"
            )
            self.diagnostics.append(Diagnostic("TP211", "info", message, where))
        for _ in range(uses - len(statements)):
            where = self.spans.find("current.card", step.span)
            message = "current.card has no exact equivalent outside Metaflow"
            self.diagnostics.append(Diagnostic("TP210", "warning", message, where, lossy=True))

    def _step(self, name: str) -> Step:
        step = self.flow.steps[name]
        facts = self.facts[name]
        outputs = []
        locals_ = self.rewrites[name].self_names
        for artifact in facts.writes:
            # every artifact a step writes is an output: Metaflow keeps them all readable after a run
            kind = self.types[(name, artifact)]
            local = locals_.get(artifact, artifact)
            outputs.append(Output(artifact, kind, local if local != artifact else None))
            if not kind.known or "typing.Any" in kind.expr:
                where = self.spans.find(f"self.{artifact}", step.span)
                partly = kind.known and kind.expr != "typing.Any"
                carried = f"{kind.expr}, in part unknown" if partly else "typing.Any"
                self.diagnostics.append(
                    Diagnostic(
                        "TP301",
                        "warning",
                        f"cannot infer the type of artifact '{artifact}'; it travels as "
                        f"{carried} (add an annotation: self.{artifact}: T = ...)",
                        where,
                    )
                )
        if "name" in facts.writes:  # FlowSpec.name: probed, see _flow_name_note
            self._flow_name_note(step)
        self._card_notes(step, facts.current.count("card"))
        for use in facts.current:
            if use not in EXACT_CURRENT and use != "card":
                where = self.spans.find(f"current.{use}", step.span)
                self.diagnostics.append(
                    Diagnostic(
                        "TP210",
                        "warning",
                        f"current.{use} has no exact equivalent outside Metaflow",
                        where,
                        lossy=True,
                    )
                )
        for what in facts.unsupported:
            raise error(
                "TP122", f"{what} is not supported", self.spans.find(what.split()[-1], step.span)
            )
        body, leftover, dropped = rewrite_body(step.node, self.rewrites[name])
        if leftover:
            raise error(
                "TP123",
                f"step '{name}' uses {leftover[0]}, which has no translation",
                self.spans.find(leftover[0], step.span),
            )
        for argument in dropped:
            message = (
                f"`{argument}` is left out: the flow object goes only to Metaflow APIs "
                "(S3, the Client), which the target does not have"
            )
            where = self.spans.find(argument, step.span)
            self.diagnostics.append(Diagnostic("TP210", "warning", message, where, lossy=True))
        if name in self.catches:
            taken = facts.bare_names | facts.local_names | set(locals_.values())
            produced = [locals_.get(a, a) for a in facts.writes if a != self.catches[name]]
            read = {i.name for i in self.inputs[name]}
            unset = [local for local in produced if local not in read]
            body = catch_body(body, self.catches[name], unset, taken)
        epilogue = self.rewrites[name].epilogue
        if epilogue and name in self.catches:  # what the calls set before a failure is kept
            var = self.rewrites[name].namespace[0]  # type: ignore[index]
            epilogue = [
                f"{line.split(' = ')[0]} = getattr({var}, {line.split('.', 1)[1]!r}, None)"
                for line in epilogue
            ]
        if epilogue:
            body = body + "\n".join(epilogue) + "\n"
        options = tuple(in_body(o) if o.kind == "catch" else o for o in step.options)
        role = "join" if step.inputs_name else "task"
        return Step(
            name,
            step.span,
            tuple(self.inputs[name]),
            tuple(outputs),
            body,
            options,
            step.doc,
            role,
        )

    def _order(self, node: Node) -> list[str]:
        return task_steps(node)


def _flow_classes(classes: dict[str, cst.ClassDef], names) -> dict[str, str | None]:
    """The classes deriving from FlowSpec, directly or through classes of ``classes``, each with
    the base it derives through (None for FlowSpec itself)."""
    flows: dict[str, str | None] = {}
    changed = True
    while changed:
        changed = False
        for name, node in classes.items():
            if name in flows:
                continue
            for base in node.bases:
                if names.resolve(base.value) == "FlowSpec":
                    flows[name] = None
                elif code(base.value) in flows:
                    flows[name] = code(base.value)
                else:
                    continue
                changed = True
                break
    return flows


def _last_step(seq: Sequence) -> str:
    last = seq.nodes[-1]
    if not isinstance(last, Task):
        raise error("TP107", "a branch must end with a plain step before its join", None)
    return last.step


def _method_names(flow: cst.ClassDef) -> set[str]:
    return {item.name.value for item in flow.body.body if isinstance(item, cst.FunctionDef)}


def _is_import_line(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in stmt.body
    )


def _is_main_guard(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.If) and "__name__" in code(stmt.test) and "__main__" in code(stmt.test)
    )


def _is_docstring_stmt(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


__all__ = ["FlowDef", "Span", "read"]
