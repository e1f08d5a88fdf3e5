"""Small libcst and source-position helpers shared by readers."""

from __future__ import annotations

import ast

import libcst as cst

from ..model.ir import Span

_EMPTY = cst.Module(body=[])


def code(node: cst.CSTNode) -> str:
    return _EMPTY.code_for_node(node)


def dotted(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None


def literal(node: cst.BaseExpression):
    """The Python value of a literal expression, or raise ValueError."""
    return ast.literal_eval(code(node))


def keyword_args(call: cst.Call) -> dict[str, cst.BaseExpression]:
    return {a.keyword.value: a.value for a in call.args if a.keyword is not None}


def positional_args(call: cst.Call) -> list[cst.BaseExpression]:
    return [a.value for a in call.args if a.keyword is None and not a.star]


def is_self_attr(node: cst.CSTNode, name: str | None = None) -> bool:
    return (
        isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.value.value == "self"
        and (name is None or node.attr.value == name)
    )


class ImportedNames:
    """How a module spells a framework's names: ``names`` maps a local name to the framework's
    (``from metaflow import step as s``: s → step), ``modules`` holds the local names of its
    modules (``import flytekit as fl``: fl)."""

    def __init__(self) -> None:
        self.modules: set[str] = set()
        self.names: dict[str, str] = {}

    def resolve(self, node: cst.BaseExpression) -> str | None:
        """The framework's name an expression (or a call of it) refers to, else None."""
        name = dotted(node.func if isinstance(node, cst.Call) else node)
        if name is None:
            return None
        if name in self.names:
            return self.names[name]
        for module in sorted(self.modules, key=len, reverse=True):
            if name.startswith(module + "."):
                return name[len(module) + 1 :].split(".")[-1]
        return self.other(name)

    def other(self, name: str) -> str | None:
        """A name that is none of the framework's, for a subclass that knows a few more."""
        return None


class SpanIndex:
    """Positions of classes, methods and class-level statements, from Python's fast ``ast`` parser.

    libcst position metadata over a whole module costs more than parsing it; ``ast`` gives line and
    column for the nodes diagnostics point at, and text search places expressions inside a method.
    """

    def __init__(self, path: str, text: str, tree: ast.Module | None = None):
        """``tree`` is ``text`` already parsed by ``ast`` (the syntax check's), when at hand."""
        self.path = path
        self.lines = text.splitlines()
        self.nodes: dict[tuple[str, ...], ast.AST] = {}
        if tree is None:
            try:
                tree = ast.parse(text)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                self._index_class(node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.nodes[("def", node.name)] = node

    def _index_class(self, node: ast.ClassDef) -> None:
        self.nodes[("class", node.name)] = node
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.nodes[("method", node.name, item.name)] = item
            elif isinstance(item, (ast.Assign, ast.AnnAssign)):
                targets = item.targets if isinstance(item, ast.Assign) else [item.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        self.nodes[("attr", node.name, target.id)] = item

    def span(self, *key: str) -> Span:
        node = self.nodes.get(key)
        if node is None:
            return Span(self.path, 1, 0, 1, 0)
        line = node.lineno
        if (
            isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.decorator_list
        ):
            line = node.decorator_list[0].lineno  # decorators belong to the definition
        return Span(
            self.path,
            line,
            node.col_offset,
            getattr(node, "end_lineno", None) or line,
            getattr(node, "end_col_offset", None) or 0,
        )

    def find(self, needle: str, within: Span) -> Span:
        """The first occurrence of ``needle``'s first line of code inside ``within`` (or
        ``within`` itself). A statement's text starts with its leading comments; they are skipped,
        or the span would be a comment above the statement that happens to say the same word."""
        lines = code_lines(needle)
        first = lines[0].strip() if lines else ""
        for number in range(within.line, min(within.end_line, len(self.lines)) + 1):
            column = self.lines[number - 1].find(first) if first else -1
            if column >= 0:
                return Span(self.path, number, column, number, column + len(first))
        return within


def code_lines(text: str) -> list[str]:
    """The lines of a statement's text from its first line of code: libcst keeps the comments
    (and blank lines) above a statement in its text."""
    lines = text.strip().splitlines()
    while lines and (not lines[0].strip() or lines[0].strip().startswith("#")):
        lines.pop(0)
    return lines


def bound_names(target: cst.CSTNode) -> list[str]:
    """The names an assignment or loop target binds (``x``, ``a, (b, *c)``); an attribute or a
    subscript binds none."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in bound_names(e.value)]
    if isinstance(target, cst.StarredElement):
        return bound_names(target.value)
    return []


def docstring(body: cst.BaseSuite) -> str | None:
    if isinstance(body, cst.IndentedBlock) and body.body:
        first = body.body[0]
        if isinstance(first, cst.SimpleStatementLine) and isinstance(first.body[0], cst.Expr):
            value = first.body[0].value
            if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
                text = value.evaluated_value
                return text if isinstance(text, str) else None
    return None
