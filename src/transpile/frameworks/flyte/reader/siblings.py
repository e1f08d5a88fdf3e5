"""Tasks and workflows imported from other modules of the same source tree, read statically.

``from .workflow import slope`` (or ``from my_pkg.tasks import clean`` where ``my_pkg`` sits
beside the file or above it) names a file this reader can parse like the entry file: never
imported, never run. What the import names comes into the entry module's tables (tasks and
workflows, classes, constants, helper functions), together with the imports and definitions of the
sibling module its code may use; an import that names nothing found stays an import.
"""

from __future__ import annotations

import libcst as cst

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Span
from transpile.reading.cst import code
from transpile.reading.siblings import MAX_DEPTH, module_file, parsed_sibling


def merge_sibling(scan, node: cst.ImportFrom, span: Span) -> set[str]:
    """Bring what ``node`` imports from a sibling module into ``scan``; the local names it
    brought (the import keeps the others)."""
    if isinstance(node.names, cst.ImportStar) or scan.depth >= MAX_DEPTH:
        return set()
    path = module_file(scan.path, node)
    if path is None or str(path) in scan.visited:
        return set()
    sibling_module = parsed_sibling(path, span, scan.diagnostics)
    if sibling_module is None:
        return set()
    sibling = type(scan)(sibling_module, str(path))
    sibling.depth, sibling.visited = scan.depth + 1, scan.visited | {str(path)}
    sibling.scan_module(entry=False)
    scan.diagnostics.extend(sibling.diagnostics)
    brought: set[str] = set()
    for alias in node.names:
        imported = code(alias.name)
        local = code(alias.asname.name) if alias.asname else imported
        if _bring(scan, sibling, imported, local):
            brought.add(local)
            scan.brought.add(local)
    if brought:
        message = f"{', '.join(sorted(brought))} read from {path.name} (a module of the same tree)"
        scan.diagnostics.append(Diagnostic("TP201", "info", message, span))
        _carry_context(scan, sibling)
    return brought


def _bring(scan, sibling, imported: str, local: str) -> bool:
    if imported in sibling.functions:
        fn = sibling.functions[imported]
        if local != imported:
            return False  # a renamed task would need its body renamed too: stays an import
        scan.functions[local] = fn
        return True
    texts = [text for name, text in sibling.definitions if name == imported]
    if not texts or local != imported:
        return False
    scan.definitions.extend((imported, text) for text in texts)
    for table in ("constants", "classes", "namedtuples", "flyte_objects"):
        if imported in getattr(sibling, table):
            getattr(scan, table)[imported] = getattr(sibling, table)[imported]
    return True


def _carry_context(scan, sibling) -> None:
    """The sibling's own imports and definitions, for the code it brought (the writer keeps only
    what is used); a name the entry module binds itself stays the entry module's."""
    own = {name for name, _ in scan.definitions if name} | set(scan.functions)
    own |= set().union(set(), *(bound for bound, _ in scan.imports))
    for bound, text in sibling.imports:
        if not bound & own:
            scan.imports.append((bound, text))
    for name, text in sibling.definitions:
        if name is not None and name not in own:
            scan.definitions.append((name, text))
            for table in ("constants", "classes", "namedtuples"):
                if name in getattr(sibling, table):
                    getattr(scan, table).setdefault(name, getattr(sibling, table)[name])
    for name, fn in sibling.functions.items():  # what a brought workflow calls
        if name not in scan.functions:
            scan.functions[name] = fn
            scan.borrowed.add(name)
    scan.names.names.update({k: v for k, v in sibling.names.names.items() if k not in own})
    scan.names.modules |= sibling.names.modules
    scan.plugin_names |= sibling.plugin_names
    for name, kind in sibling.flyte_objects.items():
        scan.flyte_objects.setdefault(name, kind)
