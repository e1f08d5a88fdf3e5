"""Text from the input never becomes code it was not (issue 21).

Hostile strings (newlines, CR, U+2028, NEL, form feeds, NUL, quotes, ``#``, backticks, a call
that creates a file) go into the file name, option values, parameter defaults and help texts,
and docstrings of a flow of each source framework. For every target, the output must hold
exactly the statements the same flow with a harmless ``x`` in those places gives (string values
aside), and importing it must create no file.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import itertools
import os
import sys
from pathlib import Path

import prerequisites
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transpile import api
from transpile.writing.render import formatting_deferred

PAYLOAD = "open('PWNED', 'w')"
FRAGMENTS = [
    "\n",
    "\r",
    "\r\n",
    "\u2028",
    "\u2029",
    "\x85",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x00",
    "\u202e",
    '"',
    "'",
    '"""',
    "'''",
    "#",
    "\\",
    "`",
    "|",
    "{",
    "}",
    " ",
    "<img src=x onerror=alert(1)>",
    "![t](https://evil.example/p.png)",
    PAYLOAD,
    f"\n{PAYLOAD}\n#",
    f'"""\n{PAYLOAD}\n"""',
]
hostile = st.builds(
    lambda parts, tail: "x" + "".join(parts) + tail,
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=6),
    st.text(max_size=4),
)


def metaflow_source(h: str) -> str:
    s = repr(h)
    return f"""{s}

from metaflow import FlowSpec, Parameter, kubernetes, retry, schedule, secrets, step, timeout


@schedule(cron="0 6 * * *", timezone={s})
class HostileFlow(FlowSpec):
    {s}

    name = Parameter("name", default={s}, help={s})

    @secrets(sources=[{s}])
    @retry(times=1, minutes_between_retries={s})
    @timeout(seconds={s})
    @step
    def start(self):
        {s}
        self.text = self.name + "!"
        self.next(self.work)

    @kubernetes(disk={s})
    @timeout(minutes={s}, hours={s})
    @step
    def work(self):
        self.size = len(self.text)
        self.next(self.end)

    @step
    def end(self):
        {s}
        self.done = self.size > 0


if __name__ == "__main__":
    HostileFlow()
"""


def flyte_source(h: str) -> str:
    s = repr(h)
    return f"""{s}

from flytekit import Secret, task, workflow


@task(cache=True, cache_version={s}, container_image={s}, secret_requests=[Secret(group={s})])
def shout(name: str) -> str:
    {s}
    return name + "!"


@task
def size(text: str) -> int:
    return len(text)


@workflow
def hostile(name: str = {s}) -> int:
    {s}
    return size(text=shout(name=name))
"""


def kfp_source(h: str) -> str:
    s = repr(h)
    return f"""{s}

from kfp import dsl


@dsl.component(base_image="python:3.11")
def shout(name: str) -> str:
    {s}
    return name + "!"


@dsl.component(base_image="python:3.11")
def size(text: str) -> int:
    return len(text)


@dsl.pipeline(name="hostile", description={s})
def hostile(name: str = {s}) -> int:
    {s}
    first = shout(name=name).set_display_name({s})
    first.set_env_variable(name="MODE", value={s})
    return size(text=first.output).output
"""


SOURCES = {"metaflow": metaflow_source, "flyte": flyte_source, "kfp": kfp_source}
TARGETS = {"metaflow": ("flyte", "kfp"), "flyte": ("metaflow", "kfp"), "kfp": ("metaflow", "flyte")}


class _Strings(ast.NodeTransformer):
    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        return ast.Constant("S") if isinstance(node.value, str) else node


def shape(code: str) -> str:
    """The module's statements with every string constant the same: what the output does."""
    return ast.dump(_Strings().visit(ast.parse(code)))


def convert(source: str, h: str, target: str, file_name: str) -> str:
    with formatting_deferred():
        result = api.convert_text(SOURCES[source](h), file_name, target, source)
    assert isinstance(result, api.Converted), result
    return result.code


@contextlib.contextmanager
def inside(folder: Path):
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


_counter = itertools.count()


def imports_cleanly(code: str, folder: Path) -> None:
    """Import the output from a file (never as __main__) with ``folder`` as the working
    directory: the module file is all the folder holds afterwards."""
    for leftover in folder.iterdir():
        leftover.unlink()
    if "flytekit" in sys.modules:  # launch plan names are global in a process
        sys.modules["flytekit"].LaunchPlan.CACHE.clear()
    name = f"hostile_output_{next(_counter)}"
    module_file = folder / f"{name}.py"
    module_file.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, module_file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # the frameworks look their tasks' modules up
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        with inside(folder):
            spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
        del sys.modules[name]
    assert sorted(p.name for p in folder.iterdir()) == [module_file.name]


_baselines: dict[tuple[str, str], str] = {}


def baseline(source: str, target: str) -> str:
    if (source, target) not in _baselines:
        _baselines[source, target] = shape(convert(source, "x", target, "flow.py"))
    return _baselines[source, target]


@pytest.mark.parametrize("target", ["metaflow", "flyte", "kfp"])
def test_hostile_text_adds_no_statement_and_runs_nothing(target, tmp_path_factory):
    prerequisites.module({"metaflow": "metaflow", "flyte": "flytekit", "kfp": "kfp"}[target])
    folder = tmp_path_factory.mktemp("import")
    sources = [s for s, targets in TARGETS.items() if target in targets]

    @settings(
        max_examples=1000,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        source=st.sampled_from(sources),
        h=hostile,
        file_name=hostile.map(lambda h: h.replace("/", "_").replace("\x00", "_") + ".py"),
    )
    def check(source, h, file_name):
        code = convert(source, h, target, file_name)
        assert shape(code) == baseline(source, target)
        assert code.splitlines()[0].startswith("# Generated by transpile from ")
        imports_cleanly(code, folder)

    check()


def test_the_check_sees_an_injected_statement(tmp_path):
    """The checks above fail on the output this issue found (a header line ended early)."""
    code = convert("metaflow", "x", "flyte", "flow.py")
    injected = code.replace("\n", f"\n{PAYLOAD}\n", 1)
    assert shape(injected) != baseline("metaflow", "flyte")
    with pytest.raises(AssertionError):
        imports_cleanly(injected, tmp_path)
    assert (tmp_path / "PWNED").exists()
