"""A flow's base classes read from modules of the same tree (reader/bases.py), and ``current.*``
inside a flow-class method (reader/methods.py). The equivalence runs are fixtures/flow_bases."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from transpile.api import Converted, Failed, convert_file, read_file

FLOW = """\
from metaflow import FlowSpec, current, step
{imports}


class F(FlowSpec, {bases}):
    @step
    def start(self):
        self.value = self.scaled(2)
        self.next(self.end)

    @step
    def end(self):
        self.label = self.name()
"""

MIXIN = """\
import math

FACTOR = 3


def twice(x):
    return 2 * x


class Scaling:
    def scaled(self, x):
        return twice(x) * FACTOR + math.floor(0.5)

    def name(self):
        return "scaling"
"""


def files(tmp_path: Path, flow: str, **modules: str) -> str:
    for name, text in modules.items():
        path = tmp_path / f"{name.replace('__', '/')}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    source = tmp_path / "flow.py"
    source.write_text(flow, encoding="utf-8")
    return str(source)


def converted(path: str, target: str = "flyte") -> Converted:
    result = convert_file(path, target)
    assert isinstance(result, Converted), result
    return result


def refused_at(path: str, line: int) -> Failed:
    result = convert_file(path, "flyte")
    assert isinstance(result, Failed), result
    first = result.diagnostics[0]
    assert (first.code, first.span.line) == ("TP120", line), first.render()
    assert "base class Scaling" in first.message
    return result


@pytest.mark.parametrize(
    "imports",
    ["from mixins import Scaling", "from pkg.mixins import Scaling", "from .mixins import Scaling"],
)
def test_a_base_from_a_module_of_the_tree_lends_methods_and_what_its_module_defines(
    tmp_path, imports
):
    modules = {"pkg__mixins": MIXIN, "pkg____init__": ""} if "pkg" in imports else {}
    path = files(tmp_path, FLOW.format(imports=imports, bases="Scaling"), mixins=MIXIN, **modules)
    result = converted(path)
    code = result.code
    assert "value = scaled(2)" in code and "def twice(x):" in code and "FACTOR = 3" in code
    assert "import math" in code and "mixins" not in code
    note = next(d for d in result.diagnostics if d.code == "TP201" and "Scaling" in d.message)
    assert note.span.line == 2


def test_the_flows_own_definitions_and_the_first_bases_win(tmp_path):
    other = """\
    class Naming:
        LABEL = "naming"

        def name(self):
            return self.LABEL

        def scaled(self, x):
            return -x
    """
    flow = FLOW.format(
        imports="from mixins import Scaling\nfrom naming import Naming", bases="Naming, Scaling"
    ).replace(
        "class F(FlowSpec, Naming, Scaling):",
        'class F(FlowSpec, Naming, Scaling):\n    LABEL = "flow"\n',
    )
    result = converted(files(tmp_path, flow, mixins=MIXIN, naming=other))
    assert "def scaled(x):\n    return -x" in result.code  # Naming comes first: its scaled
    assert 'LABEL = "flow"' in result.code and 'LABEL = "naming"' not in result.code


def test_a_step_and_a_base_of_the_base_come_along(tmp_path):
    mixin = MIXIN.replace("class Scaling:", "class Base:\n    OFFSET = 1\n\n\nclass Scaling(Base):")
    mixin += textwrap.indent(
        textwrap.dedent("""
        @step
        def middle(self):
            self.shifted = self.value + self.OFFSET
            self.next(self.end)
        """),
        "    ",
    )
    mixin = "from metaflow import step\n" + mixin
    flow = FLOW.format(imports="from mixins import Scaling", bases="Scaling").replace(
        "self.next(self.end)\n\n    @step\n    def end",
        "self.next(self.middle)\n\n    @step\n    def end",
    )
    result = converted(files(tmp_path, flow, mixins=mixin))
    assert "def middle(value: int)" in result.code
    assert "shifted = value + OFFSET" in result.code and "OFFSET = 1" in result.code


@pytest.mark.parametrize(
    ("importing", "module"),
    [("from naming import Named", "naming"), ("from .naming import Named", "naming")],
)
def test_a_base_the_base_imports_from_another_module_of_the_tree_comes_along(
    tmp_path, importing, module
):
    """Was TP120 (``name`` unseen): the base's own base came from a second sibling module."""
    mixin = MIXIN.replace("class Scaling:", "class Scaling(Named):")
    mixin = mixin.replace('    def name(self):\n        return "scaling"\n', "")
    mixin = f"{importing}\n{mixin}"
    named = """\
        SUFFIX = "-named"


        class Named:
            def name(self):
                return "scaling" + SUFFIX
        """
    flow = FLOW.format(imports="from mixins import Scaling", bases="Scaling")
    path = files(tmp_path, flow, mixins=mixin, **{module: named})
    result = converted(path)
    assert "label = name()" in result.code and 'return "scaling" + SUFFIX' in result.code
    assert 'SUFFIX = "-named"' in result.code and "naming import" not in result.code
    notes = [(d.code, Path(d.span.file).name, d.span.line) for d in result.diagnostics]
    assert ("TP201", "mixins.py", 1) in notes  # "base class Named read from naming.py"
    assert converted(path, "kfp").code.count('SUFFIX = "-named"') == 1  # in end's component


def test_a_base_not_found_is_refused_where_it_is_read(tmp_path):
    flow = FLOW.format(imports="from elsewhere import Scaling", bases="Scaling")
    flow = flow.replace("self.value = self.scaled(2)", "self.value = self.factor")
    refused_at(files(tmp_path, flow), 8)


@pytest.mark.parametrize(
    ("mixin", "why"),
    [
        (MIXIN + "\ndef broken(:\n", "could not be read"),
        (MIXIN.replace("import math", "from .util import math"), "imports from its own package"),
        (MIXIN.replace("FACTOR = 3", "FACTOR = 4\nLIMIT = 1"), "also bound in this file"),
    ],
    ids=["syntax error", "relative import", "a name bound differently"],
)
def test_a_base_that_cannot_be_read_statically_stays_refused(tmp_path, mixin, why):
    flow = FLOW.format(imports="from mixins import Scaling\nLIMIT = 2", bases="Scaling")
    flow = flow.replace("self.value = self.scaled(2)", "self.value = self.factor")
    result = refused_at(files(tmp_path, flow, mixins=mixin), 9)
    assert why in result.diagnostics[0].message


def test_a_diagnostic_inside_a_base_names_its_file_and_line(tmp_path):
    mixin = "from metaflow import step\n" + MIXIN  # Scaling's methods end on line 16
    mixin += "\n    @step\n    def middle(self):\n        self.kept = object()\n"
    mixin += "        self.next(self.end)\n"
    flow = FLOW.format(imports="from mixins import Scaling", bases="Scaling").replace(
        "self.next(self.end)\n\n    @step\n    def end",
        "self.next(self.middle)\n\n    @step\n    def end",
    )
    path = files(tmp_path, flow, mixins=mixin)
    result = converted(path)
    lines = [d.render(path) for d in result.diagnostics if d.code == "TP301"]
    assert lines == [
        (
            f"{tmp_path / 'mixins.py'}:20:9: TP301 cannot infer the type of artifact 'kept'; "
            "it travels as typing.Any (add an annotation: self.kept: T = ...)"
        )
    ]


METHOD_CURRENT = """\
from metaflow import FlowSpec, current, step


class F(FlowSpec):
    def where(self):
        return f"{current.flow_name}/{current.step_name}/{current.run_id}"

    def remember(self):
        self.at = self.where()

    @step
    def start(self):
        self.first = self.where()
        self.next(self.end)

    @step
    def end(self):
        self.remember()
"""


@pytest.mark.parametrize("target", ["flyte", "kfp", "airflow", "metaflow"])
def test_current_in_a_method_is_the_calling_steps(tmp_path, target):
    path = tmp_path / "flow.py"
    path.write_text(METHOD_CURRENT, encoding="utf-8")
    if target == "metaflow":
        from transpile.api import read_file, write

        code, _ = write("metaflow", read_file(str(path)).pipeline)  # type: ignore[union-attr]
    else:
        result = converted(str(path), target)
        code = result.code
        assert not any(d.code == "TP252" for d in result.diagnostics)
    assert "def where(*, current_flow_name, current_run_id, current_step_name):" in code
    assert "current_step_name='start'" in code.replace('"', "'")
    assert "current_step_name='end'" in code.replace('"', "'")
    assert "current_run_id=current_run_id" in code  # remember hands on what it was given
    assert "current_run_id=None" not in code


def test_a_bases_flow_decorators_come_along_unless_the_flow_has_its_own(tmp_path):
    mixin = "from metaflow import schedule\n\n\ndef tagged(cls):\n    return cls\n\n\n"
    mixin += MIXIN.replace("class Scaling:", "@tagged\n@schedule(daily=True)\nclass Scaling:")
    flow = FLOW.format(imports="from mixins import Scaling", bases="Scaling")
    path = files(tmp_path, flow, mixins=mixin)
    result = converted(path)
    notes = [(d.code, d.span.file, d.span.line) for d in result.diagnostics if d.code == "TP202"]
    assert ("TP202", str((tmp_path / "mixins.py").resolve()), 17) in notes  # @tagged
    read = read_file(path)
    assert [o.kind for o in read.pipeline.options] == ["schedule"]  # type: ignore[union-attr]
    own = flow.replace("class F(", "@schedule(hourly=True)\nclass F(").replace(
        "import FlowSpec,", "import FlowSpec, schedule,"
    )
    (tmp_path / "flow.py").write_text(own, encoding="utf-8")
    options = read_file(path).pipeline.options  # type: ignore[union-attr]
    assert [(o.kind, o.args) for o in options] == [("schedule", (("hourly", "True"),))]


def test_a_base_of_another_class_than_the_flow_stays_an_import(tmp_path):
    flow = FLOW.format(imports="from mixins import Scaling", bases="Scaling")
    flow = flow.replace("\n\nclass F(", "\n\nclass Helper(Scaling):\n    pass\n\n\nclass F(", 1)
    flow = flow.replace("class F(FlowSpec, Scaling):", "class F(FlowSpec):")
    flow = flow.replace("self.scaled(2)", "Helper().scaled(2)").replace("self.name()", "'x'")
    result = converted(files(tmp_path, flow, mixins=MIXIN))
    assert "from mixins import Scaling" in result.code and "class Helper(Scaling):" in result.code
