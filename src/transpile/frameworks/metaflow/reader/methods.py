"""Methods of the flow class that are not steps: plain helpers, properties, static and class
methods.

Each becomes a module function. One that only reads ``self`` takes what it read (artifacts,
Parameters) as keyword-only parameters of the same names, and each call passes the caller's
values: ``self.scaled(v)`` in a step becomes ``scaled(v, factor=factor)``.

One that sets an artifact (``self.x = ...``, directly or through a method it calls) takes, in
place of ``self``, a namespace holding the artifacts it reads and sets (``artifacts``): it reads
and sets them there, as it did on ``self``, whatever its control flow. A step that calls it keeps
those artifacts in such a namespace for its whole body (``self.x`` → ``artifacts.x``), made from
the values the step receives, and hands on what the namespace holds at the end: what the calls
set are outputs of the step, what they read are its inputs. Setting through a namespace rather
than returning the values keeps every path exact: a set inside a loop or an ``if``, a set the
method reads back, a return from anywhere, a call inside an expression.

A method calling itself stays a function calling itself (given the same namespace or values).

An artifact a method changes in place (``self.rows.append(x)``) or a parameter it changes
(``rows.append(x)`` on ``self.add(self.rows)``) is written by the calling step, as for a step's
own changes (reading/mutation.py).

What cannot be carried is refused at its spot: ``self`` used other than to read or set an
attribute (passed to a function, ``hasattr(self, ...)``), a method that reads or sets artifacts
taken as a value instead of called, ``self.next`` or ``self.merge_artifacts`` outside a step, a
class method using ``cls`` for anything but a class constant or another static or class method.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import Span
from transpile.reading.cst import SpanIndex, code, is_self_attr, walk
from transpile.reading.inference import TypeEnv, infer
from transpile.reading.mutation import MutationScan

ALLOWED = {
    None: "method",
    "staticmethod": "static",
    "property": "property",
    "classmethod": "class",
}
NAMESPACE = "artifacts"  # what a method that sets artifacts takes in place of self
STEP_ONLY = {"next", "merge_artifacts"}


@dataclass
class Method:
    name: str
    node: cst.FunctionDef
    kind: str  # method | static | property | class
    span: Span
    reads: list[str] = field(default_factory=list)  # self.<x> it reads, not methods
    calls: list[str] = field(default_factory=list)  # self.<method> it uses
    needs: list[str] = field(default_factory=list)  # reads, with those of what it calls
    sets: list[str] = field(default_factory=list)  # self.<x> it assigns
    mutates: list[str] = field(default_factory=list)  # self.<x> it changes in place
    all_sets: list[str] = field(default_factory=list)  # sets, with those of what it calls
    all_mutates: list[str] = field(default_factory=list)
    set_kinds: dict[str, list] = field(default_factory=dict)  # self.<x> → the types it is set to
    set_values: dict[str, list] = field(default_factory=dict)  # self.<x> → what it is set to
    # self.<x> it changes only by ``self.x.append(v)`` (no other use of it) → each v
    appends: dict[str, list] = field(default_factory=dict)
    changed_params: frozenset = frozenset()  # its parameters it changes (positions and names)
    dropped: list[str] = field(default_factory=list)  # `run=self` arguments left out
    namespace: str = NAMESPACE  # the namespace parameter's name (a method that sets artifacts)
    # need → its keyword parameter: the need's name, unless the method uses it for something else
    keywords: dict[str, str] = field(default_factory=dict)
    # current.<attr> it uses, with those of what it calls: attr → its text (``current.run_id``),
    # and the keyword parameter each comes in by (the calling step passes its own value)
    current: dict[str, str] = field(default_factory=dict)
    current_keywords: dict[str, str] = field(default_factory=dict)

    @property
    def stateful(self) -> bool:
        """Does a call set artifacts (it takes a namespace in place of self)?"""
        return bool(self.all_sets)

    @property
    def held(self) -> list[str]:
        """What the namespace of a stateful call holds: what it reads and what it sets."""
        return list(dict.fromkeys((*self.needs, *self.all_sets)))


def method_kind(node: cst.FunctionDef, span: Span) -> str:
    names = [code(d.decorator) for d in node.decorators]
    if len(names) > 1 or (names and names[0] not in ALLOWED):
        raise error(
            "TP113",
            f"method '{node.name.value}' is not a step and is decorated @{names[0]}; "
            "move it to module level",
            span,
        )
    return ALLOWED[names[0] if names else None]


def analyse(
    methods: dict[str, Method],
    constants: set[str],
    spans: SpanIndex | None = None,
    env: TypeEnv | None = None,
    current_names: frozenset[str] = frozenset(),
) -> list[Diagnostic]:
    """Fill in what each method reads, sets and calls, and the same with what it calls; the
    diagnostics for what is carried with a loss. Raises TP113 for what cannot be carried.
    ``env`` types what a method sets (the module's names, ``self.<parameter>``);
    ``current_names`` spell Metaflow's ``current`` in this module."""

    def where(method: Method, needle: str) -> Span:
        return spans.find(needle, method.span) if spans is not None else method.span

    notes: list[Diagnostic] = []
    for method in methods.values():
        if method.kind == "static":
            continue
        if method.kind == "class":
            for constant in _class_method(method, methods, constants, where):
                message = (
                    f"{constant} in class method '{method.name}': Metaflow makes a flow's class "
                    "constants properties, so there it is a property object; here it is the "
                    "constant's value"
                )
                notes.append(
                    Diagnostic("TP210", "warning", message, where(method, constant), lossy=True)
                )
            continue
        scan = _SelfUses(set(methods), current_names)
        method.node.body.visit(scan)
        method.current = scan.current
        if scan.bare:
            raise error(
                "TP113",
                f"method '{method.name}' uses self other than to read or set an attribute "
                f"(`{scan.bare}`): transpile cannot tell what that reads or sets; "
                "pass the values it needs instead",
                where(method, scan.bare),
            )
        for name in scan.reads + scan.sets:
            if name in STEP_ONLY:
                raise error(
                    "TP113",
                    f"method '{method.name}' uses self.{name}, which only a step may call",
                    where(method, f"self.{name}"),
                )
        method.reads = [r for r in scan.reads if r not in constants]
        method.sets = scan.sets
        method.set_values = scan.values
        method.set_kinds = {
            name: [infer(v, env) if v is not None and env is not None else None for v in values]
            for name, values in scan.values.items()
        }
        method.calls = scan.calls
        method.dropped = scan.dropped
        params = _param_names(method.node)[1:]
        mutation = MutationScan(_root(set(params)))
        walk(method.node.body, mutation)
        method.mutates = [
            m[5:]
            for m in mutation.mutated
            if m.startswith("self.") and m[5:] not in methods and m[5:] not in constants
        ]
        method.appends = _appends(method.node, method.mutates, scan.sets)
        method.changed_params = frozenset(
            key
            for position, param in enumerate(params)
            if f"param.{param}" in mutation.mutated
            for key in (position, param)
        )
        taken = _names(method.node)
        while method.namespace in taken:
            method.namespace += "_"
        for argument in scan.dropped:
            message = (
                f"`{argument}` is left out: the flow object goes only to Metaflow APIs "
                "(S3, the Client), which the target does not have"
            )
            notes.append(
                Diagnostic("TP210", "warning", message, where(method, argument), lossy=True)
            )
    for method in methods.values():
        needs: dict[str, None] = {}
        sets: dict[str, None] = {}
        mutates: dict[str, None] = {}
        kinds: dict[str, list] = {}
        uses: dict[str, str] = {}
        seen: set[str] = set()
        stack = [method.name]
        while stack:  # a method calling itself (recursion) is seen once
            current = methods[stack.pop()]
            if current.name in seen:
                continue
            seen.add(current.name)
            needs.update(dict.fromkeys(current.reads))
            sets.update(dict.fromkeys(current.sets))
            mutates.update(dict.fromkeys(current.mutates))
            for name, found in current.set_kinds.items():
                kinds.setdefault(name, []).extend(found)
            for attr, text in current.current.items():
                uses.setdefault(attr, text)
            stack.extend(current.calls)
        method.needs, method.all_sets, method.all_mutates = list(needs), list(sets), list(mutates)
        method.set_kinds = kinds
        method.current = dict(sorted(uses.items()))
    for method in methods.values():
        if method.kind in ("method", "property"):
            _values(method, methods, where)
            taken = _names(method.node)
            for need in method.needs:
                keyword = need
                while keyword in taken:  # `def f(self, rows): ... self.rows`
                    keyword += "_"
                taken.add(keyword)
                method.keywords[need] = keyword
            for attr in method.current:  # current.run_id → a keyword current_run_id
                keyword = f"current_{attr}"
                while keyword in taken or keyword in method.keywords.values():
                    keyword += "_"
                taken.add(keyword)
                method.current_keywords[attr] = keyword
    return notes


def _values(method: Method, methods: dict[str, Method], where) -> None:
    """A method taken as a value (``map(self.score, rows)``) cannot be given what it reads
    from self: refused where it is, unless it reads and sets nothing."""
    finder = MethodValues(methods)
    method.node.body.visit(finder)
    for name in finder.found:
        raise error(
            "TP113",
            f"method '{method.name}' uses self.{name} as a value, not a call: what it reads "
            "from self cannot go with it; call it (a lambda around the call will do)",
            where(method, f"self.{name}"),
        )


class MethodValues(cst.CSTVisitor):
    """``self.<method>`` not called, where the method reads or sets artifacts."""

    def __init__(self, methods: dict[str, Method]):
        self.methods = methods
        self.called: set[int] = set()
        self.found: list[str] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.called.add(id(node.func))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        method = self.methods.get(node.attr.value) if is_self_attr(node) else None
        if method is None or method.kind == "property" or id(node) in self.called:
            return
        if method.needs or method.stateful:
            self.found.append(method.name)


def _class_method(
    method: Method, methods: dict[str, Method], constants: set[str], where
) -> list[str]:
    """A class method uses ``cls`` only for class constants and static or class methods;
    the class constants it reads (``cls.X``)."""
    params = _param_names(method.node)
    first = params[0] if params else None
    finder = _ClsUses(first, methods, constants)
    method.node.body.visit(finder)
    if first is None or finder.bad:
        shown = finder.bad or method.name
        raise error(
            "TP113",
            f"class method '{method.name}' uses {shown}: only class constants and static or "
            "class methods are carried; move it to module level",
            where(method, shown),
        )
    return finder.read


class _ClsUses(cst.CSTVisitor):
    def __init__(self, cls: str | None, methods: dict[str, Method], constants: set[str]):
        self.cls, self.methods, self.constants = cls, methods, constants
        self.bad: str | None = None
        self.constants_read: list[str] = []
        self._owners: set[int] = set()
        self._around: list[cst.CSTNode] = []  # the calls being visited

    @property
    def read(self) -> list[str]:
        return list(dict.fromkeys(self.constants_read))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == self.cls:
            self._owners.add(id(node.value))
            name = node.attr.value
            if name in self.constants:
                self.constants_read.append(code(node))
            method = self.methods.get(name)
            if not (name in self.constants or (method and method.kind in ("static", "class"))):
                self.bad = self.bad or code(node)

    def visit_Call(self, node: cst.Call) -> None:
        self._around.append(node)

    def leave_Call(self, node: cst.Call) -> None:
        self._around.pop()

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.cls and id(node) not in self._owners and not self.bad:
            around = self._around[-1] if self._around else node
            self.bad = code(around).strip().splitlines()[0]


def _param_names(node: cst.FunctionDef) -> list[str]:
    params = node.params
    return [p.name.value for p in (*params.posonly_params, *params.params)]


def _names(node: cst.FunctionDef) -> set[str]:
    """Every plain name the method mentions (not an attribute's or a keyword's)."""
    found: set[str] = set()
    skipped: set[int] = set()

    class Collect(cst.CSTVisitor):
        def visit_Attribute(self, attribute: cst.Attribute) -> None:
            skipped.add(id(attribute.attr))

        def visit_Arg(self, arg: cst.Arg) -> None:
            if arg.keyword is not None:
                skipped.add(id(arg.keyword))

        def visit_Name(self, name: cst.Name) -> None:
            if id(name) not in skipped:
                found.add(name.value)

    node.visit(Collect())
    return found


def _root(params: set[str]):
    """A mutation root in a method: ``self.<x>`` (an artifact) or one of its parameters."""

    def root(node: cst.BaseExpression) -> str | None:
        if is_self_attr(node):
            return f"self.{node.attr.value}"  # type: ignore[union-attr]
        if isinstance(node, cst.Name) and node.value in params:
            return f"param.{node.value}"
        return None

    return root


def module_function(method: Method, methods: dict[str, Method], constants: set[str]) -> str:
    """The method as a module function (source text)."""
    node = method.node.with_changes(decorators=[])
    if method.kind == "class":
        node = node.visit(_ClassRewriter(_param_names(method.node)[0]))
        params = node.params
        positional = list(params.posonly_params or params.params)[1:]
        if params.posonly_params:
            node = node.with_changes(params=params.with_changes(posonly_params=positional))
        else:
            node = node.with_changes(params=params.with_changes(params=positional))
    elif method.kind != "static" and method.stateful:
        ns = method.namespace
        local = {**_namespace_map(method.held, ns), **_current_map(method)}
        node = node.visit(_Rewriter(methods, local, constants, ns=ns, current=method.current))
        params = node.params
        first = params.params[0].with_changes(name=cst.Name(ns), annotation=None, default=None)
        extra = [cst.Param(cst.Name(k)) for k in method.current_keywords.values()]
        star = params.star_arg
        if extra and not isinstance(star, cst.Param):
            star = cst.ParamStar()
        node = node.with_changes(
            params=params.with_changes(
                params=[first, *list(params.params)[1:]],
                star_arg=star,
                kwonly_params=[*params.kwonly_params, *extra],
            )
        )
    elif method.kind != "static":
        keywords = {n: method.keywords.get(n, n) for n in method.needs}
        local = {**keywords, **_current_map(method)}
        node = node.visit(_Rewriter(methods, local, constants, current=method.current))
        params = node.params
        positional = list(params.params)[1:]  # without self
        extra = [cst.Param(cst.Name(keywords[n])) for n in method.needs]
        extra += [cst.Param(cst.Name(k)) for k in method.current_keywords.values()]
        star = params.star_arg
        if extra and not isinstance(star, cst.Param):
            star = cst.ParamStar()
        node = node.with_changes(
            params=params.with_changes(
                params=positional, star_arg=star, kwonly_params=[*params.kwonly_params, *extra]
            )
        )
    return cst.Module([node]).code.strip("\n")


def _namespace_map(names, ns: str) -> dict[str, str]:
    return {n: f"{ns}.{n}" for n in names}


def _current_map(method: Method) -> dict[str, str]:
    """Inside the method's function: ``current.<attr>`` → the keyword parameter it came in by
    (keys ``current.<attr>``, which no artifact's name can be)."""
    return {f"current.{a}": k for a, k in method.current_keywords.items()}


def call_text(method: Method, args: str, local: dict[str, str], ns: str | None = None) -> str:
    """A call of the module function: a stateful method gets the caller's namespace, another
    the caller's value of each attribute it needs."""
    # current.<attr>: the caller's own (a step's current, rewritten as its body is; a method's
    # the keyword it was given)
    moments = [
        f"{k}={local.get(f'current.{a}', method.current[a])}"
        for a, k in method.current_keywords.items()
    ]
    if method.stateful and method.kind in ("method", "property"):
        if ns is None:  # the caller keeps no namespace: analysis.py gives every caller one
            raise AssertionError(f"a call of {method.name} outside a namespace")
        return f"{method.name}({', '.join(p for p in (ns, args, *moments) if p)})"
    passed = [f"{method.keywords.get(n, n)}={local.get(n, n)}" for n in method.needs]
    return f"{method.name}({', '.join(p for p in (args, *passed, *moments) if p)})"


class _SelfUses(cst.CSTVisitor):
    def __init__(self, methods: set[str], current_names: frozenset[str] = frozenset()):
        self.methods, self.current_names = methods, current_names
        self.current: dict[str, str] = {}  # current.<attr> used: attr → its text
        self.reads: list[str] = []
        self.calls: list[str] = []
        self.sets: list[str] = []
        self.values: dict[str, list] = {}  # self.<x> → what each assignment gives it (or None)
        self.dropped: list[str] = []
        self.bare = ""  # the code around the first use of self other than self.<x>
        self._owners: set[int] = set()
        self._stored: set[int] = set()
        self._around: list[cst.CSTNode] = []  # the calls being visited

    def _target(self, target: cst.BaseExpression, value: cst.BaseExpression | None = None):
        if is_self_attr(target):
            self._stored.add(id(target))
            name = target.attr.value  # type: ignore[union-attr]
            if name not in self.sets:
                self.sets.append(name)
            self.values.setdefault(name, []).append(value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._target(element.value)
        elif isinstance(target, cst.StarredElement):
            self._target(target.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._target(target.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if is_self_attr(node.target):
            self._read(node.target.attr.value)  # type: ignore[union-attr]
        self._target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._target(node.target)  # its annotation: see the step's for the artifact's

    def visit_Del(self, node: cst.Del) -> None:
        self._target(node.target)  # a del is a set: of nothing, found as such when read

    def visit_For(self, node: cst.For) -> None:
        self._target(node.target)

    def visit_Call(self, node: cst.Call) -> None:
        self._around.append(node)

    def leave_Call(self, node: cst.Call) -> None:
        self._around.pop()

    def visit_Arg(self, node: cst.Arg) -> None:
        if _self_keyword(node):
            self._owners.add(id(node.value))
            self.dropped.append(f"{node.keyword.value}=self")  # type: ignore[union-attr]

    def _read(self, name: str) -> None:
        if name not in self.reads and name not in self.sets:
            self.reads.append(name)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, (cst.Name, cst.Attribute)) and (
            code(node.value) in self.current_names
        ):
            self.current.setdefault(node.attr.value, code(node))
        if is_self_attr(node):
            self._owners.add(id(node.value))
            name = node.attr.value
            if name in self.methods:
                if name not in self.calls:
                    self.calls.append(name)
            elif id(node) not in self._stored:
                self._read(name)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "self" and id(node) not in self._owners and not self.bare:
            around = self._around[-1] if self._around else node
            self.bare = code(around).strip().splitlines()[0]


def _self_keyword(node: cst.Arg) -> bool:
    return (
        node.keyword is not None and isinstance(node.value, cst.Name) and node.value.value == "self"
    )


class _ClassRewriter(cst.CSTTransformer):
    """``cls.<constant>`` and ``cls.<method>`` → the module name."""

    def __init__(self, cls: str):
        self.cls = cls

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute):
        if isinstance(original.value, cst.Name) and original.value.value == self.cls:
            return cst.Name(original.attr.value)
        return updated


class _Rewriter(cst.CSTTransformer):
    """``self.<method>(...)`` → a call passing what it needs (or the namespace ``ns``);
    ``self.<property>`` likewise; ``self.<attr>`` → the local or namespace attribute holding it
    (``local``); a class constant → its module name; ``run=self`` left out."""

    def __init__(
        self,
        methods: dict[str, Method],
        local: dict[str, str],
        constants: set[str],
        attributes: bool = True,  # False in a step: its body rewrite handles the rest
        ns: str | None = None,
        current: dict[str, str] | None = None,  # in a method: current.<attr> it uses → text
    ):
        self.methods, self.local, self.constants = methods, local, constants
        self.attributes, self.ns = attributes, ns
        self.current = {text: f"current.{a}" for a, text in (current or {}).items()}

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg):
        if self.attributes and _self_keyword(original):
            return cst.RemoveFromParent()
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        func = original.func
        if is_self_attr(func) and func.attr.value in self.methods:  # type: ignore[union-attr]
            method = self.methods[func.attr.value]  # type: ignore[union-attr]
            if method.kind == "property":
                return updated  # a property's value called: leave_Attribute made it
            args = cst.Module([]).code_for_node(updated.with_changes(func=cst.Name("f")))[2:-1]
            return cst.parse_expression(call_text(method, args, self.local, self.ns))
        return updated

    def leave_Attribute(
        self, original: cst.Attribute, updated: cst.Attribute
    ) -> cst.BaseExpression:
        if self.current and code(original) in self.current:
            key = self.current[code(original)]
            return cst.Name(self.local[key]) if key in self.local else updated
        if not is_self_attr(original):
            return updated
        name = original.attr.value
        method = self.methods.get(name)
        if method is not None:
            if method.kind == "property":
                return cst.parse_expression(call_text(method, "", self.local, self.ns))
            return cst.Name(name)  # called: leave_Call rewrites the call around it
        if not self.attributes:
            return updated
        if name in self.constants:
            return cst.Name(name)
        return cst.parse_expression(self.local.get(name, name))


def rewrite_calls(
    module: cst.Module, methods: dict[str, Method], local: dict[str, str], ns: str | None = None
):
    """A step body with its calls of the flow's methods made calls of the module functions."""
    return module.visit(_Rewriter(methods, local, set(), attributes=False, ns=ns))


def _appends(node: cst.FunctionDef, mutates: list[str], sets: list[str]) -> dict[str, list]:
    """The artifacts a method changes only by appending one value at a time
    (``self.notes.append(text)``), each with the values it appends: every use of
    ``self.x`` in its body is such a call, and it never sets ``self.x``."""
    found: dict[str, list] = {name: [] for name in mutates if name not in sets}
    uses: dict[str, int] = {}

    class Finder(cst.CSTVisitor):
        def visit_Attribute(self, attr: cst.Attribute) -> None:
            if isinstance(attr.value, cst.Name) and attr.value.value == "self":
                uses[attr.attr.value] = uses.get(attr.attr.value, 0) + 1

        def visit_Call(self, call: cst.Call) -> None:
            func = call.func
            target = func.value if isinstance(func, cst.Attribute) else None
            if not (
                isinstance(func, cst.Attribute)
                and func.attr.value == "append"
                and isinstance(target, cst.Attribute)
                and isinstance(target.value, cst.Name)
                and target.value.value == "self"
                and target.attr.value in found
            ):
                return
            args = call.args
            if len(args) == 1 and not args[0].keyword and not args[0].star:
                found[target.attr.value].append(args[0].value)

    node.body.visit(Finder())
    return {
        name: values for name, values in found.items() if values and len(values) == uses.get(name)
    }
