"""The last guarantee before an output is written: every name it reads is bound in it.

A name the writers could not provide (an API of the source framework, something the reader did not
follow) would be a NameError when the module loads or when a task runs. Instead it gets a stub
right after the imports that fails with a message naming it, a TODO at the spot, and a lossy
diagnostic, so the report never calls such an output exact and ``--strict`` fails.
"""

from __future__ import annotations

import ast

from ..model.diagnostics import Diagnostic
from ..model.ir import Module, Span
from ..util.syntax import annotations_of, undefined_names
from ..util.text import todo
from ..util.timing import phase
from .render import bindings, remember_tree


def provide_missing(
    code: str, span: Span | None, module: Module | None = None
) -> tuple[str, list[Diagnostic]]:
    """``code`` with what it reads and never binds: the source module's own import or definition
    of that name where it has one (with what that needs in turn), else a stub and a diagnostic."""
    with phase("provide missing (undefined names)"):
        return _provide_missing(code, span, module)


def _provide_missing(
    code: str, span: Span | None, module: Module | None
) -> tuple[str, list[Diagnostic]]:
    try:
        tree = ast.parse(code)
        missing = undefined_names(code, tree=tree)
    except (SyntaxError, ValueError):
        return code, []  # finish() reports code that does not compile
    if not missing:
        remember_tree(code, tree)  # finish() checks this same text next
        return code, []
    at = _after_imports(tree)
    imports, definitions = _providers(module)
    order = [*module.imports, *module.definitions] if module else []
    chosen: list[str] = []
    needed = set(missing)  # every name some inserted text had to bind
    while True:
        wanted = {
            text
            for name in missing
            for text in (imports.get(name), definitions.get(name))
            if text is not None and text not in chosen
        }
        if not wanted:
            break
        chosen = sorted({*chosen, *wanted}, key=order.index)  # the source's order
        missing = undefined_names(_insert(code, at, chosen, []))
        needed |= set(missing)
    chosen = [_only(text, needed) for text in chosen]
    annotation_only = _annotation_only(tree, set(missing))
    stubs, notes = [], []
    for name in missing:
        message = (
            f"'{name}' is used by the converted code but defined nowhere in it (not carried "
            "over from the source); define it or replace the code that uses it"
        )
        notes.append(Diagnostic("TP252", "warning", message, span, lossy=True))
        stubs += ["", "", todo("TP252", message)]
        stubs.append(f"class {name}:")  # a class: called, subclassed or named as a type
        if name not in annotation_only:
            stubs += [
                "    def __init__(self, *args, **kwargs):",
                f"        raise NotImplementedError({f'transpile did not carry over {name!r}'!r})",
            ]
        else:
            stubs.append("    pass")
    return _insert(code, at, chosen, stubs), notes


def _only(text: str, needed: set[str]) -> str:
    """An import statement of several names cut down to those ``needed`` (the rest would be
    unused imports, F401); any other text as it is."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    if len(tree.body) != 1 or not isinstance(tree.body[0], (ast.Import, ast.ImportFrom)):
        return text
    node = tree.body[0]
    kept = [a for a in node.names if (a.asname or a.name).split(".")[0] in needed]
    if not kept or len(kept) == len(node.names):
        return text
    node.names = kept
    return ast.unparse(node)


def _providers(module: Module | None) -> tuple[dict[str, str], dict[str, str]]:
    """Name → the source module's import statement / definition that binds it."""
    imports: dict[str, str] = {}
    definitions: dict[str, str] = {}
    for texts, into in (
        ((module.imports, imports), (module.definitions, definitions)) if module else ()
    ):
        for text in texts:
            try:
                tree = ast.parse(text)
            except SyntaxError:
                continue
            for node in tree.body:
                for name, _, _ in bindings(node):
                    into.setdefault(name, text)
    return imports, definitions


def _insert(code: str, at: int, texts: list[str], stubs: list[str]) -> str:
    """Imports among ``texts`` at line ``at`` (after the module's imports), then its
    definitions, then ``stubs``."""
    if not texts and not stubs:
        return code
    first = [t for t in texts if t.lstrip().startswith(("import ", "from "))]
    rest = [t for t in texts if t not in first]
    lines = code.splitlines()
    block = [line for text in first for line in text.splitlines()]
    for text in rest:
        block += ["", "", *text.splitlines()]
    lines[at:at] = [*block, *stubs]
    return "\n".join(lines) + "\n"


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
        for annotation in annotations_of(node):
            annotations.update(id(inner) for inner in ast.walk(annotation))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            (in_annotations if id(node) in annotations else elsewhere).add(node.id)
    return in_annotations - elsewhere
