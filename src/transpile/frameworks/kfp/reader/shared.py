"""Classes that several components each define for themselves → one module-level definition.

KFP ships every component as text, so a class that several components use (a dataclass passed
between them) is defined again inside each body; our KFP writer does the same. In the model,
bodies share the module, so an identical class defined in two or more bodies moves there once:
values built in one step are then instances of the same class in the next.
"""

from __future__ import annotations

from collections import Counter

import libcst as cst

from transpile.reading.cst import code

from .component import Component


def hoist_shared_classes(components: list[Component]) -> tuple[list[str], list[str]]:
    """Move classes defined identically in several bodies to the module; (imports, classes)."""
    texts = Counter(text for c in components for text in set(_classes(c)))
    shared = sorted((t for t, n in texts.items() if n > 1), key=lambda t: _first_use(t, components))
    imports: list[str] = []
    for comp in components:
        mine = [t for t in _classes(comp) if t in shared]
        for text in mine:
            comp.body = comp.body.replace(text + "\n", "", 1)
        imports += [i for i in _imports(comp) if mine and _used(i, mine) and i not in imports]
    return imports, shared


def _classes(comp: Component) -> list[str]:
    return [code(s).strip() for s in comp.statements if isinstance(s, cst.ClassDef)]


def _imports(comp: Component) -> list[str]:
    return [
        code(s).strip()
        for s in comp.statements
        if isinstance(s, cst.SimpleStatementLine)
        and isinstance(s.body[0], (cst.Import, cst.ImportFrom))
    ]


def _used(import_line: str, classes: list[str]) -> bool:
    names = import_line.replace(",", " ").split()
    imported = names[names.index("import") + 1 :]
    return any(name in text for name in imported if name != "as" for text in classes)


def _first_use(text: str, components: list[Component]) -> int:
    return next(i for i, c in enumerate(components) if text in _classes(c))
