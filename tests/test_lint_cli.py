"""``transpile lint`` as ruff users expect it: options, settings, suppression comments, files.

Each test runs the command in-process in a scratch project (its own pyproject.toml, its own git
repository where .gitignore matters) built from the lint fixtures.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from transpile.cli import cli
from transpile.lint import formats

ROOT = Path(__file__).parents[1]
LINT_FIXTURES = ROOT / "fixtures" / "lint"
BATCH = (LINT_FIXTURES / "metaflow_batch.py").read_text()  # TP505 twice at 12:6 (flyte, kfp)
BATCH_LINE = '    @batch(cpu=4, memory=16000, queue="gpu-spot")'
NAME_PARAM = (LINT_FIXTURES / "metaflow_param_name.py").read_text()  # TP512 at 5:5
TOKEN = (LINT_FIXTURES / "flyte_hardcoded_token.py").read_text()  # TP514


def lint(*args: str, stdin: str | None = None):
    result = CliRunner().invoke(cli, ["lint", *args], input=stdin, catch_exceptions=False)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return result


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """flows/batch.py (TP505), flows/names.py (TP512), flows/token.py (TP514); cwd is the root."""
    root = tmp_path / "project"
    (root / "flows").mkdir(parents=True)
    (root / "flows" / "batch.py").write_text(BATCH)
    (root / "flows" / "names.py").write_text(NAME_PARAM)
    (root / "flows" / "token.py").write_text(TOKEN)
    monkeypatch.chdir(root)
    return root


def settings(root: Path, toml: str) -> None:
    (root / "pyproject.toml").write_text(f"[tool.transpile]\n{toml}")


def codes(output: str) -> list[str]:
    """``path CODE`` of each finding line of the text format."""
    return [
        f"{line.split(':')[0]} {line.split(': ')[1].split()[0]}"
        for line in output.splitlines()
        if line.count(":") >= 3
    ]


# --- options -----------------------------------------------------------------------------------


def test_output_format_is_ruffs_spelling_and_format_its_alias(project):
    spelt = lint("--output-format", "json", "flows/names.py")
    alias = lint("--format", "json", "flows/names.py")
    assert spelt.exit_code == alias.exit_code == 1
    assert spelt.stdout == alias.stdout
    assert [row["code"] for row in json.loads(spelt.stdout)] == ["TP512"]


def test_statistics_count_each_rule_most_first(project):
    result = lint("--statistics", "flows")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "2\tTP505\toption-not-portable",
        "1\tTP512\treserved-parameter-name",
        "1\tTP514\tliteral-secret",
    ]
    rows = json.loads(lint("--statistics", "--output-format", "json", "flows").stdout)
    assert rows[0] == {"code": "TP505", "name": "option-not-portable", "count": 2}
    assert lint("--statistics", "--output-format", "sarif", "flows").exit_code == 2


def test_quiet_prints_the_findings_and_nothing_else(project):
    loud = lint("flows/names.py")
    quiet = lint("-q", "flows/names.py")
    assert loud.stdout.splitlines()[-1] == "Found 1 finding."
    assert quiet.stdout.splitlines() == loud.stdout.splitlines()[:-1]
    assert quiet.exit_code == 1


def test_exit_zero_keeps_the_findings_but_not_for_errors(project):
    result = lint("--exit-zero", "flows/names.py")
    assert result.exit_code == 0
    assert "TP512" in result.stdout
    (project / "broken.py").write_text("from metaflow import step\ndef f(:\n")
    assert lint("--exit-zero", "broken.py").exit_code == 2


def test_extend_select_adds_to_select_on_the_command_line_and_in_settings(project):
    assert codes(lint("--select", "TP512", "--extend-select", "TP514", "flows").stdout) == [
        "flows/names.py TP512",
        "flows/token.py TP514",
    ]
    settings(project, 'select = ["TP512"]\nextend-select = ["TP505"]\n')
    assert codes(lint("flows").stdout) == [
        "flows/batch.py TP505",
        "flows/batch.py TP505",
        "flows/names.py TP512",
    ]


def test_stdin_is_linted_under_its_given_name(project):
    named = lint("--stdin-filename", "flows/piped.py", "-", stdin=NAME_PARAM)
    assert named.exit_code == 1
    assert named.stdout.startswith("flows/piped.py:5:5: TP512 ")
    anonymous = lint("-", stdin=NAME_PARAM)
    assert anonymous.stdout.startswith("-:5:5: TP512 ")
    assert lint("-", stdin="print('not a pipeline')\n").exit_code == 0
    assert lint("-", stdin="from metaflow import step\ndef f(:\n").exit_code == 2
    # standard input is read as a file is: binary content is refused the same way
    binary = lint("-", stdin="x = 1\x00\n")
    assert (binary.exit_code, binary.stderr) == (
        2,
        "-:1:1: TP002 not Python source (binary content)\n",
    )


def test_stdin_per_file_settings_follow_the_given_name(project):
    settings(project, '[tool.transpile.per-file-ignores]\n"flows/legacy/*.py" = ["TP512"]\n')
    assert lint("--stdin-filename", "flows/legacy/a.py", "-", stdin=NAME_PARAM).exit_code == 0
    assert lint("--stdin-filename", "flows/new.py", "-", stdin=NAME_PARAM).exit_code == 1


def test_rule_explains_one_rule_in_plain_text():
    result = CliRunner().invoke(cli, ["rule", "tp505"])
    assert result.exit_code == 0
    first, _, *rest = result.stdout.splitlines()
    assert first == "TP505 (option-not-portable)"
    assert any(line.startswith("Why: ") for line in rest)
    assert "``" not in result.stdout  # reST literals become Markdown code spans
    assert "`@batch`" in result.stdout
    unknown = CliRunner().invoke(cli, ["rule", "TP999"])
    assert unknown.exit_code == 2
    assert "unknown rule code 'TP999'" in unknown.stderr


def test_rules_table_has_no_rest_markup():
    listing = CliRunner().invoke(cli, ["rules"]).stdout
    assert "``" not in listing and "`@batch`" in listing


# --- colour ------------------------------------------------------------------------------------


def test_colour_only_on_a_terminal_and_never_under_no_color(project, monkeypatch):
    import sys

    from transpile import cli as cli_module

    assert "\x1b[" not in lint("flows/names.py").stdout  # CliRunner's stdout is not a terminal
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli_module._colour() is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli_module._colour() is False
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: set and empty does not count
    assert cli_module._colour() is True


def test_coloured_text_is_the_plain_text_with_styles():
    from transpile.lint.engine import Finding, LintReport

    report = LintReport((Finding("a.py", 3, 5, "TP501", "computed-transition", "m"),), (), 1)
    plain = formats.text(report)
    coloured = formats.text(report, colour=True)
    assert "\x1b[1m" in coloured and "\x1b[31m" in coloured
    import click

    assert click.unstyle(coloured) == plain


# --- settings ----------------------------------------------------------------------------------


def test_unknown_setting_is_an_error_naming_the_key(project):
    settings(project, 'selct = ["TP5"]\n')
    result = lint("flows")
    assert result.exit_code == 2
    assert "unknown key 'selct'" in result.stderr and "pyproject.toml" in result.stderr


@pytest.mark.parametrize(
    ("toml", "where"),
    [
        ('ignore = ["TP999"]\n', "[tool.transpile] ignore: unknown rule code 'TP999'"),
        ('extend-select = ["XX1"]\n', "[tool.transpile] extend-select: unknown rule code 'XX1'"),
        (
            '[tool.transpile.per-file-ignores]\n"a.py" = ["TP777"]\n',
            "[tool.transpile] per-file-ignores.a.py: unknown rule code 'TP777'",
        ),
    ],
)
def test_unknown_code_in_settings_is_an_error_naming_it(project, toml, where):
    settings(project, toml)
    result = lint("flows")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"transpile: {project / 'pyproject.toml'}: {where} (transpile rules lists them)"
    )


def test_exclude_settings_replace_or_extend_the_defaults(project):
    (project / "build").mkdir()
    (project / "build" / "copy.py").write_text(NAME_PARAM)
    assert "build/copy.py TP512" not in codes(lint(".").stdout)  # ruff's defaults skip build/
    settings(project, 'extend-exclude = ["flows/token.py"]\n')
    assert codes(lint(".").stdout) == [
        "flows/batch.py TP505",
        "flows/batch.py TP505",
        "flows/names.py TP512",
    ]
    settings(project, 'exclude = ["flows/batch.py"]\n')  # replaces the defaults: build/ is read
    assert codes(lint(".").stdout) == [
        "build/copy.py TP512",
        "flows/names.py TP512",
        "flows/token.py TP514",
    ]


def test_a_named_file_is_read_unless_force_exclude(project):
    settings(project, 'extend-exclude = ["flows/names.py"]\n')
    assert lint("flows/names.py").exit_code == 1
    assert lint("--force-exclude", "flows/names.py").exit_code == 0
    settings(project, 'extend-exclude = ["flows/"]\nforce-exclude = true\n')
    assert lint("flows/names.py").exit_code == 0  # excluded through its directory
    assert lint("--stdin-filename", "flows/x.py", "-", stdin=NAME_PARAM).exit_code == 0


def test_exclude_on_the_command_line(project):
    assert codes(lint("--extend-exclude", "token.py,names.py", ".").stdout) == [
        "flows/batch.py TP505",
        "flows/batch.py TP505",
    ]


@pytest.mark.requires("git")
def test_gitignore_is_respected_unless_turned_off(project):
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (project / ".gitignore").write_text("flows/token.py\n")
    (project / "flows" / ".gitignore").write_text("names.py\n!batch.py\n")
    assert codes(lint(".").stdout) == ["flows/batch.py TP505", "flows/batch.py TP505"]
    assert lint("--force-exclude", "flows/names.py").exit_code == 0
    settings(project, "respect-gitignore = false\n")
    assert len(codes(lint(".").stdout)) == 4


def test_gitignore_of_a_parent_directory_outside_the_repository_is_not_read(tmp_path, monkeypatch):
    (tmp_path / ".gitignore").write_text("*.py\n")  # not in any repository: git ignores it too
    root = tmp_path / "plain"
    root.mkdir()
    (root / "names.py").write_text(NAME_PARAM)
    monkeypatch.chdir(root)
    assert lint(".").exit_code == 1


# --- suppression comments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa: TP505",
        "# noqa:TP505,E501",
        "# NOQA: E501 TP505",
        "# noqa",
        "# transpile: ignore[TP505]",
        "# transpile: ignore",
    ],
)
def test_suppression_comments_silence_the_line(project, comment):
    (project / "flows" / "batch.py").write_text(
        BATCH.replace(BATCH_LINE, f"{BATCH_LINE}  {comment}")
    )
    assert lint("flows/batch.py").exit_code == 0


def test_a_comment_for_another_code_does_not_silence(project):
    text = BATCH.replace(BATCH_LINE, f"{BATCH_LINE}  # noqa: TP512, E501")
    (project / "flows" / "batch.py").write_text(text)
    assert lint("flows/batch.py").exit_code == 1


@pytest.mark.parametrize(
    ("comment", "column"),
    [("# noqa: TP595", 52), ("# noqa: E501, TP5", 52), ("# transpile: ignore[TP505, TP9]", 52)],
)
def test_unknown_code_in_a_comment_is_an_error_at_its_spot(project, comment, column):
    (project / "flows" / "batch.py").write_text(
        BATCH.replace(BATCH_LINE, f"{BATCH_LINE}  {comment}")
    )
    result = lint("flows/batch.py")
    assert result.exit_code == 2
    assert f"flows/batch.py:12:{column}: TP008 unknown rule code" in result.stderr


def test_other_linters_codes_in_noqa_are_theirs(project):
    (project / "flows" / "batch.py").write_text(
        BATCH.replace("from metaflow", "import os  # noqa: F401, E402\nfrom metaflow")
    )
    assert lint("-q", "flows/batch.py").stderr == ""


# --- machine formats ---------------------------------------------------------------------------


def test_github_annotation_level_is_the_sarif_level(project):
    sarif = json.loads(lint("--output-format", "sarif", "flows/names.py").stdout)
    level = sarif["runs"][0]["results"][0]["level"]
    rule = sarif["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["defaultConfiguration"]["level"] == level
    github = lint("--output-format", "github", "flows/names.py").stdout
    assert github.startswith(f"::{level} ")


def test_sarif_rules_carry_help_uri_markdown_and_tags():
    rules = json.loads(formats.sarif(_empty()))["runs"][0]["tool"]["driver"]["rules"]
    batch = next(r for r in rules if r["id"] == "TP505")
    assert batch["helpUri"].endswith("README.md#tp505")
    assert batch["help"]["markdown"].startswith("## TP505 `option-not-portable`\n")
    assert "`@batch`" in batch["help"]["markdown"] and "``" not in batch["help"]["markdown"]
    assert batch["properties"]["tags"] == ["portability", "flyte", "kfp", "metaflow"]
    dynamic = next(r for r in rules if r["id"] == "TP508")
    assert dynamic["properties"]["tags"] == ["portability", "flyte", "to-kfp", "to-metaflow"]


def test_readme_has_an_anchor_for_every_help_uri():
    readme = (ROOT / "README.md").read_text()
    rules = json.loads(formats.sarif(_empty()))["runs"][0]["tool"]["driver"]["rules"]
    for rule in rules:
        anchor = rule["helpUri"].rsplit("#", 1)[1]
        assert f'<a id="{anchor}"></a>' in readme


def _empty():
    from transpile.lint.engine import LintReport

    return LintReport((), (), 0)
