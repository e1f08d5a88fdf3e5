"""Lint settings: ``[tool.transpile]`` of the nearest pyproject.toml, then the command line."""

from __future__ import annotations

import fnmatch
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import frameworks

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover  (Python 3.10 reads TOML with the tomli backport)
    import tomli as tomllib


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class LintConfig:
    """Which targets to check and which rules to run, overall and per path."""

    targets: tuple[str, ...] | None = None  # None: every framework other than the file's own
    select: tuple[str, ...] = ()  # codes or code prefixes; empty selects every rule
    ignore: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    root: str = "."

    def targets_for(self, own: frozenset[str]) -> frozenset[str]:
        chosen = frameworks.writable() if self.targets is None else self.targets
        return frozenset(chosen) - own

    def enabled(self, code: str, path: str) -> bool:
        if self.select and not any(code.startswith(s) for s in self.select):
            return False
        ignored = self.ignore + self._path_ignores(path)
        return not any(code.startswith(i) for i in ignored)

    def overridden(
        self, targets: tuple[str, ...] | None, select: tuple[str, ...], ignore: tuple[str, ...]
    ) -> LintConfig:
        """Command-line options win over the file: targets and select replace, ignore adds."""
        return replace(
            self,
            targets=self.targets if targets is None else checked_targets(targets),
            select=select or self.select,
            ignore=self.ignore + ignore,
        )

    def _path_ignores(self, path: str) -> tuple[str, ...]:
        try:
            relative = Path(path).resolve().relative_to(Path(self.root).resolve()).as_posix()
        except ValueError:
            relative = Path(path).as_posix()
        return tuple(
            code
            for pattern, codes in sorted(self.per_file_ignores.items())
            if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(Path(path).as_posix(), pattern)
            for code in codes
        )


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at ``start`` or above it."""
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load(start: Path | None = None) -> LintConfig:
    """The ``[tool.transpile]`` settings of the nearest pyproject.toml (defaults when none)."""
    pyproject = find_pyproject((start or Path.cwd()).resolve())
    if pyproject is None:
        return LintConfig()
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{pyproject}: cannot read [tool.transpile]: {exc}") from None
    table = data.get("tool", {}).get("transpile", {})
    return replace(from_table(table, str(pyproject)), root=str(pyproject.parent))


def from_table(table: dict, origin: str) -> LintConfig:
    """Settings from a ``[tool.transpile]`` table; ``origin`` names it in errors."""
    targets = table.get("targets")
    per_path = table.get("per-file-ignores", {})
    if not isinstance(per_path, dict):
        raise ConfigError(f"{origin}: [tool.transpile] per-file-ignores must be a table")
    return LintConfig(
        targets=None if targets is None else checked_targets(_strings(targets, "targets", origin)),
        select=_strings(table.get("select", []), "select", origin),
        ignore=_strings(table.get("ignore", []), "ignore", origin),
        per_file_ignores={
            p: _strings(c, f"per-file-ignores.{p}", origin) for p, c in per_path.items()
        },
    )


def _strings(value: object, key: str, origin: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{origin}: [tool.transpile] {key} must be a list of strings")
    return tuple(value)


def checked_targets(names: tuple[str, ...]) -> tuple[str, ...]:
    known = frameworks.writable()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown target {unknown[0]!r} (choose from {', '.join(known)})")
    return names
