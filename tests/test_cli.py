"""The command line contract of DESIGN.md: outputs, exit codes, bad input, batch mode."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import run_transpile

from transpile import __version__, api
from transpile.cli import cli, run
from transpile.model.diagnostics import Diagnostic
from transpile.model.ir_json import from_json

ROOT = Path(__file__).parents[1]
FIXTURE_SOURCES = sorted((ROOT / "fixtures").glob("*/metaflow.py"))

HELLO = textwrap.dedent(
    '''\
    from metaflow import FlowSpec, Parameter, step


    class HelloFlow(FlowSpec):
        """Doubles a number."""

        n = Parameter("n", default=3, help="how many")

        @step
        def start(self):
            self.doubled = self.n * 2
            self.next(self.end)

        @step
        def end(self):
            print("doubled", self.doubled)


    if __name__ == "__main__":
        HelloFlow()
    '''
)

# current.retry_count has no exact equivalent elsewhere: a lossy conversion.
LOSSY = HELLO.replace("from metaflow import", "from metaflow import current,").replace(
    "self.doubled = self.n * 2", "self.doubled = self.n * 2 + current.retry_count"
)

SYNTAX_ERROR = HELLO.replace("def end(self):", "def end(self)")
PLAIN = "import os\n\nprint(os.getcwd())\n"
NO_FLOW = "from metaflow import step\n\nVALUE = 1\n"


def invoke(*args: str):
    """Run the CLI in-process; unexpected exceptions surface as test errors, not exit codes."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert "internal error" not in result.stderr
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture
def hello(tmp_path) -> Path:
    path = tmp_path / "hello.py"
    path.write_text(HELLO)
    return path


def write(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


# --- the program -----------------------------------------------------------------------------


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_help_does_not_import_the_heavy_parts(tmp_path):
    proc = run_transpile("--help", cwd=tmp_path, python_options=("-X", "importtime"), timeout=120)
    assert proc.returncode == 0
    assert "convert" in proc.stdout and "inspect" in proc.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    assert "click" in imported
    heavy = {"libcst", "jinja2", "transpile.api", "transpile.reading", "transpile.writing"}
    heavy |= {"metaflow", "flytekit", "kfp", "transpile.lint", "multiprocessing"}
    assert not imported & heavy
    # the framework packages declare themselves (the choices of --to); readers and writers wait
    script = (
        "import sys\nfrom transpile.cli import run\nrun(['convert', '--help'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('transpile.frameworks.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded = ast.literal_eval(done.stdout.splitlines()[-1])
    assert "transpile.frameworks.flyte" in loaded
    assert not [m for m in loaded if m.split(".")[3:4] in (["reader"], ["writer"])]


def test_unexpected_exception_becomes_one_line(monkeypatch, capsys, hello):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "convert_file", explode)
    assert run(["convert", str(hello), "--to", "flyte"]) == 2
    err = capsys.readouterr().err
    assert err == "transpile: internal error: RuntimeError: boom\n"


def test_usage_errors_exit_2(hello):
    assert invoke("convert", str(hello)).exit_code == 2  # --to missing
    assert invoke("convert", str(hello), "--to", "argo").exit_code == 2
    assert invoke("inspect", str(hello), "--format", "png").exit_code == 2
    assert invoke("frobnicate").exit_code == 2


def test_usage_error_through_main_is_exit_2(capsys):
    assert run(["convert", "x.py"]) == 2
    assert "Missing option '--to'" in capsys.readouterr().err


# --- one file --------------------------------------------------------------------------------


def test_one_file_goes_to_stdout(hello):
    result = invoke("convert", str(hello), "--to", "flyte")
    assert result.exit_code == 0, result.stderr
    ast.parse(result.stdout)
    assert "flytekit" in result.stdout
    assert "metaflow" not in result.stdout
    assert not re.search(r"^\S+:\d+:\d+: TP\d+", result.stdout, re.MULTILINE)


def test_diagnostics_go_to_stderr_ruff_style(tmp_path):
    source = write(tmp_path, "lossy.py", LOSSY)
    result = invoke("convert", str(source), "--to", "flyte")
    assert result.exit_code == 0
    assert re.search(rf"^{re.escape(str(source))}:\d+:\d+: TP\d+ ", result.stderr, re.MULTILINE)
    ast.parse(result.stdout)


def test_strict_lossy_conversion_exits_1_but_still_writes(tmp_path):
    source = write(tmp_path, "lossy.py", LOSSY)
    target = tmp_path / "out.py"
    result = invoke("convert", str(source), "--to", "flyte", "--strict", "-o", str(target))
    assert result.exit_code == 1, result.stderr
    assert target.is_file()
    ast.parse(target.read_text())


def test_strict_exact_conversion_exits_0(hello):
    result = invoke("convert", str(hello), "--to", "flyte", "--strict")
    assert result.exit_code == 0, result.stderr


def test_strict_exit_1_comes_from_any_lossy_diagnostic(monkeypatch, hello):
    read = api.read_file(str(hello))
    assert isinstance(read, api.Read), read
    lossy = Diagnostic("TP999", "warning", "approximated", None, lossy=True)
    converted = api.Converted(str(hello), "x = 1\n", read.pipeline, (lossy,))
    monkeypatch.setattr(api, "convert_file", lambda *a, **k: converted)
    assert invoke("convert", str(hello), "--to", "flyte").exit_code == 0
    result = invoke("convert", str(hello), "--to", "flyte", "--strict")
    assert result.exit_code == 1
    assert result.stdout == "x = 1\n"
    assert f"{hello}: TP999 approximated" in result.stderr


def test_output_file_matches_stdout(hello, tmp_path):
    target = tmp_path / "out" / "hello_flyte.py"
    result = invoke("convert", str(hello), "--to", "flyte", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert target.read_text() == invoke("convert", str(hello), "--to", "flyte").stdout
    assert os.listdir(target.parent) == ["hello_flyte.py"]  # no temp file left behind


def test_refused_overwrite_leaves_the_file_byte_identical(hello, tmp_path):
    target = write(tmp_path, "out.py", b"# mine\r\n\x00keep")
    result = invoke("convert", str(hello), "--to", "flyte", "-o", str(target))
    assert result.exit_code == 2
    assert str(target) in result.stderr and "--force" in result.stderr
    assert target.read_bytes() == b"# mine\r\n\x00keep"


def test_force_overwrites(hello, tmp_path):
    target = write(tmp_path, "out.py", "# mine\n")
    result = invoke("convert", str(hello), "--to", "flyte", "-o", str(target), "--force")
    assert result.exit_code == 0, result.stderr
    assert "flytekit" in target.read_text()


def test_output_into_an_existing_directory_keeps_the_name(hello, tmp_path):
    (tmp_path / "out").mkdir()
    result = invoke("convert", str(hello), "--to", "flyte", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "hello.py").is_file()


def test_same_framework_is_refused(hello):
    result = invoke("convert", str(hello), "--to", "metaflow")
    assert result.exit_code == 2
    assert str(hello) in result.stderr


BAD_INPUTS = {
    "syntax-error": (SYNTAX_ERROR, r"^{path}:\d+:\d+: TP\d+ syntax error"),
    "empty": ("", r"^{path}: no pipeline found"),
    "binary": (bytes(range(256)) * 4, r"^{path}: TP\d+ not Python source"),
    "latin-1": ("x = 'caf\xe9'\n".encode("latin-1"), r"^{path}:1:9: TP\d+ not UTF-8"),
    "plain-python": (PLAIN, r"^{path}: no pipeline found"),
    "no-flow": (NO_FLOW, r"^{path}: .*FlowSpec"),
}


@pytest.mark.parametrize(("content", "expected"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
@pytest.mark.parametrize("command", ["convert", "inspect"])
def test_bad_input_is_one_clear_line_and_exit_2(tmp_path, command, content, expected):
    source = write(tmp_path, "bad.py", content)
    args = [command, str(source)] + (["--to", "flyte"] if command == "convert" else [])
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert re.search(expected.format(path=re.escape(str(source))), lines[0]), lines[0]


@pytest.mark.parametrize("command", ["convert", "inspect"])
def test_missing_path_and_directory_as_file(tmp_path, command):
    extra = ["--to", "flyte"] if command == "convert" else []
    missing = invoke(command, str(tmp_path / "nope.py"), *extra)
    assert missing.exit_code == 2
    assert missing.stderr == f"{tmp_path / 'nope.py'}: TP001 no such file\n"
    if command == "inspect":
        assert invoke(command, str(tmp_path)).exit_code == 2


def test_syntax_error_through_the_real_program_has_no_traceback(tmp_path):
    write(tmp_path, "bad.py", SYNTAX_ERROR)
    proc = run_transpile("convert", "bad.py", "--to", "flyte", cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert re.fullmatch(r"bad\.py:\d+:\d+: TP\d+ syntax error[^\n]*\n", proc.stderr), proc.stderr
    assert proc.stdout == ""


SIDE_EFFECT = HELLO.replace(
    "from metaflow import",
    "import pathlib\n\npathlib.Path({marker!r}).write_text('ran')\n\nfrom metaflow import",
).replace("print(", "pathlib.Path({marker!r}).write_text('step ran')\n        print(")


def test_the_input_is_never_executed(tmp_path):
    marker = tmp_path / "MARKER"
    source = write(tmp_path / "in", "sneaky.py", SIDE_EFFECT.format(marker=str(marker)))
    converted = invoke("convert", str(source), "--to", "flyte", "-o", str(tmp_path / "o.py"))
    assert converted.exit_code == 0, converted.stderr
    for fmt in ("json", "text", "mermaid", "dot"):
        assert invoke("inspect", str(source), "--format", fmt).exit_code == 0
    batch = invoke("convert", str(source.parent), "--to", "flyte", "-o", str(tmp_path / "out"))
    assert batch.exit_code == 0, batch.stderr
    assert not marker.exists()


# --- inspect ---------------------------------------------------------------------------------


def test_inspect_json_is_the_versioned_model(hello):
    result = invoke("inspect", str(hello), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["schema"] == "transpile.pipeline/1"
    pipeline = from_json(result.stdout)
    assert pipeline.name == "HelloFlow"
    assert [p.name for p in pipeline.parameters] == ["n"]


@pytest.mark.parametrize(
    ("fmt", "start"),
    [("text", "pipeline HelloFlow (metaflow)"), ("mermaid", "flowchart TD"), ("dot", "digraph")],
)
def test_inspect_formats(hello, fmt, start):
    result = invoke("inspect", str(hello), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(start)
    assert "start" in result.stdout and "end" in result.stdout


def test_inspect_defaults_to_text(hello):
    assert invoke("inspect", str(hello)).stdout.startswith("pipeline HelloFlow")


# --- batch -----------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path) -> Path:
    """A tree with two flows, a broken file, a plain module and places never searched."""
    src = tmp_path / "src"
    write(src, "hello.py", HELLO)
    write(src, "nested/deeper/lossy.py", LOSSY)
    write(src, "nested/broken.py", SYNTAX_ERROR)
    write(src, "util.py", PLAIN)
    write(src, ".hidden/flow.py", HELLO)
    write(src, "__pycache__/flow.py", HELLO)
    write(src, ".venv/lib/flow.py", HELLO)
    return src


def test_directory_needs_an_output_directory(project):
    result = invoke("convert", str(project), "--to", "flyte")
    assert result.exit_code == 2
    assert "-o DIR" in result.stderr


def test_several_files_need_an_output_directory(project):
    result = invoke("convert", str(project / "hello.py"), str(project / "util.py"), "--to", "flyte")
    assert result.exit_code == 2


def test_output_must_be_a_directory(project, tmp_path):
    existing = write(tmp_path, "file.txt", "x")
    assert invoke("convert", str(project), "--to", "flyte", "-o", str(existing)).exit_code == 2
    assert invoke("convert", str(project), "--to", "flyte", "-o", str(project)).exit_code == 2


def test_batch_converts_the_others_and_names_the_broken(project, tmp_path):
    out = tmp_path / "out"
    result = invoke("convert", str(project), "--to", "flyte", "-o", str(out))
    assert result.exit_code == 2
    converted = sorted(str(p.relative_to(out)) for p in out.rglob("*.py"))
    assert converted == ["hello.py", "nested/deeper/lossy.py"]
    for path in out.rglob("*.py"):
        ast.parse(path.read_text())
    assert "2 converted (1 lossy), 1 skipped, 1 failed" in result.stderr
    assert re.search(r"failed +\S*nested/broken\.py:\d+:\d+: TP\d+ syntax error", result.stderr)
    assert re.search(r"skipped +\S*util\.py: no pipeline found", result.stderr)
    assert "hidden" not in result.stderr and "pycache" not in result.stderr
    assert result.stdout == ""


def test_batch_exit_codes_without_failures(project, tmp_path):
    (project / "nested" / "broken.py").unlink()
    out = tmp_path / "out"
    ok = invoke("convert", str(project), "--to", "flyte", "-o", str(out))
    assert ok.exit_code == 0, ok.stderr
    strict = invoke("convert", str(project), "--to", "flyte", "-o", str(out), "--strict", "--force")
    assert strict.exit_code == 1, strict.stderr


def test_batch_refuses_each_existing_output(project, tmp_path):
    (project / "nested" / "broken.py").unlink()
    out = tmp_path / "out"
    assert invoke("convert", str(project), "--to", "flyte", "-o", str(out)).exit_code == 0
    write(out, "hello.py", "# edited by hand\n")
    again = invoke("convert", str(project), "--to", "flyte", "-o", str(out))
    assert again.exit_code == 2
    assert "refused to overwrite" in again.stderr
    assert (out / "hello.py").read_text() == "# edited by hand\n"
    forced = invoke("convert", str(project), "--to", "flyte", "-o", str(out), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert "flytekit" in (out / "hello.py").read_text()


def test_batch_output_inside_the_input_is_not_read_back(project):
    (project / "nested" / "broken.py").unlink()
    out = project / "converted"
    first = invoke("convert", str(project), "--to", "flyte", "-o", str(out))
    assert first.exit_code == 0, first.stderr
    second = invoke("convert", str(project), "--to", "flyte", "-o", str(out), "--force")
    assert second.exit_code == 0, second.stderr
    assert not (out / "converted").exists()
    assert "2 converted" in second.stderr


def test_batch_of_files_mirrors_by_name_and_reports_collisions(project, tmp_path):
    other = write(tmp_path, "elsewhere/hello.py", HELLO)
    out = tmp_path / "out"
    result = invoke(
        "convert", str(project / "hello.py"), str(other), "--to", "flyte", "-o", str(out)
    )
    assert result.exit_code == 2
    assert "already written from" in result.stderr
    assert (out / "hello.py").is_file()


def test_batch_with_no_pipeline_at_all_exits_2(tmp_path):
    src = tmp_path / "src"
    write(src, "util.py", PLAIN)
    result = invoke("convert", str(src), "--to", "flyte", "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "0 converted" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    assert invoke("convert", str(empty), "--to", "flyte", "-o", str(tmp_path / "o")).exit_code == 2


def test_batch_survives_an_internal_error_in_one_file(project, tmp_path, monkeypatch):
    real = api.convert_text

    def flaky(text, path, *args, **kwargs):
        if path.endswith("hello.py"):
            raise RuntimeError("reader bug")
        return real(text, path, *args, **kwargs)

    monkeypatch.setattr(api, "convert_text", flaky)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["convert", str(project), "--to", "flyte", "-o", str(out)])
    assert result.exit_code == 2
    assert "hello.py: internal error: RuntimeError: reader bug" in result.stderr
    assert (out / "nested" / "deeper" / "lossy.py").is_file()


def test_batch_has_no_progress_bar_off_a_terminal(project, tmp_path):
    proc = run_transpile("convert", "src", "--to", "flyte", "-o", "out", cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert "Converting" not in proc.stderr
    summary = [line for line in proc.stderr.splitlines() if line.startswith("transpile: ")]
    assert summary == ["transpile: 2 converted (1 lossy), 1 skipped, 1 failed; output in out"]


# --- the fixtures ----------------------------------------------------------------------------


@pytest.mark.parametrize("source", FIXTURE_SOURCES, ids=[p.parent.name for p in FIXTURE_SOURCES])
def test_every_fixture_converts_and_inspects_without_internal_errors(source):
    result = invoke("convert", str(source), "--to", "flyte")
    assert result.exit_code == 0, result.stderr
    ast.parse(result.stdout)
    for fmt in ("json", "text", "mermaid", "dot"):
        shown = invoke("inspect", str(source), "--format", fmt)
        assert shown.exit_code == 0, shown.stderr


def test_diagnostics_are_listed_in_source_order(monkeypatch, hello):
    read = api.read_file(str(hello))
    assert isinstance(read, api.Read), read
    at = read.pipeline.span
    late = Diagnostic("TP902", "warning", "late", type(at)(at.file, 9, 4, 9, 8))
    early = Diagnostic("TP901", "warning", "early", type(at)(at.file, 2, 0, 2, 1))
    whole = Diagnostic("TP900", "info", "whole file", None)
    converted = api.Converted(str(hello), "x = 1\n", read.pipeline, (late, early, whole))
    monkeypatch.setattr(api, "convert_file", lambda *a, **k: converted)
    result = invoke("convert", str(hello), "--to", "flyte")
    assert result.stderr.splitlines() == [
        f"{hello}: TP900 whole file",
        f"{hello}:2:1: TP901 early",
        f"{hello}:9:5: TP902 late",
    ]
