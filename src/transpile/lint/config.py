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


# The [tool.transpile] keys, spelt as ruff spells its own.
KEYS = (
    "targets",
    "select",
    "extend-select",
    "ignore",
    "per-file-ignores",
    "exclude",
    "extend-exclude",
    "respect-gitignore",
    "force-exclude",
)
# ruff's default ``exclude``: tool caches, virtual environments, build output, VCS directories
DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    ".vscode",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
)


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class LintConfig:
    """Which targets to check, which rules to run (overall and per path) and which files to read."""

    targets: tuple[str, ...] | None = None  # None: every framework other than the file's own
    select: tuple[str, ...] = ()  # codes or code prefixes; empty selects every rule
    extend_select: tuple[str, ...] = ()  # added to select (or to every rule when select is empty)
    ignore: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # gitignore-style patterns, relative to ``root``; ``exclude`` replaces ruff's default list
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False  # exclude a file even when it is named on the command line
    root: str = "."

    def targets_for(self, own: frozenset[str]) -> frozenset[str]:
        chosen = frameworks.writable() if self.targets is None else self.targets
        return frozenset(chosen) - own

    def enabled(self, code: str, path: str) -> bool:
        selected = not self.select or any(code.startswith(s) for s in self.select)
        if not selected and not any(code.startswith(s) for s in self.extend_select):
            return False
        ignored = self.ignore + self._path_ignores(path)
        return not any(code.startswith(i) for i in ignored)

    def overridden(
        self,
        targets: tuple[str, ...] | None,
        select: tuple[str, ...],
        ignore: tuple[str, ...],
        *,
        extend_select: tuple[str, ...] = (),
        exclude: tuple[str, ...] = (),
        extend_exclude: tuple[str, ...] = (),
        force_exclude: bool = False,
    ) -> LintConfig:
        """Command-line options win over the file, as in ruff: ``targets``, ``select`` and
        ``exclude`` replace; ``ignore``, ``extend_select`` and ``extend_exclude`` add; a
        ``force_exclude`` of True turns it on. An empty value leaves the file's setting."""
        return replace(
            self,
            targets=self.targets if targets is None else checked_targets(targets),
            select=select or self.select,
            extend_select=self.extend_select + extend_select,
            ignore=self.ignore + ignore,
            exclude=exclude or self.exclude,
            extend_exclude=self.extend_exclude + extend_exclude,
            force_exclude=self.force_exclude or force_exclude,
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
    """Settings from a ``[tool.transpile]`` table; ``origin`` names it in errors. A key this
    version does not know is an error, as a misspelt one would otherwise change nothing."""
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"{origin}: [tool.transpile] unknown key {unknown[0]!r} (known: {', '.join(KEYS)})"
        )
    targets = table.get("targets")
    per_path = table.get("per-file-ignores", {})
    if not isinstance(per_path, dict):
        raise ConfigError(f"{origin}: [tool.transpile] per-file-ignores must be a table")
    exclude = table.get("exclude")
    return LintConfig(
        targets=None if targets is None else checked_targets(_strings(targets, "targets", origin)),
        select=_strings(table.get("select", []), "select", origin),
        extend_select=_strings(table.get("extend-select", []), "extend-select", origin),
        ignore=_strings(table.get("ignore", []), "ignore", origin),
        per_file_ignores={
            p: _strings(c, f"per-file-ignores.{p}", origin) for p, c in per_path.items()
        },
        exclude=DEFAULT_EXCLUDE if exclude is None else _strings(exclude, "exclude", origin),
        extend_exclude=_strings(table.get("extend-exclude", []), "extend-exclude", origin),
        respect_gitignore=_flag(table.get("respect-gitignore", True), "respect-gitignore", origin),
        force_exclude=_flag(table.get("force-exclude", False), "force-exclude", origin),
    )


def code_settings(config: LintConfig) -> list[tuple[str, tuple[str, ...]]]:
    """The rule codes ``config`` was given in its ``[tool.transpile]`` table, by key, each named
    with its file (for an error that says where a misspelt code is)."""
    if config.root == ".":
        return []
    where = f"{Path(config.root) / 'pyproject.toml'}: [tool.transpile]"
    groups = [
        (f"{where} select", config.select),
        (f"{where} extend-select", config.extend_select),
        (f"{where} ignore", config.ignore),
    ]
    groups += [(f"{where} per-file-ignores.{p}", c) for p, c in config.per_file_ignores.items()]
    return groups


def _flag(value: object, key: str, origin: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{origin}: [tool.transpile] {key} must be true or false")
    return value


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
        name, choices = unknown[0], ", ".join(known)
        if name in frameworks.names():  # read, not written (yet): no target to lint for
            raise ConfigError(f"target {name!r} has no writer yet (choose from {choices})")
        raise ConfigError(f"unknown target {name!r} (choose from {choices})")
    return names
