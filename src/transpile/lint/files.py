"""Which files lint reads, as ruff chooses them: ``exclude`` / ``extend-exclude`` patterns and
the ``.gitignore`` files of the tree.

Patterns are gitignore-style and relative to the settings' root (the directory of the
pyproject.toml they came from): ``build`` matches a directory of that name anywhere,
``flows/legacy/*.py`` only under the root. A directory walk never descends into an excluded
directory. A file named on the command line is read even when excluded, unless
``force-exclude`` is on (the pre-commit hook turns it on, as pre-commit names each file).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pathspec import GitIgnoreSpec

from ..util.fileio import Source, Unvisited, discover
from .config import LintConfig


class Exclusion:
    """Answers "is this path excluded?" for one configuration."""

    def __init__(self, config: LintConfig) -> None:
        self.root = Path(config.root).resolve()
        self.spec = GitIgnoreSpec.from_lines([*config.exclude, *config.extend_exclude])
        self.gitignore = config.respect_gitignore

    def excluded(self, path: str, is_dir: bool) -> bool:
        """``path`` itself matches (its directories are the walk's business)."""
        absolute = Path(os.path.abspath(path))
        if self._matches(self.spec, self.root, absolute, is_dir):
            return True
        return self.gitignore and _gitignored(absolute, is_dir)

    def excluded_with_parents(self, path: str) -> bool:
        """``path`` or a directory it is in is excluded (for a file named on the command line)."""
        absolute = Path(os.path.abspath(path))
        if self.excluded(str(absolute), is_dir=False):
            return True
        return any(self.excluded(str(parent), is_dir=True) for parent in _parents_below(absolute))

    @staticmethod
    def _matches(spec: GitIgnoreSpec, base: Path, path: Path, is_dir: bool) -> bool:
        try:
            relative = path.relative_to(base).as_posix()
        except ValueError:
            relative = path.name  # outside the root: a bare name still matches by name
        if relative in ("", "."):
            return False
        return spec.match_file(relative + "/" if is_dir else relative)


def lint_sources(paths: list[str], config: LintConfig) -> tuple[list[Source], list[Unvisited]]:
    """The ``.py`` files to lint under ``paths``, without the excluded ones."""
    exclusion = Exclusion(config)
    named = [
        p
        for p in paths
        if os.path.isdir(p) or not (config.force_exclude and exclusion.excluded_with_parents(p))
    ]
    return discover(named, skip=exclusion.excluded)


def _parents_below(path: Path) -> list[Path]:
    """The directories of ``path`` inside its repository (or all of them outside one)."""
    repository = _repository(path.parent)
    parents = []
    for parent in path.parents:
        if repository is not None and parent == repository:
            break
        parents.append(parent)
    return parents


def _gitignored(path: Path, is_dir: bool) -> bool:
    """What git decides: the deepest ``.gitignore`` with a matching pattern (or negation) wins,
    then ``.git/info/exclude``; nothing outside a repository is ignored."""
    repository = _repository(path.parent)
    if repository is None or path == repository:
        return False
    directory = path.parent
    while True:
        spec = _ignore_file(directory / ".gitignore")
        decided = _decision(spec, directory, path, is_dir)
        if decided is not None:
            return decided
        if directory == repository:
            break
        directory = directory.parent
    decided = _decision(
        _ignore_file(repository / ".git" / "info" / "exclude"), repository, path, is_dir
    )
    return bool(decided)


def _decision(spec: GitIgnoreSpec | None, base: Path, path: Path, is_dir: bool) -> bool | None:
    if spec is None:
        return None
    relative = path.relative_to(base).as_posix()
    return spec.check_file(relative + "/" if is_dir else relative).include


@lru_cache(maxsize=1024)
def _repository(directory: Path) -> Path | None:
    """The work tree holding ``directory``: the nearest directory with a ``.git`` in it."""
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


@lru_cache(maxsize=1024)
def _ignore_file(path: Path) -> GitIgnoreSpec | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return GitIgnoreSpec.from_lines(text.splitlines())
