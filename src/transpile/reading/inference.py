"""Static type inference for values assigned to artifacts: literals, constructors, helpers, arithmetic."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field

import libcst as cst

from ..model.ir import TypeRef
from .cst import bound_names, code, dotted, walk

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
    calls: HelperCalls | None = None  # unannotated helpers typed per call (see HelperCalls)

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
        self.module = module
        self.depth = 0
        self.seen: dict[tuple[str, tuple[tuple[str, str], ...]], str | None] = {}

    def returned(self, name: str, call: cst.Call, env: TypeEnv) -> str | None:
        function = self.functions.get(name)
        if function is None or name in env.names or self.depth >= self.DEPTH:
            return None
        given = _arguments(function, call, env, self.bound.get(name, 0))
        if given is None:
            return None
        key = (name, tuple(sorted(given.items())))
        if key not in self.seen:
            self.seen[key] = None  # a helper calling itself is unknown
            self.depth += 1
            try:
                self.seen[key] = returned_type(function, self.module, given)
            finally:
                self.depth -= 1
        return self.seen[key]


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
    return split_args(expr[len(head) + 1 : -1])


def element_type(expr: str | None) -> str | None:
    """``list[int]`` → ``int``; anything else unknown."""
    if expr is None:
        return None
    found = args_of(expr, "list", "set", "typing.List")
    if found is not None:
        return found[0] if len(found) == 1 else None
    if expr == "str":
        return "str"
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
    if len(set(kinds)) == 1:
        return kinds[0]  # one type, a union itself or not
    if any("|" in k for k in kinds):  # type: ignore[operator]
        return None
    parts = list(dict.fromkeys(k for k in kinds if k))
    if len({"bool", "int", "float"} & set(parts)) > 1:
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
    values = union([infer(e.value, env) for e in node.elements])
    return f"dict[{keys}, {values}]" if keys and values else None


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
    if isinstance(node, cst.Call) and _callee(node) == "zip" and "zip" not in env:
        if not node.args or any(a.keyword or a.star for a in node.args):
            return None
        parts = [iter_element(a.value, env) for a in node.args]
        known = all(p is not None and p != INPUTS for p in parts)
        return f"tuple[{', '.join(parts)}]" if known else None  # type: ignore[arg-type]
    kind = infer(node, env)
    keys = args_of(kind, "dict")
    if keys:  # iterating a dict goes over its keys
        return keys[0]
    return element_type(kind)


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
        depth += ch == "["
        depth -= ch == "]"
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
    if name in _BUILTIN_RESULT and name not in env:
        return _BUILTIN_RESULT[name]
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
        return element_type(infer(args[0], env))
    if name in ("min", "max", "abs") and args:
        return _join([infer(a, env) for a in args], none=False)
    if name == "sum" and len(args) == 1:
        elem = (
            element_type(infer(args[0], env))
            if not isinstance(args[0], cst.GeneratorExp)
            else (infer(args[0].elt, _comprehension_env(args[0].for_in, env)))
        )
        return elem if elem == "int" else None  # sum() of floats is the int 0 when empty
    if name == "round":
        return "int" if len(args) == 1 else _join([infer(args[0], env)], none=False)
    if name in ("sorted", "list", "set") and len(args) == 1:
        elem = iter_element(args[0], env)
        kind = "set" if name == "set" else "list"
        return f"{kind}[{elem}]" if elem and elem != INPUTS else None
    if name == "divmod" and len(args) == 2:
        both = _join([infer(a, env) for a in args], none=False)
        return f"tuple[{both}, {both}]" if both else None
    if isinstance(node.func, cst.Attribute):
        function = dotted(node.func) or ""
        if env.calls is not None and function in env.calls.functions:
            return env.calls.returned(function, node, env)  # a flow's method: self.parse(x)
        if function.split(".")[0] in env:
            return _method(node.func, env)  # a local or an artifact named like a module
        found = _STDLIB_RESULT.get(function) or _by_data(function, args, env)
        return found or _method(node.func, env)
    return None


def _by_data(function: str, args: list[cst.BaseExpression], env: TypeEnv) -> str | None:
    """Module functions whose result type is that of their data's elements."""
    if not args:
        return None
    elem = iter_element(args[0], env)
    if function in _OF_ELEMENTS:
        return elem if elem in _NUMERIC or function == "random.choice" else None
    if function in ("os.environ.get", "os.getenv") and len(args) == 2:
        return "str" if infer(args[1], env) == "str" else None  # a variable's text, or the default
    if function in _FLOAT_OF_FLOATS:
        return "float" if elem == "float" else None
    if function == "random.sample" and elem and elem != INPUTS:
        return f"list[{elem}]"
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


# module functions whose result type never depends on their arguments (as commonly imported)
_MATH_FLOAT = (
    *("sqrt", "log", "log10", "log2", "log1p", "exp", "expm1", "pow", "hypot", "fabs", "fsum"),
    *("sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "dist"),
    *("radians", "degrees", "erf", "erfc", "gamma", "lgamma"),
)
_MATH_INT = ("floor", "ceil", "trunc", "factorial", "gcd", "lcm", "comb", "perm", "isqrt")
_RANDOM_FLOAT = ("random", "uniform", "gauss", "normalvariate", "expovariate", "triangular")
_STDLIB_RESULT = {
    "json.dumps": "str",
    **dict.fromkeys([f"math.{f}" for f in _MATH_FLOAT], "float"),
    **dict.fromkeys([f"math.{f}" for f in _MATH_INT], "int"),
    **dict.fromkeys([f"math.{f}" for f in ("isclose", "isnan", "isinf", "isfinite")], "bool"),
    **dict.fromkeys(
        [f"statistics.{f}" for f in ("fmean", "stdev", "pstdev", "geometric_mean")], "float"
    ),
    **dict.fromkeys([f"random.{f}" for f in _RANDOM_FLOAT], "float"),
    **dict.fromkeys([f"random.{f}" for f in ("randint", "randrange", "getrandbits")], "int"),
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
    mapping = args_of(owner, "dict")
    if mapping and len(mapping) == 2 and method == "get":
        return mapping[1]
    return None


def _attribute(node: cst.Attribute, env: TypeEnv) -> str | None:
    if isinstance(node.value, cst.Name) and node.value.value == "self":
        return env.get(f"self.{node.attr.value}")
    if infer(node.value, env) == INPUTS:
        # inputs.<step> is still `inputs` (one branch); inputs.<step>.x is the artifact
        return env.artifact_types.get(node.attr.value, INPUTS)
    if isinstance(node.value, cst.Name):
        found = env.get(f"{node.value.value}.{node.attr.value}")
        if found is None and node.value.value == "math" and "math" not in env:
            return "float" if node.attr.value in ("pi", "e", "tau", "inf", "nan") else None
        return found
    return None


def _subscript(node: cst.Subscript, env: TypeEnv) -> str | None:
    owner = infer(node.value, env)
    if owner is None or len(node.slice) != 1:
        return None
    index = node.slice[0].slice
    if isinstance(index, cst.Slice):
        return owner if args_of(owner, "list", "tuple") or owner == "str" else None
    mapping = args_of(owner, "dict")
    if mapping is not None:
        return mapping[1] if len(mapping) == 2 else None
    parts = args_of(owner, "tuple")
    if parts is not None and "..." in parts:
        return parts[0] if len(parts) == 2 else None  # tuple[int, ...]
    if parts is not None and isinstance(index, cst.Integer):
        position = int(index.value)
        return parts[position] if position < len(parts) else None
    return element_type(owner)


def _binary(node: cst.BinaryOperation, env: TypeEnv) -> str | None:
    left, right = infer(node.left, env), infer(node.right, env)
    if (
        isinstance(node.operator, cst.Divide)
        and _numeric(node.left, env)
        and _numeric(node.right, env)
    ):
        return "float"  # true division of numbers is a float, whichever numbers they are
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


def _numeric(node: cst.BaseExpression, env: TypeEnv) -> bool:
    """An int or a float, not knowing which: ``sum()`` of floats is ``0`` (an int) when empty."""
    if infer(node, env) in _NUMERIC:
        return True
    if isinstance(node, cst.Call) and _callee(node) == "sum" and "sum" not in env:
        args = [a.value for a in node.args if not a.keyword and not a.star]
        return len(args) == 1 and iter_element(args[0], env) in _NUMERIC
    return False


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
    env = _local_env(function, env, given or {})
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
    binder = _Bindings()
    walk(function.body, binder)
    local = env.child(**names)
    kinds: dict[str, str] = {}
    for name, value, position in binder.bindings:
        kind = infer(value, local) or "" if value is not None and name not in names else ""
        if position is not None:
            kind = unpacked(kind, *position) or ""
        if kinds.get(name, kind) != kind:
            kind = ""  # bound to values of different types
        kinds[name] = kind
        local.names[name] = kind  # ``local`` is this function's own copy: no copy per binding
    return local


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
    ``value``, ``(name, None, None)`` for any other binding (loops, ``with ... as``, augmented
    assignment, starred or nested unpacking, imports, ``del``, ``global``). Nested functions
    and classes bind their own."""

    def __init__(self) -> None:
        self.bindings: list[tuple[str, cst.BaseExpression | None, tuple[int, int] | None]] = []

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
        self._targets(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
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
        for alias in node.names:
            name = alias.asname.name if alias.asname else alias.name
            if not isinstance(name, cst.Name):  # `import a.b` binds `a`
                name = cst.Name((dotted(name) or "_").split(".")[0])
            self._targets(name)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
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
