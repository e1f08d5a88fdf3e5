"""First pass over a Metaflow module: names, the FlowSpec class, parameters, steps, decorators, transitions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import Option, Parameter, Span, TypeRef
from transpile.reading.cst import (
    ImportedNames,
    SpanIndex,
    code,
    docstring,
    dotted,
    keyword_args,
    literal,
    positional_args,
)
from transpile.reading.inference import TypeEnv, annotation, infer
from transpile.reading.values import is_literal, resolve

from .methods import Method, method_kind

STEP_DECORATORS = {
    "retry",
    "timeout",
    "resources",
    "environment",
    "pypi",
    "conda",
    "card",
    "catch",
    "kubernetes",
    "batch",
    "secrets",
    "parallel",
    "checkpoint",
}
FLOW_DECORATORS = {
    "schedule",
    "project",
    "trigger",
    "trigger_on_finish",
    "pypi_base",
    "conda_base",
    "exit_hook",
}


class MetaflowNames(ImportedNames):
    """How this module spells metaflow's names (``import metaflow as mf``, ``from metaflow import step``)."""

    def add_import(self, node: cst.Import | cst.ImportFrom) -> bool:
        """Record a metaflow import; True when the statement imports metaflow (and is dropped)."""
        if isinstance(node, cst.Import):
            hit = False
            for alias in node.names:
                name = dotted(alias.name) or ""
                if name.split(".")[0] == "metaflow":
                    local = alias.asname.name.value if alias.asname else name  # type: ignore[union-attr]
                    self.modules.add(local)
                    hit = True
            return hit
        module = dotted(node.module) if node.module else None
        if not module or module.split(".")[0] != "metaflow":
            return False
        if isinstance(node.names, cst.ImportStar):
            raise error("TP110", "`from metaflow import *` hides which names are metaflow's", None)
        for alias in node.names:
            local = alias.asname.name.value if alias.asname else alias.name.value  # type: ignore[union-attr]
            self.names[local] = alias.name.value  # type: ignore[union-attr]
        return True


@dataclass(frozen=True)
class Transition:
    kind: str  # linear | split | foreach | switch | end
    targets: tuple[str, ...] = ()
    foreach: str | None = None
    condition: str | None = None
    cases: tuple[str, ...] = ()  # switch case values as Python literals
    span: Span | None = None


@dataclass
class StepDef:
    name: str
    node: cst.FunctionDef
    span: Span
    options: list[Option]
    transition: Transition
    inputs_name: str | None  # the join's `inputs` parameter, None for ordinary steps
    doc: str | None


@dataclass
class FlowDef:
    name: str
    span: Span
    doc: str | None
    parameters: list[Parameter] = field(default_factory=list)
    constants: dict[str, str] = field(default_factory=dict)  # class-level name → source
    steps: dict[str, StepDef] = field(default_factory=dict)
    options: list[Option] = field(default_factory=list)
    methods: dict[str, Method] = field(default_factory=dict)  # not steps: helpers
    config_files: set[str] = field(default_factory=set)  # Configs read from a JSON file
    configs: set[str] = field(default_factory=set)  # every Config
    bases: list[str] = field(default_factory=list)  # base classes not read (imported mixins)
    separators: dict[str, str] = field(default_factory=dict)  # Parameter → separator literal
    # the first and last steps: ``start`` and ``end``, or the steps marked @step(start=True) /
    # @step(end=True) (Metaflow 2.19 lets any step be either)
    start: str = "start"
    end: str = "end"


def _first_and_last(flow: FlowDef) -> None:
    """A flow of one step that is neither start nor end: that step is both (Metaflow infers it).
    Every step without ``self.next`` must be the end."""
    if len(flow.steps) == 1 and flow.start not in flow.steps and flow.end not in flow.steps:
        (only,) = flow.steps
        flow.start = flow.end = only
    for name, step in flow.steps.items():
        if step.transition.kind == "end" and name != flow.end:
            raise error("TP102", f"step '{name}' has no self.next(...)", step.span)


def _first_or_last(call: cst.Call, where: Span) -> set[str]:
    """``{"start"}``, ``{"end"}``, both or neither: what ``@step(start=True, end=True)`` marks.
    Anything else in the call (a value not literally True or False) is refused."""
    marked = set()
    for arg in call.args:
        key = arg.keyword.value if arg.keyword is not None else None
        value = arg.value.value if isinstance(arg.value, cst.Name) else None
        if key not in ("start", "end") or value not in ("True", "False"):
            raise error(
                "TP102",
                f"@{code(call)}: only start=True and end=True (literally) can mark a step",
                where,
            )
        if value == "True":
            marked.add(key)
    return marked


def decorator_option(node: cst.Decorator, kind: str, span: Span) -> Option:
    expr = node.decorator
    args: list[tuple[str, str]] = []
    if isinstance(expr, cst.Call):
        args = [(k, code(v)) for k, v in keyword_args(expr).items()]
        args += [(f"_{i}", code(v)) for i, v in enumerate(positional_args(expr))]
    return Option(kind, tuple(args), span)


class FlowScanner:
    def __init__(
        self,
        names: MetaflowNames,
        spans: SpanIndex,
        env: TypeEnv,
        constants: dict[str, str] | None = None,
    ):
        self.names, self.spans, self.env = names, spans, env
        self.constants = constants or {}  # module-level NAME = expr bound once
        self.notes: list[Diagnostic] = []  # what a base class's decorators do not carry
        self._lent_options: dict[str, Option] = {}  # flow decorators of base classes

    def scan(self, node: cst.ClassDef, classes: dict[str, cst.ClassDef] | None = None) -> FlowDef:
        """``classes``: the module's own classes, so a mixin defined there lends its methods."""
        name = node.name.value
        flow = FlowDef(name, self.spans.span("class", name), docstring(node.body))
        unread: list[str] = []
        seen: set[str] = set()
        for base in reversed(node.bases):  # the first base's definitions win (Python's MRO)
            self._base(flow, base.value, classes or {}, seen, unread)
        flow.bases = unread[::-1]
        for deco in node.decorators:
            kind = self.names.resolve(deco.decorator)
            at = self.spans.find("@" + code(deco.decorator), flow.span)
            if kind in FLOW_DECORATORS:
                flow.options.append(decorator_option(deco, kind, at))
            else:  # a FlowMutator, a decorator of the user's: a TODO with its text
                text = " ".join(code(deco.decorator).split())
                self._graph_changer(deco.decorator, text, classes or {}, at)
                flow.options.append(Option("custom", (("decorator", repr(text)),), at))
        own = {o.kind for o in flow.options}  # a base's flow decorator unless the flow has one
        flow.options += [o for k, o in self._lent_options.items() if k not in own]
        for item in node.body.body:  # type: ignore[union-attr]
            if isinstance(item, cst.FunctionDef):
                self._method(flow, item)
            elif isinstance(item, cst.SimpleStatementLine):
                self._class_line(flow, item)
        _first_and_last(flow)
        return flow

    def _graph_changer(self, decorator, text: str, classes: dict, at: Span) -> None:
        """Refuse a FlowMutator of this module that adds or removes the flow's parameters: the
        pipeline's inputs would not be the flow's. Other mutators add or remove decorators,
        which changes how steps run but not what runs: a TODO says so."""
        target = decorator.func if isinstance(decorator, cst.Call) else decorator
        mutator = classes.get(code(target))
        if mutator is None or not any(
            self.names.resolve(b.value) == "FlowMutator" for b in mutator.bases
        ):
            return
        source = code(mutator)
        changes = [m for m in ("add_parameter", "remove_parameter") if f".{m}(" in source]
        if changes:
            raise error(
                "TP114",
                f"@{text} changes the flow's parameters ({', '.join(changes)} in FlowMutator "
                f"{code(target)}), which transpile cannot follow",
                at,
            )

    def _base(self, flow: FlowDef, base, classes: dict, seen: set[str], unread: list[str]) -> None:
        """A base class of the flow: one defined in this file or read from a module of the same
        tree (bases.py) lends its methods, steps and class constants after its own bases lent
        theirs (a later definition overrides an earlier one); any other is recorded unread."""
        name = code(base)
        mixin = classes.get(name)
        if mixin is None:
            if self.names.resolve(base) not in ("FlowSpec", "object") and name not in unread:
                unread.append(name)
            return
        if name in seen:
            return
        seen.add(name)
        for grand in reversed(mixin.bases):
            self._base(flow, grand.value, classes, seen, unread)
        self._mixin(flow, mixin)
        where = self.spans.span("class", name)
        for deco in mixin.decorators:
            kind = self.names.resolve(deco.decorator)
            at = self.spans.find("@" + code(deco.decorator), where)
            if kind in FLOW_DECORATORS:
                self._lent_options[kind] = decorator_option(deco, kind, at)
            else:
                text = " ".join(code(deco.decorator).split())
                message = (
                    f"@{text} on base class {name} is not carried over "
                    "(transpile does not know what it changes in the flow)"
                )
                self.notes.append(Diagnostic("TP202", "warning", message, at, lossy=True))

    def _mixin(self, flow: FlowDef, mixin: cst.ClassDef) -> None:
        """A base class of the flow: its methods, steps and class constants."""
        for item in mixin.body.body:  # type: ignore[union-attr]
            if isinstance(item, cst.FunctionDef):
                self._method(flow, item, mixin.name.value)
            elif isinstance(item, cst.SimpleStatementLine):
                self._class_line(flow, item, mixin.name.value)

    def _class_line(
        self, flow: FlowDef, line: cst.SimpleStatementLine, owner: str | None = None
    ) -> None:
        """The assignments of one line of a class body (the flow's or a mixin's)."""
        for small in line.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                self._class_assign(flow, small, owner)
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                # `cfg: FlowConfig = Config(...)`: the annotation changes nothing
                plain = cst.Assign([cst.AssignTarget(small.target)], small.value)
                self._class_assign(flow, plain, owner)

    def _class_assign(self, flow: FlowDef, node: cst.Assign, owner: str | None = None) -> None:
        target = node.targets[0].target
        if not isinstance(target, cst.Name):
            return
        span = self.spans.span("attr", owner or flow.name, target.value)
        kind = self.names.resolve(node.value) if isinstance(node.value, cst.Call) else None
        # a class body binds a name again: the last binding is the one Metaflow sees
        flow.parameters = [p for p in flow.parameters if p.name != target.value]
        flow.constants.pop(target.value, None)
        if kind in ("Parameter", "IncludeFile"):
            flow.parameters.append(self._parameter(flow, target.value, node.value, kind, span))  # type: ignore[arg-type]
        elif kind == "Config":
            flow.parameters.append(self._config(flow, target.value, node.value, span))  # type: ignore[arg-type]
        else:
            flow.constants[target.value] = code(node.value)

    def _parameter(
        self, flow: FlowDef, attr: str, call: cst.Call, kind: str, span: Span
    ) -> Parameter:
        kwargs = keyword_args(call)
        help_node = kwargs.get("help")
        help_text = help_node.evaluated_value if isinstance(help_node, cst.SimpleString) else None
        required = code(kwargs["required"]) == "True" if "required" in kwargs else False
        if kind == "IncludeFile":
            is_text = code(kwargs.get("is_text", cst.Name("True"))) != "False"
            default = code(kwargs["default"]) if "default" in kwargs else None
            origin = TypeRef("str" if is_text else "bytes", "parameter")
            return Parameter(attr, origin, default, required, help_text, "file", span, is_text)
        type_name = self.names.resolve(kwargs["type"]) if "type" in kwargs else None
        default_node = kwargs.get("default")
        if type_name == "JSONType":
            if (
                isinstance(default_node, cst.Call)
                and dotted(default_node.func) == "json.dumps"
                and len(default_node.args) == 1
                and _is_literal(default_node.args[0].value)
            ):  # default=json.dumps([...]): the JSON text of a literal
                text = json.dumps(literal(default_node.args[0].value))
                default_node = cst.SimpleString(repr(text))
            return self._json_parameter(attr, default_node, required, help_text, span)
        if default_node is not None and _config_root(default_node) in flow.configs:
            raise error(
                "TP112",
                f"parameter '{attr}' takes its default from a Config, whose value transpile "
                "cannot read",
                span,
            )
        if isinstance(default_node, (cst.Lambda, cst.Call)) and not _is_literal(default_node):
            raise error(
                "TP112",
                f"parameter '{attr}' has a computed default, which transpile cannot read",
                span,
            )
        separator = kwargs.get("separator")
        if separator is not None:  # a str parameter each step reads split (flowspec.py)
            if not isinstance(separator, cst.SimpleString):
                raise error("TP112", f"parameter '{attr}' has a computed separator", span)
            flow.separators[attr] = repr(separator.evaluated_value)
        default = code(default_node) if default_node is not None else None
        declared = code(kwargs["type"]) if "type" in kwargs and type_name is None else None
        if declared in ("int", "float", "str", "bool"):
            type_ref = TypeRef(declared, "parameter")
        elif default_node is not None and annotation(infer(default_node, self.env)):
            type_ref = TypeRef(annotation(infer(default_node, self.env)), "default")  # type: ignore[arg-type]
        else:
            type_ref = TypeRef("str", "parameter")  # Metaflow's own default type
        return Parameter(
            attr, type_ref, default, required and default is None, help_text, "value", span
        )

    def _config(self, flow: FlowDef, attr: str, call: cst.Call, span: Span) -> Parameter:
        """A Config: its JSON file (``default=``) is a file parameter whose text the steps that
        read it parse; an inline value (``default_value=``) is a JSON parameter."""
        kwargs = keyword_args(call)
        flow.configs.add(attr)
        if "parser" in kwargs:
            raise error("TP111", f"Config '{attr}' has a parser=, which transpile cannot run", span)
        help_node = kwargs.get("help")
        help_text = help_node.evaluated_value if isinstance(help_node, cst.SimpleString) else None
        required = code(kwargs["required"]) == "True" if "required" in kwargs else False
        if "default_value" in kwargs:
            value = kwargs["default_value"]
            if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
                return self._json_parameter(attr, value, required, help_text, span)
            if not _is_literal(value):  # a module constant (a dict bound once) is its value
                resolved = resolve(code(value), self.constants)
                if not is_literal(resolved):
                    raise error("TP112", f"Config '{attr}' has a computed default_value", span)
                value = cst.parse_expression(resolved)
            text = json.dumps(literal(value))
            node = cst.SimpleString(repr(text))
            return self._json_parameter(attr, node, required, help_text, span)
        default = kwargs.get("default")
        if default is not None and not isinstance(default, cst.SimpleString):
            raise error("TP112", f"Config '{attr}' has a computed default path", span)
        flow.config_files.add(attr)
        path = code(default) if default is not None else None
        text = TypeRef("str", "parameter")
        return Parameter(attr, text, path, required and path is None, help_text, "file", span)

    def _json_parameter(self, attr, default_node, required, help_text, span) -> Parameter:
        default = None
        type_ref = TypeRef("typing.Any", "fallback")
        if default_node is not None:
            try:
                value = json.loads(literal(default_node))
            except (ValueError, TypeError, SyntaxError):
                raise error(
                    "TP112", f"JSONType parameter '{attr}' needs a literal JSON default", span
                ) from None
            default = repr(value)
            inferred = annotation(infer(cst.parse_expression(default), self.env))
            if inferred and "|" not in inferred:  # a parameter of mixed values stays JSON
                type_ref = TypeRef(inferred, "default")
        return Parameter(
            attr, type_ref, default, required and default is None, help_text, "json", span
        )

    def _method(self, flow: FlowDef, node: cst.FunctionDef, owner: str | None = None) -> None:
        """A step or a method of the flow or of a base class (``owner``); a later definition of
        the same name (the flow's own after its bases') replaces an earlier one."""
        kinds = [self.names.resolve(d.decorator) for d in node.decorators]
        span = self.spans.span("method", owner or flow.name, node.name.value)
        flow.steps.pop(node.name.value, None)
        flow.methods.pop(node.name.value, None)
        if "step" not in kinds:
            name = node.name.value
            flow.methods[name] = Method(name, node, method_kind(node, span), span)
            return
        options = []
        marked: set[str] = set()
        for deco, kind in zip(node.decorators, kinds):
            where = self.spans.find("@" + code(deco.decorator), span)
            if kind == "step" and isinstance(deco.decorator, cst.Call):
                marked = _first_or_last(deco.decorator, where)
                for which in sorted(marked):
                    if getattr(flow, which) != which and getattr(flow, which) != node.name.value:
                        raise error(
                            "TP102",
                            f"two steps marked @step({which}=True): "
                            f"'{getattr(flow, which)}' and '{node.name.value}'",
                            where,
                        )
                    setattr(flow, which, node.name.value)
            if kind in STEP_DECORATORS:
                if kind != "card" and any(o.kind == kind for o in options):
                    raise error(
                        "TP114",
                        f"@{kind} twice on step '{node.name.value}' (Metaflow allows one)",
                        where,
                    )
                options.append(decorator_option(deco, kind, where))
            elif kind != "step":  # kept as a TODO with its text: it does not change the graph
                text = " ".join(code(deco.decorator).split())
                options.append(Option("custom", (("decorator", repr(text)),), where))
        params = node.params.params
        inputs_name = params[1].name.value if len(params) > 1 else None
        transition = self._transition(node, span)
        flow.steps[node.name.value] = StepDef(
            node.name.value, node, span, options, transition, inputs_name, docstring(node.body)
        )

    def _transition(self, node: cst.FunctionDef, span: Span) -> Transition:
        """How the step goes on: its ``self.next(...)``, or none (the flow's end)."""
        body = node.body.body  # type: ignore[union-attr]
        last = body[-1] if body else None
        call = None
        if isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], cst.Expr):
            value = last.body[-1].value
            if isinstance(value, cst.Call) and dotted(value.func) == "self.next":
                call = value
        if self._nested_next(node, span, expected=call is not None):
            raise error(
                "TP101",
                "self.next must be the last statement of a step",
                self.spans.find("self.next", span),
            )
        if call is None:
            return Transition("end", span=span)  # the flow's end, checked once all are read
        return self._parse_next(call, self.spans.find("self.next", span))

    def _nested_next(self, node: cst.FunctionDef, span: Span, expected: bool) -> bool:
        """Whether a statement before the step's last one calls ``self.next``."""
        text = "\n".join(self.spans.lines[span.line - 1 : span.end_line])
        if text.count("next") <= int(expected):
            return False  # a call of self.next spells "next": with no other, none hides (cheap)
        nested = _NextFinder()
        for stmt in node.body.body[:-1]:  # type: ignore[union-attr]
            stmt.visit(nested)
        return nested.found is not None

    def _parse_next(self, call: cst.Call, span: Span) -> Transition:
        args = positional_args(call)
        kwargs = keyword_args(call)
        if len(args) == 1 and isinstance(args[0], cst.Dict):
            if "condition" not in kwargs:
                raise error("TP103", "a switch needs condition=", span)
            cases, targets = [], []
            for element in args[0].elements:
                if not isinstance(element, cst.DictElement):
                    raise error("TP103", "switch cases must be literal keys", span)
                cases.append(code(element.key))
                targets.append(_target(element.value, span))
            condition = _artifact_name(kwargs["condition"], "condition", span)
            return Transition("switch", tuple(targets), None, condition, tuple(cases), span)
        targets = tuple(_target(a, span) for a in args)
        if not targets:  # a step that goes nowhere (found by the mutated-input tests)
            raise error("TP101", "self.next(...) names no step to go to", span)
        if "foreach" in kwargs:
            foreach = _artifact_name(kwargs["foreach"], "foreach", span)
            return Transition("foreach", targets, foreach, span=span)
        if "num_parallel" in kwargs:
            raise error("TP104", "num_parallel (@parallel) is not supported", span)
        return Transition("split" if len(targets) > 1 else "linear", targets, span=span)


def _artifact_name(node: cst.BaseExpression, keyword: str, span: Span) -> str:
    """``foreach=`` and ``condition=`` name an artifact in a string."""
    value = literal(node) if _is_literal(node) else None
    if not isinstance(value, str) or not value.isidentifier():
        raise error(
            "TP103", f"{keyword}= must name an artifact as a string, not `{code(node)}`", span
        )
    return value


def _target(node: cst.BaseExpression, span: Span) -> str:
    name = dotted(node)
    if not name or not name.startswith("self.") or name.count(".") != 1:
        raise error(
            "TP101", f"transition target `{code(node)}` is computed; write self.<step>", span
        )
    return name[5:]


def _config_root(node: cst.BaseExpression) -> str | None:
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def _is_literal(node: cst.BaseExpression) -> bool:
    try:
        literal(node)
        return True
    except (ValueError, SyntaxError, TypeError):
        return False


class _NextFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: cst.Call | None = None

    def visit_Call(self, node: cst.Call) -> None:
        if dotted(node.func) == "self.next":
            self.found = node
