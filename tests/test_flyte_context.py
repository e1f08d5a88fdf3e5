"""flytekit's ``current_context()`` in Flyte task bodies (issue 15): read into the model's own
terms (``current.run_id``, a scratch-directory function, environment variables for secrets), so
every writer carries it its own way; what has no equivalent is ``None`` with a TODO at the line
and a lossy diagnostic, never a stub for an undefined ``flytekit``. The run-both-sides proof is
the flyte_wild_context fixture, here also with its secret set."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from transpile.api import Converted, convert_text
from transpile.verify.runs import CACHE_ENV

FLYTE_CONTEXT = re.compile(r"(?<![\w.])current_context\(\)")
FIXTURE = Path(__file__).parents[1] / "fixtures" / "flyte_wild_context" / "flyte.py"


def source(body: str, head: str = "") -> str:
    return (
        "import flytekit\nfrom flytekit import current_context, task, workflow\n"
        + textwrap.dedent(head)
        + "\n\n"
        + textwrap.dedent(body)
        + "\n\n@workflow\ndef wf(x: str = 'a') -> str:\n    return t(x=x)\n"
    )


def code_only(text: str) -> str:
    """``text`` without its comment lines (a TODO names what it could not carry)."""
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))


def converted(text: str, target: str) -> Converted:
    result = convert_text(text, "wf.py", target)
    assert isinstance(result, Converted), getattr(result, "reason", result)
    return result


def undefined_names(code: str, tmp_path: Path) -> str:
    path = tmp_path / "out.py"
    path.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "F821", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout if done.returncode else ""


def step_text(code: str, name: str = "t") -> str:
    """The lines of the step or component ``name`` (Metaflow method or KFP function)."""
    lines = code.splitlines()
    start = next(n for n, line in enumerate(lines) if line.strip().startswith(f"def {name}("))
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = next(
        (
            n
            for n in range(start + 1, len(lines))
            if lines[n].strip()
            and len(lines[n]) - len(lines[n].lstrip()) <= indent
            and not lines[n].lstrip().startswith(")")
        ),
        len(lines),
    )
    return "\n".join(lines[start:end])


@pytest.mark.parametrize("target", ["metaflow", "kfp", "airflow"])
def test_the_run_id_is_each_targets_own(target, tmp_path):
    text = source(
        """
        @task
        def t(x: str) -> str:
            return x + flytekit.current_context().execution_id.name
        """
    )
    result = converted(text, target)
    body = step_text(result.code)
    assert not FLYTE_CONTEXT.search(code_only(result.code)) and "TP252" not in result.code
    expected = {
        "metaflow": "current.run_id",
        "kfp": "current_run_id",
        "airflow": 'get_current_context()["run_id"]',
    }[target]
    assert expected in body
    if target == "kfp":
        assert "current_run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER" in result.code
    if target == "metaflow":
        assert "from metaflow import FlowSpec, Parameter, current, step" in result.code
    assert undefined_names(result.code, tmp_path) == ""


def test_an_alias_of_the_context_is_read_through_and_dropped(tmp_path):
    text = source(
        """
        @task
        def t(x: str) -> str:
            ctx = flytekit.current_context()
            keys = ctx.secrets
            ctx.logging.info("x is %s", x)
            return x + keys.get("vault", "token") + str(ctx.execution_id)
        """
    )
    result = converted(text, "metaflow")
    body = step_text(result.code)
    assert "ctx" not in body and "keys" not in body
    assert 'logging.getLogger(__name__).info("x is %s", self.x)' in body
    assert 'os.environ["VAULT_TOKEN"]' in body and "str(current.run_id)" in body
    assert "\nimport logging\nimport os\n" in result.code
    notes = {d.code: d for d in result.diagnostics if "task t" in d.message}
    assert notes["TP211"].lossy and "VAULT_TOKEN" in notes["TP211"].message
    assert (
        notes["TP211"].span.line
        == text.splitlines().index(
            '    return x + keys.get("vault", "token") + str(ctx.execution_id)'
        )
        + 1
    )
    assert notes["TP201"].severity == "info"  # the execution id as text: approximate
    assert undefined_names(result.code, tmp_path) == ""


def test_a_secret_named_by_constants_or_variables_reads_the_same_variable():
    text = source(
        """
        @task
        def t(x: str) -> str:
            a = current_context().secrets.get(GROUP, KEY)
            b = current_context().secrets.get(key="plain")
            c = current_context().secrets.get(x, "k")
            d = current_context().secrets.get_secrets_env_var(GROUP, KEY)
            return a + b + c + d
        """,
        head='GROUP = "db-group"\nKEY = "user"\n',
    )
    body = step_text(converted(text, "kfp").code)
    assert 'a = os.environ["DB-GROUP_USER"]' in body
    assert 'b = os.environ["PLAIN"]' in body
    assert 'c = os.environ["_".join([x, "k"]).upper()]' in body
    assert 'd = "DB-GROUP_USER"' in body


def test_one_scratch_directory_per_task_run_shared_with_helpers(tmp_path):
    text = source(
        """
        def scratch(name: str) -> str:
            return os.path.join(flytekit.current_context().working_directory, name)


        @task
        def t(x: str) -> str:
            path = os.path.join(current_context().working_directory, "a.txt")
            with open(path, "w") as f:
                f.write(x)
            with open(scratch("a.txt")) as f:
                return f.read()
        """,
        head="import os\n",
    )
    for target in ("metaflow", "kfp"):
        result = converted(text, target)
        assert "@functools.cache\ndef working_directory() -> str:" in result.code.replace(
            "    ", ""
        )
        assert not FLYTE_CONTEXT.search(code_only(result.code))
        assert "working_directory()" in step_text(result.code, "scratch")
        assert undefined_names(result.code, tmp_path) == ""
        assert not [d for d in result.diagnostics if d.lossy]


def test_a_name_that_is_taken_gets_another():
    text = source(
        """
        working_directory = "mine"


        @task
        def t(x: str) -> str:
            return x + working_directory + current_context().working_directory
        """
    )
    code = converted(text, "metaflow").code
    assert "def working_directory_() -> str:" in code
    assert "self.x + working_directory + working_directory_()" in code


def test_decks_are_dropped_with_a_todo_at_the_line():
    text = source(
        """
        @task
        def t(x: str) -> str:
            flytekit.Deck("summary", "<p>" + x + "</p>")
            board = flytekit.Deck("board")
            board.append("<b>more</b>")
            current_context().default_deck.append(x)
            y = x + "!"
            return y
        """
    )
    result = converted(text, "kfp")
    body = step_text(result.code)
    dropped = "# TODO(transpile): TP211 a Flyte deck was filled here; no deck in this target"
    assert body.count(dropped) == 4 and "Deck" not in result.code
    assert "pass" not in body  # the TODOs stand above the next statement
    first = text.splitlines().index('    flytekit.Deck("summary", "<p>" + x + "</p>")') + 1
    lines = sorted(d.span.line for d in result.diagnostics if "deck" in d.message)
    assert lines == [first, first + 1, first + 2, first + 3]


@pytest.mark.parametrize("target", ["metaflow", "kfp"])
def test_what_has_no_equivalent_is_none_with_a_todo_and_a_lossy_diagnostic(target, tmp_path):
    text = source(
        """
        @task
        def t(x: str) -> str:
            cp = current_context().checkpoint
            session = flytekit.current_context().spark_session
            prefix = current_context().raw_output_prefix
            project = current_context().execution_id.project
            describe(current_context())
            return x + str(cp) + str(session) + str(prefix) + str(project)
        """,
        head="def describe(value) -> None:\n    print(value)\n",
    )
    result = converted(text, target)
    body = step_text(result.code)
    for line in ("cp = None", "session = None", "prefix = None", "project = None"):
        assert line in body
    assert "describe(None)" in body
    todos = [line.strip() for line in body.splitlines() if "TODO(transpile): TP211" in line]
    assert len(todos) == 5
    assert any("checkpoint, Flyte's task checkpoint" in t for t in todos)
    assert any("execution_id.project" in t for t in todos)
    lossy = [d for d in result.diagnostics if d.code == "TP211"]
    assert len(lossy) == 5 and all(d.lossy and d.severity == "warning" for d in lossy)
    assert not FLYTE_CONTEXT.search(code_only(result.code))
    assert undefined_names(result.code, tmp_path) == ""


def test_flytes_internal_context_is_not_the_run_context():
    """``FlyteContextManager.current_context()`` is flytekit's internal context: not rewritten
    (the output names it as undefined, with a stub, as before)."""
    text = source(
        """
        @task
        def t(x: str) -> str:
            return x + str(FlyteContextManager.current_context().file_access)
        """,
        head="from flytekit import FlyteContextManager\n",
    )
    result = converted(text, "metaflow")
    assert "FlyteContextManager.current_context().file_access" in result.code
    assert any(d.code == "TP252" for d in result.diagnostics)


def test_a_body_with_its_own_current_keeps_it_and_says_the_run_id_is_lost():
    text = source(
        """
        @task
        def t(x: str) -> str:
            current = x.upper()
            return current + current_context().execution_id.name
        """
    )
    result = converted(text, "metaflow")
    body = step_text(result.code)
    assert "current.run_id" not in body and "self.current = self.x.upper()" not in body
    assert "current + None" in body
    assert any(d.code == "TP211" and "execution_id.name" in d.message for d in result.diagnostics)


def test_the_fixture_reads_no_context_in_its_outputs(tmp_path):
    for target in ("metaflow", "kfp", "airflow"):
        result = convert_text(FIXTURE.read_text(), "flyte.py", target)
        assert isinstance(result, Converted)
        assert not FLYTE_CONTEXT.search(code_only(result.code)) and "Deck(" not in result.code
        assert undefined_names(result.code, tmp_path) == ""


@pytest.mark.equivalence
@pytest.mark.parametrize("target", ["metaflow", "kfp"])
def test_a_secret_set_in_the_environment_reaches_the_target_as_in_flyte(
    target, tmp_path, monkeypatch
):
    """flytekit reads the secret VAULT_TOKEN in a local run; the conversion reads the same
    variable: with it set, both sides count its four characters (the fixture's runs, without
    it, get 0 on both sides)."""
    from staging import verified

    monkeypatch.setenv("VAULT_TOKEN", "abcd")
    # the session's run cache keys runs by their files and parameters, not the environment:
    # these runs must neither reuse the fixture's runs (token unset) nor be reused by them
    monkeypatch.delenv(CACHE_ENV, raising=False)
    result = verified(FIXTURE, target, {}, tmp_path)
    values = {v["name"]: v for v in result.values} if isinstance(result.values, list) else None
    assert values is None or values["o1"]["source"] == {"int": 4}
