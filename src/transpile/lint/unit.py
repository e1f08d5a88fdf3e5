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
from ..model.diagnostics import Diagnostic, in_file


@dataclass(frozen=True)
class Hit:
    """A spot a rule flags; ``target`` names the framework it concerns, when only one."""

    line: int
    column: int
    message: str
    target: str | None = None


@dataclass(frozen=True)
class Conversion:
    """How ``convert`` fares for one target: ``refused`` (exit 2) with the reasons, or written
    with these lossy diagnostics; each problem is (line, 0-based column, code, message)."""

    refused: bool
    problems: tuple[tuple[int, int, str, str], ...]


def _problem(diagnostic: Diagnostic, path: str) -> tuple[int, int, str, str]:
    """Where in ``path`` and what; a spot in another file the reader followed is named in the
    message and the finding placed at the file's first line (see ``in_file``)."""
    line, column, message = in_file(diagnostic, path)
    return (line or 1, (column or 1) - 1, diagnostic.code, message)


@dataclass(frozen=True)
class StepFunction:
    """A unit of work: a Metaflow step method, a Flyte task or a KFP component."""

    name: str
    node: ast.FunctionDef | ast.AsyncFunctionDef
    framework: str


class LintUnit:
    """A parsed source file, shared by every rule."""

    def __init__(
        self, path: str, tree: ast.Module, targets: frozenset[str] = frozenset(), text: str = ""
    ):
        self.path = path
        self.tree = tree
        self.targets = targets
        self.text = text

    @cached_property
    def conversions(self) -> dict[str, Conversion]:
        """What ``transpile convert --to T`` says for each target ``T`` in play, worked out once
        for the rules that report it (and only when one of them runs: it reads the file with
        libcst, as convert does): target → the refusal's diagnostics, or the lossy ones."""
        from ..api import Converted, Failed, check_text

        found: dict[str, Conversion] = {}
        try:
            results = check_text(self.text, self.path, self.targets)
        except Exception as exc:  # noqa: BLE001  (convert would stop with an internal error)
            failure = Conversion(
                refused=True, problems=((1, 0, "TP900", f"internal error: {exc!r}"),)
            )
            return dict.fromkeys(sorted(self.targets), failure)
        for target, result in results.items():
            if isinstance(result, Failed):
                errors = [d for d in result.diagnostics if d.severity == "error"]
                found[target] = Conversion(True, tuple(_problem(d, self.path) for d in errors))
            elif isinstance(result, Converted):
                lossy = [d for d in result.diagnostics if d.lossy]
                found[target] = Conversion(False, tuple(_problem(d, self.path) for d in lossy))
        return found

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


def conversion_hits(unit: LintUnit, message: str, refused: bool) -> Iterator[Hit]:
    """One hit per problem convert reports (refusals, or lossy spots of files it writes), the
    targets that share it named together: ``message`` has ``{targets}``, ``{code}``,
    ``{message}``."""
    shared: dict[tuple[int, int, str, str], list[str]] = {}
    for target, conversion in sorted(unit.conversions.items()):
        if conversion.refused == refused:
            for problem in conversion.problems:
                shared.setdefault(problem, []).append(target)
    for (line, column, code, text), targets in sorted(shared.items()):
        yield Hit(line, column, message.format(targets=", ".join(targets), code=code, message=text))
