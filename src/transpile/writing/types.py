"""Type expressions as every writer sees them: which names a module can annotate with."""

from __future__ import annotations

import ast
import builtins

BUILTIN_TYPES = frozenset(n for n, v in vars(builtins).items() if isinstance(v, type))


def declarable(expr: str, classes: frozenset[str] | set[str]) -> bool:
    """Whether a type can annotate a value where only builtins and ``classes`` (the module
    classes the emitted code defines) are in scope: known all through (no ``typing.Any``)."""
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return False
    return all(
        n.id in BUILTIN_TYPES or n.id in classes for n in ast.walk(node) if isinstance(n, ast.Name)
    )


def defined_names(definitions: tuple[str, ...], classes_only: bool = False) -> list[str]:
    """Names the copied module-level code defines (Python's own parser: fast, runs nothing)."""
    names = []
    for node in ast.parse("\n".join(definitions)).body:
        if isinstance(node, ast.ClassDef):
            names.append(node.name)
        elif classes_only:
            continue
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names
