"""Read a Kubeflow Pipelines v2 module (``kfp.dsl``) into the pipeline model, statically.

Components are templates (component.py); the entry pipeline's body is read statement by
statement (pipeline.py, control.py): one step per component call, nested pipelines
inlined. The entry pipeline is the last ``@dsl.pipeline`` that no other pipeline calls.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import textwrap

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error, no_such_entry, other_entries
from transpile.model.ir import Module, Parameter, Pipeline, Ref, Result, Span, TypeRef
from transpile.reading.cst import SpanIndex, code
from transpile.reading.siblings import MAX_DEPTH, module_file, parsed_sibling
from transpile.util.docstrings import described, split_args_section
from transpile.util.syntax import casts_to_int

from .artifacts import LOAD, SAVE
from .component import annotation_type, named_fields, read_component
from .exits import failure_handlers
from .flow import Value, group, steps_in
from .loaded import LOADERS, loaded_component
from .names import KfpNames
from .pipeline import PipelineBuilder
from .scope import Context, Locator, Scope
from .shared import hoist_shared_classes

COMPONENT_KINDS = {"component": "python", "container_component": "container"}


def read(
    module: cst.Module, path: str, spans: SpanIndex | None = None, entry: str | None = None
) -> tuple[Pipeline, list[Diagnostic]]:
    """``spans`` indexes the same text (built from ``module`` when not given); ``entry`` names
    the pipeline to read when the file holds several (``--entry``)."""
    reader = KfpReader(module, path, spans)
    reader.entry_name = entry
    return reader.read()


def camel(name: str) -> str:
    """``foreach_sum_flow`` → ``ForeachSumFlow``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


# a list or dict annotation with ints inside: List[int], dict[str, int], Dict[str, List[int]]...
NESTED_INT = re.compile(r"\b(?:list|List|dict|Dict|Sequence|Mapping)\[.*\bint\b")


def _casts(body: str, param: str) -> bool:
    """Whether the component's body passes ``param``'s items through ``int()`` (then floats do
    no harm, as lint's TP511 judges too)."""
    try:
        return casts_to_int(ast.parse(body), param)
    except (SyntaxError, ValueError, RecursionError):
        return False


def _nested_ints(components, pipeline: Pipeline, spans: SpanIndex) -> list[Diagnostic]:
    """KFP hands list and dict parameters to a component as JSON through protobuf, whose numbers
    are floats: an ``int`` inside arrives as ``1.0``. The converted pipeline passes ints, so a
    component that shows or type-checks them computes something else: said at the parameter."""
    used = {s.name for s in pipeline.steps}
    found = []
    for component in components:
        if not any(n == component.name or n.startswith(f"{component.name}_") for n in used):
            continue
        for param in component.params:
            if (
                NESTED_INT.search(param.type.expr)
                and param.name not in component.json_text
                and not _casts(component.body, param.name)
            ):
                message = (
                    f"'{param.name}: {param.type.expr}' of component '{component.name}': KFP "
                    "delivers the ints inside it as floats (1 arrives as 1.0); the conversion "
                    "passes them as ints"
                )
                where = spans.find(f"{param.name}:", component.span)
                found.append(Diagnostic("TP202", "warning", message, where, lossy=True))
    return found


class KfpReader:
    entry_name: str | None = None  # --entry: the pipeline to read

    def __init__(self, module: cst.Module, path: str, spans: SpanIndex | None = None):
        self.module, self.path = module, path
        self.names = KfpNames()
        self.spans = spans or SpanIndex(path, module.code)
        self.imports: list[str] = []
        self.definitions: list[str] = []
        self.tuples: dict[str, list] = {}
        self.functions: dict[str, tuple[str, cst.FunctionDef]] = {}  # name → (kind, def)
        self.diagnostics: list[Diagnostic] = []
        self.loaders: list[cst.SimpleStatementLine] = []  # op = load_component_from_...(...)
        # components imported from modules of the same tree: name → the sibling's reader
        self.borrowed: dict[str, KfpReader] = {}
        self.depth, self.visited = 0, {str(path)}

    def read(self) -> tuple[Pipeline, list[Diagnostic]]:
        self._split_module()
        pipelines = {n: f for n, (k, f) in self.functions.items() if k == "pipeline"}
        if not pipelines:
            made = [n for n, (k, _) in self.functions.items() if k in COMPONENT_KINDS.values()]
            why = (
                f" (a module of components only: {', '.join(made[:5])}"
                f"{'...' if len(made) > 5 else ''}; a pipeline that imports them from here "
                "reads them with it)"
                if made
                else ""
            )
            raise error("TP005", f"no @dsl.pipeline found{why}", None)
        ctx = Context(self.path, self.names, self.spans, {}, pipelines, self.tuples)
        ctx.diagnostics = self.diagnostics  # one list: the reader's notes and the body's
        for name, (kind, node) in self.functions.items():
            if kind in COMPONENT_KINDS.values():
                owner = self.borrowed.get(name, self)  # a sibling's, read with its own names
                span = owner.spans.span("def", name)
                ctx.components[name] = read_component(node, kind, owner.names, span, owner.tuples)
        self._loaded(ctx)
        imports, classes = hoist_shared_classes(list(ctx.components.values()))
        self.imports += [i for i in imports if i not in self.imports]
        self.definitions += [c for c in classes if not any(c in d for d in self.definitions)]
        entry = self._entry(pipelines)
        pipeline = self._pipeline(ctx, entry, pipelines[entry])
        ctx.diagnostics += _nested_ints(ctx.components.values(), pipeline, self.spans)
        return _without_unused_definitions(pipeline), ctx.diagnostics

    def _split_module(self) -> None:
        rest: list[cst.BaseStatement] = []
        for stmt in self.module.body:
            if isinstance(stmt, cst.SimpleStatementLine) and isinstance(
                stmt.body[0], (cst.Import, cst.ImportFrom)
            ):
                imports = [s for s in stmt.body if isinstance(s, (cst.Import, cst.ImportFrom))]
                if any(self._sibling_components(s) for s in imports):
                    continue
                if not any([self.names.add_import(s) for s in imports]):  # noqa: C419 - all of them
                    self.imports.append(code(stmt).strip())
            elif isinstance(stmt, cst.FunctionDef) and self._kind(stmt):
                self.functions[stmt.name.value] = (str(self._kind(stmt)), stmt)
            elif (
                isinstance(stmt, cst.ClassDef)
                and self._named_tuple(stmt)
                or self._named_tuple_call(stmt)
            ):
                continue
            elif isinstance(stmt, cst.FunctionDef) and stmt.name.value in (SAVE, LOAD):
                continue  # our KFP writer's pickle helpers: their use is read back as values
            elif self._loader(stmt) is not None:
                self.loaders.append(stmt)  # type: ignore[arg-type]
            elif not (_is_main_guard(stmt) or _is_docstring(stmt)):
                rest.append(stmt)
        script = [s for s in rest if _binds_nothing(s)]
        if script:
            end, lines = len(self.spans.lines), []
            for stmt in script:  # in module order: each is found after the one before
                after = Span(self.path, (lines[-1] + 1) if lines else 1, 0, end, 0)
                lines.append(self.spans.find(code(stmt).strip(), after).line)
            message = (
                "module-level code that binds no name runs when the pipeline is compiled, not in "
                f"its steps: left out (line{'s' if len(lines) > 1 else ''} "
                f"{', '.join(map(str, lines))})"
            )
            first = Span(self.path, lines[0], 0, lines[0], 0)
            self.diagnostics.append(Diagnostic("TP201", "info", message, first))
        rest = [s for s in rest if s not in script]
        self.definitions += [code(s).strip("\n") for s in rest if not self._drives_kfp(s)]

    def _sibling_components(self, node: cst.Import | cst.ImportFrom) -> bool:
        """``from comps import add, scale``, ``comps.py`` in the same tree: its components,
        read statically (never imported) with the sibling's own imports, as components of this
        file. True when every name the import binds is such a component (the import goes);
        else the import stays and only the components found come in."""
        if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
            return False
        if self.depth >= MAX_DEPTH:
            return False
        path = module_file(self.path, node)
        if path is None or str(path) in self.visited:
            return False
        span = self.spans.find(code(node).strip(), Span(self.path, 1, 0, len(self.spans.lines), 0))
        module = parsed_sibling(path, span, self.diagnostics)
        if module is None:
            return False
        sibling = KfpReader(module, str(path))
        sibling.depth, sibling.visited = self.depth + 1, self.visited | {str(path)}
        sibling._split_module()
        brought = []
        for alias in node.names:
            imported = code(alias.name)
            local = code(alias.asname.name) if alias.asname else imported
            kind, found = sibling.functions.get(imported, (None, None))
            if local != imported or kind not in COMPONENT_KINDS.values() or found is None:
                continue  # a renamed component's own name would be wrong in the output
            self.functions[local] = (str(kind), found)
            self.borrowed[local] = sibling.borrowed.get(local, sibling)
            self.tuples.update(sibling.tuples)
            brought.append(local)
        if brought:
            message = f"{', '.join(brought)} read from {path.name} (a module of the same tree)"
            self.diagnostics.append(Diagnostic("TP201", "info", message, span))
        return len(brought) == len(node.names)

    def _loader(self, stmt: cst.BaseStatement) -> str | None:
        """``op = components.load_component_from_text(...)``: the loader's name."""
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
        if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
            return None
        if not isinstance(small.targets[0].target, cst.Name):
            return None
        value = small.value
        loader = self.names.resolve(value.func) if isinstance(value, cst.Call) else None
        return loader if loader in LOADERS else None

    def _loaded(self, ctx: Context) -> None:
        """The components loaded at module level, read from their YAML."""
        constants = {}
        for stmt in self.module.body:
            small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
            if isinstance(small, cst.Assign) and isinstance(small.targets[0].target, cst.Name):
                constants[small.targets[0].target.value] = code(small.value)
        whole = Span(self.path, 1, 0, len(self.spans.lines), 0)
        for stmt in self.loaders:
            small = stmt.body[0]
            name = small.targets[0].target.value  # type: ignore[attr-defined]
            span = self.spans.find(code(stmt).strip(), whole)
            loader = str(self._loader(stmt))
            comp, why = loaded_component(name, small.value, loader, self.path, constants, span)  # type: ignore[attr-defined]
            ctx.components[name] = comp
            if why is not None:
                message = (
                    f"component {name} is not read ({why}): its step raises until you fill it in"
                )
                ctx.diagnostics.append(Diagnostic("TP202", "warning", message, span, lossy=True))

    def _drives_kfp(self, stmt: cst.BaseStatement) -> bool:
        """Module-level code that uses kfp or a pipeline or component as a value (compiling it,
        submitting it to a cluster: ``kfp.Client().create_run_from_pipeline_func(p)``) has no
        part in the steps; it is left out, saying so."""
        uses = _names_in(code(stmt)) & (
            set(self.names.modules) | set(self.names.names) | set(self.functions)
        )
        if not uses:
            return False
        text = code(stmt).strip()
        span = self.spans.find(text, Span(self.path, 1, 0, len(self.spans.lines), 0))
        message = (
            f"module-level code using {', '.join(sorted(uses))} is not carried over (it compiles, "
            f"submits or configures the pipeline, not a step): {text.splitlines()[0][:60]}"
        )
        self.diagnostics.append(Diagnostic("TP201", "warning", message, span))
        return True

    def _kind(self, node: cst.FunctionDef) -> str | None:
        for deco in node.decorators:
            expr = deco.decorator.func if isinstance(deco.decorator, cst.Call) else deco.decorator
            kfp = self.names.resolve(expr)
            if kfp in COMPONENT_KINDS:
                return COMPONENT_KINDS[kfp]
            if kfp == "pipeline":
                return "pipeline"
        return None

    def _named_tuple(self, node: cst.ClassDef) -> bool:
        """``class Outputs(NamedTuple)``: output and result names; no definition of its own."""
        if not any(self.names.resolve(b.value) == "NamedTuple" for b in node.bases):
            return False
        fields = []
        for stmt in node.body.body:
            if isinstance(stmt, cst.SimpleStatementLine) and isinstance(
                stmt.body[0], cst.AnnAssign
            ):
                target = stmt.body[0].target
                if isinstance(target, cst.Name):
                    fields.append(
                        (target.value, annotation_type(stmt.body[0].annotation.annotation))
                    )
        self.tuples[node.name.value] = fields
        return True

    def _named_tuple_call(self, stmt: cst.BaseStatement) -> bool:
        """``Outputs = NamedTuple("Outputs", a=int)`` at module level: as the class form."""
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
        if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
            return False
        target, value = small.targets[0].target, small.value
        if not (isinstance(target, cst.Name) and isinstance(value, cst.Call)):
            return False
        if self.names.resolve(value.func) not in ("NamedTuple", "namedtuple"):
            return False
        span = self.spans.find(code(stmt).strip(), Span(self.path, 1, 0, len(self.spans.lines), 0))
        self.tuples[target.value] = [(o.name, o.type) for o in named_fields(value, span)]
        return True

    def _entry(self, pipelines: dict[str, cst.FunctionDef]) -> str:
        if self.entry_name is not None:
            if self.entry_name not in pipelines:
                raise no_such_entry(self.entry_name, list(pipelines))
            return self.entry_name
        called = set()
        for name, node in pipelines.items():
            called |= {c for c in _called_names(node) if c in pipelines and c != name}
        entries = [n for n in pipelines if n not in called]
        entry = entries[-1] if entries else list(pipelines)[-1]
        others = [n for n in entries if n != entry]
        if others:
            where = self.spans.span("def", others[0])
            why = "the last one no other pipeline calls"
            self.diagnostics.append(other_entries("pipeline", entry, others, where, why))
        return entry

    def _pipeline(self, ctx: Context, name: str, node: cst.FunctionDef) -> Pipeline:
        span = self.spans.span("def", name)
        parameters = [self._parameter(p, span) for p in node.params.params]
        values = {p.name: Value((Ref("param", p.name, p.name),), p.type) for p in parameters}
        builder = PipelineBuilder(ctx)
        scope = Scope(values, {}, "", Locator(self.spans, span))
        results = builder.walk(_statements(node), scope) or {}
        if not scope.items:
            raise error("TP184", f"pipeline {name} calls no component", span)
        results = builder.computed_results(results, self._declared(node), scope, span)
        self._decorator(ctx, node, span)
        flow = group(scope.items).node
        parameters = [_as_file(p) if p.name in builder.file_params else p for p in parameters]
        parameters = builder.json_texts.settle(parameters, builder.drafts)
        steps = tuple(builder.drafts[s].step() for s in steps_in(flow))
        taken = {s.name for s in steps} | set(self.functions) | {p.name for p in parameters}
        handlers = failure_handlers(
            builder.exits,
            builder.drafts,
            {s.name for s in steps},
            parameters,
            taken,
            ctx.diagnostics,
        )
        self.imports += [i for i in handlers.imports if i not in self.imports]
        self.definitions += handlers.definitions
        doc, helps = split_args_section(
            _docstring(node)
        )  # input descriptions, as the compiler reads them
        return Pipeline(
            name=camel(name),
            framework="kfp",
            span=span,
            parameters=described(parameters, helps),
            steps=steps,
            flow=flow,
            results=self._results(results, node, span),
            module=Module(tuple(self.imports), tuple(self.definitions)),
            doc=doc or _description(node),
            options=tuple(handlers.options),
        )

    def _decorator(self, ctx: Context, node: cst.FunctionDef, span: Span) -> None:
        """``@dsl.pipeline(...)`` settings other than its name and description are not kept."""
        for deco in node.decorators:
            if isinstance(deco.decorator, cst.Call):
                for arg in deco.decorator.args:
                    key = arg.keyword.value if arg.keyword else None
                    if key not in ("name", "description", "display_name"):
                        message = f"@dsl.pipeline({key}=...) is not carried over"
                        ctx.diagnostics.append(Diagnostic("TP201", "warning", message, span, True))

    def _parameter(self, param: cst.Param, span: Span) -> Parameter:
        kind = annotation_type(param.annotation.annotation if param.annotation else None)
        default = self._default(param.default) if param.default is not None else None
        where = self.spans.find(param.name.value, span)
        json = kind.expr.split("[")[0] in ("list", "dict")
        return Parameter(
            param.name.value,
            kind,
            default,
            default is None,
            None,
            "json" if json else "value",
            where,
        )

    def _default(self, node: cst.BaseExpression) -> str:
        """A default's source; a module constant holding a literal is the literal itself (a
        list default is often hoisted into one, as our KFP writer does)."""
        if isinstance(node, cst.Name):
            for stmt in self.module.body:
                value = _constant(stmt, node.value)
                if value is not None:
                    return value
        return code(node)

    def _declared(self, node: cst.FunctionDef) -> dict[str, TypeRef]:
        """The result types the pipeline's return annotation states, by result name."""
        if node.returns is None:
            return {}
        annotation = node.returns.annotation
        if code(annotation) in self.tuples:
            return dict(self.tuples[code(annotation)])
        return {"Output": annotation_type(annotation)}

    def _results(
        self, results: dict[str, Value], node: cst.FunctionDef, span: Span
    ) -> tuple[Result, ...]:
        declared = dict(self.tuples.get(code(node.returns.annotation), [])) if node.returns else {}
        out = []
        for key, value in results.items():
            if value.literal is not None or value.mode == "collected" or not value.refs:
                raise error("TP183", f"pipeline result {key} must be a task output", span)
            name = value.refs[0].name if key == "Output" else key
            kind = value.type
            if not (kind and kind.known) and key in declared and declared[key].expr != "Artifact":
                kind = declared[key]
            out.append(Result(name, kind or annotation_type(None), value.refs))
        return tuple(out)


def _constant(stmt: cst.CSTNode, name: str) -> str | None:
    """The literal source text ``name`` is bound to by ``stmt``, if it is such a binding."""
    small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target, value = small.targets[0].target, small.value
    elif isinstance(small, cst.AnnAssign) and small.value is not None:
        target, value = small.target, small.value
    else:
        return None
    if not (isinstance(target, cst.Name) and target.value == name):
        return None
    try:
        ast.literal_eval(code(value))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return code(value)


def _as_file(param: Parameter) -> Parameter:
    return Parameter(
        param.name, param.type, param.default, param.required, param.help, "file", param.span
    )


def _called_names(node: cst.CSTNode) -> set[str]:
    found: set[str] = set()

    class Calls(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            if isinstance(call.func, cst.Name):
                found.add(call.func.value)

    node.visit(Calls())
    return found


def _statements(node: cst.FunctionDef) -> list:
    body = list(node.body.body) if isinstance(node.body, cst.IndentedBlock) else []
    return body[1:] if body and _is_docstring(body[0]) else body


def _description(node: cst.FunctionDef) -> str | None:
    for deco in node.decorators:
        if isinstance(deco.decorator, cst.Call):
            for arg in deco.decorator.args:
                if arg.keyword and arg.keyword.value == "description":
                    text = (
                        arg.value.evaluated_value
                        if isinstance(arg.value, cst.SimpleString)
                        else None
                    )
                    return text if isinstance(text, str) else None
    return None


def _docstring(node: cst.FunctionDef) -> str | None:
    body = list(node.body.body) if isinstance(node.body, cst.IndentedBlock) else []
    if body and _is_docstring(body[0]):
        value = body[0].body[0].value.evaluated_value  # type: ignore[attr-defined]
        return value if isinstance(value, str) else None
    return None


def _without_unused_definitions(pipeline: Pipeline) -> Pipeline:
    """The pipeline with only the module definitions its steps and parameter defaults use, and
    what those use. A KFP component never sees the module's globals (it runs its own source), so
    the rest (``endpoint = os.environ["KFP_HOST"]`` for the client) has no part in the steps; in
    an output it would run on every import."""
    texts = [s.body for s in pipeline.steps] + [p.default or "" for p in pipeline.parameters]
    texts += [o.arg("on_error") or "" for o in pipeline.options]  # a failure handler
    texts += [v.type.expr for s in pipeline.steps for v in (*s.inputs, *s.outputs)]
    texts += [p.type.expr for p in pipeline.parameters] + [r.type.expr for r in pipeline.results]
    needed = set().union(*(_names_in(t) for t in texts)) if texts else set()
    kept: list[str] = []
    for definition in reversed(pipeline.module.definitions):
        bound, used = _bound_and_used(definition)
        if bound is None or bound & needed:  # unreadable: kept, as the safe case
            kept.append(definition)
            needed |= used
    definitions = tuple(reversed(kept))
    if definitions == pipeline.module.definitions:
        return pipeline
    return dataclasses.replace(
        pipeline, module=dataclasses.replace(pipeline.module, definitions=definitions)
    )


def _tree(text: str) -> ast.Module | None:
    try:
        return ast.parse(textwrap.dedent(text))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _names_in(text: str) -> set[str]:
    """The names ``text`` reads or binds (not attribute names after a dot, not keywords)."""
    tree = _tree(text)
    if tree is None:
        return set(re.findall(r"[A-Za-z_]\w*", text))
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _bound_and_used(text: str) -> tuple[set[str] | None, set[str]]:
    """The names a module-level statement binds (None if it does not parse) and those it reads."""
    tree = _tree(text)
    if tree is None:
        return None, set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Global):
            bound |= set(node.names)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return bound, used


def _binds_nothing(stmt: cst.CSTNode) -> bool:
    """A statement that binds no name (``print(...)``, ``if t > 60: raise ...``): code a KFP
    module runs when imported, which no component ever sees (each runs on its own)."""
    return _bound_and_used(code(stmt))[0] == set()


def _is_main_guard(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.If) and "__main__" in code(stmt.test)


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )
