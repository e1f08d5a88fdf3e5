"""Write a pipeline model as a Metaflow flow: one FlowSpec with ``start`` and ``end``, steps that
pass ``self.<artifact>`` values, joins after splits and foreaches, switches, typed Parameters."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import libcst as cst

from transpile import frameworks
from transpile.model.added import HANDED_ON, added_doc
from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import Option, Pipeline, Ref, Result, Span
from transpile.writing.missing import provide_missing
from transpile.writing.options import handler_inputs
from transpile.writing.render import finish, identifier, module_header, render
from transpile.writing.types import declarable, defined_names

from .body import Body, drop_namespace_inputs, free_names, keep_join_inputs, rewrite
from .data import Dataflow
from .graph import GraphBuilder, MFStep, why_added
from .names import RESERVED, FlowNames
from .options import OptionWriter, parameter_line


def write(pipeline: Pipeline) -> tuple[str, list[Diagnostic]]:
    return MetaflowWriter(pipeline).write()


@dataclass
class StepView:
    name: str
    decorators: list[str]
    todos: list[str]
    signature: str
    doc: str | None
    lines: list[str]


class MetaflowWriter:
    _classes: set[str] | None = None  # the module's own classes (_declarable)

    def __init__(self, pipeline: Pipeline):
        self.p = pipeline
        self.diagnostics: list[Diagnostic] = []
        self.names = FlowNames(pipeline, self.diagnostics)
        taken = self.names.taken | set(self.names.artifacts.values()) | RESERVED
        self.steps = GraphBuilder(pipeline, self.names.steps, taken).build()
        self.names.taken |= {s.name for s in self.steps}
        self.data = Dataflow(pipeline, self.steps, self.names)
        self.options = OptionWriter(pipeline.framework, self.diagnostics)
        self.metaflow = {"FlowSpec", "step"}
        self.result_names: list[str] = []

    def write(self) -> tuple[str, list[Diagnostic]]:
        bodies = {s.name: self._body(s) for s in self.steps}
        transitions = {s.name: self._transition(s) for s in self.steps}
        bodies[self.steps[-1].name].epilogue += self._results(self.steps[-1])
        views = [self._view(s, bodies[s.name], transitions[s.name]) for s in self.steps]
        parameters = []
        for param in self.p.parameters:
            line, imports = parameter_line(
                param,
                self.names.params[param.name],
                self.diagnostics,
                self.names.options.get(param.name),
            )
            parameters.append(line)
            self.metaflow |= imports
        options, hooks = self._failure_hooks()
        flow_decorators, flow_todos = self.options.decorators(options, flow=True)
        imports = self._imports(views, parameters)
        if any("json.dumps(" in line for line in parameters) and "import json" not in imports:
            imports.append("import json")
        utc = any(" or timezone.utc)" in line for v in views for line in v.lines)
        if utc and not any(_binds(line) & {"timezone"} for line in imports):
            imports.append("from datetime import timezone")  # a Flyte datetime is UTC-aware
        code = render(
            "metaflow/module.py.j2",
            header=module_header(self.p, frameworks.get(self.p.framework)),
            flow=identifier(self.p.name),
            doc=self.p.doc,
            imports=imports,
            metaflow=sorted(self.metaflow | self.options.imports),
            definitions=[*self.p.module.definitions, *hooks],
            flow_decorators=flow_decorators,
            flow_todos=flow_todos,
            parameters=parameters,
            steps=views,
        )
        code, missing = provide_missing(code, self.p.span, self.p.module)
        return finish(code, self.p.span.file), [*self.diagnostics, *missing]

    def _failure_hooks(self) -> tuple[tuple[Option, ...], list[str]]:
        """An exit hook read from another framework's failure handler (Flyte's on_failure):
        ``inputs`` names the pipeline inputs the handler takes; Metaflow calls a hook with the
        run, so a small function reads them from the run's parameters and calls the handler."""
        options, hooks = [], []
        for option in self.p.options:
            names = option.arg("inputs")
            if option.kind != "exit_hook" or names is None:
                options.append(option)
                continue
            handler = option.arg("on_error", "[]").strip("[]")
            hook = f"{handler}_on_error"
            given = [
                f"{n}=params.{self.names.params[p]}" if p in self.names.params else f"{n}=None"
                for n, p in handler_inputs(option)
            ]
            hooks.append(
                f"def {hook}(run):\n"
                f'    """Added by transpile: the failure handler {handler}, called by Metaflow when '
                'a run fails."""\n'
                '    params = run["start"].task.data\n'
                f"    {handler}({', '.join(given)})\n"
            )
            options.append(Option("exit_hook", (("on_error", f"[{hook}]"),), option.span))
        return tuple(options), hooks

    def _imports(self, views: list[StepView], parameters: list[str]) -> list[str]:
        """The module's imports less those no emitted line uses (the SimpleNamespace the
        Metaflow reader adds for joins, a NamedTuple only the source's signatures needed)."""
        texts = [*self.p.module.definitions, *parameters]
        texts += [line for v in views for line in v.lines]
        texts += [f"{line}\ndef _(): pass" for v in views for line in v.decorators]
        used = set().union(*(free_names(text) for text in texts))
        if any("json.dumps(" in line for line in parameters):
            used.add("json")
        return [line for line in self.p.module.imports if _binds(line) & used or not _binds(line)]

    # bodies ----------------------------------------------------------------------------------------
    def _body(self, step: MFStep) -> Body:
        if step.model is None:
            return Body()
        model = self.p.step(step.model)
        text = model.body
        if step.join is not None:
            text = keep_join_inputs(drop_namespace_inputs(cst.parse_module(text))).code
        used = free_names(text)
        if "current" in used:
            self.metaflow.add("current")
        # a dropped namespace still reads every input through `inputs`: carry them all
        wanted = {i.name for i in model.inputs} if text != model.body else used
        wanted |= {o.var for o in model.outputs}  # an input handed on as is (`return value`)
        reads = {i.name: self._read(step, i) for i in model.inputs if i.name in wanted}
        collected = {i.name for i in model.inputs if i.mode == "collected"}
        writes = {o.var: self.names.artifacts[(model.name, o.name)] for o in model.outputs}
        types = {
            writes[o.var]: o.type.expr
            for o in model.outputs
            if o.type.origin == "annotation" and self._declarable(o.type.expr)
        }
        return rewrite(text, reads, writes, collected, types)

    def _declarable(self, expr: str) -> bool:
        """A type the flow's module can name as it is: builtins and the module's own classes,
        no dotted names (an artifact's annotation is never evaluated, but a reader must find
        its names)."""
        if self._classes is None:
            self._classes = set(defined_names(self.p.module.definitions, classes_only=True))
        return "." not in expr and declarable(expr, self._classes)

    def _read(self, step: MFStep, inp) -> str:
        if inp.mode == "collected":
            return self.data.collected(step, inp.refs)
        reads = [self.data.read(step, ref) for ref in inp.refs]  # carries every case's value
        return reads[0]

    # transitions -----------------------------------------------------------------------------------
    def _transition(self, step: MFStep) -> str:
        targets = [f"self.{t}" for t in step.targets]
        if step.kind == "end":
            return ""
        if step.kind == "foreach":
            assert step.map is not None
            var = self.data.ensure(step, step.map.collection)
            return f"self.next({targets[0]}, foreach={var!r})"
        if step.kind == "switch":
            return self._switch(step, targets)
        return f"self.next({', '.join(targets)})"

    def _switch(self, step: MFStep, targets: list[str]) -> str:
        assert step.switch is not None
        condition = self.data.ensure(step, step.switch.condition)
        values = [_literal(c.value, self.data.span(step.name)) for c in step.switch.cases]
        keys = [str(v) for v in values]
        if len(values) < 2 or not all(isinstance(v, str) for v in values):
            condition = self._switch_key(step, condition, keys)
        cases = ", ".join(f"{k!r}: {t}" for k, t in zip(keys, targets))
        return f"self.next({{{cases}}}, condition={condition!r})"

    def _switch_key(self, step: MFStep, condition: str, keys: list[str]) -> str:
        """An artifact holding the case key as text (Metaflow's switch keys are strings); a lone
        case gets an "otherwise" key for its empty second path."""
        key = self.names.fresh_artifact(f"{condition}_key")
        expr = f"str(self.{condition})"
        if len(keys) < 2:
            expr = f'{expr} if {expr} == {keys[0]!r} else "otherwise"'
            keys.append("otherwise")
        self.data.passes[step.name][key] = expr
        message = (
            f"Metaflow switches on text keys: the cases of {condition!r} are matched on "
            f"str({condition}) through the artifact {key!r}"
        )
        self.diagnostics.append(Diagnostic("TP234", "info", message, self.data.span(step.name)))
        return key

    # results ---------------------------------------------------------------------------------------
    def _results(self, end: MFStep) -> list[str]:
        """Every result is an artifact of the end step (what `run.data` shows)."""
        pairs = []
        for result in self.p.results:
            name = self._result_name(result)
            self.result_names.append(name)
            exprs = [self._result_read(end, ref) for ref in result.refs]
            if exprs and exprs[0] != f"self.{name}":
                pairs.append((f"self.{name}", exprs[0]))
        targets = {t for t, _ in pairs}
        if any(re.search(rf"{re.escape(t)}\b", e) for t in targets for _, e in pairs):
            # a result named like an artifact another result reads: assign them all at once
            return [f"{', '.join(t for t, _ in pairs)} = {', '.join(e for _, e in pairs)}"]
        return [f"{t} = {e}" for t, e in pairs]

    def _result_read(self, end: MFStep, ref: Ref) -> str:
        if ref.kind in ("item", "index"):
            message = f"result reads a map {ref.kind} outside its map"
            raise error("TP243", message, self.p.span)
        return self.data.read(end, ref)

    def _result_name(self, result: Result) -> str:
        name = identifier(result.name)
        mine = {self.names.artifacts.get((r.source, r.name)) for r in result.refs}
        if name in RESERVED or (name in self.names.taken and name not in mine):
            if f"{name}_" not in mine:  # else the artifact's own renaming said it already
                message = f"result {name!r} is renamed {name}_ (a name Metaflow reserves or uses)"
                self.diagnostics.append(Diagnostic("TP231", "warning", message, self.p.span))
            return f"{name}_"
        return name

    # views -----------------------------------------------------------------------------------------
    def _view(self, step: MFStep, body: Body, transition: str) -> StepView:
        model = self.p.step(step.model) if step.model else None
        decorators, todos = self.options.decorators(model.options if model else (), flow=False)
        lines = [*body.prelude, *([body.code.rstrip()] if body.code.strip() else [])]
        lines += [*body.epilogue, *self._passes(step)]
        lines += [transition] if transition else []
        signature = "self, inputs" if step.join else "self"
        doc = model.doc if model else self._added_doc(step)
        if doc and [line.strip() for line in lines] == ["pass"]:
            lines = []  # the docstring is the body (ruff: PIE790 unnecessary pass)
        elif not any(_has_statements(line) for line in lines):
            lines.append("pass")  # the body held only comments
        return StepView(step.name, decorators, todos, signature, doc, lines)

    def _added_doc(self, step: MFStep) -> str:
        """Marks a step the model does not have, so that reading the flow leaves it out again."""
        results = tuple(self.result_names) if step.kind == "end" else None
        return added_doc(why_added(step), results)

    def _passes(self, step: MFStep) -> list[str]:
        """What a join hands on: named reads, and one merge_artifacts for untouched values."""
        merged, lines, handed = [], [], []
        for artifact, expr in self.data.passes[step.name].items():
            if self.data.mergeable(step, artifact, expr):
                merged.append(artifact)
            elif expr.startswith(("inputs", "[inp.")) and step.model is not None:
                handed.append(f"self.{artifact} = {expr}")
            else:
                lines.append(f"self.{artifact} = {expr}")
        if handed:  # marked, so that reading the flow sees the values pass through
            lines += [f"{HANDED_ON} Metaflow joins hand on only what they set", *handed]
        if merged:
            lines.append(f"self.merge_artifacts(inputs, include={sorted(merged)!r})")
        return lines


def _binds(line: str) -> set[str]:
    """The names an import line binds (none for `from __future__`, which always stays)."""
    names: set[str] = set()
    for node in ast.parse(line).body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            return set()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _has_statements(code: str) -> bool:
    return bool(cst.parse_module(code).body)


def _literal(value: str, span: Span) -> object:
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        raise error("TP244", f"switch case {value!r} is not a literal", span) from None
