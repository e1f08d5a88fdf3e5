"""The pre-commit hook, run for real with ``pre-commit try-repo``.

try-repo keeps its hook environments in a store of its own under a temporary directory
(pre_commit/commands/try_repo.py), so PRE_COMMIT_HOME cannot share them: each run installs once.
It installs with pip from the package index pip is configured with: without one that answers (or
without git) these tests skip, saying so; ``.ci/run`` requires them (tests/prerequisites.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
LINT_FIXTURES = ROOT / "fixtures" / "lint"
# what pip needs to build and install transpile (hatch's sdist list) plus the hook manifest
PACKAGED = ("src", "templates", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml")

pytestmark = pytest.mark.requires("git", "package_index")


def git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def hook_repository(tmp: Path) -> Path:
    """A committed copy of this checkout, so try-repo installs exactly the files in the tree."""
    repo = tmp / "transpile"
    repo.mkdir()
    for name in PACKAGED:
        source = ROOT / name
        if source.is_dir():
            ignored = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(source, repo / name, ignore=ignored)
        else:
            shutil.copy2(source, repo / name)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hook under test")
    return repo


def user_project(tmp: Path, name: str, flow: Path) -> Path:
    project = tmp / name
    project.mkdir()
    shutil.copy2(flow, project / "flow.py")
    git(project, "init", "-q")
    git(project, "add", "flow.py")
    return project


def try_repo(repo: Path, project: Path) -> subprocess.CompletedProcess:
    # pre-commit's own log and cache stay under tmp, out of the user's ~/.cache
    env = {**os.environ, "PRE_COMMIT_HOME": str(project.parent / "pre-commit-home")}
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(repo), "transpile-lint"]
    return subprocess.run(
        [*command, "--all-files"], cwd=project, env=env, capture_output=True, text=True, check=False
    )


def test_try_repo_fails_on_batch_and_passes_on_a_clean_flow(tmp_path):
    repo = hook_repository(tmp_path)
    batch = try_repo(repo, user_project(tmp_path, "batch", LINT_FIXTURES / "metaflow_batch.py"))
    assert batch.returncode == 1, batch.stdout + batch.stderr
    assert "flow.py:12:6: TP505 @batch cannot be expressed on flyte" in batch.stdout
    clean_flow = LINT_FIXTURES / "metaflow_foreach_clean.py"
    clean = try_repo(repo, user_project(tmp_path, "clean", clean_flow))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Passed" in clean.stdout
