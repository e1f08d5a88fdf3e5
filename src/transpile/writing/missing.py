"""The last guarantee before an output is written: every name it reads is bound in it.

A name the writers could not provide (an API of the source framework, something the reader did not
follow) would be a NameError when the module loads or when a task runs. Instead it gets a stub
right after the imports that fails with a message naming it, a TODO at the spot, and a lossy
diagnostic, so the report never calls such an output exact and ``--strict`` fails.
"""

from __future__ import annotations

import ast

from ..model.diagnostics import Diagnostic
from ..model.ir import Span
from ..util.syntax import undefined_names
from ..util.text import todo


def provide_missing(code: str, span: Span | None) -> tuple[str, list[Diagnostic]]:
    """``code`` with a stub for each name it reads and never binds, and one diagnostic each."""
    try:
        missing = undefined_names(code)
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code, []  # finish() reports code that does not compile
    if not missing:
        return code, []
    annotation_only = _annotation_only(tree, set(missing))
    stubs, notes = [], []
    for name in missing:
        message = (
            f"'{name}' is used by the converted code but defined nowhere in it (not carried "
            "over from the source); define it or replace the code that uses it"
        )
        notes.append(Diagnostic("TP252", "warning", message, span, lossy=True))
        stubs += ["", "", todo("TP252", message)]
        if name in annotation_only:
            stubs += [f"class {name}:", "    pass"]
        else:
            stubs += [
                f"def {name}(*args, **kwargs):",
                f"    raise NotImplementedError({f'transpile did not carry over {name!r}'!r})",
            ]
    lines = code.splitlines()
    at = _after_imports(tree)
    lines[at:at] = stubs
    return "\n".join(lines) + "\n", notes


def _after_imports(tree: ast.Module) -> int:
    """The line after the module's leading docstring and imports."""
    end = 0
    for node in tree.body:
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if isinstance(node, (ast.Import, ast.ImportFrom)) or (docstring and end == 0):
            end = node.end_lineno or end
        else:
            break
    return end


def _annotation_only(tree: ast.Module, names: set[str]) -> set[str]:
    """Names read only inside annotations: a class stub keeps them a type."""
    in_annotations: set[str] = set()
    elsewhere: set[str] = set()
    annotations = set()
    for node in ast.walk(tree):
        for annotation in _annotations(node):
            annotations.update(id(inner) for inner in ast.walk(annotation))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            (in_annotations if id(node) in annotations else elsewhere).add(node.id)
    return in_annotations - elsewhere


def _annotations(node: ast.AST):
    if isinstance(node, ast.arg) and node.annotation is not None:
        yield node.annotation
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
        yield node.returns
    elif isinstance(node, ast.AnnAssign):
        yield node.annotation
