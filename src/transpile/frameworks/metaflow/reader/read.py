"""Read a Metaflow flow into the pipeline model, statically.

Dataflow analysis decides which upstream write reaches each ``self.x`` read: every artifact flows
down linear edges and into foreach bodies; a join passes on only what its code pulls through
(``inputs.<step>.x``, iteration over ``inputs``, ``merge_artifacts``).
"""

from __future__ import annotations

import ast
import textwrap

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import (
    Case,
    Input,
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
from transpile.reading.cst import SpanIndex, code
from transpile.reading.cst import literal as _literal
from transpile.reading.inference import INPUTS, TypeEnv, element_type, infer

from .added_steps import drop_added_steps
from .join import JoinBuilder
from .scan import FlowDef, FlowScanner, StepDef
from .state import Avail, FlowState, Incoming
from .step import (
    StepAnalyzer,
    StepFacts,
    StepLocals,
    artifact_aliases,
    rewrite_body,
)

EXACT_CURRENT = {"flow_name", "step_name"}
CURRENT_TYPES = {
    "flow_name": "str",
    "step_name": "str",
    "run_id": "str",
    "task_id": "str",
    "retry_count": "int",
    "is_running_flow": "bool",
    "username": "str",
    "pathspec": "str",
}


def read(
    module: cst.Module, path: str, spans: SpanIndex | None = None
) -> tuple[Pipeline, list[Diagnostic]]:
    """``spans`` indexes the same text (built from ``module`` when not given)."""
    return MetaflowReader(module, path, spans).read()


class MetaflowReader(FlowState):
    """Reads the flow: its graph in order, each step's reads and writes, the joins (join.py)."""

    # module ---------------------------------------------------------------------------------
    def read(self) -> tuple[Pipeline, list[Diagnostic]]:
        imports, definitions, flow_node = self._split_module()
        self.env = self._module_env()
        self.flow = FlowScanner(self.names, self.spans, self.env).scan(flow_node)
        if "start" not in self.flow.steps or "end" not in self.flow.steps:
            raise error(
                "TP105", f"flow {self.flow.name} needs a start and an end step", self.flow.span
            )
        self.params = {p.name: p for p in self.flow.parameters}
        self.current_names = {k for k, v in self.names.names.items() if v == "current"}
        self.current_names |= {f"{m}.current" for m in self.names.modules}
        flow, avail = self._sequence("start", None, {}, ())
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
        return drop_added_steps(pipeline), self.diagnostics

    def _split_module(self) -> tuple[list[str], list[str], cst.ClassDef]:
        imports: list[str] = []
        definitions: list[str] = []
        flows: list[cst.ClassDef] = []
        for stmt in self.module.body:
            if _is_import_line(stmt):
                if not any(self.names.add_import(s) for s in stmt.body):  # type: ignore[arg-type]
                    imports.append(code(stmt).strip())
            elif isinstance(stmt, cst.ClassDef) and any(
                self.names.resolve(b.value) == "FlowSpec" for b in stmt.bases
            ):
                flows.append(stmt)
            elif _is_main_guard(stmt):
                continue
            elif not _is_docstring_stmt(stmt):
                self._refuse_hidden_metaflow_import(stmt)
                definitions.append(code(stmt).strip("\n"))
        if not flows:
            raise error("TP005", "no Metaflow FlowSpec subclass found", None)
        if len(flows) > 1:
            names = ", ".join(f.name.value for f in flows)
            raise error("TP106", f"several flows in one file ({names}); split them", None)
        return imports, definitions, flows[0]

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

    def _module_env(self) -> TypeEnv:
        classes, helpers, names = set(), {}, {}
        for stmt in self.module.body:
            if isinstance(stmt, cst.ClassDef):
                classes.add(stmt.name.value)
            elif isinstance(stmt, cst.FunctionDef) and stmt.returns is not None:
                helpers[stmt.name.value] = code(stmt.returns.annotation)
            elif isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Assign):
                assign = stmt.body[0]
                target = assign.targets[0].target
                if isinstance(target, cst.Name):
                    kind = infer(assign.value, TypeEnv(names, frozenset(classes), helpers))
                    if kind:
                        names[target.value] = kind
        return TypeEnv(names, frozenset(classes), helpers)

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
                join = self._find_join(t.targets[0])
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
                    {_last_step(body.body): self._map_out},
                    frozenset(task_steps(body.body)),
                )
                current = self._find_join(t.targets[0])
            elif t.kind == "switch":
                node, avail = self._switch(step, avail, maps)
                nodes.append(node)
                current = self._merge_point(step)
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
        join = self._find_join(t.targets[0])
        body, self._map_out = self._sequence(t.targets[0], join, avail, (*maps, (step.name, item)))
        return Map(step.name, collection, item, body)

    def _switch(self, step: StepDef, avail: Avail, maps: tuple) -> tuple[Switch, Avail]:
        t = step.transition
        condition = self._ref_for(t.condition, avail, step)  # type: ignore[arg-type]
        merge = self._merge_point(step)
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

    def _find_join(self, start: str) -> str:
        current, seen = start, set()
        while True:
            if current in seen or current not in self.flow.steps:
                raise error(
                    "TP107", f"branch starting at '{start}' never reaches a join", self.flow.span
                )
            seen.add(current)
            t = self.flow.steps[current].transition
            if t.kind == "linear":
                if self.flow.steps.get(t.targets[0]) and self.flow.steps[t.targets[0]].inputs_name:
                    return t.targets[0]
                current = t.targets[0]
            elif t.kind in ("split", "foreach"):
                current = self._find_join(t.targets[0])
            elif t.kind == "switch":
                current = self._merge_point(self.flow.steps[current])
            else:
                raise error(
                    "TP107", f"branch starting at '{start}' never reaches a join", self.flow.span
                )

    def _merge_point(self, step: StepDef) -> str:
        paths = [self._path(target, step.name) for target in step.transition.targets]
        for candidate in paths[0]:
            if all(candidate in p for p in paths[1:]):
                if self.flow.steps[candidate].inputs_name:
                    raise error(
                        "TP109",
                        "a switch case cannot lead directly to a join step",
                        step.transition.span,
                    )
                return candidate
        raise error(
            "TP109", f"the cases of the switch in '{step.name}' never meet", step.transition.span
        )

    def _path(self, start: str, origin: str) -> list[str]:
        out: list[str] = []
        current: str | None = start
        while current is not None and current not in out:
            if current == origin:
                raise error(
                    "TP109",
                    f"the switch in '{origin}' loops back; recursion is not supported",
                    self.flow.steps[origin].transition.span,
                )
            out.append(current)
            t = self.flow.steps[current].transition
            if t.kind == "linear":
                current = t.targets[0]
            elif t.kind in ("split", "foreach"):
                current = self._find_join(t.targets[0])
                out.append(current)
                current = (
                    self.flow.steps[current].transition.targets[0]
                    if self.flow.steps[current].transition.targets
                    else None
                )
            elif t.kind == "switch":
                current = self._merge_point(self.flow.steps[current])
            else:
                current = None
        return out

    # one step ---------------------------------------------------------------------------------
    def _analyse(
        self, step: StepDef, avail: Avail, maps: tuple, incoming: Incoming | None
    ) -> Avail:
        env = self.env.child(**{f"self.{p.name}": p.type.expr for p in self.flow.parameters})
        env = env.child(
            **{
                f"{c}.{attr}": kind
                for c in self.current_names
                for attr, kind in CURRENT_TYPES.items()
            }
        )
        for name, defs in avail.items():
            kinds = {self.types[(d, name)].expr for d in defs if (d, name) in self.types}
            if len(kinds) == 1:
                env = env.child(**{f"self.{name}": kinds.pop()})
        if maps:
            env = env.child(**{"self.input": maps[-1][1].expr, "self.index": "int"})
        if step.inputs_name:
            env = env.child(**{step.inputs_name: INPUTS})
            env.artifact_types = self._incoming_types(incoming)
        analyzer = StepAnalyzer(env, step.inputs_name, self.current_names)
        for statement in step.node.body.body:  # type: ignore[union-attr]
            statement.visit(analyzer)
        facts = analyzer.finish()
        facts.aliases = artifact_aliases(self._ast_step(step))
        facts.reads = [name for name in facts.reads if name not in self.flow.steps]
        self.facts[step.name] = facts
        for name, kinds in facts.writes.items():
            self.types[(step.name, name)] = self._write_type(step, name, kinds, facts)
        self._catch(step, facts)
        if step.inputs_name:
            if incoming is None:
                raise error("TP107", f"'{step.name}' takes inputs but is not a join", step.span)
            return self._join(step, facts, incoming)
        return self._plain(step, facts, avail, maps)

    def _ast_step(self, step: StepDef) -> ast.FunctionDef:
        """The step as Python's ``ast`` has it: from the file's index, else parsed alone."""
        node = self.spans.nodes.get(("method", self.flow.name, step.name))
        if isinstance(node, ast.FunctionDef):
            return node
        return ast.parse(textwrap.dedent(code(step.node))).body[0]  # type: ignore[return-value]

    def _catch(self, step: StepDef, facts: StepFacts) -> None:
        """@catch(var=x) sets x to None when the step succeeds; the step writes it either way."""
        for option in step.options:
            var = option.arg("var") if option.kind == "catch" else None
            if var and literal_value(var) not in facts.writes:
                name = literal_value(var)
                facts.writes[name] = []
                self.types[(step.name, name)] = TypeRef("str | None", "inferred")
                self.catch_prelude.setdefault(step.name, []).append(
                    f"{name} = None  # what @catch stores on success"
                )

    def _write_type(
        self, step: StepDef, name: str, kinds: list[str | None], facts: StepFacts
    ) -> TypeRef:
        if name in facts.annotated:
            return TypeRef(facts.annotated[name], "annotation")
        known = {k for k in kinds if k}
        if len(known) == 1 and None not in kinds:
            return TypeRef(known.pop(), "inferred")
        return TypeRef("typing.Any", "fallback")

    def _incoming_types(self, incoming: Incoming | None) -> dict[str, str]:
        out: dict[str, str] = {}
        for avail in incoming.branches.values() if incoming else ():
            for name, defs in avail.items():
                kinds = {self.types[(d, name)].expr for d in defs if (d, name) in self.types}
                if len(kinds) == 1:
                    out.setdefault(name, kinds.pop())
        return out

    def _plain(self, step: StepDef, facts: StepFacts, avail: Avail, maps: tuple) -> Avail:
        inputs: list[Input] = []
        names: dict[str, str] = {}
        local = StepLocals(facts.bare_names, facts.aliases).claim
        for name in facts.reads:
            if name in self.params:
                param = Input(local(name), self.params[name].type, (Ref("param", name, name),))
                inputs.append(param)
            elif name in self.flow.constants:
                continue
            elif name in avail:
                inputs.append(self._input(name, avail[name], local(name)))
            elif name not in facts.writes:
                where = self.spans.find(f"self.{name}", step.span)
                raise error(
                    "TP120",
                    f"step '{step.name}' reads self.{name}, which no earlier step sets",
                    where,
                )
            names[name] = local(name)
        names.update({name: local(name) for name in facts.writes})
        if maps and (facts.uses_input or facts.uses_index):
            split, item_type = maps[-1]
            if facts.uses_input:
                names["input"] = local("self.input", "item")
                inputs.append(Input(names["input"], item_type, (Ref("item", split, "item"),)))
            if facts.uses_index:
                names["index"] = local("self.index", "index")
                inputs.append(
                    Input(
                        names["index"], TypeRef("int", "inferred"), (Ref("index", split, "index"),)
                    )
                )
        elif facts.uses_input or facts.uses_index:
            raise error(
                "TP121",
                f"step '{step.name}' uses self.input/self.index outside a foreach",
                step.span,
            )
        self.inputs[step.name] = inputs
        self.rewrites[step.name] = self._rewrite(step, names, {}, [], [])
        out = dict(avail)
        out.update({name: (step.name,) for name in facts.writes})
        return out

    def _join(self, step: StepDef, facts: StepFacts, incoming: Incoming) -> Avail:
        builder = JoinBuilder(self, step, facts, incoming)
        return builder.build()

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
            if not kind.known:
                where = self.spans.find(f"self.{artifact}", step.span)
                self.diagnostics.append(
                    Diagnostic(
                        "TP301",
                        "warning",
                        f"cannot infer the type of artifact '{artifact}'; it travels as "
                        f"typing.Any (add an annotation: self.{artifact}: T = ...)",
                        where,
                    )
                )
        for use in facts.current:
            if use not in EXACT_CURRENT:
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
        body, leftover = rewrite_body(step.node, self.rewrites[name])
        if leftover:
            raise error(
                "TP123",
                f"step '{name}' uses {leftover[0]}, which has no translation",
                self.spans.find(leftover[0], step.span),
            )
        role = "join" if step.inputs_name else "task"
        return Step(
            name,
            step.span,
            tuple(self.inputs[name]),
            tuple(outputs),
            body,
            tuple(step.options),
            step.doc,
            role,
        )

    def _order(self, node: Node) -> list[str]:
        return task_steps(node)


def literal_value(source: str):
    return _literal(cst.parse_expression(source))


def _last_step(seq: Sequence) -> str:
    last = seq.nodes[-1]
    if not isinstance(last, Task):
        raise error("TP107", "a branch must end with a plain step before its join", None)
    return last.step


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
