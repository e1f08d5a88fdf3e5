"""``transpile lint`` on whole files: fixtures, targets, configuration, ignores, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tomllib

from transpile.cli import run
from transpile.lint import config as lint_config
from transpile.lint.config import LintConfig
from transpile.lint.engine import GENERATED_MARKER, lint_paths, lint_text

ROOT = Path(__file__).parents[1]
LINT_FIXTURES = ROOT / "fixtures" / "lint"
EXPECTED = tomllib.loads((LINT_FIXTURES / "expected.toml").read_text())
# Findings on the conversion fixtures that are real (listed in the lint report): (code, text in
# the flagged line). Other engineers edit these fixtures, so lines are found by their text.
FIXTURE_FINDINGS = {
    "kfp_wild_platform": [  # kfp.kubernetes settings: Metaflow TODOs, and one no target takes
        ("TP516", "kubernetes.use_secret_as_env("),
        ("TP516", "kubernetes.add_toleration("),
        ("TP516", 'kubernetes.set_image_pull_secrets(summed, ["regcred"])'),
        ("TP516", "kubernetes.use_config_map_as_env("),
        ("TP516", "kubernetes.use_field_path_as_env("),
    ],
    "decorators": [
        ("TP505", '@schedule(cron="0 6 * * *")'),  # KFP: a recurring run made with the client
        ("TP505", '@project(name="demo")'),  # Flyte project, KFP experiment
        ("TP505", '@project(name="demo")'),
        ("TP505", '@trigger(event="data_ready")'),  # neither has event triggers
        ("TP505", '@trigger(event="data_ready")'),
        ("TP505", "@timeout(seconds=60)"),  # no KFP timeout
        ("TP505", '@catch(var="err")'),  # no Flyte catch, KFP exit handler
        ("TP505", '@catch(var="err")'),
        ("TP505", "@card"),  # Flyte Deck, KFP Markdown artifact
        ("TP505", "@card"),
    ],
    "decorators_remote": [
        ("TP505", "@kubernetes(cpu=1, memory=1024)"),
        ("TP505", "@kubernetes(cpu=1, memory=1024)"),
        ("TP505", "@batch(cpu=1, memory=2048)"),
        ("TP505", "@batch(cpu=1, memory=2048)"),
        ("TP516", '@conda(packages={"six": "1.16.0"})'),  # pip on KFP
    ],
    # a list[int] input: a hand port to KFP would get floats (transpile binds the literal in the step)
    "flyte_wild_body": [
        ("TP511", "def count_stock(items: list[str], weights: list[int]) -> Stock:"),
        ("TP516", 'print("planning the order")'),  # runs once, at compile time
    ],
    # list[int] inputs; a FixedRate schedule becomes clock-aligned cron (reader) and a KFP
    # recurring-run helper (writer)
    "flyte_wild_maps": [
        ("TP511", "def write_report(lines: list[str], sizes: list[int]) -> FlyteFile:"),
        ("TP516", "schedule=FixedRate(duration=timedelta(minutes=15)),"),
        ("TP516", "schedule=FixedRate(duration=timedelta(minutes=15)),"),
    ],
    # a @dynamic and a list[int] input: portability findings a hand port would meet
    "flyte_wild_tree": [
        ("TP508", "@dynamic"),
        ("TP511", "def weigh(apples: list[int], scale: float) -> float:"),
    ],
    # list[int] inputs (each of the three entries converts to a module of its own: no finding)
    "flyte_three_entries": [
        ("TP511", "def summarize(values: list[int]) -> Summary:"),
        ("TP511", "def shortfall(values: list[int], minimum: int) -> list[int]:"),
    ],
    # a list[int] input, and an input called `name` (Metaflow renames it)
    "flyte_wild_failure": [
        ("TP511", "def check(values: list[int], limit: int) -> int:"),
        ("TP512", 'def guarded(name: str = "batch", limit: int = 4) -> int:'),
        # KFP: no exit handler around a pipeline with results (its compiler refuses them)
        ("TP516", "@workflow(on_failure=leave_note)"),
    ],
    # an input called `name`; the handler gets err=None (no target passes Flyte's error)
    "flyte_wild_cleanup": [
        ("TP512", 'def cluster_wf(name: str = "c1", epochs: int = 2):'),
        ("TP516", "@workflow(on_failure=clean_up)"),
    ],
    # secrets must be provided in each target; the secret read from an environment variable
    "flyte_wild_context": [
        ("TP505", '@task(secret_requests=[Secret(group=SECRET_GROUP, key="token")])'),
        ("TP516", 'token = ctx.secrets.get(SECRET_GROUP, "token")'),
    ],
    # Flyte caching: Metaflow never reuses results
    "flyte_table_stats": [
        ("TP505", "cache=True"),
        ("TP516", "@fl.task("),  # requests and limits differ
        ("TP516", "@fl.task("),  # cache version, for Metaflow
    ],
    # a pipeline parameter called `name`: a Metaflow port has to rename it
    "kfp_nested_settings": [
        ("TP512", "name: str"),
        ("TP516", "with dsl.ExitHandler(exit_task=announce_task):"),  # exit task, last step
    ],
    # `match.group(...) if match else None`: re's types are not known statically
    "wild_literals": [("TP510", 'match.group("name") if match else')],
    # @catch is approximated in Flyte and KFP (the exception is kept as text)
    "catch_failure": [
        ("TP505", '@catch(var="problem")'),
        ("TP505", '@catch(var="problem")'),
        ("TP505", '@catch(var="risky_error")'),
        ("TP505", '@catch(var="risky_error")'),
    ],
    # a Config's value has the shape of its file, unknown statically
    "config_values": [
        ("TP510", "self.title = self.settings.name.upper()"),
        ("TP516", "class ConfigFlow(FlowSpec):"),  # a tuple artifact, a list in Flyte
    ],
    # a property of the flow class and an unannotated module helper: no annotation to read
    "wild_tutorial": [
        ("TP510", "self.genre_list = self.genres"),
        ("TP510", "self.best = top_and_count("),
        ("TP516", "@logged"),  # an unknown decorator, for Flyte
        ("TP516", "@logged"),  # and for KFP
    ],
    # what a flow method that also sets an artifact returns: no annotation to read
    "keyed_records": [("TP510", 'self.rows = self.load(["name", "score"])')],
    # what a file opened in a ``with`` reads: lint follows no ``with`` binding
    "joined_scores": [("TP510", "self.text = handle.read()")],
    # what methods of base classes and of the flow class return: no annotation to read
    "flow_bases": [
        ("TP510", 'self.start_stamp = self.stamp("begin")'),
        ("TP510", "self.title = self.headline(self.total)"),
        ("TP510", "self.about = self.describe()"),
        ("TP510", 'self.summary_stamp = self.stamp("sum")'),
        ("TP510", "self.summary_seen = self.where()"),
        ("TP510", "self.offset_used = self.OFFSET"),
        ("TP516", "class GaugeFlow(FlowSpec, Scaling, Reporting):"),  # a tuple, a list in Flyte
    ],
    # what methods of the flow class set, and values of helpers: no annotation to read
    "flow_methods": [
        ("TP510", "self.audited = stage"),
        ("TP510", 'self.best_name = best[0]["name"]'),
        ("TP510", 'self.best_score = best[0]["score"]'),
        ("TP510", 'self.rows = self.query(["name", "score"])'),
        ("TP510", "self.top = self.ranked(picked, 2)"),
        ("TP510", "self.title = self.banner(self.summarize(self.merged))"),
        ("TP510", "self.count = self.size"),
    ],
    # what only convert says: the tuple artifacts Flyte returns as lists, an inexact option or
    # `current` value, a shell script run with subprocess... (lint agrees with convert)
    "current_usage": [
        ("TP516", "self.attempt = current.retry_count"),
        ("TP516", "self.running = current.is_running_flow"),
    ],
    "dataclass_tuple": [("TP516", "class DataclassTupleFlow(FlowSpec):")] * 3,
    "flyte_climate": [("TP516", "alert = (")],  # a conditional on a computed key
    "flyte_wild_shell": [
        ("TP516", "copied = stamp(x=note, word=word)"),
        ("TP516", "listing = pack(x=copied, y=box)"),
    ],
    "kfp_parallel_collect": [("TP516", "parallelism=2")],
    "kfp_wild_components": [("TP516", "link.set_retry(num_retries=10)")],
    "wild_features": [("TP516", "class FeatureEngineeringFlow(FlowSpec):")] * 3,
    "wild_playlist": [("TP516", "class PlayListFlow(FlowSpec):"), ("TP516", "@retry")],
}
SOURCES = sorted(p for fw in ("metaflow", "flyte", "kfp") for p in ROOT.glob(f"fixtures/*/{fw}.py"))
FLOW = textwrap.dedent(
    """\
    from metaflow import FlowSpec, catch, step


    class Flow(FlowSpec):
        @catch(var="err")
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass
    """
)


def codes_and_lines(path: Path, config: LintConfig | None = None) -> list[tuple[str, int]]:
    found = lint_text(path.read_text(), str(path), config or LintConfig())
    assert isinstance(found, list)
    return [(f.code, f.line) for f in found]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_lint_fixtures_report_their_one_problem(name):
    assert sorted(codes_and_lines(LINT_FIXTURES / name)) == sorted(map(tuple, EXPECTED[name]))


def test_every_lint_fixture_is_listed():
    assert sorted(p.name for p in LINT_FIXTURES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_conversion_fixtures_lint_clean_or_with_known_findings(source):
    lines = source.read_text().splitlines()
    found = [(code, lines[line - 1].strip()) for code, line in codes_and_lines(source)]
    expected = FIXTURE_FINDINGS.get(source.parent.name, [])
    assert len(found) == len(expected), found
    for (code, text), (expected_code, snippet) in zip(found, expected):
        assert code == expected_code and snippet in text


def test_cli_exit_codes_and_text(capsys):
    assert run(["lint", str(LINT_FIXTURES / "metaflow_foreach_clean.py")]) == 0
    assert capsys.readouterr().out == ""
    assert run(["lint", str(LINT_FIXTURES / "metaflow_param_name.py")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{LINT_FIXTURES / 'metaflow_param_name.py'}:5:5: TP512 parameter")
    assert out[-1] == "Found 1 finding."


def test_cli_json_parses(capsys):
    assert run(["lint", "--format", "json", str(LINT_FIXTURES / "kfp_python_if.py")]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [(r["code"], r["line"], r["column"], r["name"]) for r in rows] == [
        ("TP507", 16, 5, "runtime-control-flow")
    ]


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    broken = tmp_path / "broken.py"
    broken.write_text("from metaflow import FlowSpec\nclass F(FlowSpec:\n")
    assert run(["lint", str(broken), str(LINT_FIXTURES / "metaflow_param_name.py")]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"{broken}:2:17: TP003 syntax error: invalid syntax"]
    assert "TP512" in captured.out  # the other file is still linted


def test_missing_file_and_unknown_code_exit_2(tmp_path, capsys):
    assert run(["lint", str(tmp_path / "nope.py")]) == 2
    assert "nope.py:1:1: TP001 no such file" in capsys.readouterr().err
    assert run(["lint", "--select", "TP5999", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        "transpile: --select: unknown rule code 'TP5999' (transpile rules lists them)"
    )


def test_inline_ignore(tmp_path):
    path = tmp_path / "flow.py"
    path.write_text(
        FLOW.replace('@catch(var="err")', '@catch(var="err")  # transpile: ignore[TP505]')
    )
    assert codes_and_lines(path) == []
    path.write_text(
        FLOW.replace('@catch(var="err")', '@catch(var="err")  # transpile: ignore[TP501]')
    )
    assert codes_and_lines(path) == [("TP505", 5), ("TP505", 5)]
    path.write_text(FLOW.replace('@catch(var="err")', '@catch(var="err")  # transpile: ignore'))
    assert codes_and_lines(path) == []


def test_generated_files_are_skipped(tmp_path):
    from transpile import api

    converted = api.convert_file("fixtures/foreach_sum/metaflow.py", "flyte")
    assert converted.code.startswith(GENERATED_MARKER)  # what the writers write, lint knows
    WRITTEN = GENERATED_MARKER
    path = tmp_path / "flow.py"
    path.write_text(f"{WRITTEN} from flow.py\n{FLOW}")
    assert codes_and_lines(path) == []
    path.write_text(f"{FLOW}\n\n{WRITTEN} (quoted in a comment, not a marker)\n")
    assert codes_and_lines(path) == [("TP505", 5), ("TP505", 5)]


def test_targets_narrow_the_findings(tmp_path):
    path = tmp_path / "flow.py"
    path.write_text(FLOW)
    assert codes_and_lines(path, LintConfig(targets=("kfp",))) == [("TP505", 5)]
    assert codes_and_lines(path, LintConfig(targets=("metaflow",))) == []
    untyped = LINT_FIXTURES / "metaflow_untyped_model.py"
    assert codes_and_lines(untyped, LintConfig(targets=("flyte",))) == []  # Flyte pickles


def test_pyproject_settings(tmp_path, monkeypatch, capsys):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "a.py").write_text(FLOW)
    (flows / "legacy.py").write_text((LINT_FIXTURES / "metaflow_param_name.py").read_text())
    (tmp_path / "pyproject.toml").write_text(
        '[tool.transpile]\ntargets = ["flyte"]\nignore = ["TP514"]\n'
        '[tool.transpile.per-file-ignores]\n"flows/legacy.py" = ["TP512"]\n'
    )
    monkeypatch.chdir(tmp_path)
    settings = lint_config.load()
    assert settings.targets == ("flyte",) and settings.ignore == ("TP514",)
    report = lint_paths(["flows"], settings)
    assert [(Path(f.path).name, f.code, f.line) for f in report.findings] == [("a.py", "TP505", 5)]
    assert run(["lint", "flows", "--target", "kfp"]) == 1
    assert "is only approximated on kfp" in capsys.readouterr().out
    assert run(["lint", "flows", "--select", "TP512"]) == 0  # per-path ignore still applies


def test_bad_pyproject_is_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "pyproject.toml").write_text('[tool.transpile]\ntargets = "argo"\n')
    monkeypatch.chdir(tmp_path)
    assert run(["lint", "."]) == 2
    assert capsys.readouterr().err.strip() == (
        "transpile: unknown target 'argo' (choose from metaflow, flyte, kfp)"
    )


def test_files_without_a_pipeline_are_not_linted(tmp_path):
    path = tmp_path / "util.py"
    path.write_text('PASSWORD = "hunter22!"\n')
    assert codes_and_lines(path) == []


def test_lint_imports_nothing_heavy():
    """Start-up cost: no libcst, jinja2, writers, readers or frameworks on the lint path of the
    rules that read the file themselves (the two that report what convert says read it as
    convert does: without them, lint costs what its own rules cost)."""
    script = (
        "import sys\nfrom transpile.cli import run\n"
        f"run(['lint', '--ignore', 'TP515,TP516', {str(LINT_FIXTURES)!r}])\n"
        "heavy = ('libcst', 'jinja2', 'metaflow', 'flytekit', 'kfp', 'transpile.writing',"
        " 'transpile.reading', 'multiprocessing', 'concurrent.futures.process')\n"
        "parts = ('reader', 'writer')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy) or m.split('.')[3:4] in"
        " [[p] for p in parts]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "[]"
