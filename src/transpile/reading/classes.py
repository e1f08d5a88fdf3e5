"""Plain classes of the modules beside a flow, read for what their instances hold (issue 19).

A model wrapper in ``model.py`` (``class NbowModel:`` with ``self.cv = CountVectorizer(...)`` in
``__init__`` and a ``model_dict`` property returning its parts) is common in real flows. Its
instances can be typed without running anything when the class is *plain*: no base class, no
decorator or metaclass, none of the hooks that change how instances are made or how their
attributes are set, and ``self`` never leaves its methods (it is only ever ``self.<attribute>``).
Then an instance made by calling the class is of the class, and what an attribute holds is one
of the values the class's own methods assign it (``sets``); nothing else can assign it, unless
the code holding the instance does (``safe_objects`` checks that in a step).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from .cst import ScopeDepth, walk

# hooks that change how an instance is made, looked up or set
_HOOKS = frozenset(
    (
        *("__new__", "__getattr__", "__getattribute__", "__setattr__", "__delattr__"),
        *("__init_subclass__", "__class_getitem__", "__get__", "__set__", "__set_name__"),
        "__slots__",
    )
)
# names that reach an object's attributes other than by ``obj.name``
_REFLECTION = frozenset(("setattr", "delattr", "vars", "__dict__", "__class__", "super"))


@dataclass
class PlainClass:
    """A plain class: its methods by name, and for each attribute its methods assign, the
    values assigned (``None``: set some other way, of no known value)."""

    node: cst.ClassDef = field(repr=False)
    methods: dict[str, cst.FunctionDef] = field(default_factory=dict, repr=False)
    sets: dict[str, list[tuple[cst.FunctionDef, cst.BaseExpression | None]]] = field(
        default_factory=dict, repr=False
    )

    def kind(self, name: str) -> str:
        """``"property"``, ``"classmethod"``, ``"staticmethod"``, ``"method"`` (no decorator)
        or ``""`` (another decorator, or no such method)."""
        method = self.methods.get(name)
        if method is None:
            return ""
        if not method.decorators:
            return "method"
        if len(method.decorators) == 1 and isinstance(method.decorators[0].decorator, cst.Name):
            found = method.decorators[0].decorator.value
            return found if found in ("property", "classmethod", "staticmethod") else ""
        return ""


def plain_class(node: cst.ClassDef) -> PlainClass | None:
    """``node`` read as a plain class (see the module), or None."""
    bases = [a.value for a in node.bases]
    if (
        node.decorators
        or node.keywords
        or any(not (isinstance(b, cst.Name) and b.value == "object") for b in bases)
    ):
        return None
    found = PlainClass(node)
    for statement in node.body.body:  # type: ignore[union-attr]
        if isinstance(statement, cst.FunctionDef):
            if statement.name.value in _HOOKS:
                return None
            found.methods[statement.name.value] = statement
        elif not isinstance(statement, cst.SimpleStatementLine) or not _data(statement):
            return None  # a method made some other way (in an ``if``, a lambda, an alias)
    reflection = _Reflection()
    walk(node.body, reflection)
    if reflection.found or any(n in _HOOKS for n in reflection.assigned):
        return None
    for method in found.methods.values():
        if found.kind(method.name.value) in ("classmethod", "staticmethod"):
            continue
        params = [*method.params.posonly_params, *method.params.params]
        if not params:
            return None
        sites = _SelfUses(params[0].name.value)
        walk(method.body, sites)
        if sites.leaks:
            return None
        for name, value in sites.sets:
            found.sets.setdefault(name, []).append((method, value))
    return found


_DATA = (cst.BaseNumber, cst.BaseString, cst.List, cst.Tuple, cst.Dict, cst.Set, cst.Ellipsis)


def _data(line: cst.SimpleStatementLine) -> bool:
    """A class-level line that makes no method: a docstring, ``pass``, a name given a literal
    (``NAME = "x"``) or an annotation alone."""
    for small in line.body:
        if isinstance(small, cst.Pass):
            continue
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.BaseString):
            continue
        value = small.value if isinstance(small, (cst.Assign, cst.AnnAssign)) else False
        if (
            value is None
            or isinstance(value, _DATA)
            or (isinstance(value, cst.Name) and value.value in ("None", "True", "False"))
        ):
            continue
        return False
    return True


class _Reflection(cst.CSTVisitor):
    """Names that reach attributes other than by ``obj.name``, and class-level names bound."""

    def __init__(self) -> None:
        self.found = False
        self.assigned: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.found = self.found or node.value in _REFLECTION

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.found = self.found or node.attr.value in _REFLECTION

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        if isinstance(node.target, cst.Name):
            self.assigned.add(node.target.value)


class _SelfUses(ScopeDepth, cst.CSTVisitor):
    """In one method: each ``self.name = value`` (``sets``; None for a value bound any other
    way: augmented, unpacked, a loop's or a ``with``'s target), and whether ``self`` is used
    other than as ``self.<attribute>`` (``leaks``: passed, returned, aliased, captured by a
    nested function, or an attribute deleted)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sets: list[tuple[str, cst.BaseExpression | None]] = []
        self.leaks = False
        self.owned: set[int] = set()  # the ``self`` names that are an attribute's owner

    def _attribute(self, node: cst.BaseExpression) -> str | None:
        if (
            isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Name)
            and node.value.value == self.name
        ):
            return node.attr.value
        return None

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == self.name:
            self.owned.add(id(node.value))
            if node.attr.value.startswith("__"):
                self.leaks = True

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name and (id(node) not in self.owned or self.depth):
            self.leaks = True

    def _targets(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        name = self._attribute(target)
        if name is not None:
            self.sets.append((name, value))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._targets(element.value, None)
        elif isinstance(target, cst.StarredElement):
            self._targets(target.value, None)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._targets(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._targets(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._targets(node.target, None)

    def visit_For(self, node: cst.For) -> None:
        self._targets(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._targets(node.asname.name, None)  # type: ignore[arg-type]

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._targets(node.target, None)

    def visit_Del(self, node: cst.Del) -> None:
        self.leaks = True  # an attribute gone: a later read raises, or finds the class's


def safe_objects(body: cst.CSTNode) -> set[str]:
    """The names a step body binds once, with ``name = value``, and uses afterwards only as
    ``name.attribute`` read or called (never assigned, deleted, passed, returned or aliased):
    an instance such a name holds has no attribute set but by its own methods."""
    uses = _NameUses()
    walk(body, uses)
    return {
        name
        for name, count in uses.bound.items()
        if count == 1 and uses.names.get(name, 0) == 1 + uses.read.get(name, 0)
    }


class _NameUses(cst.CSTVisitor):
    def __init__(self) -> None:
        self.bound: dict[str, int] = {}  # ``name = value`` bindings
        self.names: dict[str, int] = {}  # every occurrence
        self.read: dict[str, int] = {}  # occurrences as ``name.attribute``, not stored to
        self.stored: set[int] = set()  # attributes stored to or deleted
        self.labels: set[int] = set()  # attribute and keyword names: no variable's use

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                name = target.target.value
                self.bound[name] = self.bound.get(name, 0) + 1
            else:
                self._stored(target.target)

    def _stored(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Attribute):
            self.stored.add(id(target))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._stored(element.value)
        elif isinstance(target, cst.StarredElement):
            self._stored(target.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._stored(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._stored(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._stored(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._stored(node.asname.name)  # type: ignore[arg-type]

    def visit_Del(self, node: cst.Del) -> None:
        self._stored(node.target)

        self.labels: set[int] = set()  # attribute and keyword names: no variable's use

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.labels.add(id(node.attr))
        if isinstance(node.value, cst.Name) and id(node) not in self.stored:
            self.read[node.value.value] = self.read.get(node.value.value, 0) + 1

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.labels.add(id(node.keyword))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        """``from model import NbowModel``: ``model`` names a module here, no variable."""
        module = node.module
        while isinstance(module, cst.Attribute):
            self.labels.add(id(module.attr))
            module = module.value  # type: ignore[assignment]
        if module is not None:
            self.labels.add(id(module))
        for alias in node.names if isinstance(node.names, (list, tuple)) else ():
            if alias.asname is not None:  # ``import a as b`` binds b alone
                self.labels.add(id(alias.name))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self.labels:
            self.names[node.value] = self.names.get(node.value, 0) + 1
