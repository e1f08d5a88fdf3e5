"""The first pass over a Flyte module: imports, tasks, workflows, LaunchPlans and the other code."""

from __future__ import annotations

import re
from dataclasses import replace

import libcst as cst

from transpile.model.diagnostics import (
    Diagnostic,
    TranspileError,
    error,
    no_such_entry,
    other_entries,
)
from transpile.model.ir import Input, Module, Option, Span, TypeRef
from transpile.reading.cst import (
    SpanIndex,
    code,
    code_lines,
    docstring,
    keyword_args,
    positional_args,
)

from . import files
from .context import SCRATCH, ContextRead, neutral_context, scratch_function, uses_context
from .eager import as_workflow
from .imperative import Builder, ImperativeWorkflows
from .names import FlyteNames, words
from .options import TaskOptions
from .siblings import merge_sibling
from .task import (
    FunctionDef,
    annotation_text,
    class_fields,
    namedtuple_fields,
    set_outputs,
    signature,
)

KINDS = ("task", "workflow", "dynamic", "reference_task", "reference_workflow")
UNSUPPORTED = {"container_task"}


class ModuleScan(ImperativeWorkflows):
    """The module's tables (functions, constants, imports, definitions), filled by ``_scan``, and
    what the workflow readers ask of them. FlyteReader (read.py) reads the workflows from here."""

    def __init__(self, module: cst.Module, path: str, spans: SpanIndex | None = None):
        self.module, self.path = module, path
        self.spans = spans or SpanIndex(path, module.code)
        self.names = FlyteNames()
        self.diagnostics: list[Diagnostic] = []
        self.functions: dict[str, FunctionDef] = {}
        self.namedtuples: dict[str, list[tuple[str, str]]] = {}
        self.constants: dict[str, cst.BaseExpression] = {}
        self.imports: list[tuple[set[str], str]] = []
        self.definitions: list[tuple[str | None, str]] = []
        self.launch_plans: list[cst.Call] = []
        self.classes: dict[str, list[tuple[str, str]]] = {}  # other classes: annotated fields
        self.flyte_objects: dict[str, str] = {}  # X = SQLite3Task(...): X → "SQLite3Task"
        self.plugin_names: set[str] = set()  # bound by imports from flytekitplugins
        self.entry_name: str | None = None  # --entry
        self.builders: dict[str, Builder] = {}  # imperative Workflow(...) objects
        self.borrowed: set[str] = set()  # tasks and workflows of sibling modules, not imported
        self.brought: set[str] = set()  # imported from sibling modules by name
        self.plans: dict[str, cst.Call] = {}  # lp = LaunchPlan.get_or_create(...)
        self.chosen_plan: cst.Call | None = None  # --entry naming a launch plan
        self.plan_spans: dict[int, Span] = {}  # id(LaunchPlan call) → its statement's lines
        self._noted_types: set[str] = set()
        self.depth, self.visited = 0, {str(path)}
        self.file_params: set[str] = set()
        self._options: dict[str, tuple[Option, ...]] = {}
        self._scratch: str | None = None  # the name of Flyte's working_directory (context.py)

    @property
    def file_span(self) -> Span:
        """The whole file, for searches that may match anywhere."""
        return whole_file(self.path, len(self.spans.lines))

    def flyte_names(self) -> set[str]:
        """Local names bound to flytekit (and the Union SDK) or to one of its plugins."""
        return set(self.names.names) | self.names.modules | self.plugin_names

    def type_name(self, node: cst.BaseExpression, depth: int = 0) -> str | None:
        """flytekit's name for a type, through module aliases (``CSVFile = FlyteFile[...]``)."""
        alias = self.constants.get(code(node))
        if alias is not None and depth < 5:
            inner = alias.value if isinstance(alias, cst.Subscript) else alias
            return self.type_name(inner, depth + 1)
        return self.names.resolve(node)

    def task_options(self, fn: FunctionDef) -> tuple[Option, ...]:
        if fn.name not in self._options:
            reader = TaskOptions(self.names, self.diagnostics, fn.span, self.constants)
            self._options[fn.name] = tuple(reader.read(fn.decorator.decorator))
        return self._options[fn.name]

    def file_inputs(self, fn: FunctionDef, inputs: list[Input], body: str) -> str:
        """A FlyteFile workflow input reaches a task as the file's text, as Metaflow's IncludeFile."""
        for number, inp in enumerate(inputs):
            ref = inp.refs[0]
            if ref.kind == "param" and ref.name in self.file_params:
                inputs[number] = replace(inp, type=TypeRef("str", "annotation"))
                pattern = (
                    rf"{inp.name} = pathlib\.Path\({inp.name}\.download\(\)\)\.read_text\(\)\n"
                )
                if re.match(pattern, body):
                    body = re.sub(pattern, "", body, count=1)
                else:
                    message = f"task '{fn.name}' reads FlyteFile '{inp.name}' as a file; it now gets the text"
                    self.diagnostics.append(
                        Diagnostic("TP202", "warning", message, fn.span, lossy=True)
                    )
        return body

    # module ---------------------------------------------------------------------------------------
    def _scan(self) -> None:
        self.scan_module(entry=True)

    def scan_module(self, entry: bool) -> None:
        """Fill the tables; the entry module must hold a workflow (a sibling need not)."""
        for stmt in self.module.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                self._simple(stmt)
            elif (
                isinstance(stmt, cst.FunctionDef)
                and self._function(stmt)
                or isinstance(stmt, cst.Try)
                and self._fallback_import(stmt)
                or isinstance(stmt, (cst.If, cst.With))
                and self._image_imports(stmt)
            ):
                continue
            elif isinstance(stmt, cst.ClassDef) and class_fields(stmt) is not None:
                self.namedtuples[stmt.name.value] = class_fields(stmt)  # type: ignore[assignment]
                self.definitions.append((stmt.name.value, code(stmt).strip("\n")))
            elif not _is_main_guard(stmt):
                if isinstance(stmt, cst.ClassDef):
                    self.classes[stmt.name.value] = annotated_fields(stmt)
                name = (
                    stmt.name.value if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)) else None
                )
                self.definitions.append((name, code(stmt).strip("\n")))
        for fn in self.functions.values():
            set_outputs(fn, self.namedtuples)
        for node, builder in zip(self.imperative_functions(), self.builders.values()):
            decorator = cst.Decorator(cst.Name("workflow"))
            params = signature(node, builder.span)
            fn = FunctionDef("workflow", builder.var, node, builder.span, params, decorator)
            self.functions[fn.name] = fn
            set_outputs(fn, self.namedtuples)
        own = [f for f in self.functions.values() if f.name not in self.borrowed]
        if entry and not any(f.kind == "workflow" for f in own):
            tasks = [f.name for f in own if f.kind != "workflow"]
            why = (
                f" (a module of tasks only: {', '.join(tasks[:5])}{'...' if len(tasks) > 5 else ''}"
                "; a workflow that imports them from here reads them with it)"
                if tasks
                else ""
            )
            raise error("TP005", f"no Flyte @workflow found{why}", None)
        if entry:
            self.definitions = [d for d in self.definitions if not self._runs_at_import(*d)]

    def _simple(self, stmt: cst.SimpleStatementLine) -> None:
        first = stmt.body[0]
        span = self.spans.find(code(stmt).strip(), self.file_span)
        if isinstance(first, (cst.Import, cst.ImportFrom)):
            imports = [s for s in stmt.body if isinstance(s, (cst.Import, cst.ImportFrom))]
            flytekit = [self.names.add_import(s, span) for s in imports]  # record every alias
            if not any(flytekit):
                stmt = self._siblings(stmt, span)
                if stmt is None:
                    return
                self._import(stmt)
                if any(_imports_from(s, "flytekitplugins") for s in imports):
                    self.plugin_names |= self.imports[-1][0] if self.imports else set()
            return
        if len(stmt.body) == 1 and self.imperative_statement(first, span):
            return
        if isinstance(first, (cst.Assign, cst.Expr)) and self._launch_plan(first.value):
            last = span.line + len(code_lines(code(stmt))) - 1
            self.plan_spans[id(first.value)] = replace(span, end_line=last, end_column=0)
            if isinstance(first, cst.Assign) and isinstance(first.targets[0].target, cst.Name):
                self.plans[first.targets[0].target.value] = first.value  # type: ignore[assignment]
            return
        if isinstance(first, cst.Expr) and isinstance(first.value, cst.SimpleString):
            return  # the module docstring
        if isinstance(first, (cst.Assign, cst.AnnAssign)) and first.value is not None:
            targets = first.targets if isinstance(first, cst.Assign) else [first]
            made = self.flyte_object(first.value)
            for target in targets:
                if isinstance(target.target, cst.Name) and made:
                    self.flyte_objects[target.target.value] = made
                if isinstance(target.target, cst.Name):
                    self.constants[target.target.value] = first.value
                    if namedtuple_fields(first.value) is not None:
                        self.namedtuples[target.target.value] = namedtuple_fields(first.value)  # type: ignore[assignment]
            name = targets[0].target.value if isinstance(targets[0].target, cst.Name) else None
            self.definitions.append((name, code(stmt).strip("\n")))
            return
        self.definitions.append((None, code(stmt).strip("\n")))

    def _siblings(
        self, stmt: cst.SimpleStatementLine, span: Span
    ) -> cst.SimpleStatementLine | None:
        """Names imported from modules of the same tree are read from there; the statement
        without them (None when nothing is left)."""
        body = []
        for small in stmt.body:
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                brought = merge_sibling(self, small, span)
                if brought:
                    rest = [
                        a
                        for a in small.names
                        if code(a.asname.name if a.asname else a.name) not in brought
                    ]
                    if not rest:
                        continue
                    rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                    small = small.with_changes(names=rest)  # its parentheses stay
            body.append(small)
        if not body:
            return None
        body[-1] = body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return stmt.with_changes(body=body)

    def _image_imports(self, stmt: cst.If | cst.With) -> bool:
        """``if image.is_container():`` / ``with image.imports():`` around imports: Flyte's way
        to import what only the task image has. Here the imports are plain imports."""
        if isinstance(stmt, cst.If):
            test, extra = stmt.test, stmt.orelse
        else:
            test, extra = (stmt.items[0].item if len(stmt.items) == 1 else None), None
        if not isinstance(test, cst.Call) or not isinstance(test.func, cst.Attribute):
            return False
        if test.func.attr.value not in ("is_container", "imports") or extra is not None:
            return False
        if code(test.func.value) not in self.flyte_objects:
            return False
        lines = list(stmt.body.body)  # type: ignore[union-attr]
        if not all(
            isinstance(s, cst.SimpleStatementLine)
            and all(isinstance(x, (cst.Import, cst.ImportFrom)) for x in s.body)
            for s in lines
        ):
            return False
        for line in lines:
            self._simple(line)  # type: ignore[arg-type]
        return True

    def _fallback_import(self, stmt: cst.Try) -> bool:
        """``try: from .tasks import t`` / ``except ImportError: from tasks import t``: when the
        first form names a module of the tree, it is read from there and the whole try goes."""
        lines = list(stmt.body.body)  # type: ignore[union-attr]
        imports = [
            s for s in lines
            if isinstance(s, cst.SimpleStatementLine)
            and all(isinstance(x, cst.ImportFrom) for x in s.body)
        ]  # fmt: skip
        if not lines or len(imports) != len(lines):
            return False
        span = self.spans.find(code(stmt).strip(), self.file_span)
        # when part of it is not in the tree, the try stays as written
        return all(self._siblings(s, span) is None for s in imports)

    def _runs_at_import(self, name: str | None, text: str) -> bool:
        """``simple_wf_lp(x=[1])``, ``print(wf())``, ``result = wf(n=3)`` at module level: the
        source runs its pipeline when imported (a local trial); the output does not."""
        try:
            stmt = cst.parse_statement(text)
        except cst.ParserSyntaxError:
            return False
        if not isinstance(stmt, cst.SimpleStatementLine) or name in self.functions:
            return False
        runs = set(self.functions) | set(self.plans) | set(self.flyte_objects)
        heads = set()
        for small in stmt.body:
            value = getattr(small, "value", None)
            while isinstance(value, cst.Call):
                heads.add(code(value.func).split(".")[0])
                inner = [a.value for a in value.args if isinstance(a.value, cst.Call)]
                value = inner[0] if len(inner) == 1 else None
        if not heads & runs:
            return False
        line = _first_code_line(text)
        span = self.spans.find(line, self.file_span)
        message = f"`{line[:60]}` runs the pipeline when the module is imported; not carried over"
        self.diagnostics.append(Diagnostic("TP201", "info", message, span))
        return True

    def portable(self, kind: TypeRef, span: Span | None = None) -> TypeRef:
        """A type the output module can name: one that names flytekit's (``StructuredDataset``,
        ``FlyteSchema[kwtypes(...)]`` or an alias of it) travels as typing.Any, saying so."""
        flyte = self.flyte_names()
        aliases = {name for name, value in self.constants.items() if words(code(value)) & flyte}
        found = sorted(words(kind.expr) & (flyte | aliases))
        if not found:
            return kind
        message = (
            f"type {kind.expr} ({', '.join(found)}: flytekit's) travels as typing.Any; "
            "the code that uses it may need the value in another form"
        )
        if message not in self._noted_types:
            self._noted_types.add(message)
            self.diagnostics.append(Diagnostic("TP202", "warning", message, span, lossy=True))
        return TypeRef("typing.Any", "fallback")

    def need_file_shims(self, kinds: set[str]) -> None:
        """The output module's own FlyteFile / FlyteDirectory classes (``files.py``)."""
        for kind in sorted(kinds):
            name, text = files.SHIMS[kind]
            if (name, text) not in self.definitions:
                self.definitions.insert(0, (name, text))
        if not any("os" in bound for bound, _ in self.imports):
            self.imports.append(({"os"}, "import os"))

    def flyte_object(self, value: cst.BaseExpression) -> str | None:
        """``SQLite3Task(...)``, ``ShellTask(...)``, ``ImageSpec(...)``...: what flytekit (or one
        of its plugins) constructs, by the constructor's name; None for anything else."""
        if not isinstance(value, cst.Call):
            return None
        resolved = self.names.resolve(value)
        if resolved is not None:
            return resolved
        head = (code(value.func).split(".") or [""])[0]
        return code(value.func).split(".")[-1] if head in self.plugin_names else None

    def _helpers_context(self) -> None:
        """A helper function a task calls reads flytekit's run context as a task body does."""
        for number, (name, text) in enumerate(self.definitions):
            if name in self.functions or not uses_context(text):
                continue
            read = self.context(text, f"function {name}", self.file_span)
            if read.body != text:
                self.definitions[number] = (name, read.body.strip("\n"))

    def context(self, body: str, where: str, within: Span) -> ContextRead:
        """``body`` with flytekit's run context in the model's terms (context.py); the imports
        and the scratch-directory function it needs join the module."""
        if self._scratch is None:
            taken = self.module_names() | set(self.functions) | set(self.flyte_objects)
            self._scratch = SCRATCH
            while self._scratch in taken:
                self._scratch += "_"
        read = neutral_context(
            body, self.names, self.constants, self._scratch, where, self.spans, within
        )
        self.diagnostics += read.diagnostics
        imports = set(read.imports)
        if read.scratch and not any(n == self._scratch for n, _ in self.definitions):
            imports |= {"functools", "tempfile"}
            self.definitions.append((self._scratch, scratch_function(self._scratch)))
        bound = set().union(set(), *(b for b, _ in self.imports))
        for name in sorted(imports - bound):
            self.imports.append(({name}, f"import {name}"))
        return read

    def module_names(self) -> set[str]:
        """Names the module binds that an output module can carry (not flytekit's own)."""
        found = {name for name, _ in self.definitions if name is not None}
        found |= set(self.constants) | set().union(set(), *(bound for bound, _ in self.imports))
        return found - set(self.flyte_objects) - set(self.functions)

    def _import(self, stmt: cst.SimpleStatementLine) -> None:
        text = code(stmt).strip()
        if text.startswith("from __future__"):
            return  # it must open a module: the writers' output does not start with it
        bound: set[str] = set()
        for small in stmt.body:
            if not isinstance(small, (cst.Import, cst.ImportFrom)):
                continue
            names = small.names if not isinstance(small.names, cst.ImportStar) else []
            for alias in names:
                local = alias.asname.name if alias.asname else alias.name
                bound.add(code(local).split(".")[0])
        self.imports.append((bound, text))

    def _launch_plan(self, value: cst.BaseExpression) -> bool:
        if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Attribute):
            return False
        if self.names.resolve(value.func.value) != "LaunchPlan":
            return False
        self.launch_plans.append(value)
        return True

    def _function(self, node: cst.FunctionDef) -> bool:
        span = self.spans.span("def", node.name.value)
        kinds = [self.names.resolve(d.decorator) for d in node.decorators]
        refusal = None
        if "eager" in kinds:  # a straight-line one is the workflow it builds (eager.py)
            read = as_workflow(node, span, self.spans)
            if isinstance(read, TranspileError):
                refusal = read
            else:
                node = read
            kinds = ["workflow" if k == "eager" else k for k in kinds]
            message = f"@eager '{node.name.value}' builds the same graph on every run: read as a @workflow"
            if refusal is None:
                self.diagnostics.append(Diagnostic("TP201", "info", message, span))
        for kind in kinds:
            if kind in UNSUPPORTED:
                raise error("TP163", f"@{kind} '{node.name.value}' is not supported", span)
        found = [(d, k) for d, k in zip(node.decorators, kinds) if k in KINDS]
        if not found:
            return False
        decorator, kind = found[0]
        for other, other_kind in zip(node.decorators, kinds):
            if other is not decorator:
                self.diagnostics.append(
                    Diagnostic(
                        "TP202", "warning", f"decorator @{code(other.decorator)} is not carried over",
                        span, lossy=True,
                    )
                )  # fmt: skip
        kind = "reference" if kind.startswith("reference_") else kind
        fn = FunctionDef(kind, node.name.value, node, span, signature(node, span), decorator)
        fn.doc = docstring(node.body)
        fn.refusal = refusal
        self.functions[fn.name] = fn
        return True

    def _entry(self) -> FunctionDef:
        workflows = [
            f
            for f in self.functions.values()
            if f.kind == "workflow" and f.name not in self.borrowed
        ]
        called = self.called_names()
        if self.entry_name is not None:
            return self._chosen_entry(workflows, called)
        entry = self._default_entry(workflows, called)
        called |= {self._plan_workflow(self.plans[n]) for n in self.plans if n in called}  # type: ignore[misc]
        others = [
            f.name
            for f in workflows
            if f.name not in called and f is not entry and f.name not in self.brought
        ]
        plans = [n for w in (entry.name, *others) for n in self.plan_entries(w, called)]
        if others or plans:
            why = "the one a LaunchPlan names, else the last no other workflow calls"
            where = (
                self.functions[others[0]].span
                if others
                else self.plan_span(self._named_plan(plans[0]))  # type: ignore[arg-type]
            )
            note = other_entries("workflow", entry.name, others + plans, where, why)
            self.diagnostics.append(note)
        return entry

    def called_names(self) -> set[str]:
        """The names the module's function bodies refer to (each leaving itself out)."""
        return set().union(*(_used_by(f) for f in self.functions.values()))

    def _chosen_entry(self, workflows: list[FunctionDef], called: set[str]) -> FunctionDef:
        """``--entry NAME``: a workflow, or a launch plan that is an entry of its own (its
        workflow read with its settings)."""
        assert self.entry_name is not None
        chosen = self.functions.get(self.entry_name)
        if chosen is not None and chosen.kind == "workflow":
            return chosen
        plan = self._named_plan(self.entry_name)
        workflow = self._plan_workflow(plan) if plan is not None else None
        if plan is not None and workflow in self.functions:
            self.chosen_plan = plan
            return self.functions[workflow]
        names = [f.name for f in workflows]
        names += [n for w in names for n in self.plan_entries(w, called)]
        raise no_such_entry(self.entry_name, names)

    def plan_entries(self, workflow: str, called: set[str]) -> list[str]:
        """The launch plans of ``workflow`` that are entries of their own: every one but the
        last (the workflow's own module takes that one's inputs and schedule) that has settings
        of its own and a name, no workflow calling it."""
        plans = [c for c in self.launch_plans if self._plan_workflow(c) == workflow]
        called_plans = {id(self.plans[n]) for n in self.plans if n in called}
        found = []
        for call in plans[:-1]:
            name = self.plan_entry_name(call)
            if name is not None and id(call) not in called_plans and own_settings(call):
                found.append(name)
        return found

    def plan_entry_name(self, call: cst.Call) -> str | None:
        """A launch plan's name as an entry: its ``name=`` text, else the variable it is bound
        to; None when it has neither or the name is a function's."""
        name = plan_name(call)
        try:
            text = cst.parse_expression(name)
        except cst.ParserSyntaxError:
            text = None
        found = text.evaluated_value if isinstance(text, cst.SimpleString) else None
        if not isinstance(found, str) or not found:
            found = next((n for n, c in self.plans.items() if c is call), None)
        return None if found is None or found in self.functions else found

    def _named_plan(self, name: str) -> cst.Call | None:
        return next((c for c in self.launch_plans if self.plan_entry_name(c) == name), None)

    def _default_entry(self, workflows: list[FunctionDef], called: set[str]) -> FunctionDef:
        """The workflow of the last launch plan no workflow calls, else the last workflow no
        other calls; the file's own workflows before those it imports. ``called``: the names
        the bodies use."""
        called_plans = {self.plans[n] for n in self.plans if n in called}
        named = [
            self._plan_workflow(call) for call in self.launch_plans if call not in called_plans
        ]
        named = [n for n in named if n in self.functions]
        local = [n for n in named if n not in self.brought]
        named = local or ([] if any(f.name not in self.brought for f in workflows) else named)
        if named:
            return self.functions[named[-1]]
        entries = [f for f in workflows if f.name not in called]
        readable = [f for f in entries if f.refusal is None]  # an @eager one may not be
        return (readable or entries or workflows)[-1]

    def plan_span(self, call: cst.Call, key: str | None = None) -> Span:
        """Where a LaunchPlan is written, or its ``key=`` argument (else the plan's first line)."""
        span = self.plan_spans.get(id(call))
        if span is None:
            return self.spans.find("LaunchPlan", self.file_span)
        found = self.spans.find(f"{key}=", span) if key else span
        return replace(found, end_line=found.line) if found is span else found

    def plan_inputs(
        self, call: cst.Call, lost: list[Option] | None = None
    ) -> tuple[dict[str, cst.BaseExpression], dict]:
        """A LaunchPlan's ``fixed_inputs`` and ``default_inputs``, as {input: expression}; one
        that is not a dict literal is named (in ``lost`` when given, for the writers' TODO)."""
        args = keyword_args(call)
        found = []
        for key in ("fixed_inputs", "default_inputs"):
            node = args.get(key)
            pairs: dict[str, cst.BaseExpression] = {}
            if isinstance(node, cst.Dict):
                for element in node.elements:
                    if isinstance(element, cst.DictElement) and isinstance(
                        element.key, cst.SimpleString
                    ):
                        pairs[str(element.key.evaluated_value)] = element.value
            elif node is not None and lost is not None:
                why = repr("it is not a dict literal")
                args_ = (("plan", plan_name(call)), (key, code(node)), ("why", why))
                lost.append(Option("launch_settings", args_, self.plan_span(call, key)))
            elif node is not None:
                message = f"LaunchPlan {key}={code(node)} is not a dict literal; not carried over"
                span = self.plan_span(call, key)
                self.diagnostics.append(Diagnostic("TP202", "warning", message, span, lossy=True))
            found.append(pairs)
        return found[0], found[1]

    def _plan_workflow(self, call: cst.Call) -> str | None:
        args = keyword_args(call)
        positional = positional_args(call)
        method = call.func.attr.value  # type: ignore[attr-defined]
        node = args.get("workflow")
        if node is None:
            index = 1 if method in ("create", "get_default_launch_plan") else 0
            node = positional[index] if len(positional) > index else None
        return code(node) if node is not None else None

    def module_code(self, steps, parameters, results) -> Module:
        """Imports and definitions the steps use; flytekit's and the workflow-only ones stay behind."""
        self._helpers_context()
        used = set()
        for step in steps:
            used |= words(step.body)
            used |= set().union(*(words(i.type.expr) for i in step.inputs), set())
            used |= set().union(*(words(o.type.expr) for o in step.outputs), set())
        used |= set().union(set(), *(words(p.type.expr) for p in parameters))
        used |= set().union(set(), *(words(p.default) for p in parameters if p.default))
        used |= set().union(set(), *(words(r.type.expr) for r in results))
        droppable = set(self.namedtuples) | set(self.constants)
        # code that uses flytekit (a TypeTransformer subclass, TypeEngine.register(...)) goes
        # unless a step needs it: flytekit is not in the output
        flyte = self.flyte_names()
        flyte_code = {n: text for n, text in self.definitions if words(text) & flyte}
        droppable |= {n for n in flyte_code if n is not None}
        kept: list[str] = []
        while True:  # a kept helper may use a constant or another helper: to a fixed point
            more = [
                text
                for name, text in self.definitions
                if (name not in droppable or name in used)
                and name not in self.flyte_objects
                and not (name is None and text in flyte_code.values())
            ]
            for text in more:
                used |= words(text)
            if len(more) == len(kept):
                break
            kept = more
        # a kept definition that names FlyteFile (a NamedTuple field's type, a helper) gets the
        # module's own class (it needs only os, which need_file_shims imports)
        named = set().union(set(), *(words(text) for text in kept))
        missing = {kind for kind, (name, _) in files.SHIMS.items() if name in named}
        missing = {kind for kind in missing if files.SHIMS[kind][1] not in kept}
        if missing:
            self.need_file_shims(missing)
            kept = [files.SHIMS[kind][1] for kind in sorted(missing)] + kept
            used.add("os")
        for name, text in self.definitions:
            if name is None and text in flyte_code.values():
                line = _first_code_line(text)
                message = f"`{line[:60]}` uses flytekit at module level; not carried over"
                self.diagnostics.append(Diagnostic("TP201", "info", message, None))
        imports = [text for bound, text in self.imports if bound & used]
        return Module(tuple(imports), tuple(kept))


def whole_file(path: str, lines: int) -> Span:
    """The whole file, for searches that may match anywhere."""
    return Span(path, 1, 0, max(lines, 1), 0)


def _first_code_line(text: str) -> str:
    """The first line of a statement's text that is not a comment, stripped."""
    lines = [ln.strip() for ln in text.splitlines()]
    return next((ln for ln in lines if ln and not ln.startswith("#")), text.strip())


def _is_main_guard(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.If) and "__name__" in code(stmt.test) and "__main__" in code(stmt.test)
    )


def _imports_from(node: cst.Import | cst.ImportFrom, top: str) -> bool:
    if isinstance(node, cst.Import):
        return any(code(a.name).split(".")[0] == top for a in node.names)
    return node.module is not None and code(node.module).split(".")[0] == top


def annotated_fields(node: cst.ClassDef) -> list[tuple[str, str]]:
    """``a: int`` lines of a class body (a dataclass's fields)."""
    fields = []
    for stmt in getattr(node.body, "body", ()):
        if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.AnnAssign):
            target = stmt.body[0].target
            if isinstance(target, cst.Name):
                fields.append((target.value, annotation_text(stmt.body[0].annotation.annotation)))
    return fields


def own_settings(call: cst.Call) -> bool:
    """Whether a launch plan sets anything of its own (``get_default_launch_plan`` and a plan
    of the workflow's own inputs do not)."""
    settings = [k for k in keyword_args(call) if k not in ("name", "workflow")]
    return bool(settings) or len(positional_args(call)) > 2


def plan_name(call: cst.Call) -> str:
    """A launch plan's name as written (``name=`` or the second argument), else its code."""
    found = keyword_args(call).get("name")
    if code(call.func).endswith(".get_default_launch_plan"):
        return code(call.func)  # (context, workflow): named after the workflow by flytekit
    index = 0 if code(call.func).endswith(".create") else 1  # create(name, workflow, ...)
    if found is None and len(call.args) > index and call.args[index].keyword is None:
        found = call.args[index].value
    return code(found) if found is not None else code(call.func)


def _used_by(function) -> set[str]:
    """The names ``function``'s body refers to, itself left out: the workflows a workflow calls
    (the text of a string, ``conditional("wf")``, calls nothing)."""
    found: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            found.add(node.value)

    function.node.body.visit(Collect())
    return found - {function.name}
