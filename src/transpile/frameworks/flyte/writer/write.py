"""Write a pipeline model as a Flyte (flytekit) module: typed @task functions and a @workflow."""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass

import libcst as cst

from transpile import frameworks
from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import (
    Input,
    Map,
    Node,
    Option,
    Parallel,
    Pipeline,
    Ref,
    Sequence,
    Step,
    Switch,
    Task,
)
from transpile.reading.cst import code
from transpile.util.syntax import quiet_tree
from transpile.util.text import todo
from transpile.writing.cards import Content, carry_cards, html_table, markdown_text
from transpile.writing.current import CurrentRewriter
from transpile.writing.flow import FunctionText, numbered_name
from transpile.writing.missing import provide_missing
from transpile.writing.options import handler_inputs
from transpile.writing.passthrough import without_empty_ends
from transpile.writing.render import (
    camel_case,
    finish,
    free_name,
    module_header,
    render,
    snake_case,
)

from .flow import FlowEmitter
from .module_state import ModuleState
from .types import collected_type, is_tuple

FAILURE_DOC = "Added by transpile: the failure handler "
CONTEXT = {
    "run_id": "current_context().execution_id.name",
    "task_id": "current_context().task_id",
    "retry_count": "0",
    "is_running_flow": "True",
}


def write(pipeline: Pipeline) -> tuple[str, list[Diagnostic]]:
    pipeline, dropped = without_empty_ends(pipeline)
    code, diagnostics = FlyteWriter(pipeline).write()
    return code, [*dropped, *diagnostics]


@dataclass
class TaskView(FunctionText):
    """One ``@task`` function, with the NamedTuple of its outputs when it has several."""

    output_class: tuple[str, list[tuple[str, str]]] | None


class FlyteWriter(ModuleState):
    """Writes the module: tasks, the workflow (flow.py), imports."""

    def write(self) -> tuple[str, list[Diagnostic]]:
        tasks = [self._task(step) for step in self.p.steps]
        emitter = FlowEmitter(self)
        workflow = emitter.workflow()
        hook = next((o for o in self.p.options if o.kind == "exit_hook" and o.arg("inputs")), None)
        if hook is not None:
            failure = self._failure_task(hook, workflow.signature)
            tasks.append(failure)
            workflow.decorator = f"@workflow(on_failure={failure.name})"
        options = tuple(o for o in self.p.options if o is not hook)
        cron, flow_settings = self.options.schedule(options)
        if cron:
            self.flytekit |= {"CronSchedule", "LaunchPlan"}
        std, third = _split_imports(self.p.module.imports, self.std_imports)
        if self.flytekit_files:
            third = ["from flytekit.types.file import FlyteFile", *third]
        if self.markdown_decks:
            third = ["from flytekit.deck import MarkdownRenderer", *third]
        if self.client:
            third = [*third, f"from kubernetes.client import {', '.join(sorted(self.client))}"]
        code = render(
            "flyte/module.py.j2",
            header=module_header(self.p, frameworks.get(self.p.framework)),
            doc=self.p.doc,
            std_imports=std,
            flytekit=sorted(self.flytekit),
            imports=third,
            definitions=list(self.p.module.definitions),
            tasks=tasks,
            extras=emitter.extra_defs,
            defaults=emitter.defaults,
            workflow=workflow,
            flow_todos=flow_settings.todos,
            cron=cron,
            required=[(p.name, _cli_type(p)) for p in self.p.parameters if p.default is None],
        )
        code = _without_unused(code, self.exit_modules)
        code, missing = provide_missing(code, self.p.span, self.p.module)
        notes = [
            Diagnostic("TP201", "info", LOCAL_CASES.format(case=case), self.p.span)
            for case in _cases_going_on_after_a_conditional(code)
        ]
        return finish(code, self.p.span.file), [*self.diagnostics, *missing, *notes]

    def _failure_task(self, hook: Option, signature: str) -> TaskView:
        """A failure handler (a module function; ``inputs`` names the pipeline inputs it takes,
        ``err`` is None) as the task of ``@workflow(on_failure=...)``: Flyte wants that task's
        inputs to be the workflow's, so it takes them all and hands on what the handler takes."""
        handler = hook.arg("on_error", "[]").strip("[]")
        name = free_name(f"{handler}_task", self.taken)
        self.taken.add(name)
        args = ", ".join(f"{n}=None" if n == "err" else f"{n}={p}" for n, p in handler_inputs(hook))
        doc = f"{FAILURE_DOC}{handler}, run by Flyte when the workflow fails."
        message = f"the failure handler {handler} runs as the workflow's on_failure task {name}"
        self.diagnostics.append(Diagnostic("TP201", "info", message, hook.span))
        return TaskView(name, "@task", [], signature, "None", doc, f"{handler}({args})\n", None)

    # tasks -----------------------------------------------------------------------------------------
    def _task(self, step: Step) -> TaskView:
        options = (
            *step.options,
            *(o for o in self.p.options if o.kind in ("pypi_base", "conda_base")),
        )
        settings = self.options.task_settings(tuple(options))
        self.flytekit |= settings.imports
        self.std_imports |= settings.std_imports
        self.client |= settings.client
        decorator = (
            "@task"
            if not settings.args
            else f"@task({', '.join(f'{k}={v}' for k, v in settings.args)})"
        )
        params = ", ".join(f"{i.name}: {self.input_type(i)}" for i in step.inputs)
        prelude = [
            self._retuple(i)
            for i in step.inputs
            if is_tuple(i.type.expr[5:-1] if i.mode == "collected" else i.type.expr)
        ]
        prelude += [self._read_file(i) for i in step.inputs if self.file_param(i.refs[0])]
        body = self._exits(step, self._context(step, step.body))
        settings.todos += self.todos.get(step.name, [])
        output_class, returns, ret = self._outputs(step)
        lines = [*prelude, *([body.rstrip("\n")] if body.strip() else []), *([ret] if ret else [])]
        text = "\n".join(lines) if lines else ("pass" if not step.doc else "")
        return TaskView(
            self.functions[step.name],
            decorator,
            settings.todos,
            params,
            returns,
            step.doc,
            text,
            output_class,
        )

    def file_param(self, ref: Ref) -> bool:
        """IncludeFile parameters travel as FlyteFile and are read where a step uses them."""
        return ref.kind == "param" and any(
            p.name == ref.name and p.kind == "file" for p in self.p.parameters
        )

    def input_type(self, inp: Input) -> str:
        if self.file_param(inp.refs[0]):
            self.flytekit_files = True
            return "FlyteFile"
        if inp.mode == "collected":
            return self.collected(inp.type.expr[5:-1])
        return self.ftype(inp.type.expr)

    def collected(self, element: str) -> str:
        text = collected_type(element, self.classes)
        if "typing." in text:
            self.std_imports.add("import typing")
        return text

    @staticmethod
    def _retuple(inp: Input) -> str:
        """Tuples travel as lists (Flyte refuses tuple values); the consumer gets its tuples back."""
        if inp.mode == "collected":
            return f"{inp.name} = [tuple(value) for value in {inp.name}]"
        return f"{inp.name} = tuple({inp.name})"

    def _read_file(self, inp: Input) -> str:
        self.std_imports.add("import pathlib")
        param = next(p for p in self.p.parameters if p.name == inp.refs[0].name)
        method = "read_text" if param.is_text else "read_bytes"
        return f"{inp.name} = pathlib.Path({inp.name}.download()).{method}()"

    def _outputs(self, step: Step):
        if not step.outputs:
            return None, "None", None
        wire = [f"list({o.var})" if is_tuple(o.type.expr) else o.var for o in step.outputs]
        if len(step.outputs) == 1:
            return None, self.ftype(step.outputs[0].type.expr), f"return {wire[0]}"
        name = self.output_class_name(step)
        self.std_imports.add("from typing import NamedTuple")
        fields = [(o.name, self.ftype(o.type.expr)) for o in step.outputs]
        args = ", ".join(f"{o.name}={w}" for o, w in zip(step.outputs, wire))
        return (name, fields), name, f"return {name}({args})"

    def output_class_name(self, step: Step) -> str:
        return free_name(f"{camel_case(step.name)}Outputs", self.taken)

    def _cards(self, step: Step, body: str) -> str:
        """Card content Flyte shows exactly, to the task's Decks: a card without an id is the
        default Deck, one with an id the Deck of that name (``enable_deck=True`` comes with the
        ``@card``); other card statements are dropped with a TODO."""
        taken = set(re.findall(r"\w+", body)) | self.taken
        decks: dict[str, str] = {}

        def deck(card: str | None) -> str:
            if card is None:
                self.flytekit.add("current_context")
                return "current_context().default_deck"
            if card not in decks:
                word = re.sub(r"\W", "_", card).strip("_").lower() or "card"
                decks[card] = numbered_name(f"{word}_deck", taken)
            return decks[card]

        def render(content: Content) -> list[str]:
            target = deck(content.card)
            lines = []
            for piece in content.pieces:
                if piece.kind == "table":
                    lines.append(f"{target}.append({html_table(piece)!r})")
                    continue
                self.markdown_decks = True
                if piece.literal is None:
                    self.std_imports.add("import textwrap")
                text = markdown_text(piece)
                lines.append(f"{target}.append(MarkdownRenderer().to_html({text}))")
            return lines

        body, _, _ = carry_cards(body, step.options, render)
        if decks:
            self.flytekit.add("Deck")
        prelude = [f"{name} = Deck({card!r})" for card, name in decks.items()]
        return "".join(f"{line}\n" for line in prelude) + body

    def _context(self, step: Step, body: str) -> str:
        """`current.<attr>` left in a body: Flyte's nearest equivalent, or a TODO."""
        if "current." not in body:
            return body
        body = self._cards(step, body)
        if "current." not in body:
            return body
        rewriter = CurrentRewriter(CONTEXT, "current_context")
        text = "".join(
            cst.parse_module(part).visit(rewriter).code if "current." in part else part
            for part in _statement_texts(body)
        )
        if rewriter.used_context:
            self.flytekit.add("current_context")
        for name in rewriter.missing:
            self.todos.setdefault(step.name, []).append(
                todo("TP211", f"current.{name} has no Flyte equivalent; it is None here")
            )
        return text

    def _exits(self, step: Step, body: str) -> str:
        """``sys.exit(...)`` ends a step's own process in Metaflow and KFP; a local Flyte run
        executes every task in one process, so there it fails the task instead of ending the
        run (remotely the task would fail as well)."""
        if "exit(" not in body and "quit(" not in body:
            return body
        rewriter = _ExitRewriter(has_outputs=bool(step.outputs))
        module = cst.parse_module(body).visit(rewriter)
        self.exit_modules |= rewriter.modules
        if rewriter.modules or rewriter.count:
            message = (
                f"sys.exit in step {step.name} ends the task (a status other than 0 raises "
                "RuntimeError): in a local Flyte run it would end the whole run"
            )
            self.diagnostics.append(Diagnostic("TP201", "info", message, step.span))
        return module.code


def _statement_texts(body: str) -> list[str]:
    """``body`` cut after each top-level statement (a comment or blank line goes with the
    statement after it), so that only the parts that hold something to rewrite are parsed and
    walked with libcst; the parts joined are ``body``. Python's own parser finds where each
    statement ends; a body it cannot cut that way is one part."""
    if "\r" in body:
        return [body]
    try:
        ends = sorted({statement.end_lineno or 0 for statement in quiet_tree(body).body})
    except (SyntaxError, ValueError):
        return [body]
    lines = body.split("\n")
    parts, start = [], 0
    for end in ends:
        if end > start:
            parts.append("\n".join(lines[start:end]) + ("\n" if end < len(lines) else ""))
            start = end
    rest = "\n".join(lines[start:])
    if rest:
        parts.append(rest)
    return parts


EXITS = {"sys.exit", "exit", "quit", "os._exit"}
LOCAL_CASES = (
    "workflow {case} runs as a case of a conditional and goes on after a conditional of its own: "
    "a local Flyte run (pyflyte run without --remote) runs nothing after that conditional "
    "(flytekit marks the whole case done there); on a Flyte cluster it runs as written"
)


def _cases_going_on_after_a_conditional(code: str) -> list[str]:
    """The case workflows (a conditional's ``.then``) with a node after a conditional of their
    own, which flytekit's local execution skips (checked with flytekit 1.16.31)."""
    tree = ast.parse(code)
    cases = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "then"
            and node.args
            and isinstance(node.args[0], ast.Call)
            and isinstance(node.args[0].func, ast.Name)
        ):
            cases.add(node.args[0].func.id)
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in cases:
            seen_conditional = False
            for stmt in node.body:
                if seen_conditional and not isinstance(stmt, ast.Pass | ast.Return):
                    found.append(node.name)
                    break
                seen_conditional |= "conditional(" in ast.unparse(stmt)
    return found


class _ExitRewriter(cst.CSTTransformer):
    """A statement that only calls ``sys.exit(code)``: the status the process would end with
    decides, as it does for a KFP component or a Metaflow step: ``0``/``None`` (or no argument)
    ends the task successfully (``return``; a task whose outputs are not made yet fails, as its
    KFP component would), anything else fails it (``raise RuntimeError(code)``). Inside a nested
    function, where ``return`` would not end the task, every exit fails it."""

    def __init__(self, has_outputs: bool = False) -> None:
        self.count = 0
        self.modules: set[str] = set()  # sys, os: an import the body may no longer need
        self.has_outputs = has_outputs
        self.depth = 0  # nested functions and lambdas around the statement

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef):
        self.depth -= 1
        return updated

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.depth += 1

    def leave_Lambda(self, original: cst.Lambda, updated: cst.Lambda):
        self.depth -= 1
        return updated

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ):
        if len(updated.body) != 1 or not isinstance(updated.body[0], cst.Expr):
            return updated
        call = updated.body[0].value
        if not isinstance(call, cst.Call) or code(call.func) not in EXITS:
            return updated
        self.count += 1
        self.modules.add(code(call.func).partition(".")[0])
        args = [a for a in call.args if a.keyword is None and not a.star]
        status = args[0].value if len(args) == 1 else None
        fails = cst.Raise(cst.Call(cst.Name("RuntimeError"), [cst.Arg(status or _text(call))]))
        if self.depth:
            return updated.with_changes(body=[fails])
        done: cst.BaseSmallStatement = cst.Return()
        if self.has_outputs:
            ended = f"{code(call)} ended the task before it made its outputs"
            done = cst.Raise(cst.Call(cst.Name("RuntimeError"), [cst.Arg(_text(ended))]))
        success = status is None or code(status) in ("0", "None", "False")
        finish = updated.with_changes(body=[done])
        if success:
            return finish
        simple = isinstance(status, cst.Name | cst.Attribute | cst.Call | cst.Subscript)
        shown = code(status) if simple else f"({code(status)})"
        test = cst.parse_expression(f"{shown} not in (None, 0)")
        check = cst.If(test=test, body=cst.IndentedBlock(body=[cst.SimpleStatementLine([fails])]))
        if isinstance(status, cst.Integer | cst.SimpleString):
            return updated.with_changes(body=[fails])  # a literal failure status
        first = check.with_changes(leading_lines=updated.leading_lines)
        return cst.FlattenSentinel([first, finish.with_changes(leading_lines=())])

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        """A ``return`` the rewrite left as the body's last statement says nothing."""
        body = list(updated.body)
        last = body[-1] if body else None
        if (
            self.count
            and isinstance(last, cst.SimpleStatementLine)
            and len(last.body) == 1
            and isinstance(last.body[0], cst.Return)
            and last.body[0].value is None
            and len(body) > 1
        ):
            return updated.with_changes(body=body[:-1])
        return updated


def _text(value: object) -> cst.SimpleString:
    return cst.SimpleString(repr(value if isinstance(value, str) else code(value)))


def _without_unused(code: str, modules: set[str]) -> str:
    """``code`` less a module-level ``import sys`` that no longer has a use."""
    if not modules:
        return code
    tree = ast.parse(code)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    lines = code.splitlines(keepends=True)
    for node in tree.body:
        if (
            isinstance(node, ast.Import)
            and len(node.names) == 1
            and node.names[0].asname is None
            and node.names[0].name in modules - used
        ):
            lines[node.lineno - 1] = ""
    return "".join(lines)


def _cli_type(param) -> str:
    """How the __main__ block's argparse reads a required parameter."""
    if param.kind == "file" or param.type.expr == "str":
        return "str"
    if param.type.expr in ("int", "float"):
        return param.type.expr
    return "json.loads"  # bool, lists, dicts: JSON on the command line


def _split_imports(user: tuple[str, ...], ours: set[str]) -> tuple[list[str], list[str]]:
    """Standard-library imports (ours and the user's) first, then the user's third-party ones."""
    std = sorted(ours - set(user), key=lambda line: (line.startswith("from"), line))
    third = []
    for line in user:
        module = line.split()[1].split(".")[0]
        (std if module in sys.stdlib_module_names else third).append(line)
    return std, third


__all__ = [
    "Input",
    "Map",
    "Node",
    "Parallel",
    "Ref",
    "Sequence",
    "Switch",
    "Task",
    "snake_case",
    "write",
]
