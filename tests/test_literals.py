"""Strings with quotes, backslashes, line breaks, unicode and template-looking text come out as
the same Python values, and nothing from the input can reach a template as code."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from transpile.api import Converted, convert_file, convert_text
from transpile.writing.render import indent_block

SOURCE = Path(__file__).parents[1] / "fixtures" / "wild_literals" / "metaflow.py"


def _strings(tree: ast.AST) -> list[object]:
    """Every str and bytes constant, in order (docstrings included)."""
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))
    ]


def _function(tree: ast.Module, name: str) -> ast.FunctionDef:
    return next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_step_strings_keep_their_values(target):
    source = ast.parse(SOURCE.read_text(encoding="utf-8"))
    result = convert_file(str(SOURCE), target)
    assert isinstance(result, Converted), result
    emitted = ast.parse(result.code)
    for step in ("start", "end"):
        wanted = _strings(_function(source, step))
        got = _strings(_function(emitted, step))
        assert all(value in got for value in wanted), (step, set(wanted) - set(got))


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_parameter_defaults_keep_their_values(target):
    result = convert_file(str(SOURCE), target)
    entry = _function(ast.parse(result.code), "wild_literals_flow")
    defaults = dict(
        zip(
            [a.arg for a in entry.args.args][-len(entry.args.defaults) :],
            [ast.literal_eval(d) for d in entry.args.defaults],
        )
    )
    assert defaults == {
        "greeting": "He said \"hi\" and 'bye'\ttab \\ back {{ x }} {% y %} ü 名前 🚀",
        "pattern": r"^\d+\s*(?P<name>\w+)$",
    }


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("x = 1\ny = 2\n", "    x = 1\n    y = 2"),
        ("x = '''a\n  b\n\n   \nc'''\n", "    x = '''a\n  b\n\n   \nc'''"),
        ('f"""{x}\n  y"""\nz = 1\n', '    f"""{x}\n  y"""\n    z = 1'),
        ("if a:\n    b = 1\n\nc = 2\n", "    if a:\n        b = 1\n\n    c = 2"),
        ("s = 'a\\x0cb'\n", "    s = 'a\\x0cb'"),
    ],
    ids=["plain", "triple-quoted", "f-string", "blank-line", "form-feed-escape"],
)
def test_indenting_a_block_never_touches_a_string(block, expected):
    assert indent_block(block) == expected
    # the indented block, as a function body, still holds the same string values
    before = _strings(ast.parse(block))
    after = _strings(ast.parse(f"def f():\n{indent_block(block)}\n"))
    assert before == after


@pytest.mark.parametrize("target", ["flyte", "kfp"])
def test_template_syntax_in_names_and_docs_stays_text(target):
    flow = textwrap.dedent(
        '''\
        from metaflow import FlowSpec, step


        class F(FlowSpec):
            """{% for x in y %}{{ x }}{% endfor %} {# c #} \\"\\"\\" """

            @step
            def start(self):
                """{{ 7 * 7 }}"""
                self.x = "{{ 7 * 7 }}"
                self.next(self.end)

            @step
            def end(self):
                pass
        '''
    )
    result = convert_text(flow, "f.py", target)
    assert isinstance(result, Converted), result
    strings = _strings(ast.parse(result.code))
    assert "{{ 7 * 7 }}" in strings and "49" not in result.code
    assert any("{% for x in y %}{{ x }}{% endfor %} {# c #}" in str(s) for s in strings)


def test_kfp_line_break_default_is_reported_because_kfp_breaks_its_yaml(tmp_path):
    """KFP copies string defaults unescaped into the YAML header: prove it, then see TP202."""
    flow = SOURCE.read_text(encoding="utf-8").replace("\\ttab", "\\ntab")
    result = convert_text(flow, "flow.py", "kfp")
    assert isinstance(result, Converted), result
    notes = [d for d in result.diagnostics if d.code == "TP202" and "line break" in d.message]
    assert len(notes) == 1 and notes[0].lossy and notes[0].span.line == 12
    assert "# TODO(transpile): TP202 parameter 'greeting'" in result.code
    (tmp_path / "p.py").write_text(result.code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "p.py"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load((tmp_path / "wild_literals_flow.yaml").read_text(encoding="utf-8"))
