"""A target with no Metaflow ``inputs`` gets a join that only reads values from its inputs as
the plain lists and values the step receives, without the ``SimpleNamespace`` shim the Metaflow
reader puts at the top of a join's body (``inputs = [SimpleNamespace(...) ...]``: the model keeps
Metaflow's meaning, so a flow written back to Metaflow is the flow it was).

The shim stays wherever the body uses ``inputs`` or one of its items in any other way (passes it
to a function, keeps an item, reads an attribute by name): the rewrite is all or nothing.

Forms rewritten, for a foreach join (``inputs = [SimpleNamespace(r=r, x=x) for r in r_values]``):
``[inp.r for inp in inputs]`` → ``list(r_values)``; ``sum(inp.r for inp in inputs)`` (and the
other builtins that consume an iterable) → ``sum(r_values)``; any other comprehension or ``for``
loop over ``inputs`` whose item is read only as ``item.<field>`` → the same over the lists it
reads (``for r in r_values``); ``inputs[0].x`` → ``x``, ``inputs[k].r`` → ``r_values[k]``;
``len(inputs)`` → ``len(r_values)``. For a static split's join
(``inputs = [SimpleNamespace(n=a_n), SimpleNamespace(n=b_n)]``): ``[inp.n for inp in inputs]``
and a consumed ``(inp.n for inp in inputs)`` → ``[a_n, b_n]``, a loop reading one field → a loop
over that field's values (``for n in (a_n, b_n)``), ``inputs[k].n`` → that branch's value,
``len(inputs)`` → the number of branches.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TypeVar

import libcst as cst

from ..model.ir import Pipeline


def code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


_V = TypeVar("_V", bound=cst.CSTVisitor)

# builtins that read an iterable once, whole, whatever its kind: a list serves as the generator did
CONSUMERS = frozenset(
    {"sum", "sorted", "min", "max", "list", "set", "tuple", "frozenset", "any", "all"}
)


@dataclass
class Shim:
    """What the shim holds: per field, its value per branch (a split) or (a foreach) the list it
    is collected from or the one value handed to every item."""

    name: str  # the name it binds: the join's ``inputs``
    statement: cst.SimpleStatementLine
    branches: list[dict[str, cst.BaseExpression]] = field(default_factory=list)
    loop: cst.CompFor | None = None  # the foreach shim's own loop
    fields: dict[str, cst.BaseExpression] = field(default_factory=dict)  # field → loop value
    lists: dict[str, cst.BaseExpression] = field(default_factory=dict)  # collected field → list


NAMESPACE_IMPORT = "from types import SimpleNamespace"
SHIM = re.compile(r"(?<![.\w])SimpleNamespace\b")


def plain_joins(pipeline: Pipeline) -> Pipeline:
    """``pipeline`` with each join's shim left out where it can be, and the module's import of
    ``SimpleNamespace`` with it once nothing uses the name."""
    steps = tuple(
        replace(s, body=without_shim(s.body)) if s.role == "join" else s for s in pipeline.steps
    )
    if steps == pipeline.steps:
        return pipeline
    module = pipeline.module
    still = [s.body for s in steps] + list(module.definitions)
    if NAMESPACE_IMPORT in module.imports and not any(SHIM.search(t) for t in still):
        imports = tuple(i for i in module.imports if i != NAMESPACE_IMPORT)
        module = replace(module, imports=imports)
    return replace(pipeline, steps=steps, module=module)


def without_shim(body: str) -> str:
    """``body`` without its shim when every use of the name it binds has a plain form."""
    if "SimpleNamespace(" not in body:
        return body
    try:
        module = cst.parse_module(body)
    except cst.ParserSyntaxError:
        return body
    shim = _shim(module)
    if shim is None:
        return body
    inputs_name = shim.name
    rest = [s for s in module.body if s is not shim.statement]
    if _sets_on_items(rest, inputs_name):
        return body
    rewriter = _Rewriter(shim, inputs_name, _counts(rest))
    changed = cst.Module(body=rest).visit(rewriter)
    if rewriter.failed or inputs_name in _names(changed.body):
        return body
    kept: list[cst.BaseStatement] = []
    comments: list[cst.EmptyLine] = []  # a dropped statement's own comment lines stay
    for statement, was in zip(changed.body, rest):
        if statement is not was and _self_assignment(statement):
            comments += statement.leading_lines  # type: ignore[union-attr]
            continue
        if comments:
            leading = [*comments, *statement.leading_lines]  # type: ignore[union-attr]
            statement = statement.with_changes(leading_lines=leading)
            comments = []
        kept.append(statement)
    if comments:
        return body  # nothing after them to carry the comments
    return module.with_changes(body=kept).code


def _self_assignment(statement: cst.BaseStatement) -> bool:
    """``x = x``, which ``x = inputs[0].x`` becomes when ``x`` is handed to every item."""
    small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
    return (
        isinstance(small, cst.Assign)
        and len(statement.body) == 1  # type: ignore[union-attr]
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
        and isinstance(small.value, cst.Name)
        and small.targets[0].target.value == small.value.value
    )


def _visited(nodes, visitor: _V) -> _V:
    for node in nodes:
        node.visit(visitor)
    return visitor


def _names(statements) -> set[str]:
    return _visited(statements, _NameFinder()).names


def _counts(statements) -> Counter[str]:
    return _visited(statements, _NameFinder()).counts


class _NameFinder(cst.CSTVisitor):
    """The variable names read or bound (not attribute or keyword names), with their uses."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.counts: Counter[str] = Counter()
        self._not_variables: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._not_variables.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._not_variables.add(id(node.keyword))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self._not_variables:
            self.names.add(node.value)
            self.counts[node.value] += 1


def _shim(module: cst.Module) -> Shim | None:
    """The body's first top-level ``inputs = [SimpleNamespace(...), ...]`` (a split's join) or
    ``inputs = [SimpleNamespace(...) for ... in ...]`` (a foreach's)."""
    for statement in module.body:
        small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
        if not (
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
        ):
            continue
        name, value = small.targets[0].target.value, small.value
        if isinstance(value, cst.List):
            branches = [_fields(e.value) for e in value.elements]
            if branches and all(b is not None for b in branches):
                return Shim(name, statement, branches=branches)  # type: ignore[arg-type]
        if isinstance(value, cst.ListComp) and _fields(value.elt) is not None:
            return _foreach_shim(name, statement, value)
    return None


def _fields(node: cst.BaseExpression) -> dict[str, cst.BaseExpression] | None:
    if not (isinstance(node, cst.Call) and code(node.func) == "SimpleNamespace"):
        return None
    if any(a.keyword is None for a in node.args):
        return None
    return {a.keyword.value: a.value for a in node.args}  # type: ignore[union-attr]


def _foreach_shim(
    name: str, statement: cst.SimpleStatementLine, value: cst.ListComp
) -> Shim | None:
    fields = _fields(value.elt)
    loop = value.for_in
    if fields is None or loop.ifs or loop.inner_for_in is not None or loop.asynchronous:
        return None
    targets = loop.target.elements if isinstance(loop.target, cst.Tuple) else [loop.target]
    names = [t.value if isinstance(t, cst.Element) else t for t in targets]
    if not all(isinstance(n, cst.Name) for n in names):
        return None
    iterable = loop.iter
    sources = (
        [a.value for a in iterable.args]
        if isinstance(iterable, cst.Call) and code(iterable.func) == "zip"
        else [iterable]
    )
    if len(sources) != len(names):
        return None
    by_name = {n.value: s for n, s in zip(names, sources)}  # type: ignore[union-attr]
    lists = {
        f: by_name[v.value]
        for f, v in fields.items()
        if isinstance(v, cst.Name) and v.value in by_name
    }
    return Shim(name, statement, loop=loop, fields=fields, lists=lists)


class _Rewriter(cst.CSTTransformer):
    """Each use of ``inputs`` in a plain form, rewritten; ``failed`` once one cannot be."""

    def __init__(self, shim: Shim, inputs_name: str, body_names: Counter[str]):
        self.shim, self.inputs, self.body_names = shim, inputs_name, body_names
        self.failed = False
        self._consumed: set[int] = set()  # generator expressions a builtin reads whole

    # comprehensions and loops over inputs ---------------------------------------------------------
    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if code(updated.func) == "len" and len(updated.args) == 1:
            arg = updated.args[0].value
            if isinstance(arg, cst.Name) and arg.value == self.inputs:
                if self.shim.branches:
                    return cst.Integer(str(len(self.shim.branches)))
                first = next(iter(self.shim.lists.values()), None)
                return updated.with_changes(args=[cst.Arg(first)]) if first else updated
        return updated

    def visit_Call(self, node: cst.Call) -> None:
        if (
            isinstance(node.func, cst.Name)
            and node.func.value in CONSUMERS
            and len(node.args) == 1
            and isinstance(node.args[0].value, cst.GeneratorExp)
        ):
            self._consumed.add(id(node.args[0].value))

    def leave_ListComp(self, original: cst.ListComp, updated: cst.ListComp):
        whole = self._whole(updated)
        if whole is not None:
            if isinstance(whole, cst.List):
                return whole
            return cst.Call(cst.Name("list"), [cst.Arg(whole)])
        return self._comprehension(updated)

    def leave_SetComp(self, original, updated):
        return self._comprehension(updated)

    def leave_DictComp(self, original, updated):
        return self._comprehension(updated)

    def leave_GeneratorExp(self, original, updated):
        whole = self._whole(updated) if id(original) in self._consumed else None
        return whole if whole is not None else self._comprehension(updated)

    def _item(self, loop: cst.CompFor | cst.For) -> str | None:
        """The item's name when ``loop`` goes over ``inputs`` itself."""
        if isinstance(loop.iter, cst.Name) and loop.iter.value == self.inputs:
            return loop.target.value if isinstance(loop.target, cst.Name) else ""
        return None

    def _whole(self, node: cst.ListComp | cst.GeneratorExp) -> cst.BaseExpression | None:
        """``[inp.r for inp in inputs]``: the list ``r`` is collected in, or the branches' values."""
        loop = node.for_in
        item = self._item(loop)
        if not item or loop.ifs or loop.inner_for_in is not None or loop.asynchronous:
            return None
        elt = node.elt
        if not (
            isinstance(elt, cst.Attribute)
            and isinstance(elt.value, cst.Name)
            and elt.value.value == item
        ):
            return None
        name = elt.attr.value
        if self.shim.branches:
            if not all(name in b for b in self.shim.branches):
                return None
            return cst.List([cst.Element(b[name]) for b in self.shim.branches])
        return self.shim.lists.get(name)

    def _plan(self, item: str, parts: list[cst.CSTNode]) -> _Loop | None:
        """How a loop over ``inputs`` whose item ``parts`` read goes without the shim: the
        foreach shim's own loop, or for a split's join read for one field, a loop over that
        field's value in each branch."""
        used = _item_fields(item, parts)
        if self.shim.loop is not None:
            return self._foreach_loop(used)
        if len(used) != 1 or not all(used <= b.keys() for b in self.shim.branches):
            return None
        (name,) = used
        values = cst.Tuple([cst.Element(b[name]) for b in self.shim.branches])
        return _Loop(cst.Name(name), values, {name: cst.Name(name)})

    def _foreach_loop(self, used: set[str]) -> _Loop | None:
        """The foreach shim's loop over only the lists the fields ``used`` are collected in."""
        if not used <= self.shim.fields.keys():
            return None
        order = [code(n) for n in _names_in_order(self.shim.loop.target)]  # type: ignore[union-attr]
        collected = sorted(
            (f for f in used if f in self.shim.lists),
            key=lambda f: order.index(code(self.shim.fields[f])),
        )
        lists = {f: self.shim.lists[f] for f in collected}
        if not lists:
            return None  # only values handed to every item: nothing to loop over
        names = [self.shim.fields[f] for f in lists]
        if len(lists) == 1:
            return _Loop(names[0], next(iter(lists.values())), self.shim.fields)  # type: ignore[arg-type]
        target = cst.Tuple([cst.Element(n) for n in names], lpar=[], rpar=[])
        zipped = cst.Call(cst.Name("zip"), [cst.Arg(v) for v in lists.values()])
        return _Loop(target, zipped, self.shim.fields)

    def _comprehension(self, node):
        loop = node.for_in
        item = self._item(loop)
        if item is None:
            return node
        slots = [n for n in ("elt", "key", "value") if hasattr(node, n)]
        parts = [getattr(node, n) for n in slots]
        parts += [i.test for i in loop.ifs] + ([loop.inner_for_in] if loop.inner_for_in else [])
        plan = self._plan(item, parts) if item and not loop.asynchronous else None
        replaced = self._fields_of(item, parts, plan) if plan else None
        if plan is None or replaced is None:
            self.failed = True
            return node
        changes = dict(zip(slots, replaced))
        rest = replaced[len(slots) :]
        ifs = [i.with_changes(test=t) for i, t in zip(loop.ifs, rest)]
        inner = rest[len(loop.ifs)] if loop.inner_for_in else None
        new_loop = loop.with_changes(
            target=plan.target, iter=plan.iter, ifs=ifs, inner_for_in=inner
        )
        return node.with_changes(**changes, for_in=new_loop)

    def leave_For(self, original: cst.For, updated: cst.For):
        item = self._item(updated)
        if item is None:
            return updated
        plan = None
        if item and not updated.orelse and not updated.asynchronous:
            plan = self._plan(item, [updated.body])
        # the loop's names become the function's: none may be in use, nor the item after the loop
        inside = _counts([original])
        if (
            plan is None
            or plan.names & set(self.body_names)
            or self.body_names[item] != inside[item]
        ):
            self.failed = True
            return updated
        replaced = self._fields_of(item, [updated.body], plan)
        if replaced is None:
            self.failed = True
            return updated
        return updated.with_changes(target=plan.target, iter=plan.iter, body=replaced[0])

    def _fields_of(self, item: str, parts: list[cst.CSTNode], plan: _Loop) -> list | None:
        """``parts`` with each ``item.<field>`` replaced by the field's value in ``plan``'s
        loop; None when ``item`` is used otherwise, a field is unknown, or a name the parts read
        is one of the loop's."""
        if plan.names & (_names(parts) - {item}):
            return None
        swap = _ItemFields(item, plan.fields)
        out = [p.visit(swap) for p in parts]
        if swap.failed or item in _names(out):
            return None
        return out

    # inputs[k].field -------------------------------------------------------------------------------
    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute):
        holder = updated.value
        if not (
            isinstance(holder, cst.Subscript)
            and isinstance(holder.value, cst.Name)
            and holder.value.value == self.inputs
            and len(holder.slice) == 1
            and isinstance(holder.slice[0].slice, cst.Index)
        ):
            return updated
        index = _integer(holder.slice[0].slice.value)
        name = updated.attr.value
        if index is None:
            return updated
        if self.shim.branches:
            if -len(self.shim.branches) <= index < len(self.shim.branches):
                return self.shim.branches[index].get(name, updated)
            return updated
        if name in self.shim.lists:
            return cst.Subscript(self.shim.lists[name], holder.slice)
        if name in self.shim.fields and index in (0, -1):
            return self.shim.fields[name]  # handed to every item alike (Metaflow: never empty)
        return updated


@dataclass
class _Loop:
    """A loop that replaces one over ``inputs``: its target, what it goes over, and each field's
    value inside it."""

    target: cst.BaseAssignTargetExpression
    iter: cst.BaseExpression
    fields: dict[str, cst.BaseExpression]

    @property
    def names(self) -> set[str]:
        return _names([self.target])


def _names_in_order(target: cst.BaseExpression) -> list[cst.BaseExpression]:
    """A loop target's names as written: ``a, b`` → [a, b]."""
    if isinstance(target, cst.Tuple):
        return [e.value for e in target.elements]
    return [target]


def _item_fields(item: str, parts: list[cst.CSTNode]) -> set[str]:
    return _visited(parts, _FieldFinder(item)).fields


class _FieldFinder(cst.CSTVisitor):
    def __init__(self, item: str):
        self.item = item
        self.fields: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == self.item:
            self.fields.add(node.attr.value)


def _integer(node: cst.BaseExpression) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Minus)
        and isinstance(node.expression, cst.Integer)
    ):
        return -int(node.expression.evaluated_value)
    return None


def _sets_on_items(statements, inputs_name: str) -> bool:
    """Whether the body sets or deletes an attribute of ``inputs``' items (``inputs[0].x = 1``,
    ``inp.x += 1`` in a loop over ``inputs``): the items are objects there, not values."""
    return _visited(statements, _ItemStores(inputs_name)).found


class _ItemStores(cst.CSTVisitor):
    def __init__(self, inputs_name: str):
        self.roots = {inputs_name}
        self.targets: list[cst.BaseExpression] = []
        self.found = False

    def visit_For(self, node: cst.For) -> None:
        self._loop(node.target, node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._loop(node.target, node.iter)

    def _loop(self, target: cst.BaseExpression, iterable: cst.BaseExpression) -> None:
        if isinstance(iterable, cst.Name) and iterable.value in self.roots:
            self.roots |= _names([target])

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._store(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._store(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._store(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._store(node.target)

    def _store(self, target: cst.BaseExpression) -> None:
        parts = target.elements if isinstance(target, cst.Tuple | cst.List) else ()
        for element in parts:
            self._store(element.value)
        node = target
        while isinstance(node, cst.Attribute | cst.Subscript):
            node = node.value
            if isinstance(node, cst.Name) and node.value in self.roots and node is not target:
                self.found = True


class _ItemFields(cst.CSTTransformer):
    def __init__(self, item: str, fields: dict[str, cst.BaseExpression]):
        self.item, self.fields = item, fields
        self.failed = False

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute):
        if isinstance(updated.value, cst.Name) and updated.value.value == self.item:
            if updated.attr.value not in self.fields:
                self.failed = True
                return updated
            return self.fields[updated.attr.value]
        return updated
