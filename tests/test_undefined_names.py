"""No output reads a name it never binds: the writers' last check (writing/missing.py) and the
suite-wide invariant over every emitted module (emitted.py)."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
import textwrap

import emitted
import libcst as cst
import pytest

from transpile.api import Converted, convert_text
from transpile.model.ir import Module
from transpile.reading.inference import TypeEnv, returned_type
from transpile.util.syntax import undefined_names
from transpile.writing.missing import provide_missing

# A Metaflow-only API used inside a step: nothing in Flyte or KFP provides it.
S3_FLOW = textwrap.dedent("""
    from metaflow import FlowSpec, S3, step


    class S3Flow(FlowSpec):
        @step
        def start(self):
            with S3(s3root="s3://bucket/run") as s3:
                self.urls = [o.url for o in s3.list_paths(["data/"])]
            self.next(self.end)

        @step
        def end(self):
            pass
""")


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("import os\nx = os.sep + y\n", ["y"]),
        ("def f():\n    return [g(i) for i in range(3)]\n", ["g"]),
        ("def f(a: Frame) -> int:\n    return 1\n", ["Frame"]),
        ("def f():\n    global G\n    G = 1\n\ndef h():\n    return G\n", []),
        ("class C:\n    y = 2\n\n    def m(self):\n        return y\n", ["y"]),
        (
            "try:\n    import yaml\nexcept ImportError:\n    yaml = None\nprint(yaml, __file__)\n",
            [],
        ),
        ("from os.path import *\nprint(join)\n", []),
    ],
)
def test_undefined_names_agree_with_ruff(source, names, tmp_path):
    assert undefined_names(source) == names
    path = tmp_path / "m.py"
    path.write_text(source, encoding="utf-8")
    ruff = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--select",
            "F821",
            "--isolated",
            "--no-cache",
            "--output-format",
            "concise",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert sorted(set(re.findall(r"Undefined name `(\w+)`", ruff.stdout))) == names


def test_a_missing_name_gets_a_stub_that_fails_with_its_name(tmp_path):
    code, notes = provide_missing("import os\n\n\ndef task():\n    return S3(os.sep)\n", None)
    assert undefined_names(code) == []
    assert [(d.code, d.lossy) for d in notes] == [("TP252", True)]
    assert "# TODO(transpile): TP252 'S3'" in code
    (tmp_path / "out.py").write_text(code, encoding="utf-8")
    namespace = runpy.run_path(str(tmp_path / "out.py"))  # the module loads
    with pytest.raises(NotImplementedError, match="transpile did not carry over 'S3'"):
        namespace["task"]()


def test_a_missing_type_gets_a_class_stub():
    code, _ = provide_missing("def f(a: Frame) -> int:\n    return 1\n", None)
    assert "class Frame:" in code and undefined_names(code) == []


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_a_metaflow_only_api_is_named_never_undefined(target):
    result = convert_text(S3_FLOW, "s3_flow.py", target)
    assert isinstance(result, Converted), result
    assert undefined_names(result.code) == []
    assert any(d.code == "TP252" and "'S3'" in d.message for d in result.diagnostics)
    assert any(d.lossy for d in result.diagnostics)  # never reported as exact


def test_the_invariant_check_finds_an_undefined_name(tmp_path):
    (tmp_path / "flyte_ok.py").write_text("import os\nprint(os.sep)\n", encoding="utf-8")
    (tmp_path / "kfp_bad.py").write_text("print(script_path())\n", encoding="utf-8")
    findings = emitted.check(tmp_path)
    assert len(findings) == 1 and "kfp_bad.py" in findings[0] and "script_path" in findings[0]


def test_a_name_the_source_module_defines_is_brought_in_with_what_it_needs():
    module = Module(
        imports=("import os", "import json"),
        definitions=(
            "ROOT = os.sep",
            "def script_path(name):\n    return os.path.join(ROOT, name)",
            "def unused():\n    return json.dumps(1)",
        ),
    )
    code, notes = provide_missing('X = script_path("rows.csv")\n', None, module)
    assert notes == [] and undefined_names(code) == []
    assert "import os" in code and "ROOT = os.sep" in code and "def script_path" in code
    assert "json" not in code and "unused" not in code
    assert code.index("ROOT =") < code.index("def script_path") < code.index("X = ")


@pytest.mark.parametrize(
    ("helper", "expected"),
    [
        ("def f(xs):\n    return xs[0], xs[-1]\n", "tuple[typing.Any, typing.Any]"),
        ("def f(x):\n    if x:\n        return 1, 'a'\n    return 2, 'b'\n", "tuple[int, str]"),
        ("def f(x):\n    return 1, 2\n    return 1\n", None),
        ("def f(x):\n    if x:\n        return\n    return 1, 2\n", None),
        ("def f(x):\n    yield 1, 2\n", None),
        ("def f(x):\n    def g():\n        return 1, 2\n    return 'n'\n", "str"),
    ],
)
def test_an_unannotated_helper_returns_what_its_returns_agree_on(helper, expected):
    function = cst.parse_module(helper).body[0]
    assert returned_type(function, TypeEnv()) == expected
