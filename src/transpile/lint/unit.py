"""One parsed file as lint rules see it: the tree, how it spells the frameworks, its steps.

Rules work on Python's ``ast``: it carries the line and column of every node, so a finding points
at its spot without the position pass libcst needs, and parsing costs a fraction of libcst's.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from ..frameworks import by_import_root


@dataclass(frozen=True)
class Hit:
    """A spot a rule flags; ``target`` names the framework it concerns, when only one."""

    line: int
    column: int
    message: str
    target: str | None = None


@dataclass(frozen=True)
class StepFunction:
    """A unit of work: a Metaflow step method, a Flyte task or a KFP component."""

    name: str
    node: ast.FunctionDef | ast.AsyncFunctionDef
    framework: str


class LintUnit:
    """A parsed source file, shared by every rule."""

    def __init__(self, path: str, tree: ast.Module, targets: frozenset[str] = frozenset()):
        self.path = path
        self.tree = tree
        self.targets = targets

    @cached_property
    def imports(self) -> dict[str, str]:
        """Local name → full dotted name for each module-level import (``fl`` → ``flytekit``)."""
        names: dict[str, str] = {}
        for node in self.tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    names[local] = alias.name if alias.asname else local
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        return names

    @cached_property
    def frameworks(self) -> frozenset[str]:
        """The frameworks this file imports."""
        tops = {full.split(".")[0] for full in self.imports.values()}
        found = (by_import_root(t) for t in tops)
        return frozenset(name for name in found if name is not None)

    def qualified(self, node: ast.AST) -> str | None:
        """The full dotted name an expression refers to (``dsl.component`` → ``kfp.dsl.component``)."""
        if isinstance(node, ast.Call):
            node = node.func
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.imports:
            return None
        return ".".join([self.imports[node.id], *reversed(parts)])

    def refers_to(self, node: ast.AST, framework: str, *names: str) -> bool:
        """Whether ``node`` names one of ``names`` from ``framework``'s package."""
        full = self.qualified(node)
        if full is None:
            return False
        top, last = full.split(".")[0], full.split(".")[-1]
        return by_import_root(top) == framework and last in names

    def decorated(self, node: ast.AST, framework: str, *names: str) -> ast.expr | None:
        """The decorator of ``node`` naming one of ``names`` in ``framework``, if any."""
        for decorator in getattr(node, "decorator_list", ()):
            if self.refers_to(decorator, framework, *names):
                return decorator
        return None

    @cached_property
    def flow_classes(self) -> list[ast.ClassDef]:
        """The Metaflow FlowSpec subclasses defined at module level."""
        return [
            node
            for node in self.tree.body
            if isinstance(node, ast.ClassDef)
            and any(self.refers_to(base, "metaflow", "FlowSpec") for base in node.bases)
        ]

    @cached_property
    def steps(self) -> list[StepFunction]:
        """Metaflow steps, Flyte tasks and KFP components, in source order."""
        found = [
            StepFunction(item.name, item, "metaflow")
            for flow in self.flow_classes
            for item in flow.body
            if isinstance(item, FUNCTIONS) and self.decorated(item, "metaflow", "step")
        ]
        for node in self.tree.body:
            if self.decorated(node, "flyte", "task"):
                found.append(StepFunction(node.name, node, "flyte"))  # type: ignore[attr-defined]
            elif self.decorated(node, "kfp", "component"):
                found.append(StepFunction(node.name, node, "kfp"))  # type: ignore[attr-defined]
        return found

    def functions(self, framework: str, *decorators: str) -> Iterator[ast.FunctionDef]:
        """Module-level functions carrying one of ``decorators`` from ``framework``."""
        for node in self.tree.body:
            if isinstance(node, FUNCTIONS) and self.decorated(node, framework, *decorators):
                yield node  # type: ignore[misc]

    def hit(self, node: ast.AST, message: str, target: str | None = None) -> Hit:
        return Hit(getattr(node, "lineno", 1), getattr(node, "col_offset", 0), message, target)


FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def string_value(node: ast.AST | None) -> str | None:
    """The text of a string literal, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def self_attribute(node: ast.AST) -> str | None:
    """``x`` for ``self.x``, else None."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    ):
        return node.attr
    return None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)
