"""Entry points that never raise: each returns one of a few frozen result types."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from . import frameworks
from .model.diagnostics import Diagnostic, OtherEntries, TranspileError
from .model.ir import Pipeline, Sequence, Span
from .reading.cst import SpanIndex, dotted
from .reading.values import module_constants, resolve_options
from .util.fileio import MAX_SOURCE_BYTES, SourceError, read_source
from .util.syntax import compile_check, nfkc_identifiers, quiet_tree
from .util.timing import phase
from .writing.rename import write_renaming
from .writing.types import nested_dates
from .writing.unshim import plain_joins


@dataclass(frozen=True)
class Read:
    path: str
    pipeline: Pipeline
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class Converted:
    path: str
    code: str
    pipeline: Pipeline
    diagnostics: tuple[Diagnostic, ...]
    # the file's other pipelines (``every_entry``), each a module of its own: (name, result);
    # their diagnostics are among ``diagnostics`` already
    others: tuple[tuple[str, Converted], ...] = ()

    @property
    def lossy(self) -> bool:
        return any(d.lossy for d in self.diagnostics)


@dataclass(frozen=True)
class Failed:
    path: str
    diagnostics: tuple[Diagnostic, ...]

    @property
    def reason(self) -> str:
        errors = [d for d in self.diagnostics if d.severity == "error"] or list(self.diagnostics)
        return errors[0].render(self.path) if errors else "failed"


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def _fail(path: str, code: str, message: str, span: Span | None = None) -> Failed:
    return Failed(path, (Diagnostic(code, "error", message, span),))


def load_text(path: str) -> str | Failed:
    """The file's text, or a Failed naming why (and where) it cannot be read as Python source."""
    try:
        return read_source(path, MAX_SOURCE_BYTES)
    except SourceError as exc:
        span = None if exc.line is None else Span(path, exc.line, exc.column, exc.line, exc.column)
        return _fail(path, exc.code, exc.message, span)


def parse(text: str, path: str) -> cst.Module | Failed:
    parsed = _parse(text, path)
    return parsed if isinstance(parsed, Failed) else parsed[1]


def _parse(text: str, path: str) -> tuple[ast.Module, cst.Module] | Failed:
    """``text`` as Python's ``ast`` tree (positions for diagnostics) and as libcst's tree."""
    with phase("parse"):
        return _parse_both(text, path)


def _parse_both(text: str, path: str) -> tuple[ast.Module, cst.Module] | Failed:
    try:
        tree = quiet_tree(text, path)  # Python's own parser names the right line and column
        # what only the compiler refuses: a parameter named twice, a `return` outside a function
        compile_check(tree, path)  # (the tree compiled: no second parse of the text)
    except SyntaxError as exc:
        line, column = exc.lineno or 1, max((exc.offset or 1) - 1, 0)
        return _fail(
            path, "TP003", f"syntax error: {exc.msg}", Span(path, line, column, line, column)
        )
    except (ValueError, RecursionError, MemoryError) as exc:
        return _fail(path, "TP003", f"cannot parse: {exc}")
    try:
        return tree, cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        span = Span(path, exc.raw_line, exc.raw_column, exc.raw_line, exc.raw_column)
        message = exc.message.splitlines()[0] if exc.message else "invalid syntax"
        return _fail(path, "TP003", f"syntax error: {message}", span)
    except (RecursionError, MemoryError):
        return _fail(path, "TP003", "source too deeply nested to parse")


def detect_framework(module: cst.Module) -> str | None:
    """The framework a module imports, judged from its import statements only."""
    found = []
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            names: list[str] = []
            if isinstance(small, cst.Import):
                names = [dotted(a.name) or "" for a in small.names]
            elif isinstance(small, cst.ImportFrom) and small.module is not None:
                names = [dotted(small.module) or ""]
            for name in names:
                top = frameworks.by_import_root(name.split(".")[0])
                if top and top not in found:
                    found.append(top)
    return found[0] if len(found) == 1 else None


def read_text(
    text: str, path: str, source: str = "auto", entry: str | None = None
) -> Read | Failed | Skipped:
    """Read pipeline source into the model; ``entry`` names the pipeline of a file with several."""
    text = nfkc_identifiers(text)  # names as Python reads them
    parsed = _parse(text, path)
    if isinstance(parsed, Failed):
        return parsed
    tree, module = parsed
    framework = detect_framework(module) if source == "auto" else source
    if framework is None:
        roots = ", ".join(frameworks.import_roots())
        return Skipped(path, f"no pipeline found (imports none of {roots})")
    if framework not in frameworks.readable():
        return _fail(path, "TP004", f"reading {framework} source is not supported yet")
    reader = frameworks.reader(framework)
    try:
        spans = SpanIndex(path, text, tree)
        with phase("read"):
            pipeline, diagnostics = (
                reader.read(module, path, spans, entry=entry)
                if entry is not None
                else reader.read(module, path, spans)
            )
    except TranspileError as exc:
        if exc.diagnostic.code == "TP005":
            return Skipped(path, exc.diagnostic.message)
        return Failed(path, (exc.diagnostic,))
    except RecursionError:
        return _fail(path, "TP003", "source too deeply nested to analyse")
    pipeline = resolve_options(pipeline, module_constants(module))
    return Read(path, pipeline, tuple(diagnostics))


def read_file(path: str, source: str = "auto", entry: str | None = None) -> Read | Failed | Skipped:
    text = load_text(path)
    return text if isinstance(text, Failed) else read_text(text, path, source, entry)


def write(target: str, pipeline: Pipeline) -> tuple[str, list[Diagnostic]]:
    """``target``'s module for ``pipeline`` and its diagnostics; a name of the user's that the
    output needs for its own code is renamed (TP253). Raises TranspileError."""
    declared = frameworks.get(target)
    if declared is not None and not declared.join_inputs:
        pipeline = plain_joins(pipeline)
    code, diagnostics = write_renaming(frameworks.writer(target).write, pipeline, target)
    if target != "flyte":  # Flyte alone has date and time parameters inside containers
        diagnostics += [
            Diagnostic(
                "TP202",
                "warning",
                f"parameter '{p.name}' ({p.type.expr}) travels as JSON: its dates and times "
                f"reach the steps as ISO 8601 text, not as dates (convert them where they are "
                f"read: datetime.fromisoformat)",
                p.span,
                lossy=True,
            )
            for p in pipeline.parameters
            if nested_dates(p.type.expr)
        ]
        diagnostics += _naive_datetimes(pipeline)
    return code, diagnostics


def _naive_datetimes(pipeline: Pipeline) -> list[Diagnostic]:
    """From Flyte, a ``datetime`` one task returns reaches the next UTC-aware (flytekit reads a
    naive one as UTC); the targets hand it over as it was made. Named where it is made."""
    if pipeline.framework != "flyte":
        return []
    read = {(r.source, r.name) for s in pipeline.steps for i in s.inputs for r in i.refs}
    return [
        Diagnostic(
            "TP202",
            "warning",
            f"{step.name}'s result {output.name} is a datetime: Flyte hands the next task a "
            "naive one as UTC-aware, this conversion as it was made (make it aware where it is "
            "made to keep both the same)",
            step.span,
            lossy=True,
        )
        for step in pipeline.steps
        for output in step.outputs
        if output.type.expr in ("datetime", "datetime.datetime")
        and (step.name, output.name) in read
    ]


def convert_text(
    text: str,
    path: str,
    target: str,
    source: str = "auto",
    entry: str | None = None,
    every_entry: bool = False,
) -> Converted | Failed | Skipped:
    """Convert one source text to ``target``; never raises. With ``every_entry`` (and no
    ``entry``), a file of several pipelines converts each: the one a reader picks by default,
    with the others in ``Converted.others``."""
    read = read_text(text, path, source, entry)
    if (
        frameworks.upgrader(target) is not None
        and _framework_of(read, text, path, source) == target
    ):
        return upgraded(read, text, path, target)
    if not isinstance(read, Read):
        return read
    if read.pipeline.framework == target:
        return _fail(path, "TP006", f"source is already {target}")
    if target not in frameworks.targets():
        return _fail(path, "TP004", f"writing {target} is not supported yet")
    with phase("write"):
        result = written(read, target)
    if every_entry and entry is None and isinstance(result, Converted):
        return _with_other_entries(result, read, text, target)
    return result


def _with_other_entries(main: Converted, read: Read, text: str, target: str) -> Converted:
    """``main`` with the file's other pipelines converted too (each read again as its entry).
    One that does not convert stays a lossy note at its spot, the reason given."""
    note = next((d for d in read.diagnostics if isinstance(d, OtherEntries)), None)
    if note is None:
        return main
    others: list[tuple[str, Converted]] = []
    diagnostics = [d for d in main.diagnostics if d is not note]
    for name in note.names:
        result = convert_text(text, read.path, target, read.pipeline.framework, name)
        if isinstance(result, Converted):
            others.append((name, result))
            diagnostics += result.diagnostics
            continue
        where, reason = (
            (note.span, result.reason) if isinstance(result, Skipped) else _failure(result, note)
        )
        diagnostics.append(
            Diagnostic("TP202", "warning", f"pipeline {name} is not converted: {reason}",
                       where, lossy=True)
        )  # fmt: skip
    converted = ", ".join(name for name, _ in others)
    if converted:
        message = (
            f"this file holds {len(note.names) + 1} pipelines: {note.chosen} is converted here, "
            f"each of the others ({converted}) to a module of its own"
        )
        diagnostics.append(Diagnostic("TP201", "info", message, note.span))
    unique = tuple(dict.fromkeys(diagnostics))
    return Converted(main.path, main.code, main.pipeline, unique, tuple(others))


def _failure(result: Failed, note: OtherEntries) -> tuple[Span | None, str]:
    """Where a failed entry's first error is, and what it says (the note's spot when the
    error has none in this file)."""
    errors = [d for d in result.diagnostics if d.severity == "error"] or list(result.diagnostics)
    if not errors:
        return note.span, "failed"
    first = errors[0]
    here = first.span is not None and first.span.file == result.path
    return (first.span if here else note.span), f"{first.code} {first.message}"


def _framework_of(read: Read | Failed | Skipped, text: str, path: str, source: str) -> str | None:
    """The framework of a source, read or not (a file the reader refuses or finds no pipeline
    in still has its framework's imports); None when it does not parse."""
    if isinstance(read, Read):
        return read.pipeline.framework
    if source != "auto":
        return source
    parsed = _parse(nfkc_identifiers(text), path)
    return None if isinstance(parsed, Failed) else detect_framework(parsed[1])


def upgraded(
    read: Read | Failed | Skipped, text: str, path: str, target: str
) -> Converted | Failed:
    """``--to`` the source's own framework: the file brought up to the version transpile writes
    (Airflow 2 → 3), each change listed; TP006 when there is nothing to change. The upgrade
    keeps the user's file, so it needs no model: a file the reader refuses (a DAG factory, a
    sensor) or finds no pipeline in (a module of operators) is upgraded too."""
    module = frameworks.upgrader(target)
    done = module.upgrade(text, path) if module is not None else None
    if done is None:
        return _fail(path, "TP006", f"source is already {target}")
    code, diagnostics = done
    if isinstance(read, Read):
        pipeline = read.pipeline
    else:  # what the reports show of a file read as no pipeline: its name, nothing else
        name = Path(path).stem
        pipeline = Pipeline(name, target, Span(path, 1, 0, 1, 0), (), (), Sequence(()), ())
    return Converted(path, code, pipeline, tuple(diagnostics))


def written(read: Read, target: str) -> Converted | Failed:
    """``read`` written for ``target``: the code with the reader's diagnostics and the writer's,
    or the writer's refusal after the reader's diagnostics."""
    try:
        code, diagnostics = write(target, read.pipeline)
    except TranspileError as exc:
        return Failed(read.path, (*read.diagnostics, exc.diagnostic))
    return Converted(read.path, code, read.pipeline, read.diagnostics + tuple(diagnostics))


def check_text(
    text: str, path: str, targets: frozenset[str] | set[str]
) -> dict[str, Converted | Failed | Skipped]:
    """What ``convert --to T`` would say about ``text`` for each writable ``T`` of ``targets``,
    read once, written unformatted (only the diagnostics and whether it converts matter): lint's
    agreement with convert."""
    from .writing.render import formatting_deferred

    chosen = sorted(t for t in targets if t in frameworks.writable())
    if not chosen:
        return {}
    read = read_text(text, path)
    if not isinstance(read, Read):
        return dict.fromkeys(chosen, read)
    results: dict[str, Converted | Failed | Skipped] = {}
    with formatting_deferred():
        for target in chosen:
            if read.pipeline.framework != target:
                # as `convert -o` converts it: every pipeline of the file, each a module
                result = written(read, target)
                if isinstance(result, Converted):
                    result = _with_other_entries(result, read, text, target)
                results[target] = result
    return results


def convert_file(
    path: str,
    target: str,
    source: str = "auto",
    entry: str | None = None,
    every_entry: bool = False,
) -> Converted | Failed | Skipped:
    text = load_text(path)
    if isinstance(text, Failed):
        return text
    return convert_text(text, path, target, source, entry, every_entry)
