"""Both pre-commit hooks in a team's repository during a migration, through real ``git commit``s.

The repository keeps a Metaflow flow and its converted Flyte copy. ``pre-commit install`` puts
the hooks in front of every commit: ``transpile-lint`` blocks a portability problem and
``transpile-convert-check`` blocks a commit whose copy no longer matches its source; each passes
once the problem is fixed. The hooks' environment is built by pre-commit with pip, as a user's is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from test_lint_precommit import LINT_FIXTURES, git, hook_repository, pytestmark  # noqa: F401

CLEAN_FLOW = (LINT_FIXTURES / "metaflow_foreach_clean.py").read_text()
IDENTITY = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def hook_config(repo: Path, rev: str) -> str:
    return (
        "repos:\n"
        f"  - repo: {repo}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: transpile-lint\n"
        "      - id: transpile-convert-check\n"
        "        args: [flows/, --to, flyte, -o, flows_flyte/]\n"
    )


def run(project: Path, env: dict, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(command), cwd=project, env=env, capture_output=True, text=True, check=False
    )


def commit(project: Path, env: dict, message: str) -> subprocess.CompletedProcess:
    """``git commit`` of every change, through the installed pre-commit hook; git shows the
    hook's output on stderr, and it is moved to stdout here."""
    run(project, env, "git", "add", "-A")
    done = run(project, env, "git", "commit", "-q", "-m", message)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout + done.stderr, "")


def convert(project: Path, env: dict) -> None:
    done = run(
        project,
        env,
        *(sys.executable, "-m", "transpile", "convert", "flows/", "--to", "flyte"),
        *("-o", "flows_flyte/", "--force", "-q"),
    )
    assert done.returncode == 0, done.stderr


def test_both_hooks_guard_the_commits_of_a_migrating_repository(tmp_path):
    repo = hook_repository(tmp_path)
    rev = run(repo, dict(os.environ), "git", "rev-parse", "HEAD").stdout.strip()
    project = tmp_path / "team"
    (project / "flows").mkdir(parents=True)
    flow = project / "flows" / "regions.py"
    flow.write_text(CLEAN_FLOW)
    (project / ".pre-commit-config.yaml").write_text(hook_config(repo, rev))
    env = {**os.environ, **IDENTITY, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env.pop("PYTHONPATH", None)  # the hooks run the transpile pre-commit installed for them
    git(project, "init", "-q")
    installed = run(project, env, sys.executable, "-m", "pre_commit", "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    convert(project, env)

    first = commit(project, env, "a flow and its Flyte copy")
    assert first.returncode == 0, first.stdout + first.stderr

    # a portability problem: lint blocks the commit, whatever the copy says
    batch = CLEAN_FLOW.replace("import FlowSpec,", "import FlowSpec, batch,").replace(
        "    @step\n    def score", "    @batch(cpu=4)\n    @step\n    def score"
    )
    flow.write_text(batch)
    convert(project, env)
    blocked = commit(project, env, "score on AWS Batch")
    assert blocked.returncode != 0
    assert "regions.py:" in blocked.stdout and "TP505 @batch" in blocked.stdout
    assert "transpile lint" in blocked.stdout and "Failed" in blocked.stdout

    # the problem fixed, but the source changed without converting again: the copy is stale
    flow.write_text(CLEAN_FLOW.replace("len(region) * boost", "len(region) * boost + 1"))
    stale = commit(project, env, "score differently")
    assert stale.returncode != 0
    assert "would rewrite flows_flyte/regions.py from flows/regions.py" in stale.stdout
    lint_line = next(line for line in stale.stdout.splitlines() if "transpile lint" in line)
    assert lint_line.endswith("Passed")

    # converted again: both hooks pass and the commit lands
    convert(project, env)
    fixed = commit(project, env, "score differently, copy converted")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    log = run(project, env, "git", "log", "--format=%s").stdout.splitlines()
    assert log == ["score differently, copy converted", "a flow and its Flyte copy"]
