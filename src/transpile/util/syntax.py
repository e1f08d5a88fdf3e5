"""Compiling code without printing Python's warnings about it.

Python warns while compiling (``"is" with a literal``; from 3.12 invalid escapes such as ``"\\d"``).
Those warnings are about the user's code, at lines of a file it may never have seen: not ours to print.
"""

from __future__ import annotations

import ast
import builtins
import io
import symtable
import tokenize
import unicodedata
import warnings
from types import CodeType


def quiet_tree(text: str, path: str = "<unknown>") -> ast.Module:
    """``ast.parse``, silently: compiles to a tree, runs nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compile(text, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)


def quiet_symbols(text: str, path: str = "<unknown>") -> symtable.SymbolTable:
    """The module's symbol table (SyntaxError for what the parser accepts and the compiler does
    not, such as a duplicate parameter), without warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return symtable.symtable(text, path, "exec")


def quiet_compile(text: str | ast.Module, path: str = "<unknown>") -> CodeType:
    """A full compile (it also checks what the parser lets through), silently; nothing runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compile(text, path, "exec", dont_inherit=True)


MANY_KEYWORDS = 64  # from here on, one call's keywords are checked here, not by the compiler


def compile_check(tree: ast.Module, path: str = "<unknown>") -> None:
    """What a full compile of ``tree`` says (SyntaxError or ValueError), in time linear in its
    size. CPython checks a call's keyword names for repeats pair by pair: a call with thousands of
    them (a NamedTuple of every artifact of a long step) took seconds. Such a call's names are
    checked here, and the compiler sees its values in one ``**{...}`` (they are still compiled);
    the tree is left as it was."""
    changed: list[tuple[ast.Call, list[ast.keyword]]] = []
    try:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and len(node.keywords) > MANY_KEYWORDS:
                changed.append((node, node.keywords))
                node.keywords = _keywords_at_once(node.keywords, path)
        quiet_compile(tree, path)
    finally:
        for node, keywords in changed:
            node.keywords = keywords


def _keywords_at_once(keywords: list[ast.keyword], path: str) -> list[ast.keyword]:
    seen: set[str] = set()
    named = []
    for keyword in keywords:
        if keyword.arg is None:
            continue
        if keyword.arg in seen:
            where = (path, keyword.lineno, keyword.col_offset + 1, None)
            raise SyntaxError(f"keyword argument repeated: {keyword.arg}", where)
        seen.add(keyword.arg)
        named.append(keyword)
    if not named:
        return keywords
    values = ast.Dict([ast.Constant(k.arg) for k in named], [k.value for k in named])
    together = ast.keyword(None, ast.copy_location(values, named[0]))
    ast.fix_missing_locations(ast.copy_location(together, named[0]))
    return [k for k in keywords if k.arg is None] + [together]


def silence_code_warnings() -> None:
    """For this whole process (the CLI and its pool workers): writers also parse the user's code."""
    warnings.filterwarnings("ignore", category=SyntaxWarning)
    warnings.filterwarnings("ignore", "invalid escape sequence", DeprecationWarning)


def is_literal(source: str) -> bool:
    """Whether ``source`` is a Python literal (what ``ast.literal_eval`` reads)."""
    try:
        ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return False
    return True


def nfkc_identifiers(text: str) -> str:
    """``text`` with every identifier in the NFKC form Python gives it when it parses the file
    (``self.ﬁle`` and ``self.file`` are one attribute to Python; libcst keeps them apart). The
    text is returned as it is when no identifier changes, or when it does not tokenize."""
    if text.isascii():
        return text
    lines = text.splitlines(keepends=True)
    changes: list[tuple[int, int, int, str]] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NAME and not token.string.isascii():
                normal = unicodedata.normalize("NFKC", token.string)
                if normal != token.string:
                    (row, start), (_, end) = token.start, token.end
                    changes.append((row, start, end, normal))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return text
    for row, start, end, normal in reversed(changes):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + normal + line[end:]
    return "".join(lines)


MODULE_NAMES = frozenset(
    {"__name__", "__file__", "__doc__", "__builtins__", "__spec__", "__loader__", "__package__"}
)


def undefined_names(
    text: str, path: str = "<unknown>", tree: ast.Module | None = None
) -> list[str]:
    """Names the module reads that nothing binds: not a builtin, not assigned, defined or
    imported at module level (ruff's F821, from the compiler's own symbol table). A star import
    makes every name possibly bound: then nothing is reported. ``tree``: ``text`` already parsed."""
    top = quiet_symbols(text, path)
    bound = set(MODULE_NAMES) | set(dir(builtins))
    for symbol in top.get_symbols():
        if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace():
            bound.add(symbol.get_name())
    tables, every = [top], []
    while tables:
        table = tables.pop()
        tables.extend(table.get_children())
        every.append(table)
        for symbol in table.get_symbols():
            if symbol.is_declared_global() and symbol.is_assigned():
                bound.add(symbol.get_name())  # `global x; x = ...` in a function
    tree = tree or ast.parse(text)  # ``tree``: ``text`` parsed already
    annotated = _annotation_names(tree)
    if annotated is None:
        return []
    found: dict[str, None] = {}
    for table in every:
        for symbol in table.get_symbols():
            name = symbol.get_name()
            global_use = symbol.is_global() or table is top
            if symbol.is_referenced() and global_use and name not in bound:
                found.setdefault(name)
    for name in annotated:  # postponed: absent from the symbol table
        if name not in bound:
            found.setdefault(name)
    return sorted(found)


def _annotation_names(tree: ast.Module) -> set[str] | None:
    """Plain names read by annotations (typing.get_type_hints evaluates them at import); None
    when the module has a star import (then any name may be bound). One walk for both."""
    names: set[str] = set()
    for node in _statements(tree.body):
        if isinstance(node, ast.ImportFrom) and node.names[0].name == "*":
            return None
        annotations = list(annotations_of(node))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args
            for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
                annotations.extend(annotations_of(arg))
            for arg in (arguments.vararg, arguments.kwarg):
                if arg is not None:
                    annotations.extend(annotations_of(arg))
        for annotation in annotations:
            for inner in ast.walk(annotation):
                if isinstance(inner, ast.Name):
                    names.add(inner.id)
    return names


def _statements(body: list[ast.stmt]):
    """Every statement, nested ones too (an import, a def or an annotated name is always a
    statement, and only a def's parameters carry annotations: a lambda's cannot), without
    walking the expressions, which hold most of a module's nodes."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        inner: list[ast.stmt] = []
        for field in ("body", "orelse", "finalbody"):
            value = getattr(node, field, None)
            if isinstance(value, list):
                inner.extend(value)
        for holder in (*getattr(node, "handlers", ()), *getattr(node, "cases", ())):
            inner.extend(holder.body)
        stack.extend(reversed(inner))


def annotations_of(node: ast.AST):
    """The annotations ``node`` holds: a parameter's, a function's return, an annotated name's."""
    if isinstance(node, ast.arg) and node.annotation is not None:
        yield node.annotation
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
        yield node.returns
    elif isinstance(node, ast.AnnAssign):
        yield node.annotation


def casts_to_int(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Module, param: str) -> bool:
    """Whether the code passes ``param``, or a loop variable over it, through ``int()``: a
    consumer of a list of numbers that does not mind whether they arrive as floats."""
    derived = {param}
    for node in ast.walk(function):
        if isinstance(node, ast.For | ast.comprehension) and _mentions(node.iter, derived):
            derived |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "int"
        and any(_mentions(a, derived) for a in node.args)
        for node in ast.walk(function)
    )


def _mentions(expression: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(expression))
