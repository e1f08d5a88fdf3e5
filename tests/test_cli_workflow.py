"""Convert in a team's workflow: ``--check`` / ``--diff`` for a converted copy kept in the
repository, a batch re-run that refuses before it works, ``--quiet``, and the help listing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_cli import HELLO, LOSSY, PLAIN

from transpile.cli import cli

ROOT = Path(__file__).parents[1]


def invoke(*args: str):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return result


@pytest.fixture
def tree(tmp_path) -> Path:
    """src/hello.py and src/nested/lossy.py (pipelines), src/util.py (not one)."""
    src = tmp_path / "src"
    (src / "nested").mkdir(parents=True)
    (src / "hello.py").write_text(HELLO)
    (src / "nested" / "lossy.py").write_text(LOSSY)
    (src / "util.py").write_text(PLAIN)
    return src


# --- convert --check -----------------------------------------------------------------------------


def test_check_of_one_file(tree, tmp_path):
    out = tmp_path / "hello_flyte.py"
    missing = invoke("convert", str(tree / "hello.py"), "--to", "flyte", "-o", str(out), "--check")
    assert missing.exit_code == 1
    assert f"would rewrite {out} (missing)" in missing.stderr
    assert not out.exists()  # --check writes nothing
    assert invoke("convert", str(tree / "hello.py"), "--to", "flyte", "-o", str(out)).exit_code == 0
    fresh = invoke("convert", str(tree / "hello.py"), "--to", "flyte", "-o", str(out), "--check")
    assert fresh.exit_code == 0, fresh.stderr
    assert fresh.stdout == ""
    (tree / "hello.py").write_text(HELLO.replace("self.n * 2", "self.n * 3"))
    stale = invoke("convert", str(tree / "hello.py"), "--to", "flyte", "-o", str(out), "--check")
    assert stale.exit_code == 1
    assert f"would rewrite {out} from {tree / 'hello.py'}" in stale.stderr
    assert stale.stdout == ""  # the diff only with --diff


def test_diff_shows_what_converting_would_change(tree, tmp_path):
    out = tmp_path / "hello_flyte.py"
    invoke("convert", str(tree / "hello.py"), "--to", "flyte", "-o", str(out))
    before = out.read_text()
    (tree / "hello.py").write_text(HELLO.replace("self.n * 2", "self.n * 3"))
    result = invoke("convert", str(tree / "hello.py"), "--to", "flyte", "-o", str(out), "--diff")
    assert result.exit_code == 1
    changed = [
        line
        for line in result.stdout.splitlines()
        if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))
    ]
    assert changed and all("n * 2" in c for c in changed if c[0] == "-")
    assert all("n * 3" in c for c in changed if c[0] == "+")
    assert result.stdout.startswith(f"--- {out}\n+++ {out}\n")
    assert out.read_text() == before


def test_check_needs_an_output_to_compare_with(tree):
    result = invoke("convert", str(tree / "hello.py"), "--to", "flyte", "--check")
    assert result.exit_code == 2
    assert "-o" in result.stderr


def test_check_of_a_batch(tree, tmp_path):
    out = tmp_path / "out"
    assert invoke("convert", str(tree), "--to", "kfp", "-o", str(out)).exit_code == 0
    fresh = invoke("convert", str(tree), "--to", "kfp", "-o", str(out), "--check")
    assert fresh.exit_code == 0, fresh.stderr
    assert fresh.stderr.splitlines() == [f"transpile: 0 stale, 2 up to date in {out}"]
    (out / "nested" / "lossy.py").write_text("# edited by hand\n")
    (out / "hello.py").unlink()
    stale = invoke("convert", str(tree), "--to", "kfp", "-o", str(out), "--check")
    assert stale.exit_code == 1
    assert stale.stderr.splitlines() == [
        f"would rewrite {out / 'hello.py'} (missing) from {tree / 'hello.py'}",
        f"would rewrite {out / 'nested' / 'lossy.py'} from {tree / 'nested' / 'lossy.py'}",
        f"transpile: 2 stale, 0 up to date in {out}",
    ]
    assert (out / "nested" / "lossy.py").read_text() == "# edited by hand\n"
    assert not (out / "hello.py").exists()
    quiet = invoke("convert", str(tree), "--to", "kfp", "-o", str(out), "--check", "-q")
    assert quiet.exit_code == 1
    assert len(quiet.stderr.splitlines()) == 2  # the stale outputs, no summary


def test_check_of_a_batch_with_a_broken_source_exits_2(tree, tmp_path):
    out = tmp_path / "out"
    invoke("convert", str(tree), "--to", "kfp", "-o", str(out))
    (tree / "broken.py").write_text(HELLO.replace("def end(self):", "def end(self)"))
    result = invoke("convert", str(tree), "--to", "kfp", "-o", str(out), "--check")
    assert result.exit_code == 2
    assert "broken.py" in result.stderr


def test_check_of_a_folder_without_python_files_is_an_error_as_converting_it_is(tmp_path):
    (tmp_path / "empty").mkdir()
    for check in ([], ["--check"]):
        result = invoke("convert", str(tmp_path / "empty"), "--to", "kfp", "-o", "out", *check)
        assert result.exit_code == 2
        assert result.stderr == f"transpile: no Python files found in {tmp_path / 'empty'}\n"


# --- a batch re-run ------------------------------------------------------------------------------


def test_batch_rerun_refuses_before_converting(tree, tmp_path):
    out = tmp_path / "out"
    first = invoke("convert", str(tree), "--to", "kfp", "-o", str(out))
    assert first.exit_code == 0
    assert "lossy.py" in first.stderr  # its lossy diagnostic, the first time
    again = invoke("convert", str(tree), "--to", "kfp", "-o", str(out))
    assert again.exit_code == 2
    refusals = [line for line in again.stderr.splitlines() if "refused to overwrite" in line]
    assert len(refusals) == 2  # one line per refused file
    warnings = [line for line in again.stderr.splitlines() if re.search(r":\d+:\d+: TP", line)]
    assert warnings == []  # not converted again: no repeated warnings


def test_batch_rerun_converts_only_the_new_files(tree, tmp_path):
    out = tmp_path / "out"
    invoke("convert", str(tree), "--to", "kfp", "-o", str(out))
    (tree / "second.py").write_text(HELLO.replace("HelloFlow", "SecondFlow"))
    again = invoke("convert", str(tree), "--to", "kfp", "-o", str(out))
    assert again.exit_code == 2  # two refusals
    assert (out / "second.py").is_file()
    assert "1 converted" in again.stderr


# --- quiet -----------------------------------------------------------------------------------------


def test_quiet_convert_prints_errors_only(tree, tmp_path):
    loud = invoke("convert", str(tree / "nested" / "lossy.py"), "--to", "flyte")
    quiet = invoke("convert", str(tree / "nested" / "lossy.py"), "--to", "flyte", "-q")
    assert loud.stderr and quiet.stderr == ""
    assert loud.stdout == quiet.stdout
    batch = invoke("convert", str(tree), "--to", "flyte", "-o", str(tmp_path / "o"), "--quiet")
    assert batch.exit_code == 0 and batch.stderr == ""
    broken = tree / "broken.py"
    broken.write_text("from metaflow import FlowSpec\ndef f(:\n")
    failed = invoke("convert", str(broken), "--to", "flyte", "-q")
    assert failed.exit_code == 2 and "broken.py:2" in failed.stderr


def test_quiet_report_inspect_and_diff(tree):
    lossy = str(tree / "nested" / "lossy.py")
    assert invoke("inspect", lossy).stderr and invoke("inspect", lossy, "-q").stderr == ""
    report = invoke("report", lossy, "--to", "kfp", "-q")
    assert report.exit_code == 0 and report.stderr == "" and report.stdout
    different = invoke("diff", str(tree / "hello.py"), lossy, "-q")
    assert different.exit_code in (0, 1) and different.stdout == ""


# --- help --------------------------------------------------------------------------------------


def test_help_lists_every_command_with_its_whole_summary():
    listing = invoke("--help").stdout
    block = " ".join(listing.split("Commands:")[1].split())
    for name, command in sorted(cli.commands.items()):
        summary = " ".join(command.help.split("\n\n")[0].split())
        assert f"{name} {summary}" in block
    assert "..." not in block


def test_readme_command_block_lists_every_command():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Commands", 1)[1].split("```", 2)[1]
    listed = {line.split()[1] for line in block.splitlines() if line.startswith("transpile ")}
    assert listed == set(cli.commands)
