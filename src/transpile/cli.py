"""The command line: parses options, calls ``api``, prints results. No conversion logic here.

Start-up stays light: libcst, jinja2, readers and writers are imported inside the commands, so
``transpile --help`` loads click and nothing else of weight.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import click

from . import __version__, frameworks
from .model.diagnostics import rendered
from .util import timing
from .util.fileio import write_output, write_outputs
from .util.syntax import silence_code_warnings
from .util.text import one_line
from .util.timing import phase

if TYPE_CHECKING:
    from .batch import Attempt, Job, Outcome
    from .model.diagnostics import Diagnostic

INSPECT_FORMATS = ("text", "json", "mermaid", "dot")
EXIT_OK, EXIT_LOSSY, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # as a shell reports SIGINT
JOBS_OPTION = {
    "type": click.IntRange(min=1),
    "metavar": "N",
    "help": "Processes for a batch (default: one per core; 1 runs in this process).",
}


class TargetChoice(click.Choice):
    """A framework to write: one that transpile reads but cannot write yet is named as such, in
    one line (exit 2), not as an unknown value."""

    def convert(self, value, param, ctx):
        if value in frameworks.names() and value not in self.choices:
            known = ", ".join(self.choices)
            click.echo(
                f"transpile: --to {value}: no writer for it yet (choose from {known})", err=True
            )
            if ctx is not None:
                ctx.exit(2)
            raise SystemExit(2)
        return super().convert(value, param, ctx)


TO_OPTION = click.option(
    "--to",
    "target",
    required=True,
    type=TargetChoice(frameworks.targets()),
    help="Framework to write.",
)


def _from_option(help_text: str):
    """``--from``: the source framework, judged from the imports unless named."""
    choices = click.Choice(("auto", *frameworks.readable()))
    return click.option(
        "--from", "source_fw", default="auto", show_default=True, type=choices, help=help_text
    )


def _format_option(choices: tuple[str, ...], help_text: str):
    """``--format``, defaulting to the first of ``choices``."""
    return click.option(
        "--format",
        "fmt",
        default=choices[0],
        show_default=True,
        type=click.Choice(choices),
        help=help_text,
    )


FROM_ONE_OPTION = _from_option("Framework of the source; auto judges by its imports.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="transpile")
def cli() -> None:
    """Move ML pipelines between Metaflow, Flyte and Kubeflow Pipelines, statically."""


# --- convert ---------------------------------------------------------------------------------


@cli.command()
@click.argument("sources", nargs=-1, required=True, metavar="SRC...")
@TO_OPTION
@_from_option("Framework of the sources; auto judges each file by its imports.")
@click.option(
    "-o",
    "--output",
    metavar="OUT",
    help="Output file (one source) or directory (a directory or several sources).",
)
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.option("--strict", is_flag=True, help="Exit 1 when any output is not an exact translation.")
@click.option(
    "--entry",
    metavar="NAME",
    help="The pipeline to convert when the file holds several (a workflow, pipeline or flow name).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 when an output under -o is not what converting writes now.",
)
@click.option("--diff", is_flag=True, help="With --check: show each stale output's unified diff.")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only: no warnings, no summary.")
@click.option("-j", "--jobs", **JOBS_OPTION)
def convert(
    sources: tuple[str, ...],
    target: str,
    source_fw: str,
    output: str | None,
    force: bool,
    strict: bool,
    entry: str | None,
    jobs: int | None,
    **mode: bool,
) -> NoReturn:
    """Convert pipeline source files to another framework."""
    from .batch import Job

    check = mode["check"] or mode["diff"]
    if check and output is None:
        raise click.UsageError("--check compares with the outputs already written: give -o OUT")
    job = Job(target, source_fw, force, strict, entry)
    if len(sources) > 1 or os.path.isdir(sources[0]):
        if entry is not None:
            raise click.UsageError("--entry names a pipeline of one file: give one source file")
        _check_batch_output(sources, output)
        if check:
            _exit(_check_batch(list(sources), output, job, jobs, mode["diff"]))
        _exit(_convert_batch(list(sources), output, job, jobs))
    if check:
        _exit(_check_single(sources[0], output, job, mode["diff"]))
    _exit(_convert_single(sources[0], output, job))


def _convert_single(path: str, output: str | None, job: Job) -> int:
    from . import api

    every = output is not None  # stdout holds one module: the others are named, not written
    result = api.convert_file(path, job.target, job.source_fw, job.entry, every_entry=every)
    _echo_diagnostics(path, getattr(result, "diagnostics", ()))
    if isinstance(result, api.Skipped):
        _err(f"{path}: {result.reason}")
        return EXIT_ERROR
    if isinstance(result, api.Failed):
        return EXIT_ERROR
    if output is None:
        _write_stdout(result.code)
    else:
        problem = write_outputs(_outputs(path, output, result), job.force, inputs=[path])
        if problem:
            _err(f"transpile: {problem}")
            return EXIT_ERROR
    return EXIT_LOSSY if job.strict and result.lossy else EXIT_OK


def _outputs(path: str, output: str, result) -> list[tuple[str, str]]:
    """(destination, code) of each module one file converts to: its default pipeline at
    ``-o``, each other pipeline of the file beside it (``out_<name>.py``)."""
    from .util.fileio import entry_destination

    destination = _single_destination(path, output)
    found = [(destination, result.code)]
    found += [(entry_destination(destination, n), r.code) for n, r in result.others]
    return found


def _check_single(path: str, output: str, job: Job, show_diff: bool) -> int:
    """``--check`` of one file: its output is what converting writes now (exit 0), or not (1)."""
    from . import api
    from .batch import Stale, read_existing

    result = api.convert_file(path, job.target, job.source_fw, job.entry, every_entry=True)
    if isinstance(result, (api.Failed, api.Skipped)):
        _exit_unless_done(path, result)
    stale = []
    for destination, code in _outputs(path, output, result):
        current = read_existing(destination)
        if current != code:
            stale.append(Stale(path, destination, current, code))
    if not stale:
        return EXIT_OK
    _report_stale(stale, show_diff)
    return EXIT_LOSSY


def _check_batch(sources: list[str], output: str, job: Job, jobs: int | None, show_diff: bool):
    """``--check`` of a batch: every output under ``output`` is what converting writes now."""
    from .batch import attempts as convert_all
    from .batch import check_attempts
    from .util.fileio import discover

    found, _unvisited = discover(sources, exclude=output)
    if not found:  # as converting says: a check of nothing would pass whatever the path
        _err(f"transpile: no Python files found in {', '.join(sources)}")
        return EXIT_ERROR
    try:
        attempts = convert_all(found, job, jobs, _progress)
    except KeyboardInterrupt:
        _err("transpile: interrupted while converting")
        return EXIT_INTERRUPTED
    outcomes, stale = check_attempts(attempts, output, [])
    for outcome in outcomes:
        if outcome.status == "failed":
            _err(_outcome_reason(outcome))
    _report_stale(stale, show_diff)
    if not _quiet():
        fresh = sum(o.status == "converted" for o in outcomes) - len(stale)
        _err(f"transpile: {len(stale)} stale, {fresh} up to date in {output}")
    if any(o.status == "failed" for o in outcomes):
        return EXIT_ERROR
    return EXIT_LOSSY if stale else EXIT_OK


def _report_stale(stale: list, show_diff: bool) -> None:
    """One line per stale output (stderr); with ``show_diff`` its unified diff (stdout)."""
    import difflib

    for item in stale:
        missing = " (missing)" if item.current is None else ""
        _err(f"would rewrite {item.destination}{missing} from {item.source}")
        if show_diff:
            lines = difflib.unified_diff(
                (item.current or "").splitlines(keepends=True),
                item.expected.splitlines(keepends=True),
                fromfile=item.destination if item.current is not None else "/dev/null",
                tofile=item.destination,
            )
            _write_stdout("".join(lines))


def _single_destination(path: str, output: str) -> str:
    """``-o DIR`` (an existing directory, or a name ending in a separator) keeps the file name."""
    if os.path.isdir(output) or output.endswith(("/", os.sep)):
        return os.path.join(output, os.path.basename(path))
    return output


def _check_batch_output(sources: tuple[str, ...], output: str | None) -> None:
    if output is None:
        raise click.UsageError("converting a directory or several files needs -o DIR")
    if os.path.exists(output) and not os.path.isdir(output):
        raise click.UsageError(f"-o {output}: exists and is not a directory")
    if output.endswith(".py"):
        raise click.UsageError(f"-o {output}: must name a directory when converting several files")
    real_output = os.path.realpath(output)
    for source in sources:
        if os.path.isdir(source) and os.path.realpath(source) == real_output:
            raise click.UsageError(f"-o {output}: the output directory must differ from the input")


# --- batch -----------------------------------------------------------------------------------


def _convert_batch(sources: list[str], output: str, job: Job, jobs: int | None = None) -> int:
    from .batch import Outcome, existing, write_attempts
    from .batch import attempts as convert_all
    from .util.fileio import discover

    found, unvisited = discover(sources, exclude=output)
    outcomes = [Outcome(u.path, "skipped", u.reason) for u in unvisited]
    if not found:
        _err(f"transpile: no Python files found in {', '.join(sources)}")
        return EXIT_ERROR
    if not job.force:
        found, refused = existing(found, output)
        outcomes.extend(refused)
    try:
        attempts = convert_all(found, job, jobs, _progress)
    except KeyboardInterrupt:
        _err(f"transpile: interrupted while converting; nothing was written to {output}")
        return EXIT_INTERRUPTED
    diagnostics = [line for a in attempts for line in a.diagnostics]
    written: list[Outcome] = []
    try:
        outcomes.extend(write_attempts(attempts, output, job.force, diagnostics, written))
    except KeyboardInterrupt:
        count = sum(o.status == "converted" for o in written)
        _err(f"transpile: interrupted while writing; {count} of {len(found)} written to {output}")
        return EXIT_INTERRUPTED
    with phase("diagnostics output"):
        if not _quiet():
            for line in diagnostics:
                _err(line)
        _print_summary(outcomes, output)
    return _batch_exit_code(outcomes, job.strict)


def _progress(attempts: Iterator[Attempt], count: int):
    return _bar(attempts, count, "Converting")


@contextmanager
def _bar(items: Iterator, count: int, label: str) -> Iterator:
    """A progress bar on a terminal, naming each item's source; the plain items anywhere else."""
    if _quiet() or not sys.stderr.isatty():
        yield items
        return
    with click.progressbar(
        items,
        length=count,
        label=label,
        file=sys.stderr,
        item_show_func=lambda item: item.source.relative if item else None,
    ) as bar:
        yield bar


def _print_summary(outcomes: list[Outcome], output: str) -> None:
    counts = {s: sum(o.status == s for o in outcomes) for s in ("converted", "skipped", "failed")}
    lossy = sum(o.lossy for o in outcomes)
    lossy_note = f" ({lossy} lossy)" if lossy else ""
    if not _quiet():
        _err(
            f"transpile: {counts['converted']} converted{lossy_note}, {counts['skipped']} skipped, "
            f"{counts['failed']} failed; output in {output}"
        )
    for status in ("failed",) if _quiet() else ("failed", "skipped"):
        for o in outcomes:
            if o.status == status:
                _err(f"  {status:<8} {_outcome_reason(o)}")


def _outcome_reason(outcome: Outcome) -> str:
    """Why a file failed or was skipped, starting with its path."""
    if outcome.reason.startswith(outcome.path):
        return outcome.reason
    return f"{outcome.path}: {outcome.reason}"


def _batch_exit_code(outcomes: list[Outcome], strict: bool) -> int:
    if any(o.status == "failed" for o in outcomes):
        return EXIT_ERROR
    if not any(o.status == "converted" for o in outcomes):
        _err("transpile: no pipeline found")
        return EXIT_ERROR
    if strict and any(o.lossy for o in outcomes):
        return EXIT_LOSSY
    return EXIT_OK


# --- inspect ---------------------------------------------------------------------------------


@cli.command()
@click.argument("source", metavar="SRC")
@_format_option(
    INSPECT_FORMATS, "json: the versioned model; mermaid or dot: a picture; text: an outline."
)
@FROM_ONE_OPTION
@click.option("-q", "--quiet", is_flag=True, help="Print errors only on stderr, no warnings.")
def inspect(source: str, fmt: str, source_fw: str, quiet: bool) -> NoReturn:
    """Show the pipeline model read from SRC."""
    from . import api

    result = api.read_file(source, source_fw)
    _exit_unless_done(source, result)
    _echo_diagnostics(source, result.diagnostics)
    _write_stdout(_render_model(result.pipeline, fmt))
    _exit(EXIT_OK)


def _render_model(pipeline, fmt: str) -> str:
    if fmt == "json":
        from .model.ir_json import to_json

        return to_json(pipeline)
    from .inspect_render import render

    return render(pipeline, fmt)


# --- report and diff -------------------------------------------------------------------------


@cli.command()
@click.argument("source", metavar="SRC")
@TO_OPTION
@_format_option(
    ("md", "html", "json"),
    "md: Markdown with Mermaid; html: one standalone page; json: versioned data.",
)
@click.option("-o", "--output", metavar="FILE", help="Write the report to FILE.")
@click.option("--force", is_flag=True, help="Overwrite an existing FILE.")
@FROM_ONE_OPTION
@click.option(
    "--verify",
    "run_both",
    is_flag=True,
    help="Also run SRC and its conversion locally and put the comparison in the report "
    "(executes the code: see `transpile verify --help`); exit 0 same, 1 different, 2 not run.",
)
@click.option(
    "-p",
    "--param",
    "param_texts",
    multiple=True,
    metavar="NAME=VALUE",
    help="With --verify: a parameter for both runs (repeatable).",
)
@click.option(
    "--params", "params_file", metavar="FILE.json", help="With --verify: parameters as JSON."
)
@click.option("-q", "--quiet", is_flag=True, help="Print errors only on stderr, no warnings.")
def report(
    source: str,
    target: str,
    fmt: str,
    output: str | None,
    force: bool,
    source_fw: str,
    run_both: bool,
    param_texts: tuple[str, ...],
    params_file: str | None,
    quiet: bool,
) -> NoReturn:
    """Report what converting SRC to another framework does, step by step."""
    from .report import build_report, render

    verification, code = None, EXIT_OK
    if run_both:
        from .verify.check import VerifyError, verify_file
        from .verify.render import as_dict

        try:
            typed, texts = _verify_params(params_file, param_texts)
            result = verify_file(source, target, source=source_fw, params=typed, text_params=texts)
        except VerifyError as exc:
            _err(f"{source}: {exc}")
            _exit(EXIT_ERROR)
        verification, code = as_dict(result), result.exit_code
    elif param_texts or params_file:
        raise click.UsageError("-p/--params give parameters to --verify's runs")
    result = build_report(source, target, source_fw, verification)
    _exit_unless_done(source, result)
    _exit(_emit(render(result, fmt), output, force, inputs=[source]) or code)


@cli.command()
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@_format_option(
    ("text", "md", "json"), "text for a terminal, md for a pull request, json for tools."
)
@click.option("-q", "--quiet", is_flag=True, help="Print no differences: the exit code says.")
def diff(first: str, second: str, fmt: str, quiet: bool) -> NoReturn:
    """Compare the structure of two pipelines (exit 0 same, 1 different, 2 error)."""
    from . import api
    from .diff import diff_files
    from .diff.render import render

    result = diff_files(first, second)
    if isinstance(result, (api.Failed, api.Skipped)):
        _exit_unless_done(result.path, result)
    if not quiet:
        _write_stdout(render(result, fmt))
    _exit(EXIT_OK if result.same else EXIT_LOSSY)


def _exit_unless_done(path: str, result) -> None:
    """Exit 2 after the diagnostics, and a skip's reason, when ``result`` failed or skipped."""
    from . import api

    if isinstance(result, (api.Failed, api.Skipped)):
        _echo_diagnostics(path, getattr(result, "diagnostics", ()))
        if isinstance(result, api.Skipped):
            _err(f"{path}: {result.reason}")
        _exit(EXIT_ERROR)


def _emit(text: str, output: str | None, force: bool, inputs: tuple | list = ()) -> int:
    """``text`` to stdout, or written atomically to ``output`` (never over one of ``inputs``)."""
    if output is None:
        _write_stdout(text)
        return EXIT_OK
    problem = write_output(output, text, force, inputs)
    if problem:
        _err(f"transpile: {problem}")
        return EXIT_ERROR
    return EXIT_OK


# --- verify ----------------------------------------------------------------------------------


@cli.command()
@click.argument("sources", nargs=-1, required=True, metavar="SRC...")
@TO_OPTION
@FROM_ONE_OPTION
@click.option("--entry", metavar="NAME", help="The pipeline to verify when SRC holds several.")
@click.option(
    "-p",
    "--param",
    "param_texts",
    multiple=True,
    metavar="NAME=VALUE",
    help="A parameter for both runs (repeatable), typed as the pipeline declares it.",
)
@click.option(
    "--params",
    "params_file",
    metavar="FILE.json",
    help="Parameters for both runs as a JSON object (-p values override it).",
)
@click.option(
    "--source-runs",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),
    metavar="N",
    help="Run the source N times; values that change between its runs are not compared.",
)
@click.option(
    "--timeout",
    default=600.0,
    show_default=True,
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="Time allowed for each run.",
)
@_format_option(("text", "md", "json"), "text for a terminal, md for a pull request, json for CI.")
@click.option(
    "-o",
    "--output",
    metavar="FILE|DIR",
    help="Write the result to FILE; with several files or a directory, results to DIR.",
)
@click.option("--force", is_flag=True, help="Overwrite existing result files.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    metavar="N",
    help="Files verified at a time in a batch (default 1).",
)
@click.option(
    "--workdir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Run in DIR and keep it (default: a temporary folder, removed afterwards).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors: the exit code says.")
def verify(
    sources: tuple[str, ...],
    target: str,
    source_fw: str,
    entry: str | None,
    param_texts: tuple[str, ...],
    params_file: str | None,
    source_runs: int,
    timeout: float,
    fmt: str,
    output: str | None,
    force: bool,
    jobs: int | None,
    workdir: str | None,
    quiet: bool,
) -> NoReturn:
    """Run SRC and its conversion locally and compare their results (exit 0 same, 1 different,
    2 could not run).

    This executes SRC and the converted code on this machine, as running the pipeline would: the
    source in its framework, the conversion in the target framework, each in a subprocess with
    its own temporary folder (a copy of the folder SRC is in). Compared: Metaflow's end-step
    artifacts, a Flyte workflow's outputs, a KFP pipeline's outputs. Needs the frameworks:
    pip install 'transpile[verify]'.

    Several files or a directory: each pipeline file is verified with its defaults (-j N at a
    time), its result is written under -o DIR (mirrored, in --format) with DIR/summary.json for
    CI; exit 2 if one could not be verified, else 1 if one differs.
    """
    from pathlib import Path

    if len(sources) > 1 or os.path.isdir(sources[0]):
        if param_texts or params_file or entry or workdir:
            raise click.UsageError("-p, --params, --entry and --workdir take one SRC file")
        if output is None:
            raise click.UsageError("several files or a directory need -o DIR for the results")
        _exit(
            _verify_batch(
                list(sources), target, source_fw, output, fmt, force, jobs, source_runs, timeout
            )
        )
    source = sources[0]

    from .verify.check import VerifyError, verify_file
    from .verify.render import headline, render, short_details

    try:
        params = _verify_params(params_file, param_texts)
        result = verify_file(
            source,
            target,
            source=source_fw,
            entry=entry,
            params=params[0],
            text_params=params[1],
            source_runs=source_runs,
            timeout=timeout,
            workdir=Path(workdir) if workdir else None,
        )
    except VerifyError as exc:
        _err(f"{source}: {exc}")
        _exit(EXIT_ERROR)
    if entry is None and not quiet:
        _name_unverified_entries(source, source_fw)
    if not quiet:
        _name_installs(source, target, source_fw, entry)
    if result.verdict == "error":
        _err(headline(result))
        if fmt == "text" and output is None:  # the headline was the report; where it failed:
            click.echo(short_details(result.details), err=True)
            _exit(EXIT_ERROR)
    if quiet and output is None:
        _exit(result.exit_code)
    _exit(_emit(render(result, fmt), output, force, [source]) or result.exit_code)


def _name_installs(source: str, target: str, source_fw: str, entry: str | None) -> None:
    """kfp.local (run without a virtualenv, as verify runs it) pip-installs a component's
    ``packages_to_install`` into this Python environment: say so, naming them."""
    import re
    import sys

    from . import api

    texts = []
    loaded = api.load_text(source)
    if isinstance(loaded, str):
        texts.append(loaded)
    if target == "kfp":
        result = api.convert_file(source, target, source_fw, entry)
        texts.append(getattr(result, "code", ""))
    found: list[str] = []
    for text in texts:
        for listed in re.findall(r"packages_to_install\s*=\s*\[([^\]]*)\]", text):
            found += [p for p in re.findall(r"[\"']([^\"']+)[\"']", listed) if p not in found]
    if found:
        _err(
            f"{source}: kfp.local installs this pipeline's packages_to_install "
            f"({', '.join(found)}) into this Python environment ({sys.prefix})"
        )


def _name_unverified_entries(source: str, source_fw: str) -> None:
    """A file of several pipelines is verified for the one converting picks by default: say
    which, and name the others (each verified with ``--entry NAME``)."""
    from . import api
    from .model.diagnostics import OtherEntries

    read = api.read_file(source, source_fw)
    notes = [d for d in getattr(read, "diagnostics", ()) if isinstance(d, OtherEntries)]
    if notes:
        others = ", ".join(notes[0].names)
        _err(
            f"{source}: verified {notes[0].chosen} only, one of {len(notes[0].names) + 1} "
            f"pipelines in this file; verify each other with --entry NAME ({others})"
        )


def _verify_batch(
    sources: list[str],
    target: str,
    source_fw: str,
    output: str,
    fmt: str,
    force: bool,
    jobs: int | None,
    source_runs: int,
    timeout: float,
) -> int:
    from .util.fileio import discover
    from .verify import batch

    found, _ = discover(sources, exclude=output)
    if not found:
        _err(f"transpile: no Python files found in {', '.join(sources)}")
        return EXIT_ERROR
    try:
        entries = batch.verify_all(
            found,
            target,
            jobs=jobs or 1,
            progress=_verify_progress,
            source=source_fw,
            source_runs=source_runs,
            timeout=timeout,
        )
    except KeyboardInterrupt:
        _err(f"transpile: interrupted while verifying; nothing was written to {output}")
        return EXIT_INTERRUPTED
    try:
        entries = batch.write_reports(entries, output, fmt, force)
    except OSError as exc:
        _err(f"transpile: {exc}")
        return EXIT_ERROR
    found_counts = batch.counts(entries)
    if not _quiet():
        shown = ", ".join(f"{n} {s}" for s, n in found_counts.items())
        _err(f"transpile: verified {len(entries)} files to {target}: {shown}; results in {output}")
    for entry in entries:
        if entry.status in ("differs", "error") or (entry.status == "skipped" and not _quiet()):
            _err(f"  {entry.status:<8} {entry.source.path}: {entry.reason or 'results differ'}")
    return batch.exit_code(entries)


def _verify_progress(entries: Iterator, count: int):
    return _bar(entries, count, "Verifying")


def _verify_params(params_file: str | None, texts: tuple[str, ...]) -> tuple[dict, dict]:
    """(typed values from --params FILE.json, NAME → text from each -p NAME=VALUE)."""
    import json

    from .verify.check import VerifyError

    typed: dict = {}
    if params_file is not None:
        try:
            with open(params_file, encoding="utf-8") as handle:
                typed = json.load(handle)
        except (OSError, ValueError) as exc:
            raise VerifyError(f"--params {params_file}: {exc}") from None
        if not isinstance(typed, dict):
            raise VerifyError(f"--params {params_file}: not a JSON object")
    given = {}
    for text in texts:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise VerifyError(f"-p {text!r}: expected NAME=VALUE")
        given[name.strip()] = value
        typed.pop(name.strip(), None)
    return typed, given


# --- lint ------------------------------------------------------------------------------------


@cli.command()
@click.argument("paths", nargs=-1, metavar="[PATH...]")
@click.option("--target", "targets", metavar="FW,...", help="Frameworks to check portability to.")
@click.option(
    "--output-format",
    "--format",
    "fmt",
    default="text",
    show_default=True,
    type=click.Choice(("text", "json", "sarif", "github")),
    help="text: path:line:col: CODE message; sarif: code scanning; github: annotations.",
)
@click.option(
    "--select", metavar="CODE,...", default="", help="Run only these rules (or prefixes)."
)
@click.option(
    "--extend-select", metavar="CODE,...", default="", help="Run these rules too (or prefixes)."
)
@click.option("--ignore", metavar="CODE,...", default="", help="Skip these rules (or prefixes).")
@click.option(
    "--exclude", metavar="PATTERN,...", default="", help="Skip these paths (replaces the defaults)."
)
@click.option("--extend-exclude", metavar="PATTERN,...", default="", help="Skip these paths too.")
@click.option(
    "--force-exclude", is_flag=True, help="Exclude files even when named on the command line."
)
@click.option("--statistics", is_flag=True, help="Show how many findings each rule has.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("-q", "--quiet", is_flag=True, help="Print the findings and nothing else.")
@click.option(
    "--stdin-filename", metavar="PATH", help="The name of the file read from standard input (-)."
)
@click.option("-j", "--jobs", **JOBS_OPTION)
def lint(paths: tuple[str, ...], targets: str | None, fmt: str, **options) -> NoReturn:
    """Flag pipeline code that will not port, or will port wrongly, to other frameworks.

    PATH is a file or a directory (default: the current one); - reads standard input.
    """
    from .lint import config as lint_config
    from .lint.engine import check_codes, lint_paths, lint_stdin
    from .lint.formats import render, statistics
    from .util.parallel import default_jobs

    if options["statistics"] and fmt not in ("text", "json"):
        raise click.UsageError("--statistics prints text or json")
    if "-" in paths and len(paths) > 1:
        raise click.UsageError("- (standard input) cannot be combined with other paths")
    try:
        found = lint_config.load()
        given = {k: _codes(options[k]) for k in ("select", "extend_select", "ignore")}
        check_codes(
            lint_config.code_settings(found)
            + [(f"--{k.replace('_', '-')}", codes) for k, codes in given.items()]
        )
        settings = found.overridden(
            _codes(targets) or None,
            _codes(options["select"]),
            _codes(options["ignore"]),
            extend_select=_codes(options["extend_select"]),
            exclude=_codes(options["exclude"]),
            extend_exclude=_codes(options["extend_exclude"]),
            force_exclude=options["force_exclude"],
        )
    except lint_config.ConfigError as exc:
        _err(f"transpile: {exc}")
        _exit(EXIT_ERROR)
    if paths == ("-",):
        report = lint_stdin(_read_stdin(), options["stdin_filename"] or "-", settings)
    else:
        report = lint_paths(list(paths) or ["."], settings, options["jobs"] or default_jobs())
    for problem in report.errors:
        _err(f"{problem.path}:{problem.line}:{problem.column}: {problem.code} {problem.message}")
    if options["statistics"]:
        _write_stdout(statistics(report, fmt))
    else:
        _write_stdout(render(report, fmt, colour=_colour(), quiet=options["quiet"]))
    _exit(EXIT_OK if options["exit_zero"] and not report.errors else report.exit_code)


def _codes(option: str | None) -> tuple[str, ...]:
    return tuple(c.strip() for c in (option or "").split(",") if c.strip())


def _read_stdin() -> bytes:
    stream = getattr(sys.stdin, "buffer", None)
    return stream.read() if stream is not None else sys.stdin.read().encode("utf-8")


def _colour() -> bool:
    """Colour on a terminal, unless NO_COLOR is set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


@cli.command()
@click.argument("code", metavar="CODE")
def rule(code: str) -> NoReturn:
    """Explain one lint rule: what it flags, why it matters, what to do instead."""
    from .lint.formats import explain, rule_named

    found = rule_named(code)
    if found is None:
        _err(f"transpile: unknown rule code {code!r} (transpile rules lists them)")
        _exit(EXIT_ERROR)
    _write_stdout(explain(found, colour=_colour()))
    _exit(EXIT_OK)


@cli.command()
@_format_option(("text", "json", "markdown"), "markdown: the README's rule table.")
def rules(fmt: str) -> NoReturn:
    """List every lint rule: code, name, frameworks it reads and concerns, what it flags."""
    from .lint import formats

    render = {"text": formats.rules_text, "json": formats.rules_json}
    _write_stdout(render.get(fmt, formats.rules_markdown)())
    _exit(EXIT_OK)


def _full_summaries(group: click.Group) -> None:
    """``transpile --help`` lists each command with its whole first sentence, not one cut to
    fit 45 columns with "..." (click's default)."""
    for command in group.commands.values():
        if command.help and not command.short_help:
            command.short_help = " ".join(command.help.split("\n\n")[0].split())


_full_summaries(cli)


# --- output helpers --------------------------------------------------------------------------


def _echo_diagnostics(path: str, diagnostics: tuple[Diagnostic, ...]) -> None:
    """The diagnostics of one file; under ``--quiet`` only its errors."""
    kept = tuple(d for d in diagnostics if not _quiet() or d.severity == "error")
    for line in rendered(path, kept):
        _err(line)


def _quiet() -> bool:
    """The running command's -q/--quiet: errors only on stderr."""
    context = click.get_current_context(silent=True)
    return bool(context is not None and context.params.get("quiet"))


def _err(line: str) -> None:
    """One line to stderr: a newline or control character from a file name or from the input
    is shown as its escape, so it cannot start a line of its own."""
    click.echo(one_line(line), err=True)


def _write_stdout(text: str) -> None:
    """Code is UTF-8 whatever the terminal's locale says."""
    stream = getattr(sys.stdout, "buffer", None)
    if stream is None:
        sys.stdout.write(text)
    else:
        sys.stdout.flush()
        stream.write(text.encode("utf-8"))
    sys.stdout.flush()


def _exit(code: int) -> NoReturn:
    raise click.exceptions.Exit(code)


# --- entry point -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> NoReturn:
    """The ``transpile`` program: never a traceback, always one of the documented exit codes."""
    code = run(argv)
    timing.report()  # TRANSPILE_TIMINGS=1: where the time went
    sys.exit(code)


def run(argv: list[str] | None = None) -> int:
    silence_code_warnings()
    try:
        code = cli.main(args=argv, prog_name="transpile", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        _err("transpile: aborted")
        return EXIT_INTERRUPTED
    except Exception as exc:
        if os.environ.get("TRANSPILE_TRACEBACK"):
            raise
        _err(f"transpile: internal error: {type(exc).__name__}: {exc}")
        return EXIT_ERROR
    return code if isinstance(code, int) else EXIT_OK
