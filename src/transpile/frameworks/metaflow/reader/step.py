"""What one Metaflow step does with `self`: artifact reads and writes (with types), join `inputs` use,
merge_artifacts, foreach input/index and `current`; and the rewrite of its body into plain Python."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import libcst as cst

from transpile.reading.classes import safe_objects
from transpile.reading.cst import (
    ScopeDepth,
    bound_names,
    code,
    dotted,
    is_self_attr,
    keyword_args,
    literal,
    walk,
)
from transpile.reading.inference import (
    CHANGING_METHODS,
    EMPTY_LIST,
    INPUTS,
    TypeEnv,
    agreed,
    bind_target,
    container,
    element_type,
    empty_display,
    entered,
    filled_type,
    holder,
    infer,
    iter_element,
    keeps_type,
    optional,
    plain,
    qualified,
    record_of,
    set_by_call,
    split_args,
    split_unpacked,
    unpacked,
)
from transpile.util.timing import phase

from .methods import rewrite_calls

SPECIAL = {"input", "index", "next", "merge_artifacts", "foreach_stack"}


@dataclass
class Merge:
    include: tuple[str, ...] | None
    exclude: tuple[str, ...]
    written_before: frozenset[str]


@dataclass
class StepFacts:
    reads: list[str] = field(default_factory=list)
    writes: dict[str, list[str | None]] = field(default_factory=dict)  # artifact → inferred types
    annotated: dict[str, str] = field(default_factory=dict)
    branch_reads: list[tuple[str, str]] = field(default_factory=list)  # inputs.<step>.<x>
    generic_inputs: bool = False  # `inputs` used other than inputs.<step>.<x>
    attribute_names: set[str] = field(default_factory=set)  # every `.x` in the body
    merge: Merge | None = None
    uses_input: bool = False
    uses_index: bool = False
    stack_reads: set = field(default_factory=set)  # (depth, 0 | 2) of self.foreach_stack()[d][k]
    current: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    local_names: set[str] = field(default_factory=set)
    bare_names: set[str] = field(default_factory=set)  # every plain name the body mentions
    aliases: frozenset[str] = frozenset()  # see artifact_aliases
    deleted: list[str] = field(default_factory=list)  # `del self.x`: gone after this step
    methods: list[str] = field(default_factory=list)  # the flow's methods it calls (methods.py)
    # method → what its own sets give each attribute, typed at each call (every use a call)
    method_sets: dict[str, dict[str, list[str | None]]] = field(default_factory=dict)
    # what each method that only appends (Method.appends) appends, typed at the step's calls
    method_appends: dict[str, dict[str, list[str | None]]] = field(default_factory=dict)
    namespace: list[str] = field(default_factory=list)  # artifacts kept in a namespace
    # artifact → its last write at the body's top level: every write before it is overwritten
    # (none kept where the body returns early, or sets the artifact in a function it defines)
    settled: dict[str, int] = field(default_factory=dict)


class StepLocals:
    """The body's local names. An artifact keeps its name unless the body already uses that name
    for something else (a builtin, a helper, a local variable, a lambda parameter): then it gets
    a trailing underscore, so `self.list` next to `list(...)` never shadows the builtin."""

    def __init__(self, taken: set[str], aliases: frozenset[str] = frozenset()):
        self.taken = set(taken) - aliases  # an alias of the artifact may share its name
        self.claimed: dict[str, str] = {}

    def claim(self, key: str, preferred: str | None = None) -> str:
        """The local for ``key`` (an artifact name, or a generated role like ``self.input``)."""
        if key not in self.claimed:
            name = preferred or key
            while name in self.taken:
                name += "_"
            self.taken.add(name)
            self.claimed[key] = name
        return self.claimed[key]


def artifact_aliases(step: ast.FunctionDef) -> frozenset[str]:
    """Locals that always hold the same object as the artifact of the same name.

    That is the idiom ``x = self.x`` … ``self.x = x``: every binding of the local ``x`` copies
    ``self.x`` and every write of ``self.x`` copies ``x``. Such a local may keep the artifact's
    name in the plain body; any other use of the name means renaming the artifact's local.
    """
    bindings: dict[str, int] = {}
    copies: dict[str, int] = {}
    spoiled: set[str] = set()
    for node in ast.walk(step):
        for name in _bound_names(node):
            bindings[name] = bindings.get(name, 0) + 1
        for target, value in _assignments(node):
            if _is_self(target) and not (isinstance(value, ast.Name) and value.id == target.attr):
                spoiled.add(target.attr)  # self.x = <anything but x>
            if isinstance(target, ast.Name) and _is_self(value) and value.attr == target.id:
                copies[target.id] = copies.get(target.id, 0) + 1
    return frozenset(
        name for name, count in copies.items() if bindings[name] == count and name not in spoiled
    )


def _is_self(node: ast.AST | None) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def _assignments(node: ast.AST):
    """(target, value) pairs; a target inside a tuple, or an augmented one, pairs with None."""
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, (ast.Tuple, ast.List)):
                yield from ((t, None) for t in ast.walk(target))
            else:
                yield target, node.value
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        yield node.target, node.value if isinstance(node, ast.AnnAssign) else None


def _bound_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return [node.id]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
        return [node.name]
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return list(node.names)  # a global is never a plain local
    return []


class StepAnalyzer(ScopeDepth, cst.CSTVisitor):
    """Collect StepFacts in source order, inferring artifact types as assignments are met."""

    def __init__(
        self,
        env: TypeEnv,
        inputs_name: str | None,
        current_names: set[str],
        methods: dict | None = None,
        changed: set[str] | None = None,
        body: cst.CSTNode | None = None,
    ):
        self.methods = methods or {}  # the flow's non-step methods (methods.py)
        # the step's body: its locals bound once and used only as ``name.attribute``
        # (classes.safe_objects, found when a plain class is first called) hold instances
        # with the attributes their class gives them
        self.body = body
        self._objects: set[str] | None = None
        # what the body may change in place (inference.changed_holders): a list, dict or set
        # it makes and changes so is of no known type (one made empty is followed: Growing)
        self.changed = changed or set()
        # changes in place met, by what they change: kept its type, or maybe not (_kept)
        self.kept: set[str] = set()
        self.unsure: set[str] = set()
        self.env = env.child()  # this step's own: bindings update it in place (_bind)
        self.env.local_functions = {}  # the functions it defines (visit_FunctionDef)
        self.inputs_name = inputs_name
        self.current_names = current_names
        self.facts = StepFacts()
        self._stores: set[int] = set()
        self._written: dict[str, None] = {}  # artifacts written, in order
        self._not_bare: set[int] = set()  # attribute and keyword names: not variables
        self._stack_ok: set[int] = set()  # self.foreach_stack read as a loop's item or index
        self._growing: dict[str, Growing] = {}  # "rows" / "self.rows" bound to a list being filled
        self._harmless: set[int] = set()  # uses of a growing list that cannot change its items
        self._method_uses: dict[str, int] = {}  # self.<method> in the body, each use
        self._typed_calls: dict[str, int] = {}  # self.<method>(...) calls typed (_method_call)
        self._untyped_calls: set[str] = set()
        self._appending_calls: dict[str, int] = {}  # self.<method>(...) calls of an appender
        # compound statements around the node (``depth``: functions, lambdas and classes)
        self._blocks = 0
        self._deferred: set[str] = set()  # artifacts set inside a function the body defines
        self._returns = False  # the body returns early (a ``return`` of its own)

    # assignments --------------------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._harmless.add(id(target.target))
            self._store(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if is_self_attr(node.target):
            self.facts.annotated[node.target.attr.value] = code(node.annotation.annotation)  # type: ignore[union-attr]
        self._store(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        operation = cst.BinaryOperation(node.target, _BINARY[type(node.operator)](), node.value)
        before = infer(node.target, self.env)
        self._kept(node.target, before, infer(operation, self.env))
        self._spoil(node.target)
        if isinstance(node.target, cst.Name):  # `x += ...` may change what x holds
            operation = cst.BinaryOperation(node.target, _BINARY[type(node.operator)](), node.value)
            self._bind(**{node.target.value: infer(operation, self.env) or ""})
        if is_self_attr(node.target):
            name = node.target.attr.value  # type: ignore[union-attr]
            self._read(name)
            kind = infer(
                cst.BinaryOperation(node.target, _BINARY[type(node.operator)](), node.value),
                self.env,
            )
            self._write(name, kind)
            self._stores.add(id(node.target))

    def visit_Del(self, node: cst.Del) -> None:
        targets = node.target.elements if isinstance(node.target, cst.Tuple) else ()
        for target in [e.value for e in targets] or [node.target]:
            if is_self_attr(target):
                self._stores.add(id(target))
                self.facts.deleted.append(target.attr.value)  # type: ignore[union-attr]

    def visit_For(self, node: cst.For) -> None:
        self._blocks += 1  # left in leave_For
        self._bind_locals(node.target)
        self._harmless.add(id(node.iter))
        kind = iter_element(node.iter, self.env)
        names = {n: "" for n in bound_names(node.target)}  # unknown unless the loop says
        self._bind(**names)
        self.env = bind_target(node.target, kind, self.env)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_locals(node.target)
        self._harmless.add(id(node.iter))

    # where a write is: at the body's top level it overwrites every write before it --------
    def _enter(self, node: cst.CSTNode) -> None:
        self._blocks += 1

    def _leave(self, node: cst.CSTNode) -> None:
        self._blocks -= 1

    visit_If = visit_While = visit_Try = visit_TryStar = visit_With = visit_Match = _enter
    leave_If = leave_For = leave_While = leave_Try = leave_TryStar = leave_With = _leave
    leave_Match = _leave

    def visit_Return(self, node: cst.Return) -> None:
        if not self.depth:
            self._returns = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        """A function the step defines: its name holds it until bound again (``map(key, xs)``
        types its result by its body, with the step's names of that moment)."""
        super().visit_FunctionDef(node)
        name = node.name.value
        self.facts.local_names.add(name)
        self._bind(**{name: ""})
        if not node.decorators:
            self.env.local_functions[name] = node  # type: ignore[index]

    def visit_WithItem(self, node: cst.WithItem) -> None:
        """``with S3() as s3``: ``s3`` is what ``__enter__`` gives, known for a few library
        classes (the value itself); any other name bound so is of no known type."""
        if node.asname is None:
            return
        target = node.asname.name
        self._bind_locals(target)
        self._bind(**{n: "" for n in bound_names(target)})
        kind = entered(infer(node.item, self.env))
        if isinstance(target, cst.Name) and kind:
            self._bind(**{target.value: kind})

    def visit_Import(self, node: cst.Import) -> None:
        self.env.with_imports(node)  # a step importing what it uses: `from datetime import date`

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.env.with_imports(node)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        super().visit_Lambda(node)
        for param in node.params.params:
            self.facts.local_names.add(param.name.value)

    def _store(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if self._keyed(target, value):
            return
        if isinstance(target, cst.Subscript):  # `rows[0] = x`: x must be of the items' type
            before = infer(target, self.env) if self._known_key(target) else None
            self._kept(target, before, infer(value, self.env) if value is not None else None)
        self._spoil(target)  # a rebinding, or an item set: `rows[0] = x`
        self._growing.pop(_holder(target) or "", None)  # the name holds something else now
        if is_self_attr(target) and empty_display(value):
            self._stores.add(id(target))
            name = target.attr.value  # type: ignore[union-attr]
            self._write(name, None)
            self._grow(f"self.{name}", Growing(mapping=empty_display(value) == "dict"), name)
            return
        if is_self_attr(target) and _holder(value) in self._growing:
            self._stores.add(id(target))
            name = target.attr.value  # type: ignore[union-attr]
            growing = self._growing[_holder(value)]  # type: ignore[index]
            self._harmless.add(id(value))
            self._write(name, growing.kind())
            self._grow(f"self.{name}", growing, name)
            return
        if isinstance(target, cst.Name) and empty_display(value):
            self.facts.local_names.add(target.value)
            self._grow(target.value, Growing(mapping=empty_display(value) == "dict"), None)
            return
        if is_self_attr(target):
            self._stores.add(id(target))
            kind = infer(value, self.env) if value is not None else None
            self._write(target.attr.value, self._unchanged(target, kind))  # type: ignore[union-attr]
        elif isinstance(target, (cst.Tuple, cst.List)):
            self._unpack(target, self._unpacked(value, len(target.elements)))
        elif isinstance(target, cst.Name):
            self.facts.local_names.add(target.value)
            kind = infer(value, self.env) if value is not None else None
            self._bind(**{target.value: self._unchanged(target, kind) or ""})  # "": not known
            self._instance(target.value, value, kind)

    def _instance(self, name: str, value: cst.BaseExpression | None, kind: str | None) -> None:
        """``model = NbowModel(...)``, a plain class of a module beside the flow called: what
        its attributes hold (``model.cv``), where ``model`` is used only for them."""
        siblings = self.env.siblings
        if siblings is None or self.body is None or not isinstance(value, cst.Call):
            return
        function = dotted(value.func)
        if not kind or not function or qualified(function, self.env) != kind:
            return  # not the class itself called (``NbowModel.from_dict(...)`` sets others)
        if siblings.plain(kind) is None:
            return
        if self._objects is None:
            self._objects = safe_objects(self.body)
        if name not in self._objects:
            return
        held = siblings.attributes(kind, value, self.env)
        self._bind(**{f"{name}.{attribute}": k for attribute, k in held.items()})

    def _unpack(self, target: cst.Tuple | cst.List, kinds: list[str | None]) -> None:
        """``self.a, (self.b, c) = value``: each name the type of its part (``kinds``), nested
        parts unpacked from theirs; with a starred name no part is known."""
        if any(isinstance(e, cst.StarredElement) for e in target.elements):
            kinds = [None] * len(target.elements)
        for element, kind in zip(target.elements, kinds):
            kind = self._unchanged(element.value, kind)
            if is_self_attr(element.value):
                self._stores.add(id(element.value))
                self._write(element.value.attr.value, kind)  # type: ignore[union-attr]
            elif isinstance(element.value, (cst.Tuple, cst.List)):  # `(self.a, self.b), c = ...`
                count = len(element.value.elements)
                self._unpack(element.value, [unpacked(kind, i, count) for i in range(count)])
            else:
                self._bind_locals(element.value)
                if isinstance(element.value, cst.Name):
                    self._bind(**{element.value.value: kind or ""})

    def _keyed(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> bool:
        """``stats[name] = v`` on a dict made empty in the step (Growing): the key's and the
        value's types go in; a slice, or several indexes, spoil it."""
        if not isinstance(target, cst.Subscript) or value is None:
            return False
        growing = self._growing.get(_holder(target.value) or "")
        if growing is None or not growing.mapping:
            return False
        index = target.slice[0].slice if len(target.slice) == 1 else None
        if not isinstance(index, cst.Index) or index.star is not None:
            return False
        self._harmless.add(id(target.value))
        kind = infer(value, self.env)
        if container(kind) and isinstance(value, (cst.Name, cst.Attribute, cst.Subscript)):
            kind = None  # held elsewhere too: a change made there changes the item
        growing.kinds.append(kind)
        growing.keys.append(infer(index.value, self.env))
        self._retype(growing)
        return True

    def _kept(self, target: cst.BaseExpression, before: str | None, after: str | None) -> None:
        """A change in place of what ``target`` is part of: its type kept where the value
        that goes in is of the type of what was there (or one of a union's)."""
        name = holder(target)
        if name is None:
            return
        fits = (
            bool(before) and bool(after) and (after == before or after in split_args(before, "|"))
        )  # type: ignore[arg-type]
        (self.kept if fits else self.unsure).add(name)

    def _known_key(self, target: cst.Subscript) -> bool:
        """``d["k"] = v`` of a record: the key must be one the record has (a new key makes it
        another record); any other item set is checked against the value type."""
        fields = record_of(infer(target.value, self.env))
        if fields is None:
            return True
        index = target.slice[0].slice if len(target.slice) == 1 else None
        key = index.value if isinstance(index, cst.Index) else None
        return isinstance(key, cst.SimpleString) and key.evaluated_value in fields

    def _changing_call(self, node: cst.Call) -> None:
        """``rows.append(x)`` and the like, on what is not a list being filled (Growing)."""
        func = node.func
        if not isinstance(func, cst.Attribute) or code(func.value) == "self":
            return
        method = func.attr.value
        name = holder(func.value)
        if name is None or method not in CHANGING_METHODS or name in self._growing:
            return
        args = [a.value for a in node.args if not a.keyword]  # sort(key=..., reverse=True)
        if any(a.star for a in node.args):
            self.unsure.add(name)
            return
        kinds = [
            iter_element(a, self.env) if method == "extend" else infer(a, self.env) for a in args
        ]
        owner = infer(func.value, self.env)
        (self.kept if keeps_type(owner, method, kinds) else self.unsure).add(name)

    def _unchanged(self, target: cst.BaseExpression, kind: str | None) -> str | None:
        """``kind``, unless the body may change the container ``target`` holds in place."""
        holder = _holder(target)
        return None if holder in self.changed and container(kind) else kind

    # a list filled after it is made: `rows = []` ... `rows.append(x)` -------------------------
    def _grow(self, holder: str, growing: Growing, artifact: str | None) -> None:
        """``holder`` names ``growing`` now; an artifact's latest write follows its type."""
        self._growing[holder] = growing
        if artifact is not None:
            growing.writes.append((artifact, len(self.facts.writes[artifact]) - 1))
        self._retype(growing)

    def _retype(self, growing: Growing) -> None:
        kind = growing.kind()
        for name, held in self._growing.items():
            if held is growing:
                self._bind(**{name: kind or ""})
        for artifact, index in growing.writes:
            self.facts.writes[artifact][index] = kind

    def _spoil(self, node: cst.BaseExpression | None) -> None:
        """A growing list used any other way than ``append``/``extend`` (an item set, another
        method, an argument, an alias, ``+=``) may hold anything: its type is unknown."""
        holder = _holder(node.value if isinstance(node, cst.Subscript) else node)
        growing = self._growing.get(holder) if holder else None
        if growing is not None and not growing.spoiled:
            growing.spoiled = True
            self._retype(growing)

    def _filled(self, node: cst.Call) -> bool:
        """``rows.append(x)`` / ``rows.extend(xs)`` on a growing list: its elements' types."""
        func = node.func
        if not isinstance(func, cst.Attribute) or _holder(func.value) not in self._growing:
            return False
        growing = self._growing[_holder(func.value)]  # type: ignore[index]
        self._harmless.add(id(func.value))
        args = [a for a in node.args if not a.keyword and not a.star]
        simple = func.attr.value in ("append", "extend") and len(args) == len(node.args) == 1
        if not simple or growing.mapping:  # another method, or a dict's: anything may go in
            self._spoil(func.value)
            return True
        kind = infer(args[0].value, self.env)
        if func.attr.value == "extend":
            kind = element_type(kind) if kind != "str" else None
        growing.kinds.append(kind)
        self._retype(growing)
        return True

    def _unpacked(self, value, count: int) -> list[str | None]:
        if isinstance(value, cst.Tuple) and len(value.elements) == count:
            return [infer(e.value, self.env) for e in value.elements]
        parts = split_unpacked(value, self.env, count)
        if parts is not None:
            return parts
        kind = infer(value, self.env) if value is not None else None
        return [unpacked(kind, index, count) for index in range(count)]

    def _bind_locals(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.facts.local_names.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_locals(element.value)

    def _write(self, name: str, kind: str | None) -> None:
        if name in SPECIAL:
            self.facts.unsupported.append(f"assigning self.{name}")
            return
        if kind and not self.env.records:
            kind = plain(kind)  # the step changes items: no record is sure to hold
        self.facts.writes.setdefault(name, []).append(kind)
        if self.depth:
            self._deferred.add(name)  # set when the function runs: maybe after any other
        elif not self._blocks:
            self.facts.settled[name] = len(self.facts.writes[name]) - 1
        self._written.setdefault(name)
        self._bind(**{f"self.{name}": kind or ""})  # "": of no known type from here on

    def _bind(self, **names: str) -> None:
        """What these names hold from here on: ``self.env`` is this visitor's own (a copy made
        when it started, or a child ``bind_target`` made), so it changes in place; a copy per
        binding made a long step body quadratic."""
        self.env.names.update(names)
        for name in names.keys() & self.env.local_functions.keys():
            del self.env.local_functions[name]  # type: ignore[attr-defined]  # bound again

    def _read(self, name: str) -> None:
        if name not in self.facts.reads:
            self.facts.reads.append(name)

    # reads ---------------------------------------------------------------------------------
    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._not_bare.add(id(node.attr))
        self.facts.attribute_names.add(node.attr.value)
        growing = f"self.{node.attr.value}" in self._growing
        if growing and is_self_attr(node) and id(node) not in self._harmless:
            self._spoil(node)
        if is_self_attr(node) and id(node) not in self._stores:
            name = node.attr.value
            if name == "input":
                self.facts.uses_input = True
            elif name == "index":
                self.facts.uses_index = True
            elif name == "foreach_stack":
                if id(node) not in self._stack_ok:
                    self.facts.unsupported.append("self.foreach_stack()")
            elif name == "__class__":
                pass  # self.__class__.__name__ is the flow's name (BodyRewriter)
            elif name in self.methods:
                self._method_uses[name] = self._method_uses.get(name, 0) + 1
                if name not in self.facts.methods:
                    self.facts.methods.append(name)
                for needed in self.methods[name].needs:
                    if needed == "input":
                        self.facts.uses_input = True
                    elif needed == "index":
                        self.facts.uses_index = True
                    else:
                        self._read(needed)
            elif name not in ("next", "merge_artifacts"):
                self._read(name)
        pair = branch_read(node, self.inputs_name)
        if pair is not None and pair not in self.facts.branch_reads:
            self.facts.branch_reads.append(pair)
        if isinstance(node.value, cst.Name) and node.value.value in self.current_names:
            self.facts.current.append(node.attr.value)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        found = stack_read(node)
        if found is not None:
            self.facts.stack_reads.add(found[:2])
            self._stack_ok.add(id(found[2]))

    def visit_Name(self, node: cst.Name) -> None:
        if (
            node.value in self._growing
            and id(node) not in self._harmless
            and id(node) not in self._not_bare
        ):
            self._spoil(node)  # an alias, an argument, a method: anything may go in
        if node.value == self.inputs_name:
            self._inputs_names += 1
        if id(node) not in self._not_bare and node.value != "self":
            self.facts.bare_names.add(node.value)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._not_bare.add(id(node.keyword))

    _inputs_names = 0
    _inputs_branch = 0

    def leave_Attribute(self, node: cst.Attribute) -> None:
        inner = node.value
        if (
            isinstance(inner, cst.Attribute)
            and isinstance(inner.value, cst.Name)
            and inner.value.value == self.inputs_name
        ):
            self._inputs_branch += 1

    def visit_Call(self, node: cst.Call) -> None:
        self._method_call(node)
        self._changing_call(node)
        if self._filled(node):
            return
        if isinstance(node.func, cst.Name) and node.func.value in READ_ONLY:
            self._harmless.update(id(a.value) for a in node.args)
        if dotted(node.func) == "self.merge_artifacts":
            kwargs = keyword_args(node)
            include = tuple(literal(kwargs["include"])) if "include" in kwargs else None
            exclude = tuple(literal(kwargs["exclude"])) if "exclude" in kwargs else ()
            self.facts.merge = Merge(include, exclude, frozenset(self._written))

    def _method_call(self, node: cst.Call) -> None:
        """``self.audit("start")``: what the method sets, typed from this call; the step
        reads those artifacts as the call leaves them (the old value where the set may not
        run: both must agree)."""
        func = node.func
        method = self.methods.get(func.attr.value) if is_self_attr(func) else None  # type: ignore[union-attr]
        if method is not None and method.appends and method.kind == "method":
            self._appended(method, node)
        if method is None or not method.set_values or method.kind != "method":
            return
        mentioned = [*method.reads, *method.sets]  # a set attribute read first: the caller's
        typed = set_by_call(method.node, node, self.env, mentioned, method.set_values)
        self._typed_calls[method.name] = self._typed_calls.get(method.name, 0) + 1
        if typed is None:
            self._untyped_calls.add(method.name)
            return
        found = self.facts.method_sets.setdefault(method.name, {})
        for name, kinds in typed.items():
            found.setdefault(name, []).extend(kinds)
            new = optional([k for k in kinds if k]) if all(kinds) else None
            old = self.env.get(f"self.{name}")
            kind = new if old is None or new is None else agreed([old, new]) if old else None
            self.env.names[f"self.{name}"] = kind or ""

    def _appended(self, method, node: cst.Call) -> None:
        """``self.remember(text)`` where the method only appends to artifacts: what this call
        appends, typed from its arguments (a call that cannot be matched: unknown)."""
        typed = set_by_call(method.node, node, self.env, list(method.reads), method.appends)
        found = self.facts.method_appends.setdefault(method.name, {})
        for name in method.appends:
            found.setdefault(name, []).extend(typed[name] if typed is not None else [None])
        self._appending_calls[method.name] = self._appending_calls.get(method.name, 0) + 1

    def finish(self) -> StepFacts:
        for name in self._untyped_calls | {
            m for m, calls in self._typed_calls.items() if calls != self._method_uses.get(m)
        }:
            self.facts.method_sets.pop(name, None)  # used other than in calls typed here
        for name, calls in self._appending_calls.items():
            if calls != self._method_uses.get(name):
                self.facts.method_appends.pop(name, None)  # used other than in calls typed here
        if self._returns:
            self.facts.settled.clear()  # a return may leave before the last write
        for name in self._deferred:
            self.facts.settled.pop(name, None)
        merge_inputs = 1 if self.facts.merge is not None else 0
        self.facts.generic_inputs = self._inputs_names - self._inputs_branch - merge_inputs > 0
        return self.facts


@dataclass
class Growing:
    """A list (or, with ``mapping``, a dict) made empty and filled in the step: the types of
    what was put in it (and under what keys), the artifact writes it is the value of, and
    whether it was used in a way that may put anything in it."""

    kinds: list[str | None] = field(default_factory=list)
    writes: list[tuple[str, int]] = field(default_factory=list)  # (artifact, index of its write)
    spoiled: bool = False
    mapping: bool = False
    keys: list[str | None] = field(default_factory=list)

    def kind(self) -> str | None:
        if self.spoiled:
            return None
        if self.mapping:  # an empty dict stays unknown: no other step is asked
            return filled_type(self.kinds, self.keys)
        if not self.kinds:
            return EMPTY_LIST  # empty: whatever list the flow's other writes make it
        return filled_type(self.kinds)


def _holder(node: cst.BaseExpression | None) -> str | None:
    """``rows`` or ``self.rows``: what can hold a growing list."""
    if isinstance(node, cst.Name):
        return node.value
    if is_self_attr(node):
        return f"self.{node.attr.value}"  # type: ignore[union-attr]
    return None


# builtins that read a list and never change it
READ_ONLY = frozenset(
    ("len", "sorted", "sum", "min", "max", "list", "tuple", "set", "str", "repr", "print")
    + ("enumerate", "zip", "any", "all", "reversed", "dict", "frozenset", "isinstance")
)

_BINARY = {
    cst.AddAssign: cst.Add,
    cst.SubtractAssign: cst.Subtract,
    cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide,
    cst.FloorDivideAssign: cst.FloorDivide,
    cst.ModuloAssign: cst.Modulo,
    cst.PowerAssign: cst.Power,
    cst.BitOrAssign: cst.BitOr,
    cst.BitAndAssign: cst.BitAnd,
    cst.BitXorAssign: cst.BitXor,
    cst.LeftShiftAssign: cst.LeftShift,
    cst.RightShiftAssign: cst.RightShift,
    cst.MatrixMultiplyAssign: cst.MatrixMultiply,
}


@dataclass
class Rewrite:
    """How names change when a step body becomes a plain function body."""

    self_names: dict[str, str]  # self.<x> → local name (artifacts, parameters, input/index)
    branch_names: dict[tuple[str, str], str]  # inputs.<step>.<x> → local name
    constants: set[str]
    current_literals: dict[str, str]  # current.<attr> → Python literal
    current_names: set[str]
    inputs_name: str | None
    prelude: list[str]
    merge_code: list[str]
    methods: dict = field(default_factory=dict)  # the flow's non-step methods (methods.py)
    # the namespace the step keeps artifacts in (a method it calls sets some), and which
    namespace: tuple[str, frozenset[str]] | None = None
    epilogue: list[str] = field(default_factory=list)  # the step's locals from the namespace
    # ids of the body's statements that hold something to rewrite, found by the step's analysis
    # walk (None: not known, rewrite_body looks)
    touched: frozenset[int] | None = None


class BodyRewriter(cst.CSTTransformer):
    """Rewrites the body and, in the same pass, notes each use of ``self`` left untranslated."""

    def __init__(self, rewrite: Rewrite):
        self.rw = rewrite
        self.leftover: list[str] = []
        self._owners: set[int] = set()  # the `self` of each self.<x>: not a bare use
        self._flow_name: set[int] = set()  # the self.__class__ of self.__class__.__name__
        self.dropped: list[str] = []  # `run=self` keyword arguments left out (a Metaflow API's)

    def visit_Arg(self, node: cst.Arg) -> None:
        if _self_keyword(node):
            self._owners.add(id(node.value))
            self.dropped.append(f"{node.keyword.value}=self")  # type: ignore[union-attr]

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg):
        """``S3(run=self)``, ``Flow(..., run=self)``: the flow object itself goes only to Metaflow
        APIs, which the targets do not have (their names become stubs saying so)."""
        return cst.RemoveFromParent() if _self_keyword(original) else updated

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        return not (len(node.body) == 1 and _step_call(node.body[0]))  # removed or replaced

    def visit_Subscript(self, node: cst.Subscript) -> None:
        found = stack_read(node)
        if found is not None:
            self._owners.add(id(found[2].value))
            self._flow_name.add(id(found[2]))  # not a leftover self.<x>

    def leave_Subscript(self, original: cst.Subscript, updated: cst.Subscript):
        found = stack_read(original)
        key = f"foreach_stack()[{found[0]}][{found[1]}]" if found else None
        if key in self.rw.self_names:
            return cst.Name(self.rw.self_names[key])
        return updated

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if is_self_attr(node.value, "__class__") and node.attr.value == "__name__":
            self._owners.add(id(node.value.value))  # type: ignore[attr-defined]
            self._flow_name.add(id(node.value))
        if is_self_attr(node) and id(node) not in self._flow_name:
            self._owners.add(id(node.value))
            name = node.attr.value  # type: ignore[union-attr]
            held = self.rw.namespace[1] if self.rw.namespace is not None else ()
            if (
                name not in self.rw.self_names
                and name not in self.rw.constants
                and name not in held
            ):
                self.leftover.append(f"self.{name}")

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "self" and id(node) not in self._owners:
            self.leftover.append("self")

    def leave_Attribute(
        self, original: cst.Attribute, updated: cst.Attribute
    ) -> cst.BaseExpression:
        if is_self_attr(original.value, "__class__") and original.attr.value == "__name__":
            return cst.parse_expression(self.rw.current_literals["flow_name"])
        if is_self_attr(updated):
            name = updated.attr.value
            if self.rw.namespace is not None and name in self.rw.namespace[1]:
                return cst.Attribute(cst.Name(self.rw.namespace[0]), cst.Name(name))
            if name in self.rw.self_names:
                return cst.Name(self.rw.self_names[name])
            if name in self.rw.constants:
                return cst.Name(name)
        key = branch_read(updated, self.rw.inputs_name)
        if key in self.rw.branch_names:
            return cst.Name(self.rw.branch_names[key])  # type: ignore[index]
        owner = updated.value
        if isinstance(owner, cst.Name) and owner.value in self.rw.current_names:
            literal_text = self.rw.current_literals.get(updated.attr.value)
            if literal_text is not None:
                return cst.parse_expression(literal_text)
        return updated

    def leave_FormattedStringExpression(
        self, original: cst.FormattedStringExpression, updated: cst.FormattedStringExpression
    ):
        """``f"{self.x=}"`` prints ``self.x=...``: once ``self.x`` is ``x``, the text before the
        value is written out, so the output still prints what the step printed."""
        if original.equal is None or updated.expression.deep_equals(original.expression):
            return updated
        shown = cst.Module([]).code_for_node(
            original.with_changes(conversion=None, format_spec=None)
        )[1:-1]
        keep_conversion = original.conversion is not None or original.format_spec is not None
        value = updated.with_changes(
            equal=None,
            conversion=updated.conversion if keep_conversion else "r",
            whitespace_before_expression=cst.SimpleWhitespace(""),
            whitespace_after_expression=cst.SimpleWhitespace(""),
        )
        text = shown.replace("{", "{{").replace("}", "}}")
        return cst.FlattenSentinel([cst.FormattedStringText(text), value])

    def leave_SimpleStatementLine(self, original, updated):
        if len(updated.body) == 1 and _is_self_assignment(updated.body[0]):
            return cst.RemovalSentinel.REMOVE  # `self.x = self.x` only marks x as written here
        call = _step_call(original.body[0]) if len(original.body) == 1 else None
        if call == "self.next" or (call == "self.merge_artifacts" and not self.rw.merge_code):
            return cst.RemovalSentinel.REMOVE
        if call == "self.merge_artifacts":
            statements = cst.parse_module("\n".join(self.rw.merge_code) + "\n").body
            lead = statements[0].with_changes(leading_lines=updated.leading_lines)
            return cst.FlattenSentinel([lead, *statements[1:]])
        return updated


def stack_read(node: cst.Subscript):
    """``self.foreach_stack()[d][k]``, k 0 (the index) or 2 (the item) of the foreach at depth
    d (what our Metaflow writer emits for an outer loop's item): (d, k, the attribute node)."""
    inner = node.value
    if not (isinstance(inner, cst.Subscript) and len(node.slice) == len(inner.slice) == 1):
        return None
    call = inner.value
    if not (isinstance(call, cst.Call) and not call.args and is_self_attr(call.func)):
        return None
    if call.func.attr.value != "foreach_stack":  # type: ignore[attr-defined]
        return None
    picks = []
    for part in (inner.slice[0].slice, node.slice[0].slice):
        value = part.value if isinstance(part, cst.Index) else None
        picks.append(int(value.value) if isinstance(value, cst.Integer) else None)
    if picks[0] is None or picks[1] not in (0, 2):
        return None
    return picks[0], picks[1], call.func


def _step_call(statement: cst.BaseSmallStatement) -> str | None:
    """``self.next`` or ``self.merge_artifacts`` when the statement is a call of one of them."""
    value = statement.value if isinstance(statement, cst.Expr) else None
    if isinstance(value, cst.Call):
        name = dotted(value.func)
        if name in ("self.next", "self.merge_artifacts"):
            return name
    return None


def _is_self_assignment(node: cst.BaseSmallStatement) -> bool:
    return (
        isinstance(node, cst.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0].target, cst.Name)
        and isinstance(node.value, cst.Name)
        and node.targets[0].target.value == node.value.value
    )


def _self_keyword(node: cst.Arg) -> bool:
    return (
        node.keyword is not None and isinstance(node.value, cst.Name) and node.value.value == "self"
    )


def rewrite_body(node: cst.FunctionDef, rewrite: Rewrite) -> tuple[str, list[str], list[str]]:
    """The step's statements (docstring dropped) as dedented plain Python, the uses of `self`
    left in it (each one something transpile could not translate), and the ``name=self``
    arguments left out."""
    with phase("rewrite (metaflow steps)"):
        return _rewrite_body(node, rewrite)


def _rewrite_body(node: cst.FunctionDef, rewrite: Rewrite) -> tuple[str, list[str], list[str]]:
    statements = list(node.body.body)  # type: ignore[union-attr]
    if statements and _is_docstring(statements[0]):
        statements = statements[1:]
    rewriter = BodyRewriter(rewrite)
    if rewrite.methods:
        local, ns = dict(rewrite.self_names), None
        if rewrite.namespace is not None:
            ns = rewrite.namespace[0]
            local.update({n: f"{ns}.{n}" for n in rewrite.namespace[1]})
        module = rewrite_calls(cst.Module(body=statements), rewrite.methods, local, ns)
        module = module.visit(rewriter)
    else:
        module = cst.Module(body=_rewritten(statements, rewriter))
    prelude = cst.parse_module("\n".join(rewrite.prelude) + "\n").body if rewrite.prelude else []
    module = module.with_changes(body=[*prelude, *module.body])
    text = module.code
    return (text.strip("\n") + "\n" if text.strip() else ""), rewriter.leftover, rewriter.dropped


def _rewritten(statements: list[cst.BaseStatement], rewriter: BodyRewriter) -> list:
    """The statements as ``Module(body=statements).visit(rewriter)`` has them, the rewriter
    walking only those it can change (libcst rebuilds every node a transformer walks); the
    others are kept as they are, as its walk would have kept them."""
    rewrite = rewriter.rw
    words = rewrite_words(rewrite.current_names, rewrite.inputs_name)
    body: list[cst.BaseStatement] = []
    for statement in statements:
        touched = (
            _touched(statement, words)
            if rewrite.touched is None
            else id(statement) in rewrite.touched
        )
        if not touched:
            body.append(statement)
            continue
        result = statement.visit(rewriter)
        if isinstance(result, cst.RemovalSentinel):
            continue
        for item in result if isinstance(result, cst.FlattenSentinel) else [result]:
            # as libcst drops a statement a removal inside emptied
            if statement._is_removable() or not item._is_removable():
                body.append(item)
    return body


def rewrite_words(current_names: set[str], inputs_name: str | None) -> set[str]:
    """The names whose uses a body rewrite may change: ``self``, ``current`` (as imported) and
    a join's inputs."""
    return {"self", *current_names, *([inputs_name] if inputs_name else [])}


class Touched(cst.CSTVisitor):
    """Does a statement hold something ``BodyRewriter`` changes: one of ``words`` as a name, or
    a ``x = x`` line (removed)?"""

    def __init__(self, words: set[str]):
        self.words = words
        self.found = False

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.words:
            self.found = True

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if any(_is_self_assignment(small) for small in node.body):
            self.found = True


def _touched(statement: cst.BaseStatement, words: set[str]) -> bool:
    finder = Touched(words)
    walk(statement, finder)
    return finder.found


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def branch_read(node: cst.Attribute, inputs_name: str | None) -> tuple[str, str] | None:
    """``inputs.<step>.<x>`` in a join → (step, x)."""
    inner = node.value
    if (
        isinstance(inner, cst.Attribute)
        and isinstance(inner.value, cst.Name)
        and inner.value.value == inputs_name
    ):
        return inner.attr.value, node.attr.value
    return None


__all__ = [
    "INPUTS",
    "Rewrite",
    "StepAnalyzer",
    "StepFacts",
    "StepLocals",
    "Touched",
    "artifact_aliases",
    "rewrite_body",
    "rewrite_words",
]
