"""Read a Flyte (flytekit) module into the pipeline model, statically.

The entry workflow is the one a LaunchPlan names, else the last @workflow no other workflow calls.
Its body is read call by call (``workflow.py``): one step per task call, promises become
references, sub-workflows are inlined, map_task and plain @dynamic loops become maps, conditional()
becomes a switch.
"""

from __future__ import annotations

import re

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import (
    Input,
    Option,
    Output,
    Parameter,
    Pipeline,
    Ref,
    Result,
    Step,
    Task,
    TypeRef,
)
from transpile.reading.cst import SpanIndex, code, keyword_args
from transpile.reading.rewire import rename_splits, rename_step_splits
from transpile.util.docstrings import described, split_args_section

from .dataclass_inputs import dataclass_inputs
from .module import ModuleScan, own_settings, plan_name
from .names import camel_case
from .options import schedule_option
from .shape import in_flow_order, structure
from .task import FunctionDef
from .values import Scope, Val
from .workflow import WorkflowReader


def read(
    module: cst.Module, path: str, spans: SpanIndex | None = None, entry: str | None = None
) -> tuple[Pipeline, list[Diagnostic]]:
    """``spans`` indexes the same text (built from ``module`` when not given); ``entry`` names
    the pipeline to read when the file holds several (``--entry``)."""
    reader = FlyteReader(module, path, spans)
    reader.entry_name = entry
    return reader.read()


class FlyteReader(ModuleScan):
    """Reads the entry workflow of the module ``ModuleScan`` scanned."""

    def read(self) -> tuple[Pipeline, list[Diagnostic]]:
        self._scan()
        entry = self._entry()
        if entry.refusal is not None:
            raise entry.refusal
        self.lost: list[Option] = []  # launch plan settings no target carries (writers' TODOs)
        plan = self._entry_plan(entry)
        fixed, defaults = self.plan_inputs(plan, self.lost) if plan is not None else ({}, {})
        parameters = tuple(
            self._parameter(entry, p, defaults.get(p.name))
            for p in entry.params
            if p.name not in fixed
        )
        self.file_params = {p.name for p in parameters if p.kind == "file"}
        flow_reader = WorkflowReader(self)
        scope = Scope({p.name: self._param_val(p) for p in parameters}, [])
        for name, value in fixed.items():
            scope.names[name] = Val(literal=code(value))
            message = f"LaunchPlan fixed input {name}={code(value)} is a constant of the pipeline"
            at = self.plan_span(plan, "fixed_inputs") if plan is not None else entry.span
            self.diagnostics.append(Diagnostic("TP201", "info", message, at))
        returned = flow_reader.run(entry, scope)
        results = self._results(entry, returned, flow_reader, scope)
        flow = rename_splits(structure(scope.items, entry.span), flow_reader.placeholders)
        steps = [rename_step_splits(s, flow_reader.placeholders) for s in flow_reader.steps]
        parameters, steps = dataclass_inputs(self, parameters, steps)
        options = self._pipeline_options(entry, plan)  # before the module: it adds hooks
        doc, helps = split_args_section(entry.doc)  # input descriptions, as flytekit reads them
        pipeline = Pipeline(
            name=camel_case(self._pipeline_name(entry)),
            framework="flyte",
            span=entry.span,
            parameters=described(parameters, helps),
            steps=tuple(in_flow_order(steps, flow)),
            flow=flow,
            results=results,
            module=self.module_code(steps, parameters, results),
            options=options,
            doc=doc,
        )
        return pipeline, self.diagnostics

    # parameters, options, results ----------------------------------------------------------------
    def _parameter(self, entry: FunctionDef, param, plan_default=None) -> Parameter:
        span = self.spans.find(f"{param.name}", entry.span)
        default = plan_default if plan_default is not None else param.default
        if isinstance(default, cst.Name) and default.value in self.constants:
            default = self.constants[default.value]  # our writer's DEFAULT_X = [...] constants
        annotation = param.annotation
        if (
            annotation is not None
            and self.names.resolve(cst.parse_expression(annotation)) == "FlyteFile"
        ):
            if isinstance(default, cst.Call) and default.args:
                default = default.args[0].value
            text = code(default) if default is not None else None
            return Parameter(
                param.name, TypeRef("str", "annotation"), text, text is None, None, "file", span
            )
        if annotation is None:
            self.diagnostics.append(
                Diagnostic("TP301", "warning", f"workflow input '{param.name}' has no type", span)
            )
        kind = (
            TypeRef(annotation, "annotation") if annotation else TypeRef("typing.Any", "fallback")
        )
        kind = self.portable(kind, span)
        text = code(default) if default is not None else None
        return Parameter(param.name, kind, text, text is None, None, "value", span)

    @staticmethod
    def _param_val(param: Parameter) -> Val:
        return Val((Ref("param", param.name, param.name),), type=param.type.expr)

    def _pipeline_name(self, entry: FunctionDef) -> str:
        """The entry workflow's name, or the launch plan's that ``--entry`` chose (a module of
        its own beside the workflow's: the two pipelines must not share a name)."""
        if self.chosen_plan is None:
            return entry.name
        name = re.sub(
            r"\W", "_", self.plan_entry_name(self.chosen_plan) or entry.name, flags=re.ASCII
        )
        return name if name.isidentifier() else f"plan_{name}"  # a plan "1st run": plan_1st_run

    def _entry_plan(self, entry: FunctionDef) -> cst.Call | None:
        """The launch plan the pipeline is read with: the last one of the entry workflow (the
        others are named by a diagnostic)."""
        if self.chosen_plan is not None:  # --entry named it: the others are not this module's
            return self.chosen_plan
        plans = [call for call in self.launch_plans if self._plan_workflow(call) == entry.name]
        entries = set(self.plan_entries(entry.name, self.called_names()))
        for call in plans[:-1]:
            if not own_settings(call) or self.plan_entry_name(call) in entries:
                continue  # the workflow's own inputs (get_default_launch_plan), or an entry
            settings = [k for k in keyword_args(call) if k not in ("name", "workflow")]
            why = (
                (f"its {', '.join(settings)}; " if settings else "")
                + f"the pipeline has those of the last LaunchPlan of {entry.name} "
                f"({plan_name(plans[-1])})"
            )
            args = (("plan", plan_name(call)), ("why", repr(why)))
            self.lost.append(Option("launch_settings", args, self.plan_span(call)))
        return plans[-1] if plans else None

    def _workflow_settings(self, entry: FunctionDef) -> list[Option]:
        """``@workflow(on_failure=task)`` → an exit hook on error; the other settings are named
        (a failure handler that silently stopped running would be the worst loss)."""
        decorator = entry.decorator.decorator
        if not isinstance(decorator, cst.Call):
            return []
        options = []
        for key, value in keyword_args(decorator).items():
            if key == "docs":
                continue
            if key == "on_failure":
                option = self._on_failure(entry, value)
                if option is not None:
                    options.append(option)
                    continue
            message = f"@workflow({key}={code(value)}) is not carried over"
            if key == "on_failure":
                message += ": the failure handler does not run when the converted pipeline fails"
            self.diagnostics.append(Diagnostic("TP202", "warning", message, entry.span, lossy=True))
        return options

    def _on_failure(self, entry: FunctionDef, value: cst.BaseExpression) -> Option | None:
        """A failure-handler task: a plain function of the module, called with the run's inputs
        by a hook the pipeline runs when it fails (Metaflow's ``@exit_hook(on_error=[...])``)."""
        handler = self.functions.get(code(value))
        if handler is None or handler.kind != "task":
            return None
        wrapped = _our_failure_task(handler)
        if wrapped is not None:  # our Flyte writer's task around a handler: the handler
            name, names = wrapped
            return Option(
                "exit_hook", (("on_error", f"[{name}]"), ("inputs", repr(names))), entry.span
            )
        inputs = {p.name for p in entry.params}
        names = [p.name for p in handler.params]
        if any(n not in inputs and n != "err" for n in names):
            return None  # Flyte itself requires the workflow's inputs: not a handler it runs
        plain = _without_error_type(handler.node.with_changes(decorators=[]))
        if "err" in names:
            message = f"on_failure={handler.name} gets err=None (the run's error is not passed)"
            self.diagnostics.append(Diagnostic("TP202", "warning", message, entry.span, lossy=True))
        self.definitions.append((handler.name, code(plain).strip("\n")))
        message = f"on_failure={handler.name} runs from an exit hook when the pipeline fails"
        self.diagnostics.append(Diagnostic("TP201", "info", message, entry.span))
        # ``inputs``: the handler is called with these workflow inputs (err=None), not with a run
        inputs_arg = repr(tuple(names))
        return Option(
            "exit_hook", (("on_error", f"[{handler.name}]"), ("inputs", inputs_arg)), entry.span
        )

    def _pipeline_options(self, entry: FunctionDef, plan: cst.Call | None) -> tuple[Option, ...]:
        options = self._workflow_settings(entry)
        if plan is None:
            return tuple(options)
        args = keyword_args(plan)
        name = plan_name(plan)
        schedule = args.get("schedule")
        at = self.plan_span(plan, "schedule")
        lost: list[tuple[str, str, str]] = []  # (setting, its code, why)
        if isinstance(schedule, cst.Call):
            option = schedule_option(schedule, self.names, at, self.diagnostics, lost)
            options += [option] if option else []
        elif schedule is not None:
            lost.append(("schedule", code(schedule), "not a CronSchedule or FixedRate call"))
        read = {"schedule", "name", "workflow", "fixed_inputs", "default_inputs"}
        lost += [(key, code(value), "") for key, value in args.items() if key not in read]
        extra = [a.value for a in plan.args if a.keyword is None][2:]  # after workflow and name
        lost += [(f"argument {n}", code(v), "") for n, v in enumerate(extra, 3)]
        for key, text, why in lost:
            pairs = (("plan", name), (key, text), *((("why", repr(why)),) if why else ()))
            where = at if key == "schedule" else self.plan_span(plan, key)
            self.lost.append(Option("launch_settings", pairs, where))
        self.lost.sort(key=lambda o: (o.span.line, o.span.column))
        return (*options, *self.lost)

    def _results(self, entry, returned: Val | None, flow_reader, scope) -> tuple[Result, ...]:
        """What the entry workflow returns; a map's results returned as they are get a step."""
        if returned is None:
            return ()
        if returned.fields is None:
            pairs = [("o0", entry.single or "typing.Any", returned)]
        else:
            types = dict(entry.fields or [])
            pairs = [(n, types.get(n, "typing.Any"), v) for n, v in returned.fields]
        results = []
        for name, kind, value in pairs:
            if not value.refs:
                message = f"workflow output '{name}' must be a task output or an input"
                raise error("TP164", message, entry.span)
            if value.mode == "collected":
                value = self._collect(entry, name, kind, value, flow_reader, scope)
            results.append(Result(name, TypeRef(kind, "annotation"), value.refs))
        return tuple(results)

    def _collect(self, entry, name: str, kind: str, value: Val, flow_reader, scope) -> Val:
        """A small step gathers a map's results into one output the workflow can return."""
        step_name = flow_reader.step_name(f"{value.refs[0].source}_results")
        gathered = Input("values", TypeRef(kind, "annotation"), value.refs, "collected")
        output = Output(name, TypeRef(kind, "annotation"))
        step = Step(step_name, entry.span, (gathered,), (output,), f"{name} = values\n")
        flow_reader.steps.append(step)
        flow_reader.add_item(Task(step_name), set(value.deps), scope)
        message = f"workflow output '{name}' is a map's results; step '{step_name}' gathers them"
        self.diagnostics.append(Diagnostic("TP201", "info", message, entry.span))
        return Val((Ref("output", step_name, name),))


def _without_error_type(node: cst.FunctionDef) -> cst.FunctionDef:
    """A failure handler's ``err: Optional[FlyteError] = None`` as ``err=None``: the handler is
    called with None (no target hands over Flyte's error), and FlyteError is flytekit's."""
    params = node.params.with_changes(
        params=[
            p.with_changes(
                annotation=None,
                equal=cst.AssignEqual(
                    whitespace_before=cst.SimpleWhitespace(""),
                    whitespace_after=cst.SimpleWhitespace(""),
                ),
            )
            if p.name.value == "err" and p.default is not None
            else p
            for p in node.params.params
        ]
    )
    return node.with_changes(params=params)


OUR_FAILURE_TASK = "Added by transpile: the failure handler "


def _our_failure_task(handler) -> tuple[str, tuple[str, ...]] | None:
    """Our Flyte writer's on_failure task: a docstring naming the handler and one call of it
    with keyword arguments; the handler's name and the inputs it takes."""
    if not (handler.doc or "").startswith(OUR_FAILURE_TASK):
        return None
    statements = list(handler.node.body.body)[1:]  # after the docstring
    if len(statements) != 1 or not isinstance(statements[0], cst.SimpleStatementLine):
        return None
    call = statements[0].body[0]
    call = call.value if isinstance(call, cst.Expr) else None
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Name):
        return None
    if any(a.keyword is None for a in call.args):
        return None
    return call.func.value, tuple(a.keyword.value for a in call.args if a.keyword)
