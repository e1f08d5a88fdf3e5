"""Static type inference for values assigned to artifacts: literals, constructors, helpers, arithmetic."""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field

import libcst as cst

from ..model.ir import TypeRef
from .cst import dotted

INPUTS = "<inputs>"  # marker type: the join's `inputs` (or one element of it)

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
}
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

    def child(self, shared: Mapping[str, str] | None = None, /, **names: str) -> TypeEnv:
        """This environment with ``names`` added; a ``shared`` mapping is consulted first among
        the shared ones, without copying it."""
        below = self.shared if shared is None else ChainMap(shared, self.shared)
        return TypeEnv(
            {**self.names, **names}, self.classes, self.helpers, self.artifact_types, below
        )

    def get(self, name: str) -> str | None:
        found = self.names.get(name)
        return found if found is not None else self.shared.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.names or name in self.shared


def element_type(expr: str | None) -> str | None:
    """``list[int]`` → ``int``; anything else unknown."""
    if expr is None:
        return None
    match = re.fullmatch(r"(?:list|set|typing\.List)\[(.*)\]", expr)
    if match:
        return match.group(1)
    if expr == "str":
        return "str"
    if expr == INPUTS:
        return INPUTS
    return None


def _join(kinds: list[str | None]) -> str | None:
    """One type for several values, or None when they disagree or any is unknown."""
    if not kinds or any(k is None for k in kinds):
        return None
    return kinds[0] if all(k == kinds[0] for k in kinds) else None


def infer(node: cst.BaseExpression, env: TypeEnv) -> str | None:
    """The annotation text of an expression's value, or None when it cannot be known statically."""
    handler = _HANDLERS.get(type(node))
    return handler(node, env) if handler else None


def _name(node: cst.Name, env: TypeEnv) -> str | None:
    if node.value in ("True", "False"):
        return "bool"
    return env.get(node.value) or None  # "" marks a name rebound to something unknown


def _string(node: cst.BaseExpression, env: TypeEnv) -> str | None:
    if isinstance(node, cst.SimpleString):
        return "bytes" if "b" in node.prefix.lower() else "str"
    return "str"


def _collection(node: cst.List | cst.Set, env: TypeEnv) -> str | None:
    if any(not isinstance(e, cst.Element) for e in node.elements):
        return None
    elem = _join([infer(e.value, env) for e in node.elements])
    kind = "list" if isinstance(node, cst.List) else "set"
    return f"{kind}[{elem}]" if elem else None


def _tuple(node: cst.Tuple, env: TypeEnv) -> str | None:
    """A tuple display is a tuple whatever its elements are (writers must know: Flyte refuses
    tuple values), so unknown elements become ``typing.Any`` rather than the whole type."""
    if not node.elements or any(not isinstance(e, cst.Element) for e in node.elements):
        return None
    parts = [infer(e.value, env) or "typing.Any" for e in node.elements]
    return f"tuple[{', '.join(parts)}]"


def _dict(node: cst.Dict, env: TypeEnv) -> str | None:
    if not node.elements or any(not isinstance(e, cst.DictElement) for e in node.elements):
        return None
    keys = _join([infer(e.key, env) for e in node.elements])  # type: ignore[union-attr]
    values = _join([infer(e.value, env) for e in node.elements])
    return f"dict[{keys}, {values}]" if keys and values else None


def _comprehension_env(node: cst.CompFor, env: TypeEnv) -> TypeEnv:
    current = env
    for_node: cst.CompFor | None = node
    while for_node is not None:
        elem = _iter_element(for_node.iter, current)
        current = _bind_target(for_node.target, elem, current)
        for_node = for_node.inner_for_in
    return current


def _iter_element(node: cst.BaseExpression, env: TypeEnv) -> str | None:
    if isinstance(node, cst.Call) and _callee(node) == "range":
        return "int"
    if isinstance(node, cst.Call) and _callee(node) == "enumerate" and node.args:
        inner = element_type(infer(node.args[0].value, env))
        return f"tuple[int, {inner}]" if inner else None
    return element_type(infer(node, env))


def _bind_target(target: cst.BaseExpression, kind: str | None, env: TypeEnv) -> TypeEnv:
    if isinstance(target, cst.Name):
        return env.child(**{target.value: kind}) if kind else env
    if isinstance(target, cst.Tuple) and kind and kind.startswith("tuple["):
        parts = split_args(kind[6:-1])
        names = [e.value for e in target.elements]
        if len(parts) == len(names):
            for sub, part in zip(names, parts):
                env = _bind_target(sub, part, env)
    return env


def split_args(text: str) -> list[str]:
    """``int, dict[str, int]`` → ["int", "dict[str, int]"]: a type's arguments, top level."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
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
    return f"dict[{key}, {value}]" if key and value else None


def _callee(node: cst.Call) -> str | None:
    return node.func.value if isinstance(node.func, cst.Name) else None


def _call(node: cst.Call, env: TypeEnv) -> str | None:
    name = _callee(node)
    args = [a.value for a in node.args if not a.keyword and not a.star]
    if name in _BUILTIN_RESULT and name not in env:
        return _BUILTIN_RESULT[name]
    if name in env.classes:
        return name
    if name in env.helpers:
        return env.helpers[name]
    if (
        name in ("min", "max")
        and len(args) == 1
        and not any(a.keyword for a in node.args if a.keyword and a.keyword.value == "default")
    ):
        if isinstance(args[0], cst.GeneratorExp):
            return infer(args[0].elt, _comprehension_env(args[0].for_in, env))
        return element_type(infer(args[0], env))
    if name in ("min", "max", "abs") and args:
        return _join([infer(a, env) for a in args])
    if name == "sum" and len(args) == 1:
        elem = (
            element_type(infer(args[0], env))
            if not isinstance(args[0], cst.GeneratorExp)
            else (infer(args[0].elt, _comprehension_env(args[0].for_in, env)))
        )
        return elem if elem == "int" else None  # sum() of floats is the int 0 when empty
    if name == "round":
        return "int" if len(args) == 1 else _join([infer(args[0], env)])
    if name in ("sorted", "list") and len(args) == 1:
        elem = _iter_element(args[0], env)
        return f"list[{elem}]" if elem and elem != INPUTS else None
    if name == "divmod" and len(args) == 2:
        both = _join([infer(a, env) for a in args])
        return f"tuple[{both}, {both}]" if both else None
    if isinstance(node.func, cst.Attribute):
        return _STDLIB_RESULT.get(dotted(node.func) or "") or _method(node.func, env)
    return None


# module functions whose result type never depends on their arguments (as commonly imported)
_STDLIB_RESULT = {
    "json.dumps": "str",
    "math.sqrt": "float",
    "math.log": "float",
    "math.exp": "float",
    "math.floor": "int",
    "math.ceil": "int",
    "math.isclose": "bool",
    "os.path.join": "str",
    "os.path.basename": "str",
    "os.getcwd": "str",
    "time.time": "float",
    "str.join": "str",
}


def _method(func: cst.Attribute, env: TypeEnv) -> str | None:
    owner = infer(func.value, env)
    method = func.attr.value
    if owner == "str" and method in _STR_METHODS:
        return "str"
    if owner == "str" and method in ("split", "splitlines"):
        return "list[str]"
    if owner == "str" and method in ("startswith", "endswith", "isdigit", "isalpha"):
        return "bool"
    if owner == "str" and method in ("count", "find", "index"):
        return "int"
    if owner and owner.startswith("dict[") and method == "get":
        return split_args(owner[5:-1])[1]
    return None


def _attribute(node: cst.Attribute, env: TypeEnv) -> str | None:
    if isinstance(node.value, cst.Name) and node.value.value == "self":
        return env.get(f"self.{node.attr.value}")
    if infer(node.value, env) == INPUTS:
        # inputs.<step> is still `inputs` (one branch); inputs.<step>.x is the artifact
        return env.artifact_types.get(node.attr.value, INPUTS)
    if isinstance(node.value, cst.Name):
        return env.get(f"{node.value.value}.{node.attr.value}")
    return None


def _subscript(node: cst.Subscript, env: TypeEnv) -> str | None:
    owner = infer(node.value, env)
    if owner is None or len(node.slice) != 1:
        return None
    index = node.slice[0].slice
    if isinstance(index, cst.Slice):
        return owner if owner.startswith(("list[", "tuple[")) or owner == "str" else None
    if owner.startswith("dict["):
        return split_args(owner[5:-1])[1]
    if owner.startswith("tuple[") and isinstance(index, cst.Integer):
        parts = split_args(owner[6:-1])
        position = int(index.value)
        return parts[position] if position < len(parts) else None
    return element_type(owner)


def _binary(node: cst.BinaryOperation, env: TypeEnv) -> str | None:
    left, right = infer(node.left, env), infer(node.right, env)
    if isinstance(node.operator, cst.Divide) and left in _NUMERIC and right in _NUMERIC:
        return "float"
    if left in _NUMERIC and right in _NUMERIC:
        return "float" if "float" in (left, right) else "int"
    if isinstance(node.operator, cst.Modulo) and left == "str":
        return "str"
    if (
        isinstance(node.operator, cst.Add)
        and left == right
        and left
        and left.startswith(("str", "list["))
    ):
        return left
    if isinstance(node.operator, cst.Multiply) and "int" in (left, right):
        other = right if left == "int" else left
        if other == "str" or (other and other.startswith("list[")):
            return other
    return None


def _unary(node: cst.UnaryOperation, env: TypeEnv) -> str | None:
    if isinstance(node.operator, cst.Not):
        return "bool"
    return infer(node.expression, env)


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


def returned_type(function: cst.FunctionDef, env: TypeEnv) -> str | None:
    """What an unannotated helper returns, where its ``return`` statements agree: above all a
    tuple (``return low, high``), which Flyte refuses as an untyped output."""
    collector = _Returns()
    function.body.visit(collector)
    values = collector.values
    if not values or collector.bare or collector.generator:
        return None
    if all(isinstance(v, cst.Tuple) for v in values):
        sizes = {len(v.elements) for v in values}  # type: ignore[union-attr]
        if len(sizes) != 1 or any(
            isinstance(e, cst.StarredElement) for v in values for e in v.elements
        ):  # type: ignore[union-attr]
            return None
        columns = zip(*(v.elements for v in values))  # type: ignore[union-attr]
        kinds = [_join([infer(e.value, env) for e in column]) or "typing.Any" for column in columns]
        return f"tuple[{', '.join(kinds)}]"
    return _join([infer(v, env) for v in values])


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
