"""The module-level constants a DAG's keywords name, in the DAG file or in a module of its tree.

``default_args=DEFAULT_ARGS`` where ``DEFAULT_ARGS = {...}`` sits at the top of the DAG file or of
a module it imports from the project's own package (``from my_pkg.config import DEFAULT_ARGS``,
found by ``transpile.reading.siblings``: parsed, never imported). A name is followed when it is
bound once at the top of its module and not changed there (no item assignment, ``update``,
``|=``, ``global``); the names inside a value are resolved in the module that holds it. A dict
is a literal, ``{**BASE, ...}``, ``dict(BASE, key=...)`` or ``BASE | {...}``. What cannot be
read raises ``Unread`` with the reason and the node where reading stopped.

The nodes of another module carry its file (the ``FILE`` attribute), so the spans made from
them name that file.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from transpile.reading.siblings import module_path

FILE = "transpile_file"  # on a node read from another module: that module's file
MAX_DEPTH = 4  # a module may take a constant from another, this deep
# methods that change a dict, list or set in place: a name one is called on is not a constant
MUTATORS = {"update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__"}
MUTATORS |= {"append", "extend", "insert", "remove", "sort", "reverse", "add", "discard"}
MUTATORS |= {"difference_update", "intersection_update", "symmetric_difference_update"}
# the positional order of datetime.timedelta's and pendulum.duration's arguments
DURATION = ("days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks")
DURATION_MORE = ("years", "months")  # pendulum.duration only (no fixed length in seconds)


class Unread(Exception):
    """A value that cannot be read statically: why, and the node where reading stopped."""

    def __init__(self, reason: str, node: ast.AST):
        super().__init__(reason)
        self.reason, self.node = reason, node


@dataclass
class Scope:
    """One module's top level: what binds each name there, and what changes it."""

    file: str  # the file on disk, where its siblings are looked for
    tree: ast.Module
    depth: int = 0
    stores: dict[str, list[ast.AST]] = field(default_factory=dict)
    values: dict[str, ast.expr] = field(default_factory=dict)  # name = value, at the top
    imports: dict[str, tuple[str | None, int, str | None]] = field(default_factory=dict)
    changes: dict[str, ast.AST] = field(default_factory=dict)
    top: set[int] = field(default_factory=set)  # the module's own statements (ids)

    def __post_init__(self) -> None:
        self.top = {id(node) for node in self.tree.body}
        for node in _at_import(self.tree):
            self._note(node)
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Global):
                for name in node.names:
                    self.changes.setdefault(name, node)

    @property
    def name(self) -> str:
        return Path(self.file).name

    def _note(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            self.stores.setdefault(node.id, []).append(node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            self.stores.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if isinstance(node, ast.ImportFrom):
                    local = alias.asname or alias.name
                    self.imports[local] = (node.module, node.level, alias.name)
                elif alias.asname:  # import a.b as c: c is a.b
                    local = alias.asname
                    self.imports[local] = (alias.name, 0, None)
                else:  # import a.b: a is a
                    local = alias.name.split(".")[0]
                    self.imports[local] = (local, 0, None)
                self.stores.setdefault(local, []).append(node)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
            if (root := root_name(node.value)) is not None:  # ``P["a"]["b"] = 1`` changes P
                self.changes.setdefault(root, node)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            self.changes.setdefault(node.target.id, node)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATORS
            and (root := root_name(node.func.value)) is not None
        ):
            self.changes.setdefault(root, node)  # ``SIZES.append(3)``, ``P["sizes"].append(3)``
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and id(node) in self.top:
                    self.values[target.id] = node.value


def root_name(node: ast.expr) -> str | None:
    """The name an item or attribute chain starts from (``P["a"].b`` → ``P``), else None."""
    while isinstance(node, ast.Subscript | ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _at_import(tree: ast.Module):
    """The nodes that run when the module is imported: not the bodies of its functions and
    classes (their names, decorators and defaults do run)."""
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            stack += [*node.decorator_list, *node.args.defaults]
            stack += [d for d in node.args.kw_defaults if d is not None]
        elif isinstance(node, ast.ClassDef):
            stack += [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]
        elif not isinstance(node, ast.Lambda):
            stack += reversed(list(ast.iter_child_nodes(node)))


class Constants:
    """Follows names to the constants they are bound to, in the DAG file (``home``) and in the
    modules of its tree it imports from."""

    def __init__(self, tree: ast.Module, path: str):
        self.home = Scope(path, tree)
        self.scopes: dict[str, Scope] = {}

    # -- names -------------------------------------------------------------------------------

    def follow(self, node: ast.expr, scope: Scope) -> tuple[ast.expr, Scope]:
        """``node``, or the value the name it is stands for (``NAME``, or ``module.NAME`` of an
        imported module of the tree), through the imports of the tree."""
        for _ in range(4 * MAX_DEPTH):
            if isinstance(node, ast.Name):
                node, scope = self._binding(node, scope)
            elif (found := self._attribute(node, scope)) is not None:
                node, scope = found
            else:
                return node, scope
        raise Unread(f"{ast.unparse(node)} names a name in a circle", node)

    def _bound(self, node: ast.Name, scope: Scope) -> ast.AST:
        """The one statement binding ``node`` at the top of ``scope``, else Unread."""
        name = node.id
        stores = scope.stores.get(name, [])
        if not stores:
            raise Unread(f"{name} is not bound at the top of {scope.name}", node)
        if len(stores) > 1:
            raise Unread(f"{name} is bound more than once in {scope.name}", stores[1])
        if name in scope.changes:
            change = scope.changes[name]
            line = getattr(change, "lineno", 0)
            raise Unread(f"{name} is changed in {scope.name} (line {line})", change)
        return stores[0]

    def _binding(self, node: ast.Name, scope: Scope) -> tuple[ast.expr, Scope]:
        name = node.id
        where = self._bound(node, scope)
        if name in scope.values:
            return scope.values[name], scope
        if name not in scope.imports:
            raise Unread(f"{name} is not a constant of {scope.name}", where)
        module, level, original = scope.imports[name]
        if original is None:
            raise Unread(f"{name} is a module", node)
        return self._imported(original, module, level, node, where, scope)

    def _attribute(self, node: ast.expr, scope: Scope) -> tuple[ast.expr, Scope] | None:
        """``config.NAME`` where ``config`` is a module of the tree (``import pkg.config as
        config``, ``from pkg import config``, ``from . import config``, ``import pkg``); None
        for any other expression (``TriggerRule.ALL_DONE`` is a value, not a name to follow)."""
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            return None
        base = node.value
        if base.id not in scope.imports or len(scope.stores.get(base.id, [])) != 1:
            return None
        module, level, original = scope.imports[base.id]
        if original is not None:  # from pkg import config: the module pkg.config
            module = f"{module}.{original}" if module else original
        if module_path(scope.file, module, level) is None:
            return None
        return self._imported(node.attr, module, level, node, self._bound(base, scope), scope)

    def _imported(
        self, name: str, module: str | None, level: int, node: ast.AST, where: ast.AST, scope
    ) -> tuple[ast.expr, Scope]:
        """``name`` of the module an import of ``scope`` names, to be followed there."""
        shown = "." * level + (module or "")
        path = module_path(scope.file, module, level)
        if path is None:
            message = f"{name} is imported from {shown}, not a module of this source tree"
            raise Unread(message, node)
        if scope.depth + 1 >= MAX_DEPTH:
            raise Unread(f"{name} is imported through more than {MAX_DEPTH} modules", where)
        sibling = self._scope(path, scope.depth + 1, where)
        found = ast.copy_location(ast.Name(name, ast.Load()), where)
        setattr(found, FILE, getattr(where, FILE, None) or scope.file)
        return found, sibling

    def _scope(self, path: Path, depth: int, where: ast.AST) -> Scope:
        key = str(path)
        if key not in self.scopes:
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"), key)
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError) as exc:
                reason = f"{path.name} (imported here) could not be read: {exc}"
                raise Unread(reason, where) from None
            for node in ast.walk(tree):
                setattr(node, FILE, key)
            self.scopes[key] = Scope(key, tree, depth)
        return self.scopes[key]

    # -- values ------------------------------------------------------------------------------

    def mapping(self, node: ast.expr, scope: Scope) -> dict[str, tuple[ast.expr, Scope]]:
        """The keys of a dict and their values (each with the module it is written in)."""
        value, where = self.follow(node, scope)
        found: dict[str, tuple[ast.expr, Scope]] = {}
        if isinstance(value, ast.Dict):
            for key, item in zip(value.keys, value.values):
                if key is None:  # {**BASE, ...}
                    found |= self.mapping(item, where)
                else:
                    found[self._key(key, where)] = (item, where)
            return found
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitOr):
            return self.mapping(value.left, where) | self.mapping(value.right, where)
        if (  # BASE.copy()
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr == "copy"
            and not value.args
            and not value.keywords
        ):
            return self.mapping(value.func.value, where)
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id == "dict"
            and "dict" not in where.stores
            and len(value.args) <= 1
        ):
            for argument in value.args:
                found |= self.mapping(argument, where)
            for keyword in value.keywords:
                if keyword.arg is None:
                    found |= self.mapping(keyword.value, where)
                else:
                    found[keyword.arg] = (keyword.value, where)
            return found
        raise Unread(f"{short(value)} is not a dict literal", value)

    def _key(self, node: ast.expr, scope: Scope) -> str:
        key, _ = self.follow(node, scope)
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
        raise Unread(f"the key {short(node)} is not a string", node)

    def option(self, key: str, node: ast.expr, scope: Scope) -> ast.expr:
        """A task option's value as the reader's option code reads it: names followed to their
        constants, a ``datetime.timedelta`` or ``pendulum.duration`` as ``timedelta(...)`` of
        numbers. Written in the DAG file, a value it cannot follow stays as written (its names
        are the DAG file's); from another module, a retries that is not a number is Unread."""
        try:
            value, where = self.follow(node, scope)
        except Unread:
            if scope is self.home:
                return node
            raise
        if key in ("retry_delay", "execution_timeout"):
            return self._duration(value, where)
        if key == "retries" and not _number(value):
            if scope is self.home:
                return node
            raise Unread(f"retries {short(value)} is not a number", value)
        return value

    def _duration(self, value: ast.expr, scope: Scope) -> ast.expr:
        if not isinstance(value, ast.Call):
            return value
        kind = self._callee(value.func, scope)
        if kind is None:
            return value
        order = DURATION + DURATION_MORE if kind == "duration" else DURATION
        if len(value.args) > len(order) or any(k.arg is None for k in value.keywords):
            return value
        given = [*zip(order, value.args), *((k.arg, k.value) for k in value.keywords)]
        keywords = []
        for name, argument in given:
            try:
                number, _ = self.follow(argument, scope)
            except Unread:
                return value
            if not _number(number):
                return value
            keywords.append(ast.keyword(name, ast.Constant(number.value)))
        made = ast.copy_location(ast.Call(ast.Name("timedelta", ast.Load()), [], keywords), value)
        if hasattr(value, FILE):
            setattr(made, FILE, getattr(value, FILE))
        return made

    def _callee(self, func: ast.expr, scope: Scope) -> str | None:
        """``timedelta`` or ``duration`` when ``func`` is datetime's or pendulum's, as the
        module that holds it imports them."""
        wanted = {("datetime", "timedelta"): "timedelta", ("pendulum", "duration"): "duration"}
        if isinstance(func, ast.Name) and func.id in scope.imports:
            module, level, original = scope.imports[func.id]
            return wanted.get((module, original)) if not level else None  # type: ignore[arg-type]
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in scope.imports
        ):
            module, level, original = scope.imports[func.value.id]
            return wanted.get((module, func.attr)) if original is None else None  # type: ignore[arg-type]
        return None

    def literal(self, node: ast.expr, scope: Scope) -> ast.expr:
        """A literal (numbers, strings, lists, tuples, dicts of them) with its names followed to
        the literals they are bound to; else Unread."""
        value, where = self.follow(node, scope)
        made: ast.expr
        if isinstance(value, ast.Constant) or (
            isinstance(value, ast.UnaryOp)
            and isinstance(value.op, ast.USub | ast.UAdd)
            and _number(value.operand)
        ):
            return value
        if isinstance(value, ast.List | ast.Tuple | ast.Set):
            elements = [self.literal(e, where) for e in value.elts]
            made = (
                ast.Set(elements)
                if isinstance(value, ast.Set)
                else type(value)(elements, ast.Load())
            )
        elif isinstance(value, ast.Dict) and None not in value.keys:
            keys = [self.literal(k, where) for k in value.keys if k is not None]
            made = ast.Dict(keys, [self.literal(v, where) for v in value.values])
        else:
            raise Unread(f"{short(value)} is not a literal", value)
        made = ast.copy_location(made, value)
        if hasattr(value, FILE):
            setattr(made, FILE, getattr(value, FILE))
        return made


def _number(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    )


def short(node: ast.expr) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."
