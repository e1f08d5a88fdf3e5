"""Read a @workflow body statically: each task call becomes a step, each promise a reference.

Nothing is executed: names are bound to ``Val`` descriptions of promises, workflow inputs and
literals. Sub-workflows are inlined (their steps prefixed ``<workflow>_``); ``map_task``, @dynamic
loops and ``conditional`` are read by ``flyte_control``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace

import libcst as cst

from transpile.model.added import is_case_doc
from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import Input, Ref, Step, Task, TypeRef
from transpile.reading.cst import code

from . import files
from .computed import BUILTIN_NAMES, ComputedValues
from .conditional import ConditionalFlow
from .control import ControlFlow
from .foreign import ForeignTasks
from .module import ModuleScan
from .names import FUNCTOOLS_PARTIAL
from .shape import Item
from .task import FunctionDef, task_body
from .values import Scope, Val


class WorkflowReader(ControlFlow, ConditionalFlow, ComputedValues, ForeignTasks):
    def __init__(self, reader: ModuleScan):
        self.r = reader
        self.steps: list[Step] = []
        self.items: dict[int, Item] = {}
        self.placeholders: dict[str, str] = {}
        self.span = reader.spans.span("def", "")
        self._bodies: dict[str, tuple[str, tuple]] = {}
        self._stack: list[str] = []
        self.partials: dict[str, cst.Call] = {}  # partial_task = functools.partial(t, x=...)

    # bodies -------------------------------------------------------------------------------------
    def run(self, fn: FunctionDef, scope: Scope) -> Val | None:
        """Read a workflow's statements into ``scope``; the value it returns."""
        if fn.name in self._stack:
            raise error("TP152", f"workflow '{fn.name}' calls itself", fn.span)
        self._stack.append(fn.name)
        statements = list(fn.node.body.body)[1 if fn.doc is not None else 0 :]  # type: ignore[union-attr]
        result = None
        for number, stmt in enumerate(statements):
            self.span = self.r.spans.find(code(stmt).strip(), fn.span)
            value = self.statement(stmt, scope)
            if value is not None:
                if number != len(statements) - 1:
                    raise error(
                        "TP155", "a workflow's return must be its last statement", self.span
                    )
                result = self.returned(fn, value, scope)
        self._stack.pop()
        return result

    def statement(self, stmt: cst.BaseStatement, scope: Scope) -> cst.BaseExpression | None:
        """Bind what one statement assigns; a return's expression is handed back."""
        if isinstance(stmt, cst.If):
            raise error(
                "TP156",
                "Python `if` in a workflow runs once, at definition; use conditional()",
                self.span,
            )
        if isinstance(stmt, (cst.For, cst.While)):
            raise error(
                "TP157", "a loop in a workflow runs once, at definition; use map_task", self.span
            )
        if not isinstance(stmt, cst.SimpleStatementLine):
            raise error("TP155", f"unsupported statement in a workflow: {_head(stmt)}", self.span)
        returned = None
        for small in stmt.body:
            if isinstance(small, cst.Return):
                returned = small.value if small.value is not None else cst.Name("None")
            else:
                self._small(small, stmt, scope)
        return returned

    def _small(self, small: cst.BaseSmallStatement, stmt, scope: Scope) -> None:
        """An assignment, a bare call (or ``>>``), a docstring or ``pass``."""
        if isinstance(small, cst.Assign) and self._is_partial(small.value):
            for target in small.targets:
                if not isinstance(target.target, cst.Name):
                    raise error("TP151", f"cannot unpack into `{code(target.target)}`", self.span)
                self.partials[target.target.value] = small.value  # type: ignore[assignment]
        elif isinstance(small, cst.Assign):
            value = self.expr(small.value, scope)
            for target in small.targets:
                self.bind(target.target, value, scope)
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            self.bind(small.target, self.expr(small.value, scope), scope)
        elif isinstance(small, cst.Expr):
            if isinstance(small.value, cst.Call) and self._side_effect(small.value):
                message = (
                    f"`{_head(small)}` ran once, when Flyte compiled the workflow; "
                    "it is not carried over"
                )
                self.r.diagnostics.append(Diagnostic("TP201", "warning", message, self.span, True))
            elif not isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)):
                self.expr(small.value, scope)
        elif not isinstance(small, cst.Pass):
            message = f"unsupported statement in a workflow: {_head(stmt)}"
            raise error("TP155", message, self.span)

    def _is_partial(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Call) and self.r.names.resolve(node) == FUNCTOOLS_PARTIAL

    def _side_effect(self, call: cst.Call) -> bool:
        """A statement calling neither a task, a workflow nor flytekit: ``print(...)``,
        ``logger.info(...)``: Python runs it when the workflow is compiled, not when it runs."""
        if self._is_partial(call.func) or code(call.func) in self.partials:
            return False
        head = code(call.func).split(".")[0]
        if head in self.r.functions or head in self.r.flyte_objects:
            return False
        if self.r.names.resolve(call) is not None or self.r.names.resolve(call.func) is not None:
            return False
        return head in BUILTIN_NAMES or head in self.r.module_names()

    def unpartial(self, node: cst.Call) -> cst.Call:
        """``functools.partial(t, a=x)(b=y)`` (or through a name bound to the partial) is
        ``t(a=x, b=y)``."""
        partial = node.func if self._is_partial(node.func) else self.partials.get(code(node.func))
        if partial is None:
            return node
        fixed = list(partial.args[1:])  # type: ignore[union-attr]
        target = partial.args[0].value  # type: ignore[union-attr]
        return node.with_changes(func=target, args=[*node.args, *fixed])

    def bind(self, target: cst.BaseExpression, value: Val, scope: Scope) -> None:
        if isinstance(target, cst.Name):
            scope.names[target.value] = value
            return
        fields = value.fields or ()
        if isinstance(target, (cst.Tuple, cst.List)) and len(target.elements) == len(fields):
            for element, (_, part) in zip(target.elements, fields):
                self.bind(element.value, part, scope)
            return
        raise error("TP151", f"cannot unpack into `{code(target)}`", self.span)

    def returned(self, fn: FunctionDef, node: cst.BaseExpression, scope: Scope) -> Val | None:
        """What a workflow hands back, shaped by its return annotation."""
        if fn.fields == []:
            if not (isinstance(node, cst.Name) and node.value == "None"):
                self.expr(node, scope)  # ``return task(...)`` with no outputs declared: it runs
            return None
        if fn.fields is None:
            return self.expr(node, scope)
        names = [n for n, _ in fn.fields]
        constructs = isinstance(node, cst.Tuple) or (
            isinstance(node, cst.Call) and code(node.func) in self.r.namedtuples
        )
        parts = _parts(node, names) if constructs else None
        if parts is None:
            value = self.expr(node, scope)
            if value.fields is None or len(value.fields) != len(names):
                raise error(
                    "TP151", f"`{code(node)}` does not match {fn.name}'s outputs", self.span
                )
            return Val(fields=tuple(zip(names, (v for _, v in value.fields))))
        return Val(fields=tuple((n, self.expr(p, scope)) for n, p in zip(names, parts)))

    # expressions ----------------------------------------------------------------------------------
    def expr(self, node: cst.BaseExpression, scope: Scope) -> Val:
        if isinstance(node, cst.Name) and node.value in scope.names:
            return scope.names[node.value]
        literal = self.literal(node)
        if literal is not None:
            return Val(literal=literal)
        if isinstance(node, cst.Attribute):
            return self._attribute(node, scope)
        if isinstance(node, cst.Subscript):
            return self._index(node, scope)
        if isinstance(node, cst.BinaryOperation) and isinstance(
            node.operator, (cst.RightShift, cst.LeftShift)
        ):
            return self._order(node, scope)
        if isinstance(node, cst.Call):
            return self.call(node, scope)
        return self.computed(node, scope)

    def literal(self, node: cst.BaseExpression) -> str | None:
        """Source text of a constant: a Python literal or a module-level constant's name."""
        if isinstance(node, cst.Name) and node.value in self.r.constants:
            return node.value
        try:
            ast.literal_eval(code(node))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
        return code(node)

    def _attribute(self, node: cst.Attribute, scope: Scope) -> Val:
        if isinstance(node.value, cst.Name) and node.value.value not in scope.names:
            return self.computed(node, scope)  # a module's name: ``config.EPOCHS``, ``math.pi``
        if self._within(node.value, scope) is None:
            return self.computed(node, scope)  # ``d["a"].name``: one step computes all of it
        owner = self.expr(node.value, scope)
        if owner.fields is None:
            return self.computed(node, scope)  # ``result.name``: Flyte reads it at run time
        part = owner.field(node.attr.value)
        if part is None:
            raise error(
                "TP151", f"`{code(node)}`: {code(node.value)} has no output of that name", self.span
            )
        return part

    def _within(self, node: cst.BaseExpression, scope: Scope) -> Val | None:
        """The value a chain of output names reaches (``r.stats``, ``r[0]``) without reading
        anything at run time; None when the chain reads into a value."""
        if isinstance(node, cst.Name):
            return scope.names.get(node.value, Val())
        if isinstance(node, cst.Attribute):
            owner = self._within(node.value, scope)
            return owner.field(node.attr.value) if owner is not None else None
        if isinstance(node, cst.Subscript) and len(node.slice) == 1:
            owner = self._within(node.value, scope)
            index = node.slice[0].slice
            number = index.value if isinstance(index, cst.Index) else None
            if owner is None or owner.fields is None or not isinstance(number, cst.Integer):
                return None
            position = int(number.value)
            return owner.fields[position][1] if position < len(owner.fields) else None
        return Val()  # a call or a literal: read as it is

    def _index(self, node: cst.Subscript, scope: Scope) -> Val:
        if self._within(node.value, scope) is None:
            return self.computed(node, scope)  # ``d["a"][0]``: one step computes all of it
        owner = self.expr(node.value, scope)
        index = node.slice[0].slice if len(node.slice) == 1 else None
        number = index.value if isinstance(index, cst.Index) else None
        if owner.fields is not None and isinstance(number, cst.Integer):
            position = int(number.value)
            if position < len(owner.fields):
                return owner.fields[position][1]
        if owner.fields is None:
            return self.computed(node, scope)  # ``items[0]``: Flyte reads it at run time
        raise error("TP151", f"`{code(node)}` indexes into a promise's value", self.span)

    def _order(self, node: cst.BinaryOperation, scope: Scope) -> Val:
        """``a >> b``: b runs after a, though no data flows between them."""
        left, right = self.expr(node.left, scope), self.expr(node.right, scope)
        before, after = (
            (left, right) if isinstance(node.operator, cst.RightShift) else (right, left)
        )
        for item_id in after.deps:
            self.items[item_id].deps |= set(before.deps)
        return right

    def call(self, node: cst.Call, scope: Scope) -> Val:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "with_overrides":
            message = f"`{_head(node)}`: per-call overrides are not carried over"
            self.r.diagnostics.append(Diagnostic("TP202", "warning", message, self.span, True))
            return self.expr(node.func.value, scope)
        node = self.unpartial(node)
        plan = self._called_plan(node)
        if plan is not None:
            return self._plan_call(plan, node, scope)
        if self.r.names.resolve(node) == "create_node" and node.args:
            return self._create_node(node, scope)
        name = code(node.func)
        fn = self.r.functions.get(name)
        if fn is not None and fn.kind == "reference":
            return self.reference_call(fn, node, scope)
        if name in self.r.flyte_objects and name in self.r.constants:
            return self.foreign_call(node, scope)
        if isinstance(node.func, cst.Call) and self.r.flyte_object(node.func) not in (
            None,
            "map_task",
        ):
            return self.foreign_call(node, scope)
        if fn is not None:
            bound = self.bind_args(fn, node, scope)
            if fn.kind == "task":
                return self.task_step(fn, bound, scope)
            if fn.kind == "dynamic":
                return self.dynamic(fn, bound, scope)
            return self.subworkflow(fn, bound, scope)
        if isinstance(node.func, cst.Call) and self.r.names.resolve(node.func) == "map_task":
            return self.map_task(node, scope)
        if self.is_conditional(node):
            return self.conditional(node, scope)
        head = code(node.func).split(".")[0]
        if name not in self.r.flyte_objects and (
            head in self.r.classes or head in self.r.module_names() or head in BUILTIN_NAMES
        ):
            return self.computed(node, scope)
        raise error(
            "TP151",
            f"`{name}(...)` is not a @task, @workflow or @dynamic of this file",
            self.span,
        )

    def _called_plan(self, node: cst.Call) -> cst.Call | None:
        """The LaunchPlan a call runs: ``lp(...)`` or ``LaunchPlan.get_or_create(wf, "n")(...)``."""
        if isinstance(node.func, cst.Name) and node.func.value in self.r.plans:
            return self.r.plans[node.func.value]
        func = node.func
        launch_plan = (
            isinstance(func, cst.Call)
            and isinstance(func.func, cst.Attribute)
            and self.r.names.resolve(func.func.value) == "LaunchPlan"
        )
        return func if launch_plan else None  # type: ignore[return-value]

    def _plan_call(self, plan: cst.Call, node: cst.Call, scope: Scope) -> Val:
        """A launch plan runs its workflow: fixed inputs always, default inputs where the call
        gives none; it is read as that workflow called as a sub-workflow."""
        name = self.r._plan_workflow(plan)
        fn = self.r.functions.get(name or "")
        if fn is None or fn.kind != "workflow":
            message = f"the LaunchPlan called here runs '{name}', not a workflow of this tree"
            raise error("TP151", message, self.span)
        fixed, defaults = self.r.plan_inputs(plan)
        given = {a.keyword.value for a in node.args if a.keyword is not None}
        if set(fixed) & given:
            message = f"the call sets fixed inputs of the LaunchPlan: {sorted(set(fixed) & given)}"
            raise error("TP153", message, self.span)
        unset = {**defaults, **fixed}  # a fixed input wins over a default of the same name
        extra = [cst.Arg(v, keyword=cst.Name(k)) for k, v in unset.items() if k not in given]
        args = [*node.args, *extra]
        call = node.with_changes(func=cst.Name(fn.name), args=args)
        bound = self.bind_args(fn, call, scope)
        return self.subworkflow(fn, bound, scope)

    def _create_node(self, node: cst.Call, scope: Scope) -> Val:
        """``create_node(t, x=...)`` is the call ``t(x=...)``; the node's outputs are its
        attributes (``node.o0`` for a single one)."""
        call = node.with_changes(func=node.args[0].value, args=node.args[1:])
        value = self.call(call, scope)
        if value.fields is None and value.refs:
            return Val(deps=value.deps, fields=(("o0", value),))
        return value

    def bind_args(self, fn: FunctionDef, node: cst.Call, scope: Scope) -> dict[str, Val]:
        bound: dict[str, Val] = {}
        positional = [a for a in node.args if a.keyword is None]
        if any(a.star for a in node.args) or len(positional) > len(fn.params):
            raise error("TP153", f"call of '{fn.name}' does not match its parameters", self.span)
        for param, arg in zip(fn.params, positional):
            bound[param.name] = self.expr(arg.value, scope)
        for arg in node.args:
            if arg.keyword is not None:
                if fn.param(arg.keyword.value) is None:
                    message = f"'{fn.name}' has no input '{arg.keyword.value}'"
                    raise error("TP153", message, self.span)
                bound[arg.keyword.value] = self.expr(arg.value, scope)
        for param in fn.params:
            if param.name not in bound and param.default is None:
                message = f"'{fn.name}' is called without its input '{param.name}'"
                raise error("TP153", message, self.span)
        return bound

    # steps ----------------------------------------------------------------------------------------
    def task_step(
        self,
        fn: FunctionDef,
        bound: dict[str, Val],
        scope: Scope,
        packed: tuple[tuple[str, ...], Val] | None = None,
    ) -> Val:
        """One step for one call: literal and default arguments are bound in its body.
        ``packed``: inputs that arrive together as one tuple (a map's zipped item), unpacked
        first thing in the body."""
        name = self.step_name(scope.prefix + fn.name)
        body, outputs = self._body(fn)
        prelude: list[str] = []
        inputs: list[Input] = []
        if packed is not None:
            names, value = packed
            var = _free_local("item", body, {p.name for p in fn.params} | self.r.module_names())
            prelude.append(f"{', '.join(names)} = {var}")
            kind = (
                TypeRef(value.type, "annotation") if value.type else TypeRef("tuple", "annotation")
            )
            inputs.append(Input(var, kind, value.refs, value.mode))  # type: ignore[arg-type]
        for param in fn.params:
            if packed is not None and param.name in packed[0]:
                continue
            value = bound.get(param.name)
            if value is None or value.literal is not None:
                text = value.literal if value is not None else code(param.default)  # type: ignore[arg-type]
                prelude.append(f"{param.name} = {text}")
            elif value.fields is not None or not value.refs:
                message = f"argument '{param.name}' of '{fn.name}' is not a single value"
                raise error("TP151", message, self.span)
            else:
                inputs.append(self._input(fn, param.name, value))
        body = self.r.file_inputs(fn, inputs, body)
        body, outputs, inputs = self._files(fn, body, outputs, inputs)
        inputs = [replace(i, type=self.r.portable(i.type, fn.span)) for i in inputs]
        outputs = tuple(replace(o, type=self.r.portable(o.type, fn.span)) for o in outputs)
        step = Step(
            name, fn.span, tuple(inputs), outputs, _join(prelude, body),
            self.r.task_options(fn), fn.doc,
        )  # fmt: skip
        self.steps.append(step)
        item = self.add_item(Task(name), set().union(*(v.deps for v in bound.values())), scope)
        return self._result(fn, step, item)

    def _files(self, fn: FunctionDef, body: str, outputs: tuple, inputs: list[Input]):
        """FlyteFile / FlyteDirectory inputs and outputs travel as bytes (``files.py``)."""
        resolve = self.r.type_name  # through aliases: CSVFile = FlyteFile[TypeVar("csv")]
        kinds_in = {}
        for number, inp in enumerate(inputs):
            param = fn.param(inp.name)
            if param is None:  # a map's zipped item: never a file (control.py refuses those)
                continue
            kind = files.kind_of(param.annotation, resolve)
            if kind and not (
                inp.refs[0].kind == "param" and inp.refs[0].name in self.r.file_params
            ):
                kinds_in[inp.name] = kind
                inputs[number] = replace(inp, type=TypeRef("bytes", "annotation"))
        kinds_out = {o.name: files.kind_of(o.type.expr, resolve) for o in outputs}
        kinds_out = {k: v for k, v in kinds_out.items() if v}
        if not kinds_in and not kinds_out:
            return body, outputs, inputs
        self.r.need_file_shims(set(kinds_in.values()) | set(kinds_out.values()))
        body, outputs = files.carried(body, kinds_in, outputs, kinds_out)
        return body, outputs, inputs

    def _body(self, fn: FunctionDef) -> tuple[str, tuple]:
        if fn.name not in self._bodies:
            body, outputs = task_body(fn, fn.span)
            read = self.r.context(body, f"task {fn.name}", fn.span)
            self._bodies[fn.name] = read.body, outputs
        return self._bodies[fn.name]

    def _input(self, fn: FunctionDef, name: str, value: Val) -> Input:
        annotation = fn.param(name).annotation  # type: ignore[union-attr]
        if annotation is None:
            self.r.diagnostics.append(
                Diagnostic("TP301", "warning", f"'{fn.name}' input '{name}' has no type", fn.span)
            )
        kind = (
            TypeRef(annotation, "annotation") if annotation else TypeRef("typing.Any", "fallback")
        )
        return Input(name, kind, value.refs, value.mode)  # type: ignore[arg-type]

    def _result(self, fn: FunctionDef, step: Step, item: Item) -> Val:
        deps = frozenset({item.id})
        vals = [
            Val((Ref("output", step.name, o.name),), deps=deps, type=o.type.expr)
            for o in step.outputs
        ]
        if fn.fields is None:
            return vals[0] if vals else Val(deps=deps)
        names = [n for n, _ in fn.fields]
        return Val(deps=deps, fields=tuple(zip(names, vals)))

    def step_name(self, base: str) -> str:
        taken = {s.name for s in self.steps} | set(self.placeholders.values())
        name, number = base, 2
        while name in taken:
            name, number = f"{base}_{number}", number + 1
        return name

    def add_item(self, node, deps: set[int], scope: Scope) -> Item:
        item = Item(len(self.items) + 1, node, set(deps))
        self.items[item.id] = item
        scope.items.append(item)
        return item

    def subworkflow(self, fn: FunctionDef, bound: dict[str, Val], scope: Scope) -> Val:
        """Inline a sub-workflow: its steps join this body, named ``<workflow>_<task>``."""
        names = dict(bound)
        for param in fn.params:
            if param.name not in names:
                names[param.name] = Val(literal=code(param.default))  # type: ignore[arg-type]
        # the workflow a writer makes of a switch case holds the case's own steps: no prefix
        case = is_case_doc(fn.doc)
        inner = Scope(names, scope.items, scope.prefix if case else f"{scope.prefix}{fn.name}_")
        span, first = self.span, len(self.items) + 1
        value = self.run(fn, inner)
        self.span = span
        if value is None or (value.fields is None and not value.refs and not value.deps):
            # no outputs: what ``>>`` orders is every node the sub-workflow added
            return Val(deps=frozenset(range(first, len(self.items) + 1)))
        return value


def _parts(node: cst.BaseExpression, names: list[str]) -> list[cst.BaseExpression] | None:
    if isinstance(node, cst.Tuple) and len(node.elements) == len(names):
        return [e.value for e in node.elements]
    if isinstance(node, cst.Call) and not any(a.star for a in node.args):
        by_name = {a.keyword.value: a.value for a in node.args if a.keyword}
        by_name.update(zip(names, (a.value for a in node.args if a.keyword is None)))
        if sorted(by_name) == sorted(names):
            return [by_name[n] for n in names]
    return None


def _free_local(base: str, body: str, taken: set[str]) -> str:
    """A name for a new local of a step body: ``base``, unless the body or ``taken`` uses it."""
    used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", body)) | taken
    name, number = base, 2
    while name in used:
        name, number = f"{base}_{number}", number + 1
    return name


def _join(prelude: list[str], body: str) -> str:
    lines = [*prelude, body.rstrip("\n")] if body.strip() else prelude
    return "\n".join(lines) + "\n" if lines else ""


def _head(stmt: cst.CSTNode) -> str:
    return re.sub(r"\s+", " ", code(stmt).strip().splitlines()[0])[:60]
