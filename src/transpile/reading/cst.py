"""Small libcst and source-position helpers shared by readers."""

from __future__ import annotations

import ast
from collections.abc import Callable

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
        self.files: dict[tuple[str, ...], str] = {}  # keys borrowed from another file
        self.others: dict[str, SpanIndex] = {}  # that file's index, by its path
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

    def borrow(self, other: SpanIndex, class_name: str) -> None:
        """Index a class of another file (a base class read from a sibling module) here: its
        spans name that file, and ``find`` inside them searches that file's lines."""
        self.others[other.path] = other
        for key, node in other.nodes.items():
            lent = key[0] in ("class", "method", "attr") and key[1] == class_name
            if lent and key not in self.nodes:
                self.nodes[key], self.files[key] = node, other.path

    def span(self, *key: str) -> Span:
        node = self.nodes.get(key)
        if node is None:
            return Span(self.path, 1, 0, 1, 0)
        path = self.files.get(key, self.path)
        line = node.lineno
        if (
            isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.decorator_list
        ):
            line = node.decorator_list[0].lineno  # decorators belong to the definition
        return Span(
            path,
            line,
            node.col_offset,
            getattr(node, "end_lineno", None) or line,
            getattr(node, "end_col_offset", None) or 0,
        )

    def find(self, needle: str, within: Span) -> Span:
        """The first occurrence of ``needle``'s first line of code inside ``within`` (or
        ``within`` itself). A statement's text starts with its leading comments; they are skipped,
        or the span would be a comment above the statement that happens to say the same word."""
        if within.file != self.path and within.file in self.others:
            return self.others[within.file].find(needle, within)
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


def calls_in(node: cst.CSTNode) -> list[cst.Call]:
    """Every call inside ``node``, in source order."""
    found: list[cst.Call] = []

    class Collect(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            found.append(call)

    node.visit(Collect())
    return found


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


class Together(cst.CSTVisitor):
    """Several visitors in one libcst walk: each is called exactly as in a walk of its own (same
    nodes, same order); a visitor whose ``visit_*`` returns False sees nothing below that node
    while the others go on. One walk instead of one per visitor: libcst rebuilds every node it
    walks, which costs more than the visitors themselves."""

    def __init__(self, *visitors: cst.CSTVisitor):
        self.visitors = visitors
        self.stopped: list[cst.CSTNode | None] = [None] * len(visitors)  # node a visitor skips

    def on_visit(self, node: cst.CSTNode) -> bool:
        descend = False
        for number, visitor in enumerate(self.visitors):
            if self.stopped[number] is None:
                if visitor.on_visit(node):
                    descend = True
                else:
                    self.stopped[number] = node
        return descend

    def on_leave(self, original_node: cst.CSTNode) -> None:
        for number, visitor in enumerate(self.visitors):
            stopped = self.stopped[number]
            if stopped is original_node:
                self.stopped[number] = None
            elif stopped is not None:
                continue
            visitor.on_leave(original_node)

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        for number, visitor in enumerate(self.visitors):
            if self.stopped[number] is None:
                visitor.on_visit_attribute(node, attribute)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        for number, visitor in enumerate(self.visitors):
            if self.stopped[number] is None:
                visitor.on_leave_attribute(original_node, attribute)


def walk(node: cst.CSTNode, *visitors: cst.CSTVisitor) -> None:
    """``node.visit(visitor)`` for each of ``visitors`` (read-only ``CSTVisitor``s), in one walk
    that rebuilds nothing: libcst's own walk constructs (and validates) a copy of every node it
    passes, which costs several times what the visitors do. Each visitor gets exactly the
    ``visit_*``/``leave_*`` calls of a walk of its own, in the same order; a node of a type not
    in ``FIELD_ORDER``, or a visitor with attribute hooks (``visit_Call_func``), takes libcst's
    walk (``Together``), so a newer libcst is slower here, never different."""
    walker(*visitors)(node)


class ScopeDepth:
    """For a visitor: ``depth`` counts the functions, lambdas and classes around the node
    (what runs there may run later, or never)."""

    depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.depth += 1

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.depth -= 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.depth += 1

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.depth -= 1


def walker(*visitors: cst.CSTVisitor) -> Callable[[cst.CSTNode], None]:
    """``walk`` with these visitors, for several nodes in turn (the lookups made once)."""
    if any(_hooks(type(visitor)) for visitor in visitors):
        return lambda node: node.visit(Together(*visitors))  # type: ignore[return-value]
    return _Walker(list(visitors)).walk


class _Walker:
    """One walk's visitors, with each node type's fields and handlers looked up once."""

    def __init__(self, visitors: list[cst.CSTVisitor]):
        self.visitors = visitors
        self.table: dict[type, tuple] = {}

    def _entry(self, kind: type) -> tuple:
        fields = _fields(kind)
        visits, leaves = [], []
        for visitor in self.visitors:
            visit, leave = _handlers(type(visitor), kind)
            if visit is not None:
                visits.append((visitor, visit))
            if leave is not None:
                leaves.append((visitor, leave))
        entry = self.table[kind] = (fields, visits, leaves)
        return entry

    def walk(self, node: cst.CSTNode) -> None:
        kind = type(node)
        entry = self.table.get(kind) or self._entry(kind)
        fields, visits, leaves = entry
        if fields is None:
            node.visit(Together(*self.visitors))
            return
        stopped = None
        for visitor, visit in visits:
            if visit(visitor, node) is False:
                stopped = [*(stopped or ()), visitor]
        below = self
        if stopped is not None:
            rest = [v for v in self.visitors if not any(v is done for done in stopped)]
            below = _Walker(rest) if rest else None
        if below is not None:
            inner = below.walk
            for field in fields:
                value = getattr(node, field)
                if isinstance(value, (tuple, list)):
                    for item in value:
                        if _is_node(item):
                            inner(item)
                elif _is_node(value):
                    inner(value)
        for visitor, leave in leaves:
            leave(visitor, node)


_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _fields(kind: type) -> tuple[str, ...] | None:
    if kind not in _FIELDS:
        known = getattr(cst, kind.__name__, None) is kind
        _FIELDS[kind] = FIELD_ORDER.get(kind.__name__) if known else None
    return _FIELDS[kind]


_NODE_TYPES: dict[type, bool] = {}


def _is_node(value: object) -> bool:
    kind = type(value)
    known = _NODE_TYPES.get(kind)
    if known is None:
        known = _NODE_TYPES[kind] = isinstance(value, cst.CSTNode)
    return known


_HANDLERS: dict[tuple[type, type], tuple] = {}


def _handlers(visitor: type, kind: type) -> tuple:
    """The visitor's own ``visit_<Kind>`` and ``leave_<Kind>`` (None where it has only libcst's
    empty default, which does nothing)."""
    key = (visitor, kind)
    found = _HANDLERS.get(key)
    if found is None:
        pair = []
        for prefix in ("visit_", "leave_"):
            name = prefix + kind.__name__
            method = getattr(visitor, name, None)
            pair.append(None if method is getattr(cst.CSTVisitor, name, None) else method)
        found = _HANDLERS[key] = (pair[0], pair[1])
    return found


_HOOKS: dict[type, bool] = {}


def _hooks(visitor: type) -> bool:
    """Does the visitor define attribute hooks (``visit_Call_func``), which only libcst calls?"""
    found = _HOOKS.get(visitor)
    if found is None:
        found = _HOOKS[visitor] = any(
            name.startswith(("visit_", "leave_"))
            and name.count("_") > 1
            and getattr(visitor, name) is not getattr(cst.CSTVisitor, name, None)
            for name in dir(visitor)
        )
    return found


# The fields each node type's children are visited from, in libcst's order (its
# ``_visit_and_replace_children``); tests/test_cst_walk.py checks this against the installed
# libcst's code.
FIELD_ORDER: dict[str, tuple[str, ...]] = {
    "Add": ("whitespace_before", "whitespace_after"),
    "AddAssign": ("whitespace_before", "whitespace_after"),
    "And": ("whitespace_before", "whitespace_after"),
    "AnnAssign": ("target", "annotation", "equal", "value", "semicolon"),
    "Annotation": ("whitespace_before_indicator", "whitespace_after_indicator", "annotation"),
    "Arg": ("whitespace_after_star", "keyword", "equal", "value", "comma", "whitespace_after_arg"),
    "AsName": ("whitespace_before_as", "name", "whitespace_after_as"),
    "Assert": ("whitespace_after_assert", "test", "comma", "msg", "semicolon"),
    "Assign": ("targets", "value", "semicolon"),
    "AssignEqual": ("whitespace_before", "whitespace_after"),
    "AssignTarget": ("target", "whitespace_before_equal", "whitespace_after_equal"),
    "Asynchronous": ("whitespace_after",),
    "Attribute": ("lpar", "value", "dot", "attr", "rpar"),
    "AugAssign": ("target", "operator", "value", "semicolon"),
    "Await": ("lpar", "whitespace_after_await", "expression", "rpar"),
    "BinaryOperation": ("lpar", "left", "operator", "right", "rpar"),
    "BitAnd": ("whitespace_before", "whitespace_after"),
    "BitAndAssign": ("whitespace_before", "whitespace_after"),
    "BitInvert": ("whitespace_after",),
    "BitOr": ("whitespace_before", "whitespace_after"),
    "BitOrAssign": ("whitespace_before", "whitespace_after"),
    "BitXor": ("whitespace_before", "whitespace_after"),
    "BitXorAssign": ("whitespace_before", "whitespace_after"),
    "BooleanOperation": ("lpar", "left", "operator", "right", "rpar"),
    "Break": ("semicolon",),
    "Call": ("lpar", "func", "whitespace_after_func", "whitespace_before_args", "args", "rpar"),
    "ClassDef": (
        "leading_lines",
        "decorators",
        "lines_after_decorators",
        "whitespace_after_class",
        "name",
        "whitespace_after_name",
        "type_parameters",
        "whitespace_after_type_parameters",
        "lpar",
        "bases",
        "keywords",
        "rpar",
        "whitespace_before_colon",
        "body",
    ),
    "Colon": ("whitespace_before", "whitespace_after"),
    "Comma": ("whitespace_before", "whitespace_after"),
    "Comment": (),
    "CompFor": (
        "whitespace_before",
        "asynchronous",
        "whitespace_after_for",
        "target",
        "whitespace_before_in",
        "whitespace_after_in",
        "iter",
        "ifs",
        "inner_for_in",
    ),
    "CompIf": ("whitespace_before", "whitespace_before_test", "test"),
    "Comparison": ("lpar", "left", "comparisons", "rpar"),
    "ComparisonTarget": ("operator", "comparator"),
    "ConcatenatedString": ("lpar", "left", "whitespace_between", "right", "rpar"),
    "Continue": ("semicolon",),
    "Decorator": ("leading_lines", "whitespace_after_at", "decorator", "trailing_whitespace"),
    "Del": ("target", "whitespace_after_del", "semicolon"),
    "Dict": ("lpar", "lbrace", "elements", "rbrace", "rpar"),
    "DictComp": (
        "lpar",
        "lbrace",
        "key",
        "whitespace_before_colon",
        "whitespace_after_colon",
        "value",
        "for_in",
        "rbrace",
        "rpar",
    ),
    "DictElement": ("key", "whitespace_before_colon", "whitespace_after_colon", "value", "comma"),
    "Divide": ("whitespace_before", "whitespace_after"),
    "DivideAssign": ("whitespace_before", "whitespace_after"),
    "Dot": ("whitespace_before", "whitespace_after"),
    "Element": ("value", "comma"),
    "Ellipsis": ("lpar", "rpar"),
    "Else": ("leading_lines", "whitespace_before_colon", "body"),
    "EmptyLine": ("whitespace", "comment", "newline"),
    "Equal": ("whitespace_before", "whitespace_after"),
    "ExceptHandler": (
        "leading_lines",
        "whitespace_after_except",
        "type",
        "name",
        "whitespace_before_colon",
        "body",
    ),
    "ExceptStarHandler": (
        "leading_lines",
        "whitespace_after_except",
        "whitespace_after_star",
        "type",
        "name",
        "whitespace_before_colon",
        "body",
    ),
    "Expr": ("value", "semicolon"),
    "Finally": ("leading_lines", "whitespace_before_colon", "body"),
    "Float": ("lpar", "rpar"),
    "FloorDivide": ("whitespace_before", "whitespace_after"),
    "FloorDivideAssign": ("whitespace_before", "whitespace_after"),
    "For": (
        "leading_lines",
        "asynchronous",
        "whitespace_after_for",
        "target",
        "whitespace_before_in",
        "whitespace_after_in",
        "iter",
        "whitespace_before_colon",
        "body",
        "orelse",
    ),
    "FormattedString": ("lpar", "parts", "rpar"),
    "FormattedStringExpression": (
        "whitespace_before_expression",
        "expression",
        "equal",
        "whitespace_after_expression",
        "format_spec",
    ),
    "FormattedStringText": (),
    "From": ("whitespace_before_from", "whitespace_after_from", "item"),
    "FunctionDef": (
        "leading_lines",
        "decorators",
        "lines_after_decorators",
        "asynchronous",
        "whitespace_after_def",
        "name",
        "whitespace_after_name",
        "type_parameters",
        "whitespace_after_type_parameters",
        "whitespace_before_params",
        "params",
        "returns",
        "whitespace_before_colon",
        "body",
    ),
    "GeneratorExp": ("lpar", "elt", "for_in", "rpar"),
    "Global": ("whitespace_after_global", "names", "semicolon"),
    "GreaterThan": ("whitespace_before", "whitespace_after"),
    "GreaterThanEqual": ("whitespace_before", "whitespace_after"),
    "If": (
        "leading_lines",
        "whitespace_before_test",
        "test",
        "whitespace_after_test",
        "body",
        "orelse",
    ),
    "IfExp": (
        "lpar",
        "body",
        "whitespace_before_if",
        "whitespace_after_if",
        "test",
        "whitespace_before_else",
        "whitespace_after_else",
        "orelse",
        "rpar",
    ),
    "Imaginary": ("lpar", "rpar"),
    "Import": ("whitespace_after_import", "names", "semicolon"),
    "ImportAlias": ("name", "asname", "comma"),
    "ImportFrom": (
        "whitespace_after_from",
        "relative",
        "module",
        "whitespace_before_import",
        "whitespace_after_import",
        "lpar",
        "names",
        "rpar",
        "semicolon",
    ),
    "ImportStar": (),
    "In": ("whitespace_before", "whitespace_after"),
    "IndentedBlock": ("header", "body", "footer"),
    "Index": ("whitespace_after_star", "value"),
    "Integer": ("lpar", "rpar"),
    "Is": ("whitespace_before", "whitespace_after"),
    "IsNot": ("whitespace_before", "whitespace_between", "whitespace_after"),
    "Lambda": ("lpar", "whitespace_after_lambda", "params", "colon", "body", "rpar"),
    "LazyImport": ("whitespace_after_lazy", "whitespace_after_import", "names", "semicolon"),
    "LazyImportFrom": (
        "whitespace_after_lazy",
        "whitespace_after_from",
        "relative",
        "module",
        "whitespace_before_import",
        "whitespace_after_import",
        "lpar",
        "names",
        "rpar",
        "semicolon",
    ),
    "LeftCurlyBrace": ("whitespace_after",),
    "LeftParen": ("whitespace_after",),
    "LeftShift": ("whitespace_before", "whitespace_after"),
    "LeftShiftAssign": ("whitespace_before", "whitespace_after"),
    "LeftSquareBracket": ("whitespace_after",),
    "LessThan": ("whitespace_before", "whitespace_after"),
    "LessThanEqual": ("whitespace_before", "whitespace_after"),
    "List": ("lpar", "lbracket", "elements", "rbracket", "rpar"),
    "ListComp": ("lpar", "lbracket", "elt", "for_in", "rbracket", "rpar"),
    "Match": (
        "leading_lines",
        "whitespace_after_match",
        "subject",
        "whitespace_before_colon",
        "whitespace_after_colon",
        "cases",
        "footer",
    ),
    "MatchAs": ("lpar", "pattern", "whitespace_before_as", "whitespace_after_as", "name", "rpar"),
    "MatchCase": (
        "leading_lines",
        "whitespace_after_case",
        "pattern",
        "whitespace_before_if",
        "whitespace_after_if",
        "guard",
        "whitespace_before_colon",
        "body",
    ),
    "MatchClass": (
        "lpar",
        "cls",
        "whitespace_after_cls",
        "whitespace_before_patterns",
        "patterns",
        "kwds",
        "whitespace_after_kwds",
        "rpar",
    ),
    "MatchKeywordElement": (
        "key",
        "whitespace_before_equal",
        "whitespace_after_equal",
        "pattern",
        "comma",
    ),
    "MatchList": ("lpar", "lbracket", "patterns", "rbracket", "rpar"),
    "MatchMapping": (
        "lpar",
        "lbrace",
        "elements",
        "whitespace_before_rest",
        "rest",
        "trailing_comma",
        "rbrace",
        "rpar",
    ),
    "MatchMappingElement": (
        "key",
        "whitespace_before_colon",
        "whitespace_after_colon",
        "pattern",
        "comma",
    ),
    "MatchOr": ("lpar", "patterns", "rpar"),
    "MatchOrElement": ("pattern", "separator"),
    "MatchSequenceElement": ("value", "comma"),
    "MatchSingleton": ("value",),
    "MatchStar": ("whitespace_before_name", "name", "comma"),
    "MatchTuple": ("lpar", "patterns", "rpar"),
    "MatchValue": ("value",),
    "MatrixMultiply": ("whitespace_before", "whitespace_after"),
    "MatrixMultiplyAssign": ("whitespace_before", "whitespace_after"),
    "Minus": ("whitespace_after",),
    "Module": ("header", "body", "footer"),
    "Modulo": ("whitespace_before", "whitespace_after"),
    "ModuloAssign": ("whitespace_before", "whitespace_after"),
    "Multiply": ("whitespace_before", "whitespace_after"),
    "MultiplyAssign": ("whitespace_before", "whitespace_after"),
    "Name": ("lpar", "rpar"),
    "NameItem": ("name", "comma"),
    "NamedExpr": (
        "lpar",
        "target",
        "whitespace_before_walrus",
        "whitespace_after_walrus",
        "value",
        "rpar",
    ),
    "Newline": (),
    "Nonlocal": ("whitespace_after_nonlocal", "names", "semicolon"),
    "Not": ("whitespace_after",),
    "NotEqual": ("whitespace_before", "whitespace_after"),
    "NotIn": ("whitespace_before", "whitespace_between", "whitespace_after"),
    "Or": ("whitespace_before", "whitespace_after"),
    "Param": (
        "whitespace_after_star",
        "name",
        "annotation",
        "equal",
        "default",
        "comma",
        "whitespace_after_param",
    ),
    "ParamSlash": ("comma", "whitespace_after"),
    "ParamSpec": ("name", "whitespace_after_star"),
    "ParamStar": ("comma",),
    "Parameters": (
        "posonly_params",
        "posonly_ind",
        "params",
        "star_arg",
        "kwonly_params",
        "star_kwarg",
    ),
    "ParenthesizedWhitespace": ("first_line", "empty_lines", "last_line"),
    "Pass": ("semicolon",),
    "Plus": ("whitespace_after",),
    "Power": ("whitespace_before", "whitespace_after"),
    "PowerAssign": ("whitespace_before", "whitespace_after"),
    "Raise": ("whitespace_after_raise", "exc", "cause", "semicolon"),
    "Return": ("whitespace_after_return", "value", "semicolon"),
    "RightCurlyBrace": ("whitespace_before",),
    "RightParen": ("whitespace_before",),
    "RightShift": ("whitespace_before", "whitespace_after"),
    "RightShiftAssign": ("whitespace_before", "whitespace_after"),
    "RightSquareBracket": ("whitespace_before",),
    "Semicolon": ("whitespace_before", "whitespace_after"),
    "Set": ("lpar", "lbrace", "elements", "rbrace", "rpar"),
    "SetComp": ("lpar", "lbrace", "elt", "for_in", "rbrace", "rpar"),
    "SimpleStatementLine": ("leading_lines", "body", "trailing_whitespace"),
    "SimpleStatementSuite": ("leading_whitespace", "body", "trailing_whitespace"),
    "SimpleString": ("lpar", "rpar"),
    "SimpleWhitespace": (),
    "Slice": ("lower", "first_colon", "upper", "second_colon", "step"),
    "StarredDictComp": (
        "lpar",
        "lbrace",
        "whitespace_before_value",
        "value",
        "for_in",
        "rbrace",
        "rpar",
    ),
    "StarredDictElement": ("whitespace_before_value", "value", "comma"),
    "StarredElement": ("lpar", "whitespace_before_value", "value", "rpar", "comma"),
    "Subscript": (
        "lpar",
        "value",
        "whitespace_after_value",
        "lbracket",
        "slice",
        "rbracket",
        "rpar",
    ),
    "SubscriptElement": ("slice", "comma"),
    "Subtract": ("whitespace_before", "whitespace_after"),
    "SubtractAssign": ("whitespace_before", "whitespace_after"),
    "TemplatedString": ("lpar", "parts", "rpar"),
    "TemplatedStringExpression": (
        "whitespace_before_expression",
        "expression",
        "equal",
        "whitespace_after_expression",
        "format_spec",
    ),
    "TemplatedStringText": (),
    "TrailingWhitespace": ("whitespace", "comment", "newline"),
    "Try": ("leading_lines", "whitespace_before_colon", "body", "handlers", "orelse", "finalbody"),
    "TryStar": (
        "leading_lines",
        "whitespace_before_colon",
        "body",
        "handlers",
        "orelse",
        "finalbody",
    ),
    "Tuple": ("lpar", "elements", "rpar"),
    "TypeAlias": (
        "whitespace_after_type",
        "name",
        "whitespace_after_name",
        "type_parameters",
        "whitespace_after_type_parameters",
        "whitespace_after_equals",
        "value",
        "semicolon",
    ),
    "TypeParam": ("param", "equal", "whitespace_after_star", "default", "comma"),
    "TypeParameters": ("lbracket", "params", "rbracket"),
    "TypeVar": ("name", "colon", "bound"),
    "TypeVarTuple": ("name", "whitespace_after_star"),
    "UnaryOperation": ("lpar", "operator", "expression", "rpar"),
    "While": (
        "leading_lines",
        "whitespace_after_while",
        "test",
        "whitespace_before_colon",
        "body",
        "orelse",
    ),
    "With": (
        "leading_lines",
        "asynchronous",
        "whitespace_after_with",
        "lpar",
        "items",
        "rpar",
        "whitespace_before_colon",
        "body",
    ),
    "WithItem": ("item", "asname", "comma"),
    "Yield": ("lpar", "whitespace_after_yield", "value", "rpar"),
}
