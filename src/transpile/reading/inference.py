"""Static type inference for values assigned to artifacts: literals, constructors, helpers, arithmetic."""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from ..model.ir import TypeRef
from . import library_types as library
from .classes import PlainClass, plain_class
from .cst import ScopeDepth, bound_names, code, dotted, keyword_args, literal, walk

INPUTS = "<inputs>"  # marker type: the join's `inputs` (or one element of it)
# marker type: a list made empty and never filled where it is made. Any list type fits it: the
# Metaflow reader gives it the one type the flow's other writes of the artifact agree on, and
# makes every type still holding the marker unknown (reader/read.py, ``_typed_empty_lists``)
EMPTY_LIST = "list[<empty>]"
EMPTY = "<empty>"
# A dict display whose keys are all names in quotes (``{"name": "low", "value": 2.0}``) is a
# record: its type holds each key's own type after the key and value types, as a third
# argument no annotation has (``dict[str, str | float, {name: str; value: float}]``), so that
# ``row["value"]`` is a float where the value type is ``str | float``. Only inference sees it:
# ``args_of`` gives the two real arguments, the readers make every type they hand on ``plain``,
# and a body that changes items in place (``row["value"] = "x"``) reads no record.
RECORD = "{"
# marker type: a number that is an int or a float, not knowing which (``sum()`` of floats is the
# int 0 when there is nothing to add). Arithmetic goes on with it (divided, or with a float, it
# gives a float); an artifact whose type holds it is unknown (the Metaflow reader's
# ``_plain_types``), and so is any other type the readers hand on.
NUMBER = "<number>"
_REAL = ("int", "float", NUMBER)

_NUMERIC = {"int": 0, "float": 1}
_STR_METHODS = {
    "upper",
    "lower",
    "strip",
    "lstrip",
    "rstrip",
    "title",
    "capitalize",
    "join",
    "format",
    "replace",
    "casefold",
    "zfill",
    "removeprefix",
    "removesuffix",
    "center",
    "ljust",
    "rjust",
    "swapcase",
    "expandtabs",
    "translate",
    "format_map",
}
_STR_TESTS = (
    *("startswith", "endswith", "isdigit", "isalpha", "isalnum", "isupper", "islower"),
    *("isspace", "isnumeric", "isdecimal", "isidentifier", "istitle", "isascii"),
)
# executors whose ``map(f, xs)`` gives f of each item, in order (``with`` binds the executor)
_EXECUTORS = frozenset(
    f"concurrent.futures.{name}" for name in ("ThreadPoolExecutor", "ProcessPoolExecutor")
)


_BUILTIN_RESULT = {
    "int": "int",
    "float": "float",
    "str": "str",
    "bool": "bool",
    "len": "int",
    "repr": "str",
    "hex": "str",
    "chr": "str",
    "ord": "int",
    "bytes": "bytes",
    "bytearray": "bytearray",
    "isinstance": "bool",
    "all": "bool",
    "any": "bool",
    "hash": "int",
}


@dataclass
class TypeEnv:
    """What is known while inferring: names → annotation text, plus module-level classes/helpers.

    ``names`` is copied by ``child`` (a step's locals: few); ``shared`` is a mapping looked up after
    it and never copied (the artifacts a step of a long flow can see: many)."""

    names: dict[str, str] = field(default_factory=dict)
    classes: frozenset[str] = frozenset()
    helpers: dict[str, str] = field(default_factory=dict)  # function name → return annotation
    artifact_types: dict[str, str] = field(default_factory=dict)  # join inputs: attr → type
    shared: Mapping[str, str] = field(default_factory=dict)
    calls: HelperCalls | None = None  # unannotated helpers typed per call (see HelperCalls)
    imports: Mapping[str, str] = field(default_factory=dict)  # local name → module.name
    records: bool = True  # False: the body changes items in place, no record holds (RECORD)
    siblings: SiblingFunctions | None = None  # functions of modules beside the file read
    # functions a step body defines (``def key(obj): ...``), by name, while the name holds one
    local_functions: Mapping[str, cst.FunctionDef] = field(default_factory=dict)

    def with_imports(self, node: cst.Import | cst.ImportFrom) -> TypeEnv:
        """This environment (not a copy) knowing the names ``node`` imports; the mapping is
        replaced, never changed, so the environments it was shared with keep theirs."""
        self.imports = {**self.imports, **imported(node)}
        return self

    def child(self, shared: Mapping[str, str] | None = None, /, **names: str) -> TypeEnv:
        """This environment with ``names`` added; a ``shared`` mapping is consulted first among
        the shared ones, without copying it."""
        below = self.shared if shared is None else ChainMap(shared, self.shared)
        return TypeEnv(
            {**self.names, **names},
            self.classes,
            self.helpers,
            self.artifact_types,
            below,
            self.calls,
            self.imports,
            self.records,
            self.siblings,
            self.local_functions,
        )

    def get(self, name: str) -> str | None:
        found = self.names.get(name)
        return found if found is not None else self.shared.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.names or name in self.shared


class HelperCalls:
    """Module helpers with no annotation whose return type depends on their arguments
    (``def parse(text): return text.split()``): typed at each call from the types of the
    arguments it passes, in the module's own names (never the caller's locals), a helper
    calling another at most ``DEPTH`` deep; the same argument types give the same answer."""

    DEPTH = 3

    def __init__(self, functions: dict[str, cst.FunctionDef], module: TypeEnv) -> None:
        self.functions = functions  # name (``parse``, or ``self.parse`` for a flow's method)
        self.bound: dict[str, int] = {}  # leading parameters a call does not pass (``self``)
        # a flow's method → the artifacts it reads (``self.table``): typed as the caller has them
        self.reads: dict[str, list[str]] = {}
        # … and those it sets (with what it calls): read back in its body, of no known type
        self.sets: dict[str, list[str]] = {}
        self.properties: set[str] = set()  # ``self.genres``: read, not called
        self.module = module
        self.depth = 0
        self.seen: dict[tuple[str, tuple[tuple[str, str], ...]], str | None] = {}

    def returned(self, name: str, call: cst.Call | None, env: TypeEnv) -> str | None:
        """What ``call`` of ``name`` returns (None: ``name`` is a property, read)."""
        function = self.functions.get(name)
        if function is None or name in env.names or self.depth >= self.DEPTH:
            return None
        if (call is None) != (name in self.properties):
            return None
        bound = self.bound.get(name, 0)
        given = _arguments(function, call, env, bound) if call is not None else {"self": ""}
        if given is None:
            return None
        for read in self.reads.get(name, ()):
            given[f"self.{read}"] = env.get(f"self.{read}") or ""
        for changed in self.sets.get(name, ()):
            given[f"self.{changed}"] = ""  # what it sets before reading it back: not the caller's
        key = (name, tuple(sorted(given.items())))
        if key not in self.seen:
            self.seen[key] = None  # a helper calling itself is unknown
            self.depth += 1
            try:
                self.seen[key] = returned_type(function, self.module, given)
            finally:
                self.depth -= 1
        return self.seen[key]


def module_env(module: cst.Module, siblings: SiblingFunctions | None = None) -> TypeEnv:
    """What a module's own names are, in source order: its classes, its functions' returns
    (annotated, or read from their bodies; an unannotated one is typed per call where its
    body alone does not tell, unless it changes an argument), its constants and its imports."""
    from .mutation import mutating_helpers

    classes: set[str] = set()
    helpers: dict[str, str] = {}
    names: dict[str, str] = {}
    imports: dict[str, str] = {}

    def known() -> TypeEnv:
        return TypeEnv(names, frozenset(classes), helpers, imports=imports, siblings=siblings)

    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    imports.update(imported(small))
        if isinstance(stmt, cst.ClassDef):
            classes.add(stmt.name.value)
        elif isinstance(stmt, cst.FunctionDef) and stmt.returns is not None:
            helpers[stmt.name.value] = code(stmt.returns.annotation)
        elif isinstance(stmt, cst.FunctionDef):
            kind = returned_type(stmt, known())
            if kind and "typing.Any" not in kind:  # else typed per call (HelperCalls)
                helpers[stmt.name.value] = kind
        elif isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Assign):
            assign = stmt.body[0]
            target = assign.targets[0].target
            if isinstance(target, cst.Name):
                kind = infer(assign.value, known())
                if kind:
                    names[target.value] = kind
    env = known()
    changing = mutating_helpers(module)  # what they return may not be what went in
    unknown = {
        stmt.name.value: stmt
        for stmt in module.body
        if isinstance(stmt, cst.FunctionDef)
        and stmt.returns is None
        and stmt.name.value not in helpers
        and not changing.get(stmt.name.value)
    }
    env.calls = HelperCalls(unknown, env) if unknown else None
    return env


# annotations a module beside the file may give its functions that mean the same in any file
_PLAIN_ANNOTATION = frozenset(
    ("int", "float", "str", "bool", "bytes", "None", "list", "dict", "tuple", "set")
)


class SiblingFunctions:
    """Functions of the modules beside the file being read (``from utils import load``, ``import
    utils``): typed from their bodies at each call, in their own module's names, as module
    helpers are; the module parsed, never imported. An annotation is taken where it is made of
    builtins only (another name means something in that module, not here)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.modules: dict[str, TypeEnv | None] = {}
        self.functions: dict[str, dict[str, cst.FunctionDef]] = {}
        self.changing: dict[str, dict[str, frozenset]] = {}  # module → function → params
        self.classes: dict[str, dict[str, PlainClass]] = {}  # module → its plain classes
        self.depth = 0

    def plain(self, kind: str | None) -> tuple[PlainClass, TypeEnv, str] | None:
        """The plain class (classes.py) an instance of type ``kind`` (``model.NbowModel``) is
        of, with its module's names and the module (``model``); None for any other type."""
        module, _, name = (kind or "").rpartition(".")
        if not module or "[" in module or " " in module or module.startswith(library.LIBRARIES):
            return None
        env = self._module(module)
        found = self.classes.get(module, {}).get(name)
        return (found, env, module) if found is not None and env is not None else None

    def attributes(self, kind: str, call: cst.Call, env: TypeEnv) -> dict[str, str]:
        """What each attribute of the instance ``call`` (of the plain class ``kind``) makes
        holds: one of the values the class's methods assign it, ``__init__``'s typed with what
        the call gives it, the others' with their parameters unknown; a list, dict or set may
        be changed in place later, so only other types are kept."""
        found = self.plain(kind)
        if found is None or self.depth >= HelperCalls.DEPTH:
            return {}
        plain_class, module, where = found
        init = plain_class.methods.get("__init__")
        given = _arguments(init, call, env, 1) if init is not None else {}
        if given is None:
            return {}
        self.depth += 1
        try:
            locals_: dict[int, TypeEnv] = {}
            out: dict[str, str] = {}
            for name, sites in plain_class.sets.items():
                kinds: list[str | None] = []
                for method, value in sites:
                    if id(method) not in locals_:
                        locals_[id(method)] = _local_env(
                            method, module, given if method is init else {}
                        )
                    kinds.append(infer(value, locals_[id(method)]) if value is not None else None)
                kind_ = agreed(kinds) if all(kinds) else None  # type: ignore[arg-type]
                kind_ = _qualify(kind_ or union(kinds), where, module.classes)
                if kind_ and not container(kind_) and INPUTS not in kind_:
                    out[name] = kind_
            return out
        finally:
            self.depth -= 1

    def member(
        self, kind: str, name: str, call: cst.Call | None, holds: Mapping[str, str], env: TypeEnv
    ) -> str | None:
        """What ``instance.name`` (a property, ``call`` None) or ``instance.name(...)`` (a
        method) returns for an instance of the plain class ``kind`` whose attributes hold
        ``holds`` (those known); ``Class.name(...)`` for a class or static method when ``kind``
        is ``type[Class]``. None where not known."""
        owner = kind[len("type[") : -1] if kind.startswith("type[") else kind
        found = self.plain(owner)
        if found is None or self.depth >= HelperCalls.DEPTH:
            return None
        plain_class, module, where = found
        method = plain_class.methods.get(name)
        how = plain_class.kind(name)
        if method is None:
            return None
        given: dict[str, str] | None
        if kind.startswith("type["):  # Class.name(...)
            if call is None or how not in ("classmethod", "staticmethod"):
                return None
            bound = 1 if how == "classmethod" else 0
            given = _arguments(method, call, env, bound)
            if given is not None and bound:
                params = [*method.params.posonly_params, *method.params.params]
                given[params[0].name.value] = kind  # ``cls``: this class itself
        elif how == "property" and call is None:
            given = {}
        elif how == "method" and call is not None:
            given = _arguments(method, call, env, 1)
        else:
            return None
        if given is None:
            return None
        given.update((f"self.{a}", holds.get(a, "")) for a in plain_class.sets)
        self.depth += 1
        try:
            return _qualify(returned_type(method, module, given), where, module.classes)
        finally:
            self.depth -= 1

    def unchanging(self, module: str) -> set[str] | None:
        """The functions of a module beside the file that change none of their arguments in
        place (as the file's own helpers are judged), or None when the module is not there."""
        self._module(module)
        if module not in self.functions:
            return None
        if module not in self.changing:
            from .mutation import mutating_helpers

            self.changing[module] = mutating_helpers(
                cst.Module(list(self.functions[module].values()))
            )
        changed = self.changing[module]
        return {name for name in self.functions[module] if not changed.get(name)}

    def returned(self, function: str, call: cst.Call, env: TypeEnv) -> str | None:
        module, _, name = function.rpartition(".")
        if not module or self.depth >= HelperCalls.DEPTH:
            return None
        self.depth += 1
        try:
            found = self._module(module)
            if name in self.classes.get(module, {}):
                return function  # a plain class: calling it makes an instance of it
            if self.plain(module) is not None:  # ``Class.name(...)``: ``module`` is the class
                return self.member(f"type[{module}]", name, call, {}, env)
            node = self.functions.get(module, {}).get(name)
            if found is None or node is None:
                return None
            if node.returns is not None:
                kind = code(node.returns.annotation)
                words = set(kind.replace("[", " ").replace("]", " ").replace(",", " ").split())
                return kind if words - {"|"} <= _PLAIN_ANNOTATION else None
            if found.calls is not None and name in found.calls.functions:
                return _qualify(found.calls.returned(name, call, env), module, found.classes)
            return _qualify(found.helpers.get(name), module, found.classes)
        finally:
            self.depth -= 1

    def _module(self, module: str) -> TypeEnv | None:
        if module not in self.modules:
            self.modules[module] = None  # a module importing itself: unknown meanwhile
            from .siblings import module_path

            path = module_path(self.source, module)
            tree = None
            if path is not None and path.resolve() != Path(self.source).resolve():
                try:
                    tree = cst.parse_module(path.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, cst.ParserSyntaxError, RecursionError):
                    tree = None
            if tree is not None:
                self.functions[module] = {
                    s.name.value: s for s in tree.body if isinstance(s, cst.FunctionDef)
                }
                classes = [plain_class(s) for s in tree.body if isinstance(s, cst.ClassDef)]
                self.classes[module] = {c.node.name.value: c for c in classes if c is not None}
                self.modules[module] = module_env(tree, SiblingFunctions(str(path)))
        return self.modules[module]


def _qualify(kind: str | None, module: str, classes: Collection[str]) -> str | None:
    """``kind`` as the flow's file names it: a class of the module beside it (``Wrapper``,
    what the module's own code calls it) is ``helpers.Wrapper`` there (a class of the file
    itself may have the same name)."""
    if not kind or not classes:
        return kind
    pattern = r"(?<![\w.])(" + "|".join(re.escape(c) for c in sorted(classes)) + r")(?![\w:])"
    return re.sub(pattern, lambda m: f"{module}.{m.group(1)}", kind)


def set_by_call(
    function: cst.FunctionDef,
    call: cst.Call,
    env: TypeEnv,
    reads: list[str],
    values: Mapping[str, list[cst.BaseExpression | None]],
) -> dict[str, list[str | None]] | None:
    """What a flow's method sets on self (``values``: attribute → what each assignment gives
    it, None where not a plain value) at one ``self.m(...)`` call in a step: typed from the
    call's arguments and the artifacts (``reads``) as the step holds them (``env``), in the
    module's names; None when the call cannot be matched to the method's parameters."""
    given = _arguments(function, call, env, 1)
    if given is None or env.calls is None:
        return None
    for read in reads:
        given[f"self.{read}"] = env.get(f"self.{read}") or ""
    module = env.calls.module
    if changes_items(function.body):
        module = module.child()
        module.records = False
    local = _local_env(function, module, given)
    return {
        name: [infer(v, local) if v is not None else None for v in found]
        for name, found in values.items()
    }


def imported(node: cst.Import | cst.ImportFrom) -> dict[str, str]:
    """The names an import binds → what they are (``import datetime as dt`` → ``dt``:
    ``datetime``; ``from datetime import date`` → ``date``: ``datetime.date``); a relative
    import binds nothing known."""
    found: dict[str, str] = {}
    if isinstance(node, cst.Import):
        for alias in node.names:
            name = dotted(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                found[alias.asname.name.value] = name
            elif name:
                head = name.split(".")[0]
                found[head] = head  # `import os.path` binds `os`
        return found
    if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
        return found
    module = dotted(node.module) or ""
    for alias in node.names:
        name = alias.name.value if isinstance(alias.name, cst.Name) else ""
        local = alias.asname.name if alias.asname is not None else alias.name
        if name and isinstance(local, cst.Name):
            found[local.value] = f"{module}.{name}"
    return found


# what a name means where no import of it is seen (a component body importing inside itself)
_UNIMPORTED = {
    "np": "numpy",
    "pd": "pandas",
    "datetime": "datetime.datetime",
    "date": "datetime.date",
    "timedelta": "datetime.timedelta",
    "Counter": "collections.Counter",
    "Path": "pathlib.Path",
}


def qualified(name: str, env: TypeEnv) -> str | None:
    """``dt.datetime.now`` → ``datetime.datetime.now`` through the imports in ``env``; a name
    the code binds otherwise (a local, an artifact) is no module's (None); a name imported
    nowhere is read as commonly imported."""
    head, dot, rest = name.partition(".")
    if head in env.imports:
        return env.imports[head] + dot + rest
    if head in env:
        return None
    if name in _STDLIB_RESULT or name in _BY_DATA or not (dot and head in _UNIMPORTED):
        return name
    return _UNIMPORTED[head] + dot + rest


def _arguments(
    function: cst.FunctionDef, call: cst.Call, env: TypeEnv, bound: int = 0
) -> dict[str, str] | None:
    """The types of the values a call gives the function's parameters ("" unknown; the first
    ``bound`` are not passed: a method's ``self``); None when the call cannot be matched
    (``*args``, ``**kwargs``, a name the function does not take, a parameter left out)."""
    params = function.params
    if params.star_arg is not None and isinstance(params.star_arg, cst.Param):
        return None
    if params.star_kwarg is not None:
        return None
    positional = [*params.posonly_params, *params.params]
    given: dict[str, str] = {p.name.value: "" for p in positional[:bound]}
    positional = positional[bound:]
    by_name = {p.name.value: p for p in [*positional, *params.kwonly_params]}
    for index, arg in enumerate(a for a in call.args if not a.keyword):
        if arg.star or index >= len(positional):
            return None
        given[positional[index].name.value] = infer(arg.value, env) or ""
    for arg in call.args:
        if arg.keyword is None:
            continue
        if arg.keyword.value not in by_name or arg.keyword.value in given:
            return None
        given[arg.keyword.value] = infer(arg.value, env) or ""
    for name, param in by_name.items():
        if name not in given:
            if param.default is None:
                return None
            given[name] = infer(param.default, env) or ""
    return given


def args_of(expr: str | None, *names: str) -> list[str] | None:
    """``dict[str, int]`` with ``"dict"`` → ``["str", "int"]``: the arguments of a generic type
    named one of ``names``; None for anything else, a union of them included
    (``list[str] | list[int]`` is no list of anything)."""
    if not expr or not expr.endswith("]"):
        return None
    head, bracket, _ = expr.partition("[")
    if head not in names or not bracket or len(split_args(expr, "|")) != 1:
        return None
    depth = 0
    for i, ch in enumerate(expr[len(head) :], len(head)):
        depth += ch == "["
        depth -= ch == "]"
        if depth == 0 and i != len(expr) - 1:
            return None  # ``list[int]][...``: not one generic
    found = split_args(expr[len(head) + 1 : -1])
    return found[:-1] if head == "dict" and found[-1].startswith(RECORD) else found


def record_of(expr: str | None) -> dict[str, str] | None:
    """The key → type of each key of a record (RECORD), or None when ``expr`` is none."""
    if not expr or not expr.startswith("dict[") or RECORD not in expr:
        return None
    parts = split_args(expr[len("dict[") : -1])
    if len(parts) != 3 or not parts[2].startswith(RECORD) or args_of(expr, "dict") is None:
        return None
    fields = split_args(parts[2][1:-1], ";")
    return dict(f.split(": ", 1) for f in fields)  # type: ignore[misc]


def plain(expr: str) -> str:
    """``expr`` with no record in it, at any depth: the annotation it stands for."""
    if RECORD not in expr:
        return expr
    out, i = [], 0
    while i < len(expr):
        if expr.startswith(", " + RECORD, i):  # skip it, to its closing brace
            i, depth = i + 2, 0
            while True:
                depth += expr[i] == "{"
                depth -= expr[i] == "}"
                i += 1
                if depth == 0:
                    break
            continue
        out.append(expr[i])
        i += 1
    return "".join(out)


def annotation(kind: str | None) -> str | None:
    """``kind`` as an annotation a reader hands on: ``plain``, or None where it holds a
    marker (a number of no known kind, an element of an empty list)."""
    if not kind or NUMBER in kind or EMPTY in kind:
        return None
    return plain(kind)


def agreed(kinds: list[str]) -> str | None:
    """The one type of several known types: theirs when all are one, the ``plain`` one when
    they differ only in their records; else None."""
    if len(set(kinds)) == 1:
        return kinds[0]
    plains = {plain(k) for k in kinds}
    return plains.pop() if len(plains) == 1 else None


def changes_items(node: cst.CSTNode) -> bool:
    """Whether a body may change a container's items in place: an item assigned, changed
    or deleted (``row["k"] = v``, ``row["k"] += 1``, ``del row["k"]``), or a method that
    does it (``row.update(...)``)."""
    finder = _Changes(())
    walk(node, finder)
    return finder.items


def element_type(expr: str | None) -> str | None:
    """``list[int]`` → ``int``; anything else unknown."""
    if expr is None:
        return None
    found = args_of(expr, "list", "set", "typing.List")
    if found is not None:
        return found[0] if len(found) == 1 else None
    if expr == "str":
        return "str"
    if expr in ("bytes", "bytearray"):
        return "int"  # a byte
    if expr == INPUTS:
        return INPUTS
    return None


def _join(kinds: list[str | None], none: bool = True) -> str | None:
    """One type for several values, or None when they disagree or any is unknown. With ``none``,
    values of one type and ``None`` are that type ``| None`` (``return x`` / ``return None``);
    without, a ``None`` among them is no type (arithmetic on it raises)."""
    if not kinds or any(k is None for k in kinds):
        return None
    if not none and "None" in kinds:
        return None
    return optional(kinds)  # type: ignore[arg-type]


def optional(kinds: list[str]) -> str | None:
    """The one type of known ``kinds``; ``T | None`` for values of ``T`` and ``None``; else None."""
    others = list(dict.fromkeys(k for k in kinds if k != "None"))
    if len(others) > 1 and agreed(others):
        others = [agreed(others)]  # type: ignore[list-item]
    if not others:
        return "None"
    if len(others) > 1 or (others[0] == INPUTS and "None" in kinds):
        return None
    kind = others[0]
    if "None" not in kinds or kind.endswith("| None"):
        return kind
    return f"{kind} | None"


def infer(node: cst.BaseExpression, env: TypeEnv) -> str | None:
    """The annotation text of an expression's value, or None when it cannot be known statically."""
    handler = _HANDLERS.get(type(node))
    return handler(node, env) if handler else None


def _name(node: cst.Name, env: TypeEnv) -> str | None:
    if node.value in ("True", "False"):
        return "bool"
    if node.value == "None":
        return "None"
    return env.get(node.value) or None  # "" marks a name rebound to something unknown


def _string(node: cst.BaseExpression, env: TypeEnv) -> str | None:
    if isinstance(node, cst.SimpleString):
        return "bytes" if "b" in node.prefix.lower() else "str"
    return "str"


def union(kinds: list[str | None]) -> str | None:
    """One type for the values of a container display: their type, or the union of their
    types (``str | int``) when all are known. Never two kinds of number (a bool is an int to
    Python): a union's value is matched against its parts, and Flyte refuses an int where a
    float is declared."""
    if not kinds or any(k is None or k == INPUTS for k in kinds):
        return None
    if agreed(kinds):  # type: ignore[arg-type]
        return agreed(kinds)  # type: ignore[arg-type]  # one type, a union itself or not
    if any("|" in k for k in kinds):  # type: ignore[operator]
        return None
    parts = list(dict.fromkeys(plain(k) for k in kinds if k))  # type: ignore[arg-type]
    if len({"bool", "int", "float", NUMBER} & set(parts)) > 1 or NUMBER in parts:
        return None
    return " | ".join(parts) if 0 < len(parts) <= 4 else None


def _collection(node: cst.List | cst.Set, env: TypeEnv) -> str | None:
    if any(not isinstance(e, cst.Element) for e in node.elements):
        return None
    elem = union([infer(e.value, env) for e in node.elements])
    kind = "list" if isinstance(node, cst.List) else "set"
    return f"{kind}[{elem}]" if elem else None


def _tuple(node: cst.Tuple, env: TypeEnv) -> str | None:
    """A tuple display is a tuple whatever its elements are (writers must know: Flyte refuses
    tuple values), so unknown elements become ``typing.Any`` rather than the whole type."""
    if not node.elements or any(not isinstance(e, cst.Element) for e in node.elements):
        return None
    parts = [infer(e.value, env) or "typing.Any" for e in node.elements]
    return f"tuple[{', '.join(p if p != INPUTS else 'typing.Any' for p in parts)}]"


def _dict(node: cst.Dict, env: TypeEnv) -> str | None:
    if not node.elements or any(not isinstance(e, cst.DictElement) for e in node.elements):
        return None
    keys = _join([infer(e.key, env) for e in node.elements], none=False)  # type: ignore[union-attr]
    if keys == INPUTS:
        return None
    kinds = [infer(e.value, env) for e in node.elements]
    values = union(kinds)
    if not keys or not values:
        return None
    names = [e.key.evaluated_value for e in node.elements if isinstance(e.key, cst.SimpleString)]  # type: ignore[union-attr]
    if len(set(names)) != len(node.elements) or not all(
        isinstance(n, str) and n.isidentifier() for n in names
    ):
        return f"dict[{keys}, {values}]"
    fields = "; ".join(f"{n}: {k}" for n, k in zip(names, kinds))
    return f"dict[{keys}, {values}, {RECORD}{fields}}}]"


def _comprehension_env(node: cst.CompFor, env: TypeEnv) -> TypeEnv:
    current = env
    for_node: cst.CompFor | None = node
    while for_node is not None:
        elem = iter_element(for_node.iter, current)
        current = bind_target(for_node.target, elem, current)
        for_node = for_node.inner_for_in
    return current


def iter_element(node: cst.BaseExpression, env: TypeEnv) -> str | None:
    if isinstance(node, cst.GeneratorExp):
        elem = infer(node.elt, _comprehension_env(node.for_in, env))
        return elem if elem != INPUTS else None
    if isinstance(node, cst.Call) and _callee(node) == "range":
        return "int"
    if isinstance(node, cst.Call) and _callee(node) == "enumerate" and node.args:
        inner = element_type(infer(node.args[0].value, env))
        return f"tuple[int, {inner}]" if inner else None
    if isinstance(node, cst.Call) and _callee(node) == "map" and "map" not in env:
        return _mapped(node, env)
    if _pool_map(node, env):  # ``pool.map(f, xs)``: f of each
        return _mapped(node, env, executor=True)  # type: ignore[arg-type]
    if isinstance(node, cst.Call) and _callee(node) == "zip" and "zip" not in env:
        if not node.args or any(a.keyword or a.star for a in node.args):
            return None
        parts = [iter_element(a.value, env) for a in node.args]
        known = all(p is not None and p != INPUTS for p in parts)
        return f"tuple[{', '.join(parts)}]" if known else None  # type: ignore[arg-type]
    view = _view(node, env)
    if view is not None:
        return view or None
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        owner = infer(node.func.value, env)  # ``Flow(name).runs()``: an iterator of runs
        found = library.iterated(owner, node.func.attr.value) if owner else None
        if found:
            return found
    kind = infer(node, env)
    if library.element(kind):  # ``for field in table.schema``
        return library.element(kind)
    keys = args_of(kind, "dict")
    if keys:  # iterating a dict goes over its keys
        return keys[0]
    counted = args_of(kind, "collections.Counter")
    if counted and len(counted) == 1:
        return counted[0]
    parts = args_of(kind, "tuple")
    if parts and len(parts) == 2 and parts[1] == "...":
        return parts[0]  # a tuple of one kind of value
    if parts and "typing.Any" not in parts:
        return union(parts)  # ``("ann", 5)``: each element is one of its parts
    return element_type(kind)


def _mapped(node: cst.Call, env: TypeEnv, executor: bool = False) -> str | None:
    """The element of ``map(f, xs)`` over one iterable: what ``f`` gives an element of ``xs``,
    for a builtin such as ``str``, a one-parameter lambda or function the step defines (its
    body with the parameter bound), or any other function called so (a module helper, an
    imported one). ``executor``: an executor's map, which may also take ``timeout=`` and
    ``chunksize=``."""
    allowed = ("timeout", "chunksize") if executor else ()
    given = [a for a in node.args if not a.keyword]
    keywords = [a for a in node.args if a.keyword]
    if len(given) != 2 or any(a.star for a in node.args):
        return None
    if any(a.keyword.value not in allowed for a in keywords):  # type: ignore[union-attr]
        return None
    function, items = given[0].value, given[1].value
    if (
        isinstance(function, cst.Name)
        and function.value in _BUILTIN_RESULT
        and function.value not in env
    ):
        return _BUILTIN_RESULT[function.value]
    defined = env.local_functions.get(code(function)) if isinstance(function, cst.Name) else None
    if not isinstance(function, cst.Lambda) and defined is None:
        return _called_on(function, items, env)
    params = (function if defined is None else defined).params  # type: ignore[union-attr]
    others = (params.posonly_params, params.kwonly_params, params.star_kwarg)
    if len(params.params) != 1 or isinstance(params.star_arg, cst.Param) or any(others):
        return None
    if params.params[0].default is not None:
        return None
    elem = iter_element(items, env)  # INPUTS: one of a join's inputs (``inp.score``)
    if elem is None:
        return None
    if defined is not None:  # called here, on each element: its names are the step's now
        inner = env.child()
        inner.local_functions = {}  # a function mapping itself is not followed
        found = returned_type(defined, inner, {params.params[0].name.value: elem})
    else:
        found = infer(function.body, bind_target(params.params[0].name, elem, env))  # type: ignore[union-attr]
    return found if found != INPUTS else None


def _pool_map(node: cst.BaseExpression, env: TypeEnv) -> bool:
    """``pool.map(...)`` on an executor (``_EXECUTORS``)."""
    method = node.func if isinstance(node, cst.Call) else None
    if not isinstance(method, cst.Attribute) or method.attr.value != "map":
        return False
    return infer(method.value, env) in _EXECUTORS


_ITEM = "__transpile_item__"  # a name no code uses: one element, passed to a function


def _called_on(function: cst.BaseExpression, items: cst.BaseExpression, env: TypeEnv) -> str | None:
    """What ``function(x)`` gives for an element ``x`` of ``items``: the call typed as written
    (a module helper per call, a library function by name); None where unknown."""
    if not isinstance(function, (cst.Name, cst.Attribute)) or _ITEM in env:
        return None
    elem = iter_element(items, env)
    if elem is None or elem == INPUTS:
        return None
    call = cst.Call(func=function, args=[cst.Arg(cst.Name(_ITEM))])
    found = infer(call, env.child(**{_ITEM: elem}))
    return found if found != INPUTS else None


def _view(node: cst.BaseExpression, env: TypeEnv) -> str | None:
    """The element type of ``d.keys()`` / ``.values()`` / ``.items()`` of a dict or Counter
    of known types ("" when unknown); None when ``node`` is no such view."""
    if not (
        isinstance(node, cst.Call)
        and not node.args
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in ("keys", "values", "items")
    ):
        return None
    owner = infer(node.func.value, env)
    parts = args_of(owner, "dict")
    counted = args_of(owner, "collections.Counter")
    if counted and len(counted) == 1:
        parts = [counted[0], "int"]
    if not parts or len(parts) != 2 or INPUTS in parts:
        return ""
    method = node.func.attr.value
    if method == "items":
        return f"tuple[{parts[0]}, {parts[1]}]"
    return parts[0] if method == "keys" else parts[1]


def bind_target(target: cst.BaseExpression, kind: str | None, env: TypeEnv) -> TypeEnv:
    if isinstance(target, cst.Name):
        return env.child(**{target.value: kind}) if kind else env
    parts = args_of(kind, "tuple")
    if isinstance(target, (cst.Tuple, cst.List)) and parts is not None:
        names = [e.value for e in target.elements]
        if len(parts) == len(names):
            for sub, part in zip(names, parts):
                env = bind_target(sub, part, env)
    elif _unpacks_items(target) and element_type(kind) not in (None, INPUTS):
        # `for x, y in points` over lists: each name is an element, if the unpacking runs at all
        for element in target.elements:  # type: ignore[union-attr]
            env = bind_target(element.value, element_type(kind), env)
    return env


def _unpacks_items(target: cst.BaseExpression) -> bool:
    """``x, y`` (no ``*rest``): a target that takes one item of a sequence per name."""
    return isinstance(target, (cst.Tuple, cst.List)) and not any(
        isinstance(e, cst.StarredElement) for e in target.elements
    )


def split_args(text: str, separator: str = ",") -> list[str]:
    """``int, dict[str, int]`` → ["int", "dict[str, int]"]: a type's arguments, top level; with
    ``separator="|"`` a union's parts (one part when ``text`` is no union)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "[{"
        depth -= ch in "]}"
        if ch == separator and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _list_comp(node: cst.ListComp | cst.SetComp, env: TypeEnv) -> str | None:
    elem = infer(node.elt, _comprehension_env(node.for_in, env))
    kind = "list" if isinstance(node, cst.ListComp) else "set"
    return f"{kind}[{elem}]" if elem and elem != INPUTS else None


def _dict_comp(node: cst.DictComp, env: TypeEnv) -> str | None:
    inner = _comprehension_env(node.for_in, env)
    key, value = infer(node.key, inner), infer(node.value, inner)
    return f"dict[{key}, {value}]" if key and value and INPUTS not in (key, value) else None


def _callee(node: cst.Call) -> str | None:
    return node.func.value if isinstance(node.func, cst.Name) else None


def _call(node: cst.Call, env: TypeEnv) -> str | None:
    name = _callee(node)
    args = [a.value for a in node.args if not a.keyword and not a.star]
    held = env.get(name) if name else None
    if held and held.startswith("type[") and held.endswith("]"):
        return held[len("type[") : -1]  # ``cls(...)``: an instance of the class it holds
    if name in env.imports and not env.get(name):  # `from datetime import date`: date(...)
        return _module_call(env.imports[name], node, args, env)
    if name in _BUILTIN_RESULT and name not in env:
        return _BUILTIN_RESULT[name]
    if name == "open" and "open" not in env and args:
        return _file(_opened(node, "r"))
    if name in env.classes:
        return name
    if name in env.helpers:
        return env.helpers[name]
    if name and env.calls is not None:
        found = env.calls.returned(name, node, env)
        if found:
            return found
    if (
        name in ("min", "max")
        and len(args) == 1
        and not any(a.keyword for a in node.args if a.keyword and a.keyword.value == "default")
    ):
        if isinstance(args[0], cst.GeneratorExp):
            return infer(args[0].elt, _comprehension_env(args[0].for_in, env))
        return iter_element(args[0], env)  # a dict's smallest key, a list's element
    if name in ("min", "max") and len(args) == 1:
        return None  # min(xs, default=d): an element or the default
    if name in ("min", "max", "abs") and args:
        return _join([infer(a, env) for a in args], none=False)
    if name == "sum" and len(args) == 1:
        elem = (
            element_type(infer(args[0], env))
            if not isinstance(args[0], cst.GeneratorExp)
            else (infer(args[0].elt, _comprehension_env(args[0].for_in, env)))
        )
        if elem == "int":
            return "int"
        return NUMBER if elem in ("float", NUMBER) else None  # the int 0 when empty
    if name == "round":
        return "int" if len(args) == 1 else _join([infer(args[0], env)], none=False)
    if name in ("sorted", "list", "set") and len(args) == 1:
        elem = iter_element(args[0], env)
        kind = "set" if name == "set" else "list"
        return f"{kind}[{elem}]" if elem and elem != INPUTS else None
    if name == "tuple" and len(args) == 1 and len(node.args) == 1:
        elem = iter_element(args[0], env)
        return f"tuple[{elem}, ...]" if elem and elem != INPUTS else None
    if name == "dict" and "dict" not in env:
        return _dict_call(node, env)
    if name == "divmod" and len(args) == 2:
        both = _join([infer(a, env) for a in args], none=False)
        return f"tuple[{both}, {both}]" if both else None
    if isinstance(node.func, cst.Attribute):
        function = dotted(node.func) or ""
        if env.calls is not None and function in env.calls.functions:
            return env.calls.returned(function, node, env)  # a flow's method: self.parse(x)
        module = qualified(function, env) if function else None
        if module is None:
            return _method(node.func, env, node)  # a local or an artifact named like a module
        return _module_call(module, node, args, env) or _method(node.func, env, node)
    return None


def _dict_call(node: cst.Call, env: TypeEnv) -> str | None:
    """``dict(d)`` of a dict: a copy, of its type; ``dict(pairs)``: the pairs' two types;
    ``dict(a=1, b="x")``: str keys, its values' types (no other mixture of the two)."""
    if any(a.star for a in node.args):
        return None
    if len(node.args) == 1 and not node.args[0].keyword:
        given = node.args[0].value
        kind = infer(given, env)
        if args_of(kind, "dict") is not None:
            return kind
        counted = args_of(kind, "collections.Counter")
        if counted is not None:  # a Counter's counts, in a plain dict
            return f"dict[{counted[0]}, int]" if len(counted) == 1 else None
        if kind == INPUTS:
            return None
        pair = args_of(iter_element(given, env), "tuple")
        if pair is None or len(pair) != 2 or "..." in pair or "typing.Any" in pair:
            return None
        return f"dict[{pair[0]}, {pair[1]}]" if INPUTS not in pair else None
    if node.args and all(a.keyword for a in node.args):
        display = cst.Dict(
            [cst.DictElement(cst.SimpleString(f'"{a.keyword.value}"'), a.value) for a in node.args]  # type: ignore[union-attr]
        )
        return _dict(display, env)
    return None


def _module_call(
    function: str, node: cst.Call, args: list[cst.BaseExpression], env: TypeEnv
) -> str | None:
    """What a module's function (its full name: ``datetime.datetime.now``) returns."""
    if function == "tempfile.NamedTemporaryFile":  # binary ("w+b") unless told
        mode = _opened(node, "w+b")
        return TEMPORARY_FILE if isinstance(mode, str) and "b" in mode else None
    found = _STDLIB_RESULT.get(function) or _by_data(function, node, args, env)
    if not found and env.siblings is not None and not function.startswith(library.LIBRARIES):
        found = env.siblings.returned(function, node, env)  # ``from utils import load``
    if found or not function.startswith(library.LIBRARIES):
        return found
    starred = any(a.star for a in node.args)
    return library.call_result(function, [infer(a, env) for a in args], _keywords(node), starred)


def _keywords(call: cst.Call) -> dict[str, object]:
    """A call's keywords → their literal values (``...`` where the value is no literal)."""
    found: dict[str, object] = {}
    for name, value in keyword_args(call).items():
        try:
            found[name] = literal(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            found[name] = ...
    return found


def _by_data(
    function: str, node: cst.Call, args: list[cst.BaseExpression], env: TypeEnv
) -> str | None:
    """Module functions whose result type depends on their arguments."""
    if function not in _BY_DATA or not args or any(a.star for a in node.args):
        return None
    keywords = len(args) != len(node.args)
    if function in ("os.environ.get", "os.getenv"):  # a variable's text, or the default
        if keywords:
            return None
        if len(args) == 1:
            return "str | None"
        return "str" if len(args) == 2 and infer(args[1], env) == "str" else None
    if function in _RE_FUNCTIONS:
        return _regex(function, args, env)
    elem = iter_element(args[0], env)
    if function == "collections.Counter":  # counts of an iterable's elements
        mapping = args_of(infer(args[0], env), "dict", "collections.Counter")
        known = elem and elem != INPUTS and not keywords and len(args) == 1 and not mapping
        return f"collections.Counter[{elem}]" if known else None
    if function in _OF_ELEMENTS:
        return elem if elem in _NUMERIC or function == "random.choice" else None
    if function in _FLOAT_OF_FLOATS:
        return "float" if elem == "float" else None
    if function == "random.sample" and elem and elem != INPUTS:
        return f"list[{elem}]"
    return None


_RE_FUNCTIONS = {"re.findall", "re.sub", "re.split"}


def _regex(function: str, args: list[cst.BaseExpression], env: TypeEnv) -> str | None:
    """``re.sub`` of a str is a str; ``re.findall`` and ``re.split`` with a literal pattern:
    ``findall`` gives the matches (no group), the one group's text, or a tuple of the groups';
    ``split`` gives str parts when the pattern has no group (a group's text may be None)."""
    if function == "re.sub":
        if len(args) != 3 or infer(args[2], env) != "str" or infer(args[0], env) != "str":
            return None
        return "str"
    if len(args) != 2 or infer(args[1], env) != "str":
        return None
    groups = _groups(args[0])
    if groups is None:
        return None
    if function == "re.split":
        return "list[str]" if groups == 0 else None
    if groups <= 1:
        return "list[str]"
    return f"list[tuple[{', '.join(['str'] * groups)}]]"


def _groups(node: cst.BaseExpression) -> int | None:
    """How many groups a literal text pattern has (compiled, never matched), else None."""
    import re

    if not isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        return None
    value = node.evaluated_value
    if not isinstance(value, str):
        return None
    try:
        return re.compile(value).groups
    except (re.error, RecursionError, OverflowError):
        return None


# the element type of their data: statistics.mean([1, 3]) is the int 2
_OF_ELEMENTS = {
    "statistics.mean",
    "statistics.median_low",
    "statistics.median_high",
    "statistics.mode",
    "random.choice",
}
# a float for float data, data-dependent for ints (statistics.median([1, 2]) is 1.5)
_FLOAT_OF_FLOATS = {"statistics.median", "statistics.variance", "statistics.pvariance"}
_BY_DATA = {
    *_OF_ELEMENTS,
    *_FLOAT_OF_FLOATS,
    *_RE_FUNCTIONS,
    "random.sample",
    "os.environ.get",
    "os.getenv",
    "collections.Counter",
}


# module functions whose result type never depends on their arguments (as commonly imported)
_MATH_FLOAT = (
    *("sqrt", "log", "log10", "log2", "log1p", "exp", "expm1", "pow", "hypot", "fabs", "fsum"),
    *("sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "dist"),
    *("radians", "degrees", "erf", "erfc", "gamma", "lgamma"),
)
_MATH_INT = ("floor", "ceil", "trunc", "factorial", "gcd", "lcm", "comb", "perm", "isqrt")
_RANDOM_FLOAT = ("random", "uniform", "gauss", "normalvariate", "expovariate", "triangular")
_PATH_STR = ("join", "basename", "dirname", "abspath", "realpath", "normpath", "expanduser")
_PATH_BOOL = ("exists", "isfile", "isdir", "isabs")
_TIME_FLOAT = ("time", "perf_counter", "monotonic", "process_time")
_DATETIME_MAKERS = (
    *("", ".now", ".utcnow", ".today", ".strptime", ".fromisoformat", ".fromtimestamp"),
    *(".utcfromtimestamp", ".combine", ".fromordinal"),
)
_DATE_MAKERS = ("", ".today", ".fromisoformat", ".fromtimestamp", ".fromordinal")
_STDLIB_RESULT = {
    "json.dumps": "str",
    **{name: name for name in _EXECUTORS},
    **dict.fromkeys([f"math.{f}" for f in _MATH_FLOAT], "float"),
    **dict.fromkeys([f"math.{f}" for f in _MATH_INT], "int"),
    **dict.fromkeys([f"math.{f}" for f in ("isclose", "isnan", "isinf", "isfinite")], "bool"),
    **dict.fromkeys(
        [f"statistics.{f}" for f in ("fmean", "stdev", "pstdev", "geometric_mean")], "float"
    ),
    **dict.fromkeys([f"random.{f}" for f in _RANDOM_FLOAT], "float"),
    **dict.fromkeys([f"random.{f}" for f in ("randint", "randrange", "getrandbits")], "int"),
    **dict.fromkeys([f"os.path.{f}" for f in _PATH_STR], "str"),
    **dict.fromkeys([f"os.path.{f}" for f in _PATH_BOOL], "bool"),
    **dict.fromkeys(["os.path.split", "os.path.splitext"], "tuple[str, str]"),
    "os.path.getsize": "int",
    "os.path.getmtime": "float",
    "os.getcwd": "str",
    "os.getpid": "int",
    "os.listdir": "list[str]",
    "os.cpu_count": "int | None",
    **dict.fromkeys([f"time.{f}" for f in _TIME_FLOAT], "float"),
    **dict.fromkeys([f"time.{f}_ns" for f in _TIME_FLOAT[:3]], "int"),
    **dict.fromkeys([f"time.{f}" for f in ("strftime", "ctime", "asctime")], "str"),
    **dict.fromkeys([f"datetime.datetime{f}" for f in _DATETIME_MAKERS], "datetime.datetime"),
    **dict.fromkeys([f"datetime.date{f}" for f in _DATE_MAKERS], "datetime.date"),
    "datetime.timedelta": "datetime.timedelta",
    **dict.fromkeys(
        [f"uuid.{f}" for f in ("uuid1", "uuid3", "uuid4", "uuid5", "UUID")], "uuid.UUID"
    ),
    "re.escape": "str",
    "random.Random": "random.Random",
    "pathlib.Path": "pathlib.Path",
    "socket.gethostname": "str",
    "platform.system": "str",
    "platform.node": "str",
    "platform.python_version": "str",
    "str.join": "str",
}


# files: what ``open`` gives by its mode, and a named temporary file in its binary mode
TEXT_FILE = "io.TextIOWrapper"
READER, WRITER, RANDOM = (f"io.Buffered{kind}" for kind in ("Reader", "Writer", "Random"))
TEMPORARY_FILE = "tempfile._TemporaryFileWrapper"
# the standard library's classes whose ``with x as y`` binds ``y`` to ``x`` itself
_ENTERED = frozenset((TEXT_FILE, READER, WRITER, RANDOM, TEMPORARY_FILE, *_EXECUTORS))


def entered(kind: str | None) -> str | None:
    """What ``with value as name`` binds for a value of type ``kind``: the value itself for
    the classes known to return themselves (a file, a pool, Metaflow's S3), else None."""
    return kind if kind in _ENTERED else library.entered(kind)


def _opened(node: cst.Call, default: str) -> str | None:
    """The mode of ``open(path, mode)`` / ``NamedTemporaryFile(mode=...)`` as a literal:
    ``default`` when not given, None when not a literal (or when the call may open it
    unbuffered, or with a file descriptor or an opener of its own)."""
    if any(a.star for a in node.args):
        return None
    keywords = keyword_args(node)
    if {"buffering", "opener"} & keywords.keys():
        return None
    positional = [a.value for a in node.args if not a.keyword]
    mode = keywords.get("mode") or (
        positional[1] if len(positional) > 1 and default == "r" else None
    )
    if len(positional) > (2 if default == "r" else 0):
        return None  # buffering given by position; NamedTemporaryFile's are all keywords
    if mode is None:
        return default
    return mode.evaluated_value if isinstance(mode, cst.SimpleString) else None  # type: ignore[return-value]


def _file(mode: str | None) -> str | None:
    """The class ``open`` returns for ``mode``."""
    if not isinstance(mode, str):
        return None
    if "b" not in mode:
        return TEXT_FILE
    if "+" in mode:
        return RANDOM
    return READER if "r" in mode else WRITER


# methods of stdlib classes whose result type never depends on their arguments
_METHODS = {
    "str": {
        **dict.fromkeys(_STR_METHODS, "str"),
        **dict.fromkeys(("split", "rsplit", "splitlines"), "list[str]"),
        **dict.fromkeys(("partition", "rpartition"), "tuple[str, str, str]"),
        **dict.fromkeys(("count", "find", "index", "rfind", "rindex"), "int"),
        **dict.fromkeys(_STR_TESTS, "bool"),
        "encode": "bytes",
    },
    "bytes": {"decode": "str", "hex": "str"},
    "bytearray": {"decode": "str", "hex": "str", "copy": "bytearray"},
    "datetime.datetime": {
        **dict.fromkeys(("isoformat", "strftime", "ctime"), "str"),
        **dict.fromkeys(("weekday", "isoweekday", "toordinal"), "int"),
        **dict.fromkeys(("replace", "astimezone"), "datetime.datetime"),
        "date": "datetime.date",
        "timestamp": "float",
    },
    "datetime.date": {
        **dict.fromkeys(("isoformat", "strftime", "ctime"), "str"),
        **dict.fromkeys(("weekday", "isoweekday", "toordinal"), "int"),
        "replace": "datetime.date",
    },
    "datetime.timedelta": {"total_seconds": "float"},
    "random.Random": {  # a generator of its own: what the module's functions give
        **dict.fromkeys(_RANDOM_FLOAT, "float"),
        **dict.fromkeys(("randint", "randrange", "getrandbits"), "int"),
    },
    "pathlib.Path": {
        **dict.fromkeys(("read_text", "as_posix"), "str"),
        **dict.fromkeys(("exists", "is_file", "is_dir"), "bool"),
        "read_bytes": "bytes",
    },
    **{
        kind: {**dict.fromkeys(("read", "readline"), what), "readlines": f"list[{what}]"}
        for kind, what in (
            (TEXT_FILE, "str"),
            (READER, "bytes"),
            (RANDOM, "bytes"),
            (TEMPORARY_FILE, "bytes"),
        )
    },
}
# attributes of stdlib classes
_ATTRIBUTES = {
    TEMPORARY_FILE: {"name": "str"},
    "datetime.datetime": {
        **dict.fromkeys(("year", "month", "day", "hour", "minute", "second"), "int"),
        "microsecond": "int",
    },
    "datetime.date": dict.fromkeys(("year", "month", "day"), "int"),
    "datetime.timedelta": dict.fromkeys(("days", "seconds", "microseconds"), "int"),
    "uuid.UUID": {"hex": "str", "urn": "str", "int": "int"},
    "pathlib.Path": {**dict.fromkeys(("name", "stem", "suffix"), "str"), "parent": "pathlib.Path"},
}
_HASHES = (
    *("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "blake2b", "blake2s"),
    *("sha3_224", "sha3_256", "sha3_384", "sha3_512"),
)


def _method(func: cst.Attribute, env: TypeEnv, call: cst.Call) -> str | None:
    method = func.attr.value
    if isinstance(func.value, cst.Call) and method in ("hexdigest", "digest"):
        maker = dotted(func.value.func) or ""  # hashlib.sha256(data).hexdigest()
        maker = qualified(maker, env) if maker else None
        if maker and maker.startswith("hashlib.") and maker[8:] in (*_HASHES, "new"):
            return "str" if method == "hexdigest" else "bytes"
    owner = infer(func.value, env)
    found = _METHODS.get(owner or "", {}).get(method)
    if found:
        return found
    if owner and env.siblings is not None and env.siblings.plain(owner) is not None:
        return env.siblings.member(owner, method, call, _holds(func.value, env), env)
    if owner and owner.startswith(library.LIBRARIES):
        if any(a.star for a in call.args):
            return None  # ``df.drop(*cols)``: what it is given is not known
        positional = sum(1 for a in call.args if not a.keyword)
        return library.method_result(owner, method, _keywords(call), positional)
    sequence = args_of(owner, "list") or args_of(owner, "tuple")
    if sequence and method in ("count", "index"):  # ``xs.count(x)``: an int, whatever x is
        return "int"
    if method == "copy" and not call.args and (args_of(owner, "list", "dict", "set")):
        return owner  # a shallow copy: the same items
    mapping = args_of(owner, "dict")
    if mapping and len(mapping) == 2 and method == "get":
        key = call.args[0].value if call.args else None
        return _got(_field(owner, key, env) or mapping[1], call, env)
    counts = args_of(owner, "collections.Counter")
    if counts and len(counts) == 1 and method == "most_common":
        return f"list[tuple[{counts[0]}, int]]"
    if counts and method == "total":
        return "int"
    return None


def _field(owner: str | None, key: cst.BaseExpression | None, env: TypeEnv) -> str | None:
    """The type of a record's key (RECORD) read with its name in quotes; else None."""
    fields = record_of(owner) if env.records else None
    if fields is None or not isinstance(key, cst.SimpleString):
        return None
    name = key.evaluated_value
    return fields.get(name) if isinstance(name, str) else None


def _got(value: str, call: cst.Call, env: TypeEnv) -> str | None:
    """``d.get(k)``: a value or None (a key not there); ``d.get(k, default)``: a value or the
    default, one type when they agree."""
    if any(a.star or a.keyword for a in call.args) or len(call.args) not in (1, 2):
        return None
    if len(call.args) == 1:
        return optional([value, "None"])
    return _join([value, infer(call.args[1].value, env)])


def _attribute(node: cst.Attribute, env: TypeEnv) -> str | None:
    if isinstance(node.value, cst.Name) and node.value.value == "self":
        found = env.get(f"self.{node.attr.value}")  # "": set to a value of no known type
        if found is None and env.calls is not None:
            return env.calls.returned(f"self.{node.attr.value}", None, env)  # a property
        return found or None
    if infer(node.value, env) == INPUTS:
        # inputs.<step> is still `inputs` (one branch); inputs.<step>.x is the artifact ("":
        # an artifact of no known type in some branch)
        return env.artifact_types.get(node.attr.value, INPUTS) or None
    if isinstance(node.value, cst.Name):
        found = env.get(f"{node.value.value}.{node.attr.value}")
        if found is None and node.value.value == "math" and "math" not in env:
            return "float" if node.attr.value in ("pi", "e", "tau", "inf", "nan") else None
        if found is None and node.attr.value == "__version__" and node.value.value in env.imports:
            return "str"  # a module's version: its text, by convention everywhere
        if found is not None or node.value.value in env.imports:
            return found
    owner = infer(node.value, env)
    found = _ATTRIBUTES.get(owner or "", {}).get(node.attr.value)
    if not found and owner and env.siblings is not None:  # a plain class's property
        found = env.siblings.member(owner, node.attr.value, None, _holds(node.value, env), env)
    return found or library.attribute_result(owner, node.attr.value)


def _holds(receiver: cst.BaseExpression, env: TypeEnv) -> dict[str, str]:
    """What the attributes of the instance ``receiver`` names hold, as the step bound them
    (``model.cv`` for ``model``); none for any other expression."""
    if not isinstance(receiver, cst.Name):
        return {}
    head = f"{receiver.value}."
    names = {k: v for k, v in env.names.items() if k.startswith(head) and v}
    return {k[len(head) :]: v for k, v in names.items()}


def _subscript(node: cst.Subscript, env: TypeEnv) -> str | None:
    if _is_environ(node.value, env) and len(node.slice) == 1:
        return "str"  # os.environ["HOME"]
    owner = infer(node.value, env)
    if owner is None or len(node.slice) != 1:
        return None
    index = node.slice[0].slice
    if owner in (library.BUNCH, library.FRAME, library.TABLE):
        key = index.value if isinstance(index, cst.Index) else None
        text = key.evaluated_value if isinstance(key, cst.SimpleString) else None
        kind = infer(key, env) if key is not None else "slice"
        return library.subscript_result(owner, text, isinstance(key, cst.List), kind)
    if isinstance(index, cst.Slice):
        return owner if args_of(owner, "list", "tuple") or owner == "str" else None
    mapping = args_of(owner, "dict")
    if mapping is not None:
        field = _field(owner, index.value if isinstance(index, cst.Index) else None, env)
        return field or (mapping[1] if len(mapping) == 2 else None)
    if args_of(owner, "collections.Counter"):
        return "int"  # a count, 0 for an element never seen
    parts = args_of(owner, "tuple")
    if parts is not None and "..." in parts:
        return parts[0] if len(parts) == 2 else None  # tuple[int, ...]
    if parts is not None:  # ``pair[1]``, ``pair[-1]``: that part
        position = _position(index.value) if isinstance(index, cst.Index) else None
        if position is None or not -len(parts) <= position < len(parts):
            return None
        return parts[position]
    return element_type(owner)


def _position(node: cst.BaseExpression) -> int | None:
    """The value of an index written as a whole number (``1``, ``-1``), else None."""
    negative = isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus)
    number = node.expression if negative else node  # type: ignore[attr-defined]
    if not isinstance(number, cst.Integer):
        return None
    return -number.evaluated_value if negative else number.evaluated_value


def _is_environ(node: cst.BaseExpression, env: TypeEnv) -> bool:
    name = dotted(node) if isinstance(node, (cst.Name, cst.Attribute)) else None
    return bool(name) and qualified(name, env) == "os.environ"  # type: ignore[arg-type]


_TIMES = ("datetime.datetime", "datetime.date")
_DELTA = "datetime.timedelta"


def _dates(operator: cst.BaseBinaryOp, left: str | None, right: str | None) -> str | None:
    """Arithmetic on dates, times and durations: a time minus a time of its kind is a
    duration, a time plus or minus a duration a time of its kind; durations add, subtract,
    scale by a number and divide (by a duration: a float)."""
    add, sub = isinstance(operator, cst.Add), isinstance(operator, cst.Subtract)
    if left in _TIMES and right == _DELTA and (add or sub):
        return left
    if left == _DELTA and right in _TIMES and add:
        return right
    if left in _TIMES and left == right and sub:
        return _DELTA
    if left == _DELTA and right == _DELTA:
        if add or sub or isinstance(operator, cst.Modulo):
            return _DELTA
        if isinstance(operator, cst.Divide):
            return "float"
        if isinstance(operator, cst.FloorDivide):
            return "int"
    scale = isinstance(operator, (cst.Multiply, cst.Divide))
    if left == _DELTA and right in _NUMERIC and scale:
        return _DELTA
    if right == _DELTA and left in _NUMERIC and isinstance(operator, cst.Multiply):
        return _DELTA
    return None


def _binary(node: cst.BinaryOperation, env: TypeEnv) -> str | None:
    left, right = infer(node.left, env), infer(node.right, env)
    dated = _dates(node.operator, left, right)
    if dated:
        return dated
    if isinstance(node.operator, cst.Divide) and left == "pathlib.Path" and right == "str":
        return "pathlib.Path"
    if (
        isinstance(node.operator, cst.Divide)
        and _numeric(node.left, env)
        and _numeric(node.right, env)
    ):
        return "float"  # true division of numbers is a float, whichever numbers they are
    if isinstance(node.operator, cst.Power) and left in _NUMERIC and right in _NUMERIC:
        return _power(node, left, right)
    if left in _NUMERIC and right in _NUMERIC:
        return "float" if "float" in (left, right) else "int"
    if NUMBER in (left, right) and left in _REAL and right in _REAL:
        if not isinstance(node.operator, _ARITHMETIC):
            return None  # ``**`` (0 ** -1 raises, 2.0 ** 0.5 is a float), bit operations
        return "float" if "float" in (left, right) else NUMBER  # 0 * 2.5 is 0.0
    scalar = library.scalar_arithmetic(left, right)
    if scalar and not isinstance(node.operator, (cst.BitOr, cst.BitAnd, cst.BitXor)):
        return scalar
    if isinstance(node.operator, cst.Modulo) and left == "str":
        return "str"
    if (
        isinstance(node.operator, cst.Add)
        and left == right
        and left
        and left.startswith(("str", "list["))
    ):
        return left
    if isinstance(node.operator, cst.Add) and EMPTY_LIST in (left, right):
        other = right if left == EMPTY_LIST else left
        return other if other and args_of(other, "list") else None  # [] + [1] is a list[int]
    if isinstance(node.operator, cst.Multiply) and "int" in (left, right):
        other = right if left == "int" else left
        if other == "str" or (other and other.startswith("list[")):
            return other
    return None


_ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.Modulo, cst.FloorDivide)


def _power(node: cst.BinaryOperation, left: str, right: str) -> str | None:
    """``x ** 2``: an int to a literal int of no sign is an int (``2 ** -1`` is 0.5), a float
    to an int a float; a float exponent can make a complex number (``(-8) ** (1 / 3)``)."""
    if right == "int" and left == "float":
        return "float"
    literal = isinstance(node.right, cst.Integer)
    return "int" if left == right == "int" and literal else None


def _numeric(node: cst.BaseExpression, env: TypeEnv) -> bool:
    """An int or a float, not knowing which: ``sum()`` of floats is ``0`` (an int) when empty."""
    if infer(node, env) in _REAL:
        return True
    if isinstance(node, cst.Call) and _callee(node) == "sum" and "sum" not in env:
        args = [a.value for a in node.args if not a.keyword and not a.star]
        return len(args) == 1 and iter_element(args[0], env) in _NUMERIC
    return False


def _unary(node: cst.UnaryOperation, env: TypeEnv) -> str | None:
    if isinstance(node.operator, cst.Not):
        return "bool"
    kind = infer(node.expression, env)
    return "int" if kind == "bool" else kind  # -True is -1


def _if_exp(node: cst.IfExp, env: TypeEnv) -> str | None:
    return _join([infer(node.body, env), infer(node.orelse, env)])


_HANDLERS = {
    cst.Name: _name,
    cst.Integer: lambda n, e: "int",
    cst.Float: lambda n, e: "float",
    cst.SimpleString: _string,
    cst.ConcatenatedString: _string,
    cst.FormattedString: _string,
    cst.List: _collection,
    cst.Set: _collection,
    cst.Tuple: _tuple,
    cst.Dict: _dict,
    cst.ListComp: _list_comp,
    cst.SetComp: _list_comp,
    cst.DictComp: _dict_comp,
    cst.Call: _call,
    cst.Attribute: _attribute,
    cst.Subscript: _subscript,
    cst.BinaryOperation: _binary,
    cst.UnaryOperation: _unary,
    cst.Comparison: lambda n, e: "bool",
    cst.BooleanOperation: lambda n, e: _join([infer(n.left, e), infer(n.right, e)]),
    cst.IfExp: _if_exp,
}


def typeref(expr: str | None, origin: str) -> TypeRef:
    from ..model.ir import ANY

    return TypeRef(expr, origin) if expr else ANY  # type: ignore[arg-type]


def returned_type(
    function: cst.FunctionDef, env: TypeEnv, given: Mapping[str, str] | None = None
) -> str | None:
    """What an unannotated helper returns, where its ``return`` statements agree: above all a
    tuple (``return low, high``), which Flyte refuses as an untyped output."""
    collector = _Returns()
    walk(function.body, collector)
    values = collector.values
    if not values or collector.bare or collector.generator:
        return None
    given = given or {}
    if changes_items(function.body):  # what went in may not be what the records say
        env = env.child()
        env.records = False
    env = _local_env(function, env, given)
    if _falls_through(function.body):  # the end reached: None returned
        if any(isinstance(v, cst.Tuple) for v in values):
            return None
        return _join([*_fill_empty(values, [infer(v, env) for v in values]), "None"])
    if all(isinstance(v, cst.Tuple) for v in values):
        sizes = {len(v.elements) for v in values}  # type: ignore[union-attr]
        if len(sizes) != 1 or any(
            isinstance(e, cst.StarredElement) for v in values for e in v.elements
        ):  # type: ignore[union-attr]
            return None
        columns = zip(*(v.elements for v in values))  # type: ignore[union-attr]
        kinds = [_join([infer(e.value, env) for e in column]) for column in columns]
        return f"tuple[{', '.join(k if k and k != INPUTS else 'typing.Any' for k in kinds)}]"
    found = _join(_fill_empty(values, [infer(v, env) for v in values]))
    return found if found != INPUTS else None  # ``return inputs``: no value's type


def _fill_empty(values: Sequence[cst.BaseExpression], kinds: list[str | None]) -> list[str | None]:
    """``return []`` beside ``return rows`` of a ``list[T]``: the empty display is a value of
    that type too (the same for ``{}`` and dicts), where the others agree on one."""
    known = {k for v, k in zip(values, kinds) if not empty_display(v)}
    if len(known) != 1:
        return kinds
    kind = known.pop()
    out = []
    for value, found in zip(values, kinds):
        empty = empty_display(value)
        fits = empty and kind is not None and args_of(kind, empty) is not None
        if fits:  # an empty dict has none of a record's keys; an empty list has no record
            found = plain(kind) if empty == "dict" else kind  # type: ignore[arg-type]
        out.append(found)
    return out


def empty_display(node: cst.BaseExpression | None) -> str:
    """``"list"`` for ``[]``, ``"dict"`` for ``{}``; else ""."""
    if isinstance(node, cst.List) and not node.elements:
        return "list"
    if isinstance(node, cst.Dict) and not node.elements:
        return "dict"
    return ""


def filled_type(values: list[str | None], keys: list[str | None] | None = None) -> str | None:
    """The type of a list (``keys`` None) or a dict made empty and then filled with ``values``
    (under ``keys``): the union of what went in, under keys of one known type; None when
    nothing went in or any of it is unknown (``None`` among them: the union ``| None``)."""
    element = union([v for v in values if v != "None"]) if "None" in values else union(values)
    if "None" in values:
        element = optional([element, "None"]) if element else None
    if not element:
        return None
    if keys is None:
        return f"list[{element}]"
    key = keys[0] if len(set(keys)) == 1 else None
    if not key or key == INPUTS or "typing.Any" in key:
        return None  # unknown, or of several kinds
    return f"dict[{key}, {plain(element)}]"


def _local_env(function: cst.FunctionDef, env: TypeEnv, given: Mapping[str, str]) -> TypeEnv:
    """``env`` with what ``function`` binds: its parameters (their annotations, else unknown:
    a parameter hides a module name it shares) and its locals bound once by ``name = value``
    (typed in source order; a name bound twice to different types, or bound any other way, is
    unknown)."""
    names: dict[str, str] = {}
    params = function.params
    for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
        name = param.name.value
        names[name] = code(param.annotation.annotation) if param.annotation else given.get(name, "")
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names[star.name.value] = ""
    names.update((k, v) for k, v in given.items() if k.startswith("self."))  # a method's reads
    binder = _Bindings()
    walk(function.body, binder)
    changed = changed_holders(function.body, env.calls.functions if env.calls else ())
    for name in changed & names.keys():
        if container(names[name]):
            names[name] = ""  # a parameter (or self.x) it changes in place: it may hold anything
    local = env.child(**names)
    if binder.imports:
        local.imports = {**local.imports, **binder.imports}
    kinds: dict[str, str] = {}
    for name, value, position in binder.bindings:
        kind = infer(value, local) or "" if value is not None and name not in names else ""
        if value is not None and id(value) in binder.loops and name not in names:
            kind = iter_element(value, local) or ""  # an element of what the loop goes over
            kind = "" if kind == INPUTS else kind
        if value is not None and id(value) in binder.entered and name not in names:
            kind = entered(infer(value, local)) or ""  # what ``__enter__`` gives
        parts = split_unpacked(value, local, position[1]) if position is not None else None
        if parts is not None and name not in names:
            kind = parts[position[0]] or ""  # type: ignore[index]
        elif position is not None:
            kind = unpacked(kind, *position) or ""
        if kinds.get(name, kind) != kind:
            kind = agreed([kinds[name], kind]) or ""  # bound to values of different types
        if name in changed and container(kind):
            kind = ""  # changed in place: it may come to hold anything
        kinds[name] = kind
        local.names[name] = kind  # ``local`` is this function's own copy: no copy per binding
    _filled_locals(function, binder, local)
    return local


def _filled_locals(function: cst.FunctionDef, binder: _Bindings, local: TypeEnv) -> None:
    """``out = []`` then ``out.append(x)`` (or ``out = {}`` then ``out[k] = v``) in a helper:
    a name bound once, to an empty display, and used only to be filled, returned or measured
    (``len``) has the type of what goes in; any other use leaves it unknown."""
    bound: dict[str, int] = {}
    empty: dict[str, str] = {}
    seeds: dict[str, cst.BaseExpression] = {}
    for name, value, position in binder.bindings:
        bound[name] = bound.get(name, 0) + 1
        if value is not None and position is None and empty_display(value):
            empty[name] = empty_display(value)
        seed = _seed(value, local) if value is not None and position is None else None
        if seed is not None:
            empty[name], seeds[name] = "list", seed
    candidates = {n: kind for n, kind in empty.items() if bound[n] == 1}
    if not candidates:
        return
    fills = _Fills(set(candidates))
    walk(function.body, fills)
    for name, kind in candidates.items():
        if fills.names[name] != fills.accounted[name] + 1:  # + 1: the binding itself
            continue
        values = [infer(v, local) for v in fills.values[name]]
        keys = [infer(k, local) for k in fills.keys[name]]
        found = None
        if kind == "list":  # appended, or set at an index: ``out[i] = v``
            seed = seeds.get(name)
            found = filled_type([infer(seed, local), *values] if seed else values)
        elif kind == "dict" and len(keys) == len(values):
            found = filled_type(values, keys)
        if found:
            local.names[name] = found


_SEEDS = frozenset(("None", "int", "float", "str", "bool"))


def _seed(node: cst.BaseExpression, env: TypeEnv) -> cst.BaseExpression | None:
    """``[None] * n`` (or ``n * [0]``): a list of one value of a plain immutable type made
    ``n`` long, to be filled at its indexes; that value, else None."""
    if not isinstance(node, cst.BinaryOperation) or not isinstance(node.operator, cst.Multiply):
        return None
    for display, count in ((node.left, node.right), (node.right, node.left)):
        if isinstance(display, cst.List) and len(display.elements) == 1:
            element = display.elements[0]
            one = not isinstance(element, cst.StarredElement)
            if one and infer(element.value, env) in _SEEDS and infer(count, env) == "int":
                return element.value
    return None


class _Fills(ScopeDepth, cst.CSTVisitor):
    """The uses of some names: each occurrence, and those that fill them (``n.append(v)``,
    ``n[k] = v``), return them or measure them (``len(n)``); inside a nested function, lambda
    or class every use counts, none as a fill (it may run later)."""

    def __init__(self, names: set[str]) -> None:
        self.wanted = names
        self.names = dict.fromkeys(names, 0)
        self.accounted = dict.fromkeys(names, 0)
        self.values: dict[str, list[cst.BaseExpression]] = {n: [] for n in names}
        self.keys: dict[str, list[cst.BaseExpression]] = {n: [] for n in names}

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.wanted:
            self.names[node.value] += 1

    def _mine(self, node: cst.BaseExpression | None) -> str | None:
        if self.depth or not isinstance(node, cst.Name) or node.value not in self.wanted:
            return None
        return node.value

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "append":
            name = self._mine(func.value)
            args = node.args
            if name and len(args) == 1 and not args[0].keyword and not args[0].star:
                self.values[name].append(args[0].value)
                self.accounted[name] += 1
        if isinstance(func, cst.Name) and func.value == "len" and len(node.args) == 1:
            name = self._mine(node.args[0].value)
            if name:
                self.accounted[name] += 1

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            sub = target.target
            if not isinstance(sub, cst.Subscript) or len(sub.slice) != 1:
                continue
            index = sub.slice[0].slice
            name = self._mine(sub.value)
            if name and isinstance(index, cst.Index) and index.star is None:
                self.values[name].append(node.value)
                self.keys[name].append(index.value)
                self.accounted[name] += 1

    def visit_Return(self, node: cst.Return) -> None:
        parts = node.value.elements if isinstance(node.value, cst.Tuple) else ()
        for value in [node.value, *(p.value for p in parts if isinstance(p, cst.Element))]:
            name = self._mine(value)
            if name:  # ``return out`` or ``return mtx, out``
                self.accounted[name] += 1


def split_unpacked(
    node: cst.BaseExpression | None, env: TypeEnv, count: int
) -> list[str | None] | None:
    """``x_train, x_test, y_train, y_test = train_test_split(x, y)``: the ``count`` names'
    types, each half of what was split (``library.split_parts``); None for any other value."""
    if not isinstance(node, cst.Call) or any(a.star for a in node.args):
        return None
    name = dotted(node.func)
    if not name or qualified(name, env) != library.TRAIN_TEST_SPLIT:
        return None
    arrays = [infer(a.value, env) for a in node.args if not a.keyword]
    return library.split_parts(arrays, count)


def unpacked(kind: str | None, index: int, count: int) -> str | None:
    """The type of the ``index``-th of ``count`` names unpacked from a value of type ``kind``:
    that part of a tuple of as many parts, an element of a list, set or str (unpacking raises
    when the lengths differ, so the names hold elements if the line runs at all)."""
    parts = args_of(kind, "tuple")
    if parts is not None:
        return parts[index] if len(parts) == count and "..." not in parts else None
    element = element_type(kind)
    return element if element != INPUTS else None


class _Bindings(cst.CSTVisitor):
    """Names a function body binds, in source order: ``(name, value, None)`` for ``name =
    value``, ``(name, value, (i, n))`` for the ``i``-th of ``n`` plain names unpacked from
    ``value`` (for a ``for`` loop, ``value`` is what it goes over, its id in ``loops``),
    ``(name, None, None)`` for any other binding (``with ... as``, augmented
    assignment, starred or nested unpacking, imports, ``del``, ``global``). Nested functions
    and classes bind their own."""

    def __init__(self) -> None:
        self.bindings: list[tuple[str, cst.BaseExpression | None, tuple[int, int] | None]] = []
        self.imports: dict[str, str] = {}  # what the names it imports are (``imported``)
        self.loops: set[int] = set()  # the iterables of ``for`` loops among the values
        self.entered: set[int] = set()  # the values of ``with value as name`` among them

    def _bind(
        self,
        name: str,
        value: cst.BaseExpression | None,
        position: tuple[int, int] | None = None,
    ) -> None:
        self.bindings.append((name, value, position))

    def _targets(self, target: cst.CSTNode) -> None:
        for node in bound_names(target):
            self._bind(node, None)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            names = _plain_names(target.target)
            if isinstance(target.target, cst.Name):
                self._bind(target.target.value, node.value)
            elif names is not None and len(node.targets) == 1:
                for index, name in enumerate(names):
                    self._bind(name, node.value, (index, len(names)))
            else:
                self._targets(target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._targets(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._targets(node.target)

    def visit_For(self, node: cst.For) -> None:
        """``for row in rows``: each name holds an element (after the loop, the last one, or
        it is not bound at all), so a name bound by this loop alone has the element's type."""
        single = isinstance(node.target, cst.Name)
        names = [node.target.value] if single else _plain_names(node.target)  # type: ignore[attr-defined]
        if node.asynchronous is not None or names is None:
            self._targets(node.target)
            return
        self.loops.add(id(node.iter))
        if isinstance(node.target, cst.Name):
            self._bind(node.target.value, node.iter)
            return
        for index, name in enumerate(names):
            self._bind(name, node.iter, (index, len(names)))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        """``with S3() as s3``: a name bound to what the value's ``__enter__`` gives (its id in
        ``entered``); any other target is of no known type."""
        if node.asname is None:
            return
        if isinstance(node.asname.name, cst.Name):
            self.entered.add(id(node.item))
            self._bind(node.asname.name.value, node.item)
        else:
            self._targets(node.asname.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._targets(node.target)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._targets(node.name.name)

    def visit_CompFor(self, node: cst.CompFor) -> bool:
        return False  # a comprehension's variables are its own

    def visit_Del(self, node: cst.Del) -> None:
        self._targets(node.target)

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self._bind(item.name.value, None)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        for item in node.names:
            self._bind(item.name.value, None)

    def visit_Import(self, node: cst.Import) -> None:
        self.imports.update(imported(node))
        for alias in node.names:
            name = alias.asname.name if alias.asname else alias.name
            if not isinstance(name, cst.Name):  # `import a.b` binds `a`
                name = cst.Name((dotted(name) or "_").split(".")[0])
            self._targets(name)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        self.imports.update(imported(node))
        for alias in node.names:
            self._targets(alias.asname.name if alias.asname else alias.name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._bind(node.name.value, None)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._bind(node.name.value, None)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _plain_names(target: cst.BaseExpression) -> list[str] | None:
    """``a, b`` / ``[a, b]``: the names, when each element is a plain name (no ``*rest``)."""
    if not isinstance(target, (cst.Tuple, cst.List)):
        return None
    names = [
        e.value.value
        for e in target.elements
        if isinstance(e, cst.Element) and isinstance(e.value, cst.Name)
    ]
    return names if len(names) == len(target.elements) and names else None


def _falls_through(body: cst.BaseSuite | None) -> bool:
    """Whether running ``body`` may reach its end (a function then returns None): unless its
    last statement returns or raises, is an ``if`` whose every branch does, a ``try`` whose
    body and handlers do, a ``with`` (not ``suppress``) whose body does, or a ``while True``
    with no ``break``. Anything else may fall through (the safe answer)."""
    if not isinstance(body, cst.IndentedBlock) or not body.body:
        return not isinstance(body, cst.SimpleStatementSuite) or not any(
            isinstance(s, (cst.Return, cst.Raise)) for s in body.body
        )
    last = body.body[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return not any(isinstance(s, (cst.Return, cst.Raise)) for s in last.body)
    if isinstance(last, cst.If):
        other = last.orelse
        if other is None:
            return True
        rest = other.body if isinstance(other, cst.Else) else cst.IndentedBlock([other])
        return _falls_through(last.body) or _falls_through(rest)
    if isinstance(last, cst.Try):
        if last.finalbody is not None and not _falls_through(last.finalbody.body):
            return False
        handlers = any(_falls_through(h.body) for h in last.handlers)
        ended = not _falls_through(last.body) and last.orelse is None
        return handlers or not ended
    if isinstance(last, cst.With):
        suppressing = any(
            isinstance(i.item, cst.Call) and (dotted(i.item.func) or "").endswith("suppress")
            for i in last.items
        )
        return suppressing or _falls_through(last.body)
    if isinstance(last, cst.While):
        forever = isinstance(last.test, cst.Name) and last.test.value == "True"
        return not forever or _breaks(last.body)
    return True


def _breaks(node: cst.CSTNode) -> bool:
    """Whether a loop body holds a ``break`` of its own (not of a loop inside it)."""
    finder = _Breaks()
    walk(node, finder)
    return finder.found


class _Breaks(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Break(self, node: cst.Break) -> None:
        self.found = True

    def visit_For(self, node: cst.For) -> bool:
        return False

    def visit_While(self, node: cst.While) -> bool:
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


class _Returns(cst.CSTVisitor):
    """The values a function returns, not looking into the functions and classes it defines."""

    def __init__(self) -> None:
        self.values: list[cst.BaseExpression] = []
        self.bare = False
        self.generator = False

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is None:
            self.bare = True
        else:
            self.values.append(node.value)

    def visit_Yield(self, node: cst.Yield) -> None:
        self.generator = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


_ITEM_METHODS = frozenset(("update", "setdefault", "pop", "popitem", "clear"))


def _holds_subscript(target: cst.BaseExpression) -> bool:
    if isinstance(target, cst.Subscript):
        return True
    if isinstance(target, (cst.Tuple, cst.List)):
        return any(_holds_subscript(e.value) for e in target.elements)
    if isinstance(target, cst.StarredElement):
        return _holds_subscript(target.value)
    return False


# builtins that read what they are given and never change it
READ_ONLY = frozenset(
    ("len", "sorted", "sum", "min", "max", "list", "tuple", "set", "str", "repr", "print")
    + ("enumerate", "zip", "any", "all", "reversed", "dict", "frozenset", "isinstance")
    + ("int", "float", "bool", "round", "abs", "iter", "hash", "id", "type", "format")
    + ("map", "filter", "next", "Counter", "deque", "OrderedDict", "range", "divmod")
)
# methods that change a list, dict or set in place
CHANGING_METHODS = frozenset(
    ("append", "extend", "insert", "remove", "sort", "reverse", "add", "discard")
    + ("__setitem__", "__delitem__", "__iadd__", "difference_update", "intersection_update")
    + ("symmetric_difference_update", *_ITEM_METHODS)
)
_CONTAINERS = ("list[", "dict[", "set[", "collections.")


def changed_holders(node: cst.CSTNode, keeps: Collection[str] = ()) -> set[str]:
    """The names (``rows``, ``self.rows``) whose value a body may change in place: an item set,
    changed or deleted (``rows[0] = x``, ``rows[0]["k"] += 1``), a method that changes it
    (``rows.append(x)``, ``rows[0].update(...)``), ``+=`` on it, the value given to a function
    of the user's that may change it (a name called that is no read-only builtin, a flow's
    method), or bound to another name as well. A library's function (``np.array(rows)``) is
    taken to leave what it is given as it was, and so are the functions named in ``keeps``
    (``parse``, ``self.parse``: known to change no argument)."""
    finder = _Changes(keeps)
    walk(node, finder)
    return aliased(finder.found | finder.passed, finder.aliases)


@dataclass
class ChangeSites:
    """``changed_holders`` in parts, from one walk: the names changed in the body's own
    statements (which a reader may check keep their types), each call of the user's that may
    change its arguments (callee, the names given), the pairs of names bound to one object,
    and the names the body imports (``imported``)."""

    found: set[str]
    calls: list[tuple[str, list[str]]]
    aliases: list[tuple[str, str]]
    imports: dict[str, str]

    def passed(self, keeps: Collection[str]) -> set[str]:
        """The names given to a function not in ``keeps`` (known to change no argument)."""
        return {name for callee, names in self.calls if callee not in keeps for name in names}


def change_sites(node: cst.CSTNode) -> ChangeSites:
    finder = _Changes(())
    walk(node, finder)
    return ChangeSites(finder.found, finder.calls, finder.aliases, finder.imports)


def aliased(names: set[str], aliases: list[tuple[str, str]]) -> set[str]:
    """``names`` with every name bound to the same object as one of them."""
    changed, todo = set(names), list(names)
    while todo:  # a change through one name of an object changes it under its other names
        name = todo.pop()
        for a, b in aliases:
            other = b if a == name else a if b == name else None
            if other is not None and other not in changed:
                changed.add(other)
                todo.append(other)
    return changed


def holder(node: cst.BaseExpression) -> str | None:
    """The name (``rows``, ``self.rows``) whose value ``node`` is or is inside of."""
    return _base(node)


def keeps_type(owner: str | None, method: str, args: list[str | None]) -> bool:
    """Whether ``value.method(*args)`` on a value of type ``owner`` leaves its type as it was:
    what goes in is of its element type (``append``, ``extend`` with ``args`` the types of
    the elements given, ``insert``, ``add``), or it only takes out or reorders."""
    if method in _REMOVING:
        return True
    if method in ("append", "add", "extend", "insert") and len(args) != (
        2 if method == "insert" else 1
    ):
        return False
    element = element_type(owner) if owner and not owner.startswith("str") else None
    if not element or not args:
        return False
    if method in ("append", "add", "extend"):
        return len(args) == 1 and args[0] == element
    if method == "insert":
        return len(args) == 2 and args[1] == element
    return False


_REMOVING = frozenset(("remove", "discard", "sort", "reverse", "clear", "pop", "popitem"))


def container(kind: str | None) -> bool:
    """A type whose values a body can change in place (a list, dict, set, Counter, …)."""
    return bool(kind) and kind.startswith(_CONTAINERS)  # type: ignore[union-attr]


def _base(node: cst.BaseExpression) -> str | None:
    """``rows`` for ``rows``, ``rows[0]``, ``rows[0]["k"]``; ``self.rows`` likewise."""
    while isinstance(node, cst.Subscript):
        node = node.value
    if isinstance(node, cst.Name):
        return node.value
    if (
        isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.value.value == "self"
    ):
        return f"self.{node.attr.value}"
    return None


class _Changes(cst.CSTVisitor):
    def __init__(self, keeps: Collection[str]) -> None:
        self.found: set[str] = set()
        self.passed: set[str] = set()  # given to a function that may change them
        self.calls: list[tuple[str, list[str]]] = []  # (callee, names given), for ChangeSites
        self.imports: dict[str, str] = {}
        self.items = False  # an item set, changed or deleted anywhere (changes_items)
        self.aliases: list[tuple[str, str]] = []
        self.keeps = keeps

    def _add(self, node: cst.BaseExpression | None) -> None:
        name = _base(node) if node is not None else None
        if name:
            self.found.add(name)

    def _targets(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Subscript):
            self._add(target)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._targets(element.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.items |= _holds_subscript(node.target)
        self._targets(node.target)

    def visit_Assign(self, node: cst.Assign) -> None:
        value = _base(node.value) if isinstance(node.value, (cst.Name, cst.Attribute)) else None
        for target in node.targets:
            if value is None:
                break
            if isinstance(target.target, (cst.Name, cst.Attribute)) and _base(target.target):
                self.aliases.append((_base(target.target), value))  # ``ys = xs``: one object
            elif isinstance(target.target, cst.Subscript):
                self._add(node.value)  # ``rows[0] = xs``: changed through rows from now on

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.items |= _holds_subscript(node.target)
        self._add(node.target)  # ``rows += [x]`` changes a list in place

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.items |= _holds_subscript(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self.items |= _holds_subscript(node.target)
        self._targets(node.target)

    def visit_For(self, node: cst.For) -> None:
        self.items |= _holds_subscript(node.target)
        self._targets(node.target)
        held = _base(node.iter) if isinstance(node.iter, (cst.Name, cst.Attribute)) else None
        if held and isinstance(node.target, cst.Name):  # ``for row in rows``: its items
            self.aliases.append((node.target.value, held))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        self.items |= isinstance(func, cst.Attribute) and func.attr.value in _ITEM_METHODS
        on_self = isinstance(func, cst.Attribute) and code(func.value) == "self"
        if isinstance(func, cst.Attribute) and func.attr.value in CHANGING_METHODS and not on_self:
            self._add(func.value)  # (``self.add(x)`` is a flow's method, below)
        user = isinstance(func, cst.Name) and func.value not in READ_ONLY
        method = isinstance(func, cst.Attribute) and _base(func) is not None
        if user or method:  # fill(rows), self.add(rows)
            names = [n for n in (_base(a.value) for a in node.args) if n]
            self.calls.append((dotted(func) or "", names))
            if dotted(func) not in self.keeps:
                self.passed.update(names)

    def visit_Import(self, node: cst.Import) -> None:
        self.imports.update(imported(node))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.imports.update(imported(node))
