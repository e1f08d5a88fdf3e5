"""Write a pipeline model as an Airflow 3 TaskFlow module: one ``@task`` per step, data passed by
return values (several outputs: ``multiple_outputs=True``, read downstream by key), a map as
``.partial(...).expand(...)``, the parameters as ``params=`` with ``Param`` (tasks read them from
the ``params`` they are given), the DAG object at module level and ``dag.test()`` under
``__main__``.

A switch is a ``@task.branch`` task that returns the task ids the case of its value starts with
(a value no case names fails the run, as Metaflow does); Airflow skips the other cases' tasks. What
follows the switch runs under ``trigger_rule="none_failed_min_one_success"`` (its upstream tasks
in the cases not taken were skipped) and reads a value several cases set from whichever case ran
(``xcom_pull`` over their task ids: a skipped task pushed nothing).

Values pass through XCom as Airflow's serde writes them: an output declared ``bytes`` (a file or
artifact's content) is returned as base64 text and each task reading it decodes it first (serde
cannot write bytes), and the module's dataclasses (attrs classes, pydantic models) are given to
``allow_class`` (Airflow 3.3), without which a task pulling one refuses to load its class. A
whole-number float keeps its type on Postgres and MySQL; Airflow's SQLite database (for
development, ``dag.test()``'s default) returns a pushed 4.0 as 4, so a task reading an output
declared ``float`` makes it a float again (the XCom itself still shows 4 there).

Not written yet, refused with TP260 naming the construct: maps nested in maps, maps whose body is
more than one task, switches inside maps and maps inside switch cases.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys

import libcst as cst

from transpile import frameworks
from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import (
    Input,
    Map,
    Node,
    Option,
    Output,
    Parallel,
    Pipeline,
    Ref,
    Sequence,
    Step,
    Switch,
    Task,
    walk,
)
from transpile.util.text import todo
from transpile.writing.cards import card_statements, without_card_statements
from transpile.writing.current import CurrentRewriter
from transpile.writing.missing import provide_missing
from transpile.writing.options import (
    custom_flow_message,
    launch_setting,
    literal,
    schedule_cron,
)
from transpile.writing.passthrough import without_empty_ends
from transpile.writing.render import (
    converted_doc,
    docstring,
    finish,
    free_name,
    indent_block,
    module_header,
    snake_case,
    task_functions,
)
from transpile.writing.types import iso_class, iso_default, iso_read, utc_aware

from .. import FRAMEWORK
from .options import OptionMapper

# JSON Schema types Airflow's Param validates a value against
PARAM_TYPES = {
    "int": "integer",
    "float": "number",
    "str": "string",
    "bool": "boolean",
    "list": "array",
    "dict": "object",
}
RESERVED = {"dag", "task", "Param", "timedelta", "datetime", "get_current_context", "params"}
JOIN_RULE = "none_failed_min_one_success"  # runs when its upstream cases not taken were skipped


def encoded(kind: str) -> bool:
    """An output of type ``kind`` travels through XCom as base64 text: Airflow's serde cannot
    write bytes, and hands a ``Counter`` (``OrderedDict``, ``defaultdict``, ``deque``) on as a
    plain dict or list (those are pickled first). Each task reading it decodes it (and so does
    ``transpile verify``)."""
    return kind == "bytes" or pickled(kind)


# containers of the standard library Airflow's serde writes as their plain base type
PICKLED = {"Counter", "OrderedDict", "defaultdict", "deque"}


def pickled(kind: str) -> bool:
    """An output of type ``kind`` travels as base64 text of its pickle (see ``encoded``)."""
    return kind.split("[")[0].rsplit(".", 1)[-1] in PICKLED and kind.startswith(
        ("collections.", *PICKLED)
    )


def write(pipeline: Pipeline) -> tuple[str, list[Diagnostic]]:
    pipeline, dropped = without_empty_ends(pipeline)
    code, diagnostics = AirflowWriter(pipeline).write()
    return code, [*dropped, *diagnostics]


class AirflowWriter:
    def __init__(self, pipeline: Pipeline):
        self.p = pipeline
        self.diagnostics: list[Diagnostic] = []
        self.steps = {s.name: s for s in pipeline.steps}
        self.taken = RESERVED | _module_names(pipeline) | set(dir(builtins))
        self.functions, renamed = task_functions(pipeline.steps, self.taken, "task")
        self.diagnostics += renamed
        self.taken |= set(self.functions.values())
        self.dag_name = free_name(snake_case(pipeline.name), self.taken)
        self.taken.add(self.dag_name)
        self.std_imports: set[str] = set()
        self.modules = _imported_modules(pipeline.module.imports)  # bound to a module
        self.kickoffs: set[str] = self._kickoff_inputs()  # inputs the scheduled time fills
        self.sdk = {"dag", "task"}
        self.options = OptionMapper(self.diagnostics)
        self.mapped = _mapped_steps(pipeline.flow)
        self.handles: dict[str, str] = {}  # step → its call's variable in the DAG body
        self.lines: list[str] = []
        self.helpers: list[str] = []  # tasks that pass an output on for a map
        self.passed_on: dict[Ref, str] = {}
        # switches: each @task.branch by its key in handles (its function, what it reads)
        self.branches: dict[str, tuple[str, Switch, dict[str, list[str]]]] = {}
        self.branch_reads: dict[str, str] = {}
        self.from_switch: set[str] = set()  # the last tasks of switch cases
        self.join_rule: set[str] = set()  # tasks (and branches) that follow a switch
        self.chosen_name: str | None = None  # the module function reading a case's value
        self.named_tuples = _named_tuples(pipeline.module.definitions)

    # module --------------------------------------------------------------------------------------
    def write(self) -> tuple[str, list[Diagnostic]]:
        self._refuse_unwritten(self.p.flow)
        self._node(self.p.flow)
        tasks = [self._task(step) for step in self.p.steps]
        branches = [self._branch_task(key) for key in self.branches]
        dag = self._dag()
        std, third = _split_imports(self.p.module.imports, self.std_imports)
        parts = [module_header(self.p, frameworks.get(self.p.framework))]
        parts += std
        parts.append(f"from airflow.sdk import {', '.join(sorted(self.sdk))}")
        carried = _xcom_classes(self.p.module.definitions)
        if carried:
            parts.append("from airflow.sdk.serde import allow_class")
        parts += third
        text = "\n".join(parts) + "\n"
        for definition in self.p.module.definitions:
            text += f"\n\n{definition.rstrip()}\n"
        if carried:
            text += "\n\n# a task pulling these from XCom gets them back only if allowed\n"
            text += "".join(f"allow_class({name})\n" for name in carried)
        if self.chosen_name:
            text += f"\n\n{self._chosen_function()}"
        for task_text in [*tasks, *branches, *self.helpers]:
            text += f"\n\n{task_text}"
        text += f"\n\n{dag}"
        text = _without_unused_typing(text)
        code, missing = provide_missing(text, self.p.span, self.p.module)
        return finish(code, self.p.span.file), [*self.diagnostics, *missing]

    def _refuse_unwritten(self, flow: Node) -> None:
        for node in walk(flow):
            if isinstance(node, Switch) and any(isinstance(n, Map) for n in walk(node)):
                raise error(
                    "TP260",
                    f"a map inside a case of the switch on {node.condition.name}: not written "
                    "for Airflow yet",
                    self.p.span,
                )
            if isinstance(node, Map) and any(isinstance(n, Switch) for n in walk(node.body)):
                raise error(
                    "TP260",
                    f"a switch inside the map over {node.collection.source}."
                    f"{node.collection.name}: not written for Airflow yet",
                    self.p.span,
                )
            if isinstance(node, Map):
                body = [n for n in walk(node.body) if not isinstance(n, Sequence)]
                if len(body) != 1 or not isinstance(body[0], Task):
                    raise error(
                        "TP260",
                        f"the map over {node.collection.source}.{node.collection.name} has more "
                        "than one task in its body (a mapped task group): not written for "
                        "Airflow yet",
                        self.p.span,
                    )

    # tasks ---------------------------------------------------------------------------------------
    def _task(self, step: Step) -> str:
        settings = self.options.task_settings(step.options)
        self.std_imports |= settings.std_imports
        args = list(settings.args)
        name = self.functions[step.name]
        if name != step.name:
            args.insert(0, ("task_id", repr(step.name)))
        several = len(step.outputs) > 1
        if several and step.name not in self.mapped:
            args.append(("multiple_outputs", "True"))
        if step.name in self.join_rule:
            args.append(("trigger_rule", repr(JOIN_RULE)))
        decorator = f"@task({', '.join(f'{k}={v}' for k, v in args)})" if args else "@task"
        passed = [
            i for i in step.inputs if i.refs[0].kind not in ("param", "index") and i.mode != "oneof"
        ]
        signature = [f"{i.name}: {self._signature_type(i)}" for i in passed]
        prelude = []
        if settings.environment:
            self.std_imports.add("import os")
            prelude.append(f"os.environ.update({settings.environment})")
        if any(i.refs[0].kind == "param" for i in step.inputs):
            signature.append("params=None")
        for inp in step.inputs:
            ref = inp.refs[0]
            if ref.kind == "param":
                prelude.append(f"{inp.name} = {self._param_value(ref.name)}")
            elif ref.kind == "index":
                self.sdk.add("get_current_context")
                prelude.append(f'{inp.name} = get_current_context()["ti"].map_index')
            elif inp.mode == "collected":
                prelude.append(self._collected(inp))
            elif inp.mode == "oneof":
                prelude.append(f"{inp.name} = {self._decoded(inp, self._chosen(inp.refs))}")
            elif self._encoded(inp):
                prelude.append(f"{inp.name} = {self._decoded(inp, inp.name)}")
            elif self._declared_float(inp):
                prelude.append(f"{inp.name} = float({inp.name})")
        if not step.outputs:
            returns, ret = "None", None
        elif several:
            returns = "dict"
            ret = "return {" + ", ".join(f"{o.name!r}: {self._pushed(o)}" for o in step.outputs)
            ret += "}"
        else:
            (output,) = step.outputs
            returns = "str" if encoded(output.type.expr) else self._type(output.type.expr)
            ret = f"return {self._pushed(output)}"
        for output in step.outputs:
            self._json_changes(step, output, settings.todos)
        text = self._context(step, step.body, settings.todos)
        body_lines = [*prelude, *([text.rstrip("\n")] if text.strip() else [])]
        body_lines += [ret] if ret else []
        body = "\n".join(body_lines) if body_lines else "pass"
        doc = f"{docstring(step.doc)}\n" if step.doc else ""
        todos = "".join(f"{t}\n" for t in settings.todos)
        return (
            f"{todos}{decorator}\ndef {name}({', '.join(signature)}) -> {returns}:\n"
            f"{doc}{indent_block(body)}\n"
        )

    def _json_changes(self, step: Step, output: Output, todos: list[str]) -> None:
        """XCom is JSON: a NamedTuple comes back as a plain tuple, a dict's keys as strings. Said
        at the task whose declared (or inferred) output type has either."""
        kind = output.type.expr
        named = sorted(n for n in self.named_tuples if re.search(rf"\b{re.escape(n)}\b", kind))
        keys = re.search(r"\b[Dd]ict\[\s*(int|float|bool|tuple)\b", kind)
        if not named and not keys:
            return
        what = f"a {named[0]} as a plain tuple" if named else f"a dict's {keys[1]} keys as strings"
        message = f"{step.name}'s {output.name} ({kind}): Airflow's XCom gives it back with {what}"
        self.diagnostics.append(Diagnostic("TP202", "warning", message, step.span, lossy=True))
        todos.append(todo("TP202", message))

    def _context(self, step: Step, body: str, todos: list[str]) -> str:
        """``current.<attr>`` left in a body: the task context's nearest value, or None and a
        TODO."""
        if "current." not in body:
            return body
        shown = [c for _, c in card_statements(_parsed(body), step.options) if c]
        body, _ = without_card_statements(body)
        if shown:  # the reader noted them as shown in the other targets
            message = (
                f"{len(shown)} card statement(s) in step {step.name} add content Airflow cannot "
                "show (no per-task report); they are dropped"
            )
            self.diagnostics.append(Diagnostic("TP211", "warning", message, step.span, lossy=True))
        if "current." not in body:
            return body
        rewriter = CurrentRewriter(CONTEXT, "get_current_context")
        body = cst.parse_module(body).visit(rewriter).code
        if rewriter.used_context:
            self.sdk.add("get_current_context")
        for name in rewriter.missing:
            message = f"current.{name} has no Airflow equivalent; it is None here"
            self.diagnostics.append(Diagnostic("TP211", "warning", message, step.span, lossy=True))
            todos.append(todo("TP211", message))
        return body

    def _param_value(self, name: str) -> str:
        param = next(p for p in self.p.parameters if p.name == name)
        if param.kind == "file":  # the parameter names the file; the step reads its content
            self.std_imports.add("import pathlib")
            method = "read_text" if param.is_text else "read_bytes"
            return f"pathlib.Path(params[{name!r}]).{method}()"
        if param.type.expr == "float":  # a JSON number without a point arrives as int
            return f"float(params[{name!r}])"
        cls = iso_class(param.type.expr) if param.kind == "value" else None
        if cls is not None:  # ISO 8601 text (see _param)
            self.std_imports.add(f"from datetime import {cls}")
            if utc_aware(self.p.framework, cls):
                self.std_imports.add("from datetime import timezone")
            read = iso_read(f"params[{name!r}]", cls, self.p.framework, cls, "timezone.utc")
            if name in self.kickoffs:  # see _kickoff
                self.sdk.add("get_current_context")
                scheduled = 'get_current_context()["logical_date"]'
                return f"({read} if params[{name!r}] else {scheduled})"
            return f"(params[{name!r}] and {read})" if param.default == "None" else read
        return f"params[{name!r}]"

    def _collected(self, inp: Input) -> str:
        """A mapped task's results arrive as a lazy sequence: a list, and one output of several
        taken from each item's dict."""
        ref = inp.refs[0]
        source = self.steps.get(ref.source)
        if source is not None and len(source.outputs) > 1:
            value = self._decoded(inp, f"value[{ref.name!r}]")
            return f"{inp.name} = [{value} for value in {inp.name}]"
        if self._encoded(inp):
            return f"{inp.name} = [{self._decoded(inp, 'value')} for value in {inp.name}]"
        return f"{inp.name} = list({inp.name})"

    def _signature_type(self, inp: Input) -> str:
        if self._encoded(inp):  # base64 text, decoded first thing
            return "list[str]" if inp.mode == "collected" else "str"
        return self._type(self._input_type(inp))

    def _declared_float(self, inp: Input) -> bool:
        """``inp`` reads an output declared ``float``, which the source framework delivers as a
        float: Airflow's SQLite database (``dag.test()``'s default) returns a pushed 4.0 as 4.
        An inferred type is left alone (the value may be an int the source passes as it is)."""
        outputs = self._outputs_read(inp)
        return (
            inp.mode == "value"
            and len(outputs) == 1
            and outputs[0].type.expr == "float"
            and outputs[0].type.origin == "annotation"
        )

    def _pushed(self, output: Output) -> str:
        """What a task returns for ``output``: bytes as base64 text (XCom cannot carry bytes)."""
        if not encoded(output.type.expr):
            return output.var
        self.std_imports.add("import base64")
        if pickled(output.type.expr):
            self.std_imports.add("import pickle")
            return f"base64.b64encode(pickle.dumps({output.var})).decode()"
        return f"base64.b64encode({output.var}).decode()"

    def _encoded(self, inp: Input) -> bool:
        """``inp`` arrives as base64 text: every output it may read is bytes (``_pushed``)."""
        outputs = self._outputs_read(inp)
        return (
            bool(outputs)
            and len(outputs) == len(inp.refs)
            and all(encoded(o.type.expr) for o in outputs)
        )

    def _outputs_read(self, inp: Input) -> list[Output]:
        return [
            o
            for r in inp.refs
            if r.kind == "output" and r.source in self.steps
            for o in self.steps[r.source].outputs
            if o.name == r.name
        ]

    def _decoded(self, inp: Input, value: str) -> str:
        if not self._encoded(inp):
            return value
        self.std_imports.add("import base64")
        if pickled(self._outputs_read(inp)[0].type.expr):
            self.std_imports.add("import pickle")
            return f"pickle.loads(base64.b64decode({value}))"
        return f"base64.b64decode({value})"

    def _chosen(self, refs: tuple[Ref, ...]) -> str:
        """The value of whichever case of a switch ran (the others were skipped and pushed
        nothing); a value from before the switch, which a case may pass on, comes last."""
        if self.chosen_name is None:
            self.chosen_name = free_name("whichever_ran", self.taken)
            self.taken.add(self.chosen_name)
            self.sdk.add("get_current_context")
        inside = [r for r in refs if r.source in self.in_switch]
        ordered = inside + [r for r in refs if r not in inside]
        keys = {self._xcom_key(r) for r in ordered}
        ids = ", ".join(repr(r.source) for r in ordered)
        if len(keys) == 1:
            (key,) = keys
            extra = "" if key == "return_value" else f", {key!r}"
            return f"{self.chosen_name}([{ids}]{extra})"
        pairs = ", ".join(f"({r.source!r}, {self._xcom_key(r)!r})" for r in ordered)
        return f"{self.chosen_name}(pairs=[{pairs}])"

    def _xcom_key(self, ref: Ref) -> str:
        return ref.name if len(self.steps[ref.source].outputs) > 1 else "return_value"

    def _chosen_function(self) -> str:
        name = self.chosen_name
        return (
            f'def {name}(task_ids=(), key="return_value", pairs=()):\n'
            '    """What the switch case that ran pushed (under ``key``, or a key per task in '
            '``pairs``):\n    the other cases\' tasks were skipped and pushed nothing."""\n'
            '    ti = get_current_context()["ti"]\n'
            "    for task_id, each in [*((t, key) for t in task_ids), *pairs]:\n"
            "        value = ti.xcom_pull(task_ids=task_id, key=each)\n"
            "        if value is not None:\n"
            "            return value\n"
            "    return None\n"
        )

    @property
    def in_switch(self) -> frozenset[str]:
        return frozenset(
            n.step
            for sw in walk(self.p.flow)
            if isinstance(sw, Switch)
            for n in walk(sw)
            if isinstance(n, Task)
        )

    @staticmethod
    def _input_type(inp: Input) -> str:
        return inp.type.expr

    def _type(self, expr: str) -> str:
        if _shadowed_module(expr, self.modules):
            expr = "typing.Any"  # `datetime.datetime` where the module has the class
        if "typing." in expr:
            self.std_imports.add("import typing")
        return expr

    # the DAG body -------------------------------------------------------------------------------
    def _node(self, node: Node) -> tuple[list[str], list[str]]:
        """Write ``node``'s calls; the steps it starts with and ends with."""
        if isinstance(node, Task):
            self._call(node.step)
            return [node.step], [node.step]
        if isinstance(node, Map):
            step = next(n.step for n in walk(node.body) if isinstance(n, Task))
            self._call(step, node)
            return [step], [step]
        if isinstance(node, Switch):
            return self._switch(node)
        if isinstance(node, Parallel):
            firsts, lasts = [], []
            for branch in node.branches:
                first, last = self._node(branch)
                firsts += first
                lasts += last
            return firsts, lasts
        assert isinstance(node, Sequence)
        firsts: list[str] = []
        previous: list[str] = []
        for child in node.nodes:
            first, last = self._node(child)
            for before in previous:
                for after in first:
                    if not self._reads(after, before):
                        self.lines.append(f"{self.handles[before]} >> {self.handles[after]}")
            if any(before in self.from_switch for before in previous):
                self.join_rule |= set(first)
            firsts = firsts or first
            previous = last or previous
        return firsts, previous

    def _reads(self, step: str, source: str) -> bool:
        """``step`` is given a value ``source`` returns (an edge Airflow draws itself)."""
        if step in self.branch_reads:
            return self.branch_reads[step] == source
        return any(
            r.source == source for i in self.steps[step].inputs if i.mode != "oneof" for r in i.refs
        )

    def _switch(self, node: Switch) -> tuple[list[str], list[str]]:
        """A ``@task.branch`` on the condition, then each case downstream of it."""
        condition = node.condition
        # a KFP or Flyte condition step's output is called branch: the step names it better
        base = condition.source if condition.name == "branch" else condition.name
        function = free_name(f"{base}_branch", self.taken)
        self.taken.add(function)
        key = f"<branch {function}>"
        handle = free_name(f"{function}_out", self.taken)
        self.taken.add(handle)
        self.handles[key] = handle
        if condition.kind == "param":
            self.lines.append(f"{handle} = {function}()")
        else:
            self.branch_reads[key] = condition.source
            self.lines.append(f"{handle} = {function}({self._value(condition)})")
        firsts: dict[str, list[str]] = {}
        lasts: list[str] = []
        for case in node.cases:
            first, last = self._node(case.body)
            firsts[case.value] = first
            if first:
                targets = ", ".join(self.handles[f] for f in first)
                self.lines.append(f"{handle} >> {targets if len(first) == 1 else f'[{targets}]'}")
            lasts += last
        self.from_switch |= set(lasts)
        self.branches[key] = (function, node, firsts)
        return [key], lasts

    def _branch_task(self, key: str) -> str:
        function, node, firsts = self.branches[key]
        condition = node.condition
        name = condition.name if condition.name not in ("cases", "params") else "value"
        if condition.kind == "param":
            head = "params=None"
            prelude = f"    {name} = {self._param_value(condition.name)}\n"
            kind = next(p for p in self.p.parameters if p.name == condition.name).type.expr
        else:
            output = next(
                o for o in self.steps[condition.source].outputs if o.name == condition.name
            )
            kind = output.type.expr
            head, prelude = f"{name}: {self._type(kind)}", ""
        entries = ", ".join(f"{value}: {first!r}" for value, first in firsts.items())
        values = [_literal(c.value) for c in node.cases]
        message = (
            f"f\"Switch condition variable '{condition.name}' has value '{{{name}}}' \"\n"
            f'            "which is not in the available cases: {values!r}"'
        )
        rule = f"(trigger_rule={JOIN_RULE!r})" if key in self.join_rule else ""
        return (
            f"@task.branch{rule}\ndef {function}({head}) -> list[str]:\n"
            f'    """The switch on {condition.name}: the case its value names runs, the others '
            'are skipped."""\n'
            f"{prelude}"
            f"    cases = {{{entries}}}\n"
            f"    if {name} not in cases:\n"
            f"        raise RuntimeError(\n            {message}\n        )\n"
            f"    return cases[{name}]\n"
        )

    def _call(self, name: str, mapped: Map | None = None) -> None:
        step = self.steps[name]
        handle = free_name(f"{self.functions[name]}_out", self.taken)
        self.taken.add(handle)
        self.handles[name] = handle
        fixed, over = [], []
        for inp in step.inputs:
            ref = inp.refs[0]
            if ref.kind in ("param", "index") or inp.mode == "oneof":
                continue
            if ref.kind == "item":
                over.append(f"{inp.name}={self._collection(mapped)}")
            else:
                fixed.append(f"{inp.name}={self._value(ref)}")
        function = self.functions[name]
        if mapped is None:
            self.lines.append(f"{handle} = {function}({', '.join(fixed)})")
        elif fixed:
            call = f"{function}.partial({', '.join(fixed)}).expand({', '.join(over)})"
            self.lines.append(f"{handle} = {call}")
        else:
            self.lines.append(f"{handle} = {function}.expand({', '.join(over)})")

    def _collection(self, mapped: Map) -> str:
        """What a map expands over: a task's return value. One output of several is pushed
        under its own key, which Airflow cannot map over: a task passes it on."""
        ref = mapped.collection
        param = ref.kind == "param"
        if not param and len(self.steps[ref.source].outputs) == 1:
            return self._value(ref)
        if ref not in self.passed_on:
            name = free_name(
                f"{ref.source}_items" if param else f"{ref.source}_{ref.name}", self.taken
            )
            self.taken.add(name)
            kind = self._type(self._collection_type(ref))
            if param:
                what = f"the parameter {ref.name}"
                head, value, call = "params=None", self._param_value(ref.name), f"{name}()"
            else:
                what = f"{ref.source}'s {ref.name}"
                head, value = f"{ref.name}: {kind}", ref.name
                call = f"{name}({ref.name}={self._value(ref)})"
            self.helpers.append(
                f"@task\ndef {name}({head}) -> {kind}:\n"
                f'    """{what}, as a return value a map can expand over."""\n'
                f"    return {value}\n"
            )
            handle = free_name(f"{name}_out", self.taken)
            self.taken.add(handle)
            self.lines.append(f"{handle} = {call}")
            self.passed_on[ref] = handle
        return self.passed_on[ref]

    def _collection_type(self, ref: Ref) -> str:
        if ref.kind == "param":
            return next(p for p in self.p.parameters if p.name == ref.name).type.expr
        output = next(o for o in self.steps[ref.source].outputs if o.name == ref.name)
        return output.type.expr

    def _value(self, ref: Ref) -> str:
        handle = self.handles[ref.source]
        source = self.steps[ref.source]
        if len(source.outputs) > 1 and ref.source not in self.mapped:
            return f"{handle}[{ref.name!r}]"
        return handle

    def _dag(self) -> str:
        args = []
        cron = None
        assets: list[str] = []
        todos = []
        for option in self.p.options:
            if option.kind == "schedule":
                cron = schedule_cron(option)
                continue
            if option.kind == "launch_settings" and self._kickoff(option):
                continue
            if option.kind == "trigger" and (names := _event_names(option)):
                assets = names
                continue
            if option.kind == "launch_settings":
                note = FRAMEWORK.capabilities["launch_settings"][1]
                message = f"{launch_setting(option)} ({note})"
            elif option.kind == "custom":
                message = custom_flow_message(option, "Airflow")
            else:
                message = f"@{option.kind} on the flow is not carried over to the DAG"
            self.diagnostics.append(
                Diagnostic("TP202", "warning", message, option.span, lossy=True)
            )
            todos.append(f"{todo('TP202', message)}\n")
        if cron and assets:  # Airflow 3 can say both (AssetOrTimeSchedule); not written yet
            message = "@trigger on the flow is not carried over to the DAG (it has a schedule)"
            span = next(o.span for o in self.p.options if o.kind == "trigger")
            self.diagnostics.append(Diagnostic("TP202", "warning", message, span, lossy=True))
            todos.append(f"{todo('TP202', message)}\n")
        if cron:
            self.std_imports.add("from datetime import datetime")
            args += [
                f"schedule={cron!r}",
                "start_date=datetime(2025, 1, 1)",
                "catchup=False",
            ]
        elif assets:
            self.sdk.add("Asset")
            args.append(f"schedule=[{', '.join(f'Asset({a!r})' for a in assets)}]")
            message = (
                f"the flow's trigger on {' and '.join(map(repr, assets))} is an Asset schedule: "
                "the DAG runs when a task with that outlet, or a call to Airflow's API, "
                "updates the asset (not when the event is published)"
            )
            span = next(o.span for o in self.p.options if o.kind == "trigger")
            self.diagnostics.append(Diagnostic("TP202", "info", message, span))
        else:
            args.append("schedule=None")
        if self.p.parameters:
            self.sdk.add("Param")
            entries = ", ".join(f"{p.name!r}: {self._param(p)}" for p in self.p.parameters)
            args.append(f"params={{{entries}}}")
        doc = docstring(converted_doc(self.p, frameworks.get(self.p.framework)))
        body = "\n".join(_used_handles(self.lines, set(self.handles.values()))) or "pass"
        name = self.dag_name
        holder = free_name(f"{name}_dag", self.taken)
        return (
            f"{''.join(todos)}@dag({', '.join(args)})\ndef {name}():\n{doc}\n{indent_block(body)}\n\n\n"
            f"{holder} = {name}()\n\n\n"
            f'if __name__ == "__main__":\n    {holder}.test()\n'
        )

    def _kickoff_inputs(self) -> set[str]:
        """The inputs a schedule's kickoff_time_input_arg names (see _kickoff), before any
        task reads them."""
        found = set()
        for option in self.p.options:
            name = (
                literal(option.arg("kickoff_time_input_arg"))
                if option.kind == "launch_settings"
                else None
            )
            param = next((p for p in self.p.parameters if p.name == name), None)
            if (
                param is not None
                and param.kind == "value"
                and iso_class(param.type.expr) == "datetime"
            ):
                found.add(param.name)
        return found

    def _kickoff(self, option: Option) -> bool:
        """A schedule's ``kickoff_time_input_arg``: the scheduled time, which Airflow gives a run
        as its logical date. The input defaults to None (Airflow refuses a schedule on a DAG
        with a required param) and a task reads the logical date where it was not given."""
        name = literal(option.arg("kickoff_time_input_arg"))
        if name not in self.kickoffs:
            return False
        message = (
            f"input {name} is the scheduled time: a run that does not set it reads the "
            "run's logical date (Airflow's scheduled time)"
        )
        self.diagnostics.append(Diagnostic("TP201", "info", message, option.span))
        return True

    def _param(self, param) -> str:
        parts = [] if param.default is None else [param.default]
        kind = PARAM_TYPES.get(param.type.expr.split("[")[0])
        cls = iso_class(param.type.expr) if param.kind == "value" else None
        if param.name in self.kickoffs:  # see _kickoff
            return 'Param(None, type=["null", "string"])'
        if cls is not None:  # a date or time: ISO 8601 text, made a date where a task reads it
            kind = "string"
            message = (
                f"parameter '{param.name}' ({param.type.expr}) is ISO 8601 text: a DAG's params "
                f"are JSON; each task reads it back with {cls}.fromisoformat"
            )
            self.diagnostics.append(Diagnostic("TP221", "info", message, param.span))
            if param.default not in (None, "None"):
                default, known = iso_default(param.default, cls)
                parts = [default]
                if not known:
                    message = (
                        f"parameter '{param.name}' defaults to {param.default[:60]}, worked out "
                        "when Airflow parses the DAG file, where Flyte works it out when it "
                        "registers the workflow"
                    )
                    self.diagnostics.append(
                        Diagnostic("TP201", "warning", message, param.span, lossy=True)
                    )
        if kind and param.kind == "value":
            parts.append(f"type={kind!r}")
        if param.help:
            parts.append(f"description={param.help!r}")
        return f"Param({', '.join(parts)})"


CONTEXT = {
    "run_id": 'get_current_context()["run_id"]',
    "task_id": 'get_current_context()["ti"].task_id',
    "retry_count": 'get_current_context()["ti"].try_number - 1',
    "is_running_flow": "True",
}


TYPING_MODULES = {"typing", "typing_extensions", "collections.abc"}


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _without_unused_typing(code: str) -> str:
    """``code`` less the names of typing imports nothing uses any more (a KFP or Flyte source
    imports NamedTuple for outputs that become dicts here)."""
    tree = ast.parse(code)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    lines = code.splitlines(keepends=True)
    for node in tree.body:
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or node.lineno != node.end_lineno:
            continue
        if isinstance(node, ast.ImportFrom) and node.module in TYPING_MODULES:
            kept = [a for a in node.names if (a.asname or a.name) in used]
            if len(kept) == len(node.names):
                continue
            names = ", ".join(f"{a.name} as {a.asname}" if a.asname else a.name for a in kept)
            lines[node.lineno - 1] = f"from {node.module} import {names}\n" if kept else ""
        elif (
            isinstance(node, ast.Import)
            and [a.name for a in node.names] == ["typing"]
            and (node.names[0].asname or "typing") not in used
        ):
            lines[node.lineno - 1] = ""
    return "".join(lines)


def _named_tuples(definitions: tuple[str, ...]) -> set[str]:
    """The module's NamedTuple classes (``class P(NamedTuple)``, ``P = namedtuple(...)``)."""
    names = set()
    for text in definitions:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases}
                if "NamedTuple" in bases:
                    names.add(node.name)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                called = ast.unparse(node.value.func).rsplit(".", 1)[-1]
                if called in ("namedtuple", "NamedTuple"):
                    names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


# decorators of the classes Airflow's serde carries by their fields (dataclasses, attrs)
FIELD_CLASSES = {"dataclass", "define", "frozen", "mutable", "s", "attrs"}


def _xcom_classes(definitions: tuple[str, ...]) -> list[str]:
    """The module-level classes a task may return that Airflow's serde writes by class name
    (dataclasses, attrs classes, pydantic models, classes with their own ``serialize``): a task
    pulling one loads it only if its class is allowed (``allow_class``; else the deployment's
    ``[core] allowed_deserialization_classes``)."""
    names = []
    for text in definitions:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and _carried_by_serde(node):
                names.append(node.name)
    return names


def _carried_by_serde(node: ast.ClassDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in FIELD_CLASSES:
            return True
    bases = {b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases}
    methods = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
    return "BaseModel" in bases or {"serialize", "deserialize"} <= methods


def _used_handles(lines: list[str], handles: set[str]) -> list[str]:
    """``lines`` without the assignment of a handle nothing else reads (ruff's F841)."""
    text = "\n".join(lines)
    kept = []
    for line in lines:
        name, sep, call = line.partition(" = ")
        if sep and name in handles and len(re.findall(rf"\b{re.escape(name)}\b", text)) == 1:
            line = call
        kept.append(line)
    return kept


def _mapped_steps(flow: Node) -> set[str]:
    return {
        n.step
        for m in walk(flow)
        if isinstance(m, Map)
        for n in walk(m.body)
        if isinstance(n, Task)
    }


def _module_names(pipeline: Pipeline) -> set[str]:
    names = set()
    for text in (*pipeline.module.imports, *pipeline.module.definitions):
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _split_imports(user: tuple[str, ...], ours: set[str]) -> tuple[list[str], list[str]]:
    """Standard-library imports (ours and the user's) first, then the user's third-party ones."""
    std = sorted(ours - set(user), key=lambda line: (line.startswith("from"), line))
    third = []
    for line in user:
        module = line.split()[1].split(".")[0]
        (std if module in sys.stdlib_module_names else third).append(line)
    return std, third


def _event_names(option: Option) -> list[str]:
    """The event names of a ``@trigger(event=...)`` / ``(events=[...])`` given as plain
    strings (an event with a payload mapping to parameters has no Asset form)."""
    text = option.arg("event") or option.arg("events")
    try:
        value = ast.literal_eval(text) if text else None
    except (ValueError, SyntaxError):
        return []
    names = [value] if isinstance(value, str) else value
    if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
        return names
    return []


def _parsed(body: str) -> cst.Module:
    try:
        return cst.parse_module(body)
    except cst.ParserSyntaxError:
        return cst.Module([])


def _shadowed_module(expr: str, modules: frozenset[str]) -> bool:
    """Whether ``expr`` names a module's attribute (``datetime.datetime``,
    ``collections.Counter[str]``) where ``modules`` (the names the module's imports bind to a
    module) lack it (``from datetime import datetime`` binds the class): the annotation would
    fail when Airflow loads the DAG, or name a stub."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return False
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            while isinstance(node, ast.Attribute):
                node = node.value
            if isinstance(node, ast.Name) and node.id != "typing":
                roots.add(node.id)
    return bool(roots - modules)


def _imported_modules(imports: tuple[str, ...]) -> frozenset[str]:
    """The names ``import x`` / ``import x.y as z`` lines bind to a module."""
    modules = set()
    for text in imports:
        try:
            parsed = ast.parse(text)
        except SyntaxError:
            continue
        for stmt in parsed.body:
            if isinstance(stmt, ast.Import):
                modules |= {a.asname or a.name.split(".")[0] for a in stmt.names}
    return frozenset(modules)
