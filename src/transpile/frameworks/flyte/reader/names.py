"""How a module spells flytekit's names (``import flytekit as fl``, ``from flytekit import task as t``)."""

from __future__ import annotations

import re

import libcst as cst

from transpile.model.diagnostics import error
from transpile.model.ir import Span
from transpile.reading.cst import ImportedNames, dotted

FUNCTOOLS_PARTIAL = "functools.partial"
SDK_ROOTS = ("flytekit", "union")  # union (the Union.ai SDK) re-exports flytekit's names


def camel_case(name: str) -> str:
    """``foreach_sum_flow`` → ``ForeachSumFlow`` (the model names pipelines Metaflow-style)."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or name


class FlyteNames(ImportedNames):
    """Local names bound to flytekit objects and to ``functools.partial``."""

    def __init__(self) -> None:
        super().__init__()
        self.functools: set[str] = set()

    def add_import(self, node: cst.Import | cst.ImportFrom, span: Span) -> bool:
        """Record a flytekit import; True when the statement imports flytekit (and is dropped)."""
        if isinstance(node, cst.Import):
            hit = False
            for alias in node.names:
                name = dotted(alias.name) or ""
                local = alias.asname.name.value if alias.asname else name  # type: ignore[union-attr]
                if name.split(".")[0] in SDK_ROOTS:
                    self.modules.add(local)
                    hit = True
                elif name == "functools":
                    self.functools.add(local)
            return hit
        module = dotted(node.module) if node.module else ""
        top = (module or "").split(".")[0]
        if top not in (*SDK_ROOTS, "functools"):
            return False
        if isinstance(node.names, cst.ImportStar):
            raise error("TP150", f"`from {module} import *` hides which names are whose", span)
        for alias in node.names:
            local = alias.asname.name.value if alias.asname else alias.name.value  # type: ignore[union-attr]
            imported = alias.name.value  # type: ignore[union-attr]
            if top in SDK_ROOTS:
                self.names[local] = imported
            elif imported == "partial":
                self.names[local] = FUNCTOOLS_PARTIAL
        return top in SDK_ROOTS

    def other(self, name: str) -> str | None:
        head, _, rest = name.partition(".")
        return FUNCTOOLS_PARTIAL if head in self.functools and rest == "partial" else None


def words(text: str) -> set[str]:
    """Identifiers that occur in ``text`` (a cheap over-approximation of the names it uses)."""
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
