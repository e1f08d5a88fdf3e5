"""What module-level code a function body needs, for targets that ship each function on its own.

A KFP component is shipped as the text of one function: the imports, constants, helpers and
classes of its module are not there at run time. These helpers find, from the free names of a
step body, the module-level imports and definitions it uses, transitively and in module order,
so a writer can inline them into the function.
"""

from __future__ import annotations

import ast
import symtable
from collections.abc import Iterable
from dataclasses import dataclass
from textwrap import indent

from ..model.ir import Module


@dataclass(frozen=True)
class Definition:
    """One import (a single name) or one module-level statement, with the names it binds and uses."""

    source: str
    binds: frozenset[str]
    uses: frozenset[str]
    kind: str  # "import", "class", "function" or "value"


def free_names(body: str, params: Iterable[str] = ()) -> set[str]:
    """Names a function body with these parameters reads from outside itself (globals, builtins)."""
    return _globals(_function_table(body, params))


def local_names(body: str, params: Iterable[str] = ()) -> set[str]:
    """Names a function body with these parameters binds (its parameters among them)."""
    return {s.get_name() for s in _function_table(body, params).get_symbols() if s.is_local()}


def _function_table(body: str, params: Iterable[str]) -> symtable.SymbolTable:
    """The symbol table of ``body`` as the body of a function taking ``params``."""
    source = f"def _body({', '.join(params)}):\n{indent(body.strip(), '    ')}\n    pass\n"
    return symtable.symtable(source, "<body>", "exec").get_children()[0]


def _globals(table: symtable.SymbolTable) -> set[str]:
    names = {s.get_name() for s in table.get_symbols() if s.is_global() and s.is_referenced()}
    for child in table.get_children():
        names |= _globals(child)
    return names


def module_definitions(module: Module) -> list[Definition]:
    """The module's imports (one Definition per imported name), then its definitions, in order."""
    found = [_import(node) for line in module.imports for node in ast.parse(line).body]
    found = [d for group in found for d in group]
    for source in module.definitions:
        found.append(_definition(source))
    return found


def _import(node: ast.stmt) -> list[Definition]:
    if isinstance(node, ast.Import):
        return [
            Definition(
                f"import {a.name}" + (f" as {a.asname}" if a.asname else ""),
                frozenset({a.asname or a.name.split(".")[0]}),
                frozenset(),
                "import",
            )
            for a in node.names
        ]
    if isinstance(node, ast.ImportFrom) and node.module != "__future__":
        module = "." * node.level + (node.module or "")
        return [
            Definition(
                f"from {module} import {a.name}" + (f" as {a.asname}" if a.asname else ""),
                frozenset({a.asname or a.name}),
                frozenset(),
                "import",
            )
            for a in node.names
            if a.name != "*"
        ]
    return []


def _definition(source: str) -> Definition:
    table = symtable.symtable(source, "<definition>", "exec")
    binds = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    uses = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    for child in table.get_children():
        uses |= _globals(child)
    node = ast.parse(source).body
    kind = (
        "class"
        if node and isinstance(node[-1], ast.ClassDef)
        else "function"
        if node and isinstance(node[-1], (ast.FunctionDef, ast.AsyncFunctionDef))
        else "value"
    )
    return Definition(source, frozenset(binds), frozenset(uses - binds), kind)


def closure(names: Iterable[str], definitions: list[Definition]) -> list[Definition]:
    """The definitions that bind ``names``, and everything they use in turn, in module order."""
    wanted, chosen = set(names), set()
    changed = True
    while changed:
        changed = False
        for index, definition in enumerate(definitions):
            if index not in chosen and definition.binds & wanted:
                chosen.add(index)
                wanted |= definition.uses
                changed = True
    return [d for i, d in enumerate(definitions) if i in chosen]


def bound_names(definitions: Iterable[Definition]) -> set[str]:
    return {name for d in definitions for name in d.binds}
