"""Runs every rule over each file once: parse, pick the rules that apply, filter, collect."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

from ..util.fileio import MAX_SOURCE_BYTES, SourceError, read_source, source_text
from ..util.syntax import quiet_tree
from ..util.text import GENERATED_MARKER
from . import rules as rules_package
from .config import ConfigError, LintConfig
from .unit import Hit, LintUnit

IGNORE_COMMENT = re.compile(r"#\s*transpile:\s*ignore(?:\[([^\]]*)\])?")
# flake8's and ruff's spelling: a bare noqa comment silences every rule, one with codes those codes
NOQA_COMMENT = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)


@dataclass(frozen=True)
class Finding:
    """One portability problem at one spot."""

    path: str
    line: int
    column: int  # 1-based, as editors and ruff count
    code: str
    name: str
    message: str


@dataclass(frozen=True)
class FileError:
    """A file that could not be linted (unreadable, not Python, syntax error)."""

    path: str
    line: int
    column: int
    code: str
    message: str


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Finding, ...]
    errors: tuple[FileError, ...]
    files: int

    @property
    def exit_code(self) -> int:
        return 2 if self.errors else 1 if self.findings else 0


@lru_cache(maxsize=1)
def all_rules() -> tuple[ModuleType, ...]:
    """Every rule module of ``lint/rules``, found by walking the package, ordered by code."""
    modules = [
        importlib.import_module(f"{rules_package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(rules_package.__path__)
        if not info.name.startswith("_")
    ]
    return tuple(sorted(modules, key=lambda m: m.CODE))


def rule_targets(rule: ModuleType) -> frozenset[str]:
    return getattr(rule, "TARGETS", frozenset())


def lint_text(text: str, path: str, config: LintConfig) -> list[Finding] | FileError:
    """The findings of one source text, or why it cannot be linted."""
    if _generated(text):
        return []
    tree = _parse(text, path)
    if isinstance(tree, FileError):
        return tree
    lines = text.splitlines()
    problem = _unknown_suppressed_code(lines, path) if "TP" in text else None
    if problem is not None:
        return problem
    unit = LintUnit(path, tree, text=text)
    if not unit.frameworks:
        return []  # imports no pipeline framework: nothing to port
    unit.targets = config.targets_for(unit.frameworks)
    chosen = [r for r in all_rules() if config.enabled(r.CODE, path) and _applies(r, unit)]
    found: list[Finding] = []
    flagged: set[int] = set()  # lines another rule flags, suppressed there or not
    for rule in chosen:
        if rule.CODE not in CONVERT_RULES:
            found.extend(_findings(rule, unit, lines, flagged))
    for rule in chosen:
        if rule.CODE in CONVERT_RULES:
            # convert's own word on a line another rule flags (or was told to be quiet
            # about) would say the same thing twice
            found.extend(f for f in _findings(rule, unit, lines) if f.line not in flagged)
    return found


# the rules that report what convert itself says (convert-refuses, convert-loses)
CONVERT_RULES = frozenset({"TP515", "TP516"})


def _generated(text: str) -> bool:
    """Written by transpile: the marker opens the file (after a shebang or coding line at most)."""
    return any(line.startswith(GENERATED_MARKER) for line in text.splitlines()[:3])


def _parse(text: str, path: str) -> ast.Module | FileError:
    try:
        return quiet_tree(text, path)
    except SyntaxError as exc:
        return FileError(
            path, exc.lineno or 1, exc.offset or 1, "TP003", f"syntax error: {exc.msg}"
        )
    except (ValueError, RecursionError, MemoryError) as exc:
        return FileError(path, 1, 1, "TP003", f"cannot parse: {exc}")


def _applies(rule: ModuleType, unit: LintUnit) -> bool:
    """A rule runs on files of its frameworks, and only when a framework it concerns is in play."""
    concerns = rule_targets(rule)
    in_play = unit.targets | unit.frameworks
    return bool(rule.FRAMEWORKS & unit.frameworks) and (not concerns or bool(concerns & in_play))


def _findings(
    rule: ModuleType, unit: LintUnit, lines: list[str], flagged: set[int] | None = None
) -> list[Finding]:
    """The rule's findings not suppressed; ``flagged`` collects the lines of all its hits."""
    in_play = unit.targets | unit.frameworks
    hits = [h for h in rule.check(unit) if h.target is None or h.target in in_play]
    if flagged is not None:
        flagged.update(h.line for h in hits)
    found = {
        Finding(unit.path, hit.line, hit.column + 1, rule.CODE, rule.NAME, hit.message)
        for hit in hits
        if not _ignored(hit, rule.CODE, lines)
    }
    return sorted(found, key=lambda f: (f.line, f.column, f.message))


def _ignored(hit: Hit, code: str, lines: list[str]) -> bool:
    """``# transpile: ignore``, ``# transpile: ignore[CODE, ...]``, ``# noqa`` or
    ``# noqa: CODE, ...`` on the finding's line."""
    line = lines[hit.line - 1] if 0 < hit.line <= len(lines) else ""
    return any(c.codes is None or code in c.codes for c in _suppressions(line))


@dataclass(frozen=True)
class Suppression:
    """One suppression comment: where it starts, the codes it names (None: every rule), and
    whether it is transpile's own (a noqa comment also serves other linters)."""

    column: int
    codes: frozenset[str] | None
    ours: bool


def _suppressions(line: str) -> list[Suppression]:
    """The suppression comments on one line, in the order they are written."""
    found = []
    ours = IGNORE_COMMENT.search(line)
    if ours is not None:
        found.append(Suppression(ours.start(), _code_set(ours.group(1)), ours=True))
    noqa = NOQA_COMMENT.search(line)
    if noqa is not None:
        found.append(Suppression(noqa.start(), _code_set(noqa.group("codes")), ours=False))
    return sorted(found, key=lambda c: c.column)


def _code_set(text: str | None) -> frozenset[str] | None:
    return None if text is None else frozenset(c for c in re.split(r"[,\s]+", text) if c)


def _unknown_suppressed_code(lines: list[str], path: str) -> FileError | None:
    """A code in a suppression comment that names no rule: a typo would silence nothing. Only
    the ``TP`` codes of a noqa comment are transpile's to check."""
    known = {rule.CODE for rule in all_rules()}
    for number, line in enumerate(lines, start=1):
        for comment in _suppressions(line) if "#" in line else ():
            unknown = [
                code
                for code in sorted(comment.codes or ())
                if code not in known and (comment.ours or code.upper().startswith("TP"))
            ]
            if unknown:
                message = f"unknown rule code {unknown[0]!r} in a suppression comment"
                hint = "(transpile rules lists them)"
                return FileError(path, number, comment.column + 1, "TP008", f"{message} {hint}")
    return None


def load_text(path: str) -> str | FileError:
    """The file's text, or why (and where) it cannot be read as Python source."""
    try:
        return read_source(path, MAX_SOURCE_BYTES)
    except SourceError as exc:
        return FileError(path, exc.line or 1, exc.column + 1, exc.code, exc.message)


# Below this many files a process pool costs more than it saves (a pre-commit hook's usual batch).
POOL_MINIMUM = 32


def lint_paths(paths: list[str], config: LintConfig, jobs: int = 1) -> LintReport:
    """Lint the ``.py`` files under ``paths`` (files or directories), over ``jobs`` processes."""
    from functools import partial

    from ..util.parallel import ordered_map
    from .files import lint_sources

    sources, _unvisited = lint_sources(paths, config)
    findings: list[Finding] = []
    errors: list[FileError] = []
    if jobs > 1 and len(sources) >= POOL_MINIMUM:
        all_rules()  # imported once here, shared by the forked workers
    work = partial(lint_file, config=config)
    for result in ordered_map(work, [s.path for s in sources], jobs, POOL_MINIMUM):
        if isinstance(result, FileError):
            errors.append(result)
        else:
            findings.extend(result)
    return LintReport(tuple(findings), tuple(errors), len(sources))


def lint_stdin(data: bytes, path: str, config: LintConfig) -> LintReport:
    """Lint source read from standard input; ``path`` (``--stdin-filename``, or ``-``) names it
    in the findings and for per-file settings, and with ``force-exclude`` may exclude it."""
    from .files import Exclusion

    if path != "-" and config.force_exclude and Exclusion(config).excluded_with_parents(path):
        return LintReport((), (), 0)
    try:
        text = source_text(data, MAX_SOURCE_BYTES)
    except SourceError as exc:
        error = FileError(path, exc.line or 1, exc.column + 1, exc.code, exc.message)
        return LintReport((), (error,), 1)
    result = lint_text(text, path, config)
    if isinstance(result, FileError):
        return LintReport((), (result,), 1)
    return LintReport(tuple(result), (), 1)


def lint_file(path: str, config: LintConfig) -> list[Finding] | FileError:
    """The findings of one file, or why it cannot be linted."""
    text = load_text(path)
    return text if isinstance(text, FileError) else lint_text(text, path, config)


def check_codes(groups: list[tuple[str, tuple[str, ...]]]) -> None:
    """Raise ConfigError for a selected or ignored code that names no rule (a typo selects
    nothing). ``groups``: where the codes were given (``--select``, ``pyproject.toml:
    [tool.transpile] ignore``) and the codes; the message names that place."""
    for where, codes in groups:
        for code in codes:
            if not any(rule.CODE.startswith(code) for rule in all_rules()):
                raise ConfigError(
                    f"{where}: unknown rule code {code!r} (transpile rules lists them)"
                )
