"""A Metaflow artifact whose type cannot be inferred from the source, for targets that need types.

Why: Metaflow pickles any value, so artifacts need no type. KFP passes values between components as
typed JSON parameters or typed artifacts and has no pickle fallback, so an artifact of unknown type
has to travel as an opaque artifact with a serializer the converted code must guess.

Instead: annotate the first assignment (``self.model: dict = train(...)``), or give the helper that
produces it a return annotation (``def train(...) -> dict:``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import FUNCTIONS, Hit, LintUnit, self_attribute

CODE = "TP510"
NAME = "untyped-artifact"
MESSAGE = "cannot infer the type of artifact '{name}'; {targets} needs one (annotate it)"
FRAMEWORKS = frozenset({"metaflow"})
TARGETS = frozenset({"kfp"})
TYPED_CALLS = {"int", "float", "str", "bool", "list", "dict", "set", "tuple", "len", "sorted"}
TYPED_CALLS |= {"round", "repr", "any", "all", "range", "enumerate", "zip", "sum", "abs", "divmod"}
KNOWN_NODES = (ast.Constant, ast.JoinedStr, ast.List, ast.Dict, ast.Set, ast.Tuple, ast.ListComp)
KNOWN_NODES += (ast.DictComp, ast.SetComp, ast.Compare, ast.BoolOp)
TYPED_MODULE_CALLS = ("math.", "statistics.", "json.dumps", "os.path.", "os.getenv", "os.environ")
TYPED_MODULE_CALLS += ("datetime.", "time.", "uuid.", "hashlib.", "collections.Counter")
TYPED_MODULE_CALLS += ("re.findall", "re.sub", "re.split", "re.escape")
# attributes of dates, durations and UUIDs (of a value itself typed)
TYPED_ATTRIBUTES = {"year", "month", "day", "hour", "minute", "second", "microsecond", "days"}
TYPED_ATTRIBUTES |= {"seconds", "microseconds", "hex"}

VALID = [
    """
from metaflow import FlowSpec, Parameter, step

def score(x) -> float:
    return x / 2

class Flow(FlowSpec):
    n = Parameter("n", default=3)

    @step
    def start(self):
        self.values = [i for i in range(self.n)]
        self.best = score(self.n) + 1
        self.model: dict = make_model()
        self.next(self.end)
""",
    """
import datetime as dt
from collections import Counter
from datetime import timedelta

from metaflow import FlowSpec, step

class Flow(FlowSpec):
    @step
    def start(self):
        self.opened = dt.datetime.strptime("2024-01-02", "%Y-%m-%d")
        self.closes = self.opened + timedelta(hours=3)
        self.days = (self.closes - self.opened).days
        self.counts = Counter("abca")
        self.next(self.end)
""",
    """
import random

from metaflow import FlowSpec, step

def make_data(n):
    rng = random.Random(7)
    xs = [rng.random() for _ in range(n)]
    return xs, [2 * x for x in xs]

class Flow(FlowSpec):
    @step
    def start(self):
        self.xs, self.ys = make_data(10)
        self.next(self.end)
""",
]
INVALID = [
    """
from metaflow import FlowSpec, step

def top(rows):
    ranked = sorted(rows)
    return ranked[0]["title"], len(ranked)

class Flow(FlowSpec):
    @step
    def start(self):
        self.best = top(load())  # error
        self.next(self.end)
""",
    """
import numpy as np
from metaflow import FlowSpec, step

class Flow(FlowSpec):
    @step
    def start(self):
        self.matrix = np.eye(3)  # error
        self.next(self.end)
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    typed_helpers = _typed_helpers(unit.tree)
    typed_helpers |= {f"{name}." for name in _typed_imports(unit.tree)}
    typed_helpers |= _returning_typed_values(unit.tree, typed_helpers)
    for flow in unit.flow_classes:
        assignments = _assignments(flow)
        locals_ = _local_assignments([*unit.tree.body, flow])
        # parameters and constants, and a foreach's index and item (typed from the iterated list)
        known = {name for name, _ in _class_attributes(flow)} | {"index", "input"}
        known = _settled(known, [*locals_, *assignments], typed_helpers)
        reported: set[str] = set()
        concerned = " and ".join(sorted(TARGETS & unit.targets)) or "the target"
        for name, value in assignments:
            if name not in known and name not in reported:
                reported.add(name)
                yield unit.hit(value, MESSAGE.format(name=name, targets=concerned))


def _typed_helpers(tree: ast.Module) -> set[str]:
    """Module functions with a return annotation, and classes (a constructor's type is known)."""
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef) or (isinstance(node, FUNCTIONS) and node.returns)
    }


def _returning_typed_values(tree: ast.Module, helpers: set[str]) -> set[str]:
    """Module functions with no return annotation whose every ``return`` gives a value of a
    type known from their own locals (``xs = [...]; return xs, ys``): convert infers those
    (reading/inference.py, per call), so they are typed here too."""
    found: set[str] = set()
    for node in tree.body:
        if not isinstance(node, FUNCTIONS) or node.returns:
            continue
        returns = [r.value for r in ast.walk(node) if isinstance(r, ast.Return)]
        if not returns or any(v is None for v in returns):
            continue
        known = _settled(set(), _local_assignments([node]), helpers)
        parts = [p for v in returns for p in (v.elts if isinstance(v, ast.Tuple) else [v])]
        if all(_plainly_typed(p, known, helpers) for p in parts):
            found.add(node.name)
    return found


def _settled(
    known: set[str], bindings: list[tuple[str, ast.expr | None]], helpers: set[str]
) -> set[str]:
    """``known`` with the names of ``bindings`` whose values are typed (None: annotated),
    names typed through other names included (rounds until none is added)."""
    while True:
        more = {n for n, v in bindings if v is None or _inferable(v, known, helpers)} - known
        if not more:
            return known
        known = known | more


def _plainly_typed(value: ast.expr, known: set[str], helpers: set[str]) -> bool:
    """Inferable without reading into a container (``rows[0]["title"]`` of rows of unknown
    elements is not), each part of a returned tuple on its own."""
    if any(isinstance(n, ast.Subscript) for n in ast.walk(value)):
        return False
    return not isinstance(value, ast.Tuple) and _inferable(value, known, helpers)


def _typed_imports(tree: ast.Module) -> set[str]:
    """Names imported from the typed stdlib modules (``from datetime import date``, ``import
    datetime as dt``): calls of them and of their attributes (``date.today()``) have known
    types."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {
                a.asname or a.name
                for a in node.names
                if f"{node.module}.{a.name}".startswith(TYPED_MODULE_CALLS)
            }
        elif isinstance(node, ast.Import):
            found |= {
                a.asname
                for a in node.names
                if a.asname and f"{a.name}.".startswith(TYPED_MODULE_CALLS)
            }
    return found


def _class_attributes(flow: ast.ClassDef) -> Iterator[tuple[str, ast.AST]]:
    for node in flow.body:
        if isinstance(node, ast.Assign):
            yield from ((t.id, node) for t in node.targets if isinstance(t, ast.Name))


def _assignments(flow: ast.ClassDef) -> list[tuple[str, ast.expr | None]]:
    """(artifact, value) for each ``self.x = value`` in the flow; None for an annotated one."""
    found: list[tuple[str, ast.expr | None]] = []
    for node in ast.walk(flow):
        if isinstance(node, ast.AnnAssign) and self_attribute(node.target):
            found.append((self_attribute(node.target), None))  # type: ignore[arg-type]
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names = [self_attribute(e) for e in getattr(target, "elts", [target])]
                found += [(n, node.value) for n in names if n]
        elif isinstance(node, ast.AugAssign) and self_attribute(node.target):
            found.append((self_attribute(node.target), node.value))  # type: ignore[arg-type]
    return sorted(found, key=lambda item: _position(item[1]))


def _local_assignments(scopes: list[ast.AST]) -> list[tuple[str, ast.expr]]:
    """(``name()``, value) for plain ``name = value`` assignments: module constants, locals."""
    return [
        (f"{target.id}()", node.value)
        for scope in scopes
        for node in ast.walk(scope)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    ]


def _position(node: ast.AST | None) -> tuple[int, int]:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def _inferable(value: ast.expr, known: set[str], helpers: set[str]) -> bool:
    if isinstance(value, KNOWN_NODES):
        return True
    if isinstance(value, ast.Call):
        return _typed_call(value.func, known, helpers)
    if isinstance(value, ast.BinOp):
        return _inferable(value.left, known, helpers) or _inferable(value.right, known, helpers)
    if isinstance(value, ast.UnaryOp):
        return _inferable(value.operand, known, helpers)
    if isinstance(value, ast.IfExp):
        return _inferable(value.body, known, helpers) and _inferable(value.orelse, known, helpers)
    if isinstance(value, ast.Subscript):
        return _inferable(value.value, known, helpers)
    if isinstance(value, ast.Name):
        return f"{value.id}()" in known  # a constant or local of known type (scopes merged)
    if not isinstance(value, ast.Attribute):
        return False
    # metaflow's run context (current.run_id, ...) holds only str, int and bool values
    owner = value.value.id if isinstance(value.value, ast.Name) else None
    if value.attr in TYPED_ATTRIBUTES and owner != "self":
        return _inferable(value.value, known, helpers)
    return owner == "current" or value.attr in known


def _typed_call(func: ast.expr, known: set[str], helpers: set[str]) -> bool:
    """Builtins, typed helpers, a few typed stdlib functions, and methods of typed values."""
    if isinstance(func, ast.Name):
        if f"{func.id}." in helpers:  # imported from a typed module: `date(...)`
            return True
        return func.id in TYPED_CALLS or func.id in helpers or func.id in ("min", "max")
    if not isinstance(func, ast.Attribute):
        return False
    called = ast.unparse(func)
    if called.startswith(TYPED_MODULE_CALLS) or f"{called.split('.')[0]}." in helpers:
        return True
    return _inferable(func.value, known, helpers)  # str.join, str.strip, dict.get, ...
