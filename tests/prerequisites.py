"""What some tests need beyond ``pip install '.[test]'``: a program on PATH, a reachable index.

Each function below returns what it found (a program's path, an index URL) or, when the thing is
missing, skips the calling test with a reason that names what is missing and how to get it. With
``TRANSPILE_REQUIRE_ALL_TESTS=1`` in the environment (``.ci/run`` sets it, and installs the
programs) the same call fails the test instead, so CI cannot go green by skipping them.

A test module asks for its prerequisites with a mark, checked before each of its tests runs::

    pytestmark = pytest.mark.requires("git", "package_index")

(the names are the functions below; conftest.py loads this module as a pytest plugin), or calls
a function itself where it needs the result, as ``prerequisites.chromium()`` for the path.
"""

from __future__ import annotations

import functools
import importlib
import os
import shutil
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

REQUIRE = "TRANSPILE_REQUIRE_ALL_TESTS"
INDEX_TIMEOUT = 5  # seconds for one request to the index: reachable answers well within that


def missing(reason: str) -> NoReturn:
    """Skip the running test, or fail it when the environment requires every test to run."""
    if os.environ.get(REQUIRE, "") not in ("", "0"):
        pytest.fail(f"{reason} ({REQUIRE} is set: this test must run, not skip)", pytrace=False)
    pytest.skip(reason)


def chromium() -> str:
    """The headless browser the HTML report is checked in (tests/test_report_browser.py)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        missing(
            "chromium not found on PATH: install it (Debian: apt-get install chromium) to run "
            "the HTML report's browser tests"
        )
    return found


def git() -> str:
    """git, for the tests that make repositories (.gitignore handling, the pre-commit hooks)."""
    found = shutil.which("git")
    if not found:
        missing(
            "git not found on PATH: install it (Debian: apt-get install git) to run the tests "
            "that make a git repository (.gitignore handling, the pre-commit hooks)"
        )
    return found


def package_index() -> str:
    """The package index pip installs from, if it answers: pre-commit builds a hook's
    environment with pip (tests/test_lint_precommit.py, tests/test_precommit_hooks.py)."""
    url, problem = _index_check()
    if problem:
        missing(
            f"package index {url} not reachable ({problem}): pre-commit builds the hook's "
            "environment with pip from it; connect to it, or point PIP_INDEX_URL at a reachable "
            "index or mirror, to run the pre-commit hook tests"
        )
    return url


def module(name: str) -> ModuleType:
    """A framework the test extra installs (metaflow, flytekit, kfp), imported."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        missing(f"{name} cannot be imported ({error}): pip install '.[test]' installs it")


@functools.cache
def _index_check() -> tuple[str, str]:
    """(the index URL pip would use, why it cannot be used or "") -- once per process."""
    url = os.environ.get("PIP_INDEX_URL") or _configured_index() or _default_index()
    if not url:
        return "(pip's default)", "pip is not installed in this environment"
    if os.environ.get("PIP_NO_INDEX", "").lower() in ("1", "true", "yes", "on"):
        return url, "PIP_NO_INDEX is set"
    parts = urlsplit(url)
    if parts.scheme == "file":
        return url, "" if Path(urllib.request.url2pathname(parts.path)).is_dir() else "no folder"
    # one small project page of the simple API; any HTTP answer means the index is there
    request = urllib.request.Request(url.rstrip("/") + "/pip/", method="HEAD")
    cafile = os.environ.get("PIP_CERT") or None
    try:
        context = ssl.create_default_context(cafile=cafile)
        urllib.request.urlopen(request, timeout=INDEX_TIMEOUT, context=context).close()
    except urllib.error.HTTPError:
        return url, ""
    except (OSError, ValueError) as error:  # URLError, timeouts and refused connections
        return url, str(getattr(error, "reason", error)) or type(error).__name__
    return url, ""


def _configured_index() -> str | None:
    """index-url from pip's configuration files, as ``pip install`` reads it."""
    try:
        listed = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = {}
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        if key.endswith(".index-url") and not key.endswith("extra-index-url"):
            found[key.split(".")[0]] = value.strip().strip("'\"")
    return found.get("install") or found.get("global")


def _default_index() -> str:
    """pip's own default, the index a machine with no pip configuration installs from."""
    try:
        from pip._internal.models.index import PyPI  # internal, but where pip has long kept it
    except ImportError:
        return ""
    return PyPI.simple_url


CHECKS = {"chromium": chromium, "git": git, "package_index": package_index}


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "requires(*names): the test needs these prerequisites (tests/prerequisites.py): "
        "skipped without them, failed without them when " + REQUIRE + " is set",
    )


@pytest.hookimpl(tryfirst=True)  # before the test's fixtures are made
def pytest_runtest_setup(item):
    for mark in item.iter_markers("requires"):
        for name in mark.args:
            CHECKS[name]()
