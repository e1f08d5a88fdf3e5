"""The KFP writer's decisions in small tables: how a type travels, how its ints come back, what
module code a step body needs; and hand-built pipelines that no fixture covers."""

from __future__ import annotations

import ir_samples
import pytest

from transpile.frameworks.kfp.writer import write as kfp
from transpile.frameworks.kfp.writer.types import is_parameter, needs_restore, restore
from transpile.model.diagnostics import TranspileError
from transpile.model.ir import Module
from transpile.writing.deps import closure, free_names, module_definitions


@pytest.mark.parametrize(
    ("expr", "parameter"),
    [
        ("int", True),
        ("list[list[str]]", True),
        ("dict[str, float]", True),
        ("dict[int, str]", False),  # JSON keys are strings
        ("tuple[int, str]", False),
        ("set[int]", False),
        ("str | None", False),  # a component's parameter has one type
        ("dict[str, str | int]", True),  # unions of JSON values inside containers
        ("list[int | str]", True),
        # None inside: kfp.local refuses it ("Value must be one of the following types")
        ("list[int | str | None]", False),
        ("dict[str, str | None]", False),
        ("list[str | list[int]]", False),  # a container in a union: not restored
        ("list[str | Stats]", False),
        ("Stats", False),
        ("list[typing.Any]", False),
        ("typing.Any", False),
    ],
)
def test_which_types_travel_as_parameters(expr, parameter):
    assert is_parameter(expr) is parameter


@pytest.mark.parametrize(
    ("expr", "top", "expected"),
    [
        ("int", False, None),
        ("int", True, "int(x)"),
        ("float", True, None),
        ("list[str]", False, None),
        ("list[float]", False, None),
        ("list[int]", False, "[int(v) for v in x]"),
        ("dict[str, int]", False, "{k: int(v) for k, v in x.items()}"),
        ("list[list[int]]", False, "[[int(v2) for v2 in v] for v in x]"),
        ("dict[str, list[int]]", False, "{k: [int(v2) for v2 in v] for k, v in x.items()}"),
        ("list[dict[str, bool]]", False, None),
        ("list[int | str]", False, "[int(v) if isinstance(v, float) else v for v in x]"),
        (
            "dict[str, str | int]",
            False,
            "{k: int(v) if isinstance(v, float) else v for k, v in x.items()}",
        ),
        ("dict[str, str | bool]", False, None),
    ],
)
def test_ints_inside_containers_are_restored(expr, top, expected):
    assert restore("x", expr, top) == expected
    assert needs_restore(expr) is (expected is not None and expr != "int")


MODULE = Module(
    imports=("import math", "from collections import Counter, OrderedDict", "import os.path"),
    definitions=(
        "SCALE = 3",
        "UNUSED = 1",
        "def scaled(x):\n    return math.floor(x * SCALE)",
        "@dataclass\nclass Point:\n    x: int = SCALE",
        "def count(words):\n    return Counter(words)",
    ),
)


@pytest.mark.parametrize(
    ("body", "params", "needed"),
    [
        ("y = scaled(x)", ["x"], ["import math", "SCALE = 3", "def scaled"]),
        ("c = count(w)\nn = len(c)", ["w"], ["from collections import Counter", "def count"]),
        ("p = [Point() for _ in range(2)]", [], ["SCALE = 3", "class Point"]),
        ("SCALE = 2\ny = SCALE", [], []),  # a local of that name: not the module's
        ("p = os.path.join(a, b)", ["a", "b"], ["import os.path"]),
        ("y = x", ["x"], []),
    ],
)
def test_a_body_carries_the_module_code_it_uses(body, params, needed):
    definitions = module_definitions(MODULE)
    names = {n for d in definitions for n in d.binds}
    chosen = closure(free_names(body, params) & names, definitions)
    assert [d.source for d in chosen] == [
        next(d.source for d in definitions if d.source.startswith(n) or f"\n{n}" in d.source)
        for n in needed
    ]


@pytest.mark.parametrize("sample", [ir_samples.linear, ir_samples.branchy])
def test_hand_built_pipelines_convert(sample):
    code, _ = kfp.write(sample())
    compile(code, "emitted.py", "exec")
    assert "\n@dsl.pipeline\ndef " in code and 'if __name__ == "__main__":' in code


def test_a_switch_on_a_value_kfp_cannot_compare_is_refused():
    with pytest.raises(TranspileError) as failure:
        kfp.write(ir_samples.map_first())
    assert failure.value.diagnostic.code == "TP142"


RUN_CONTEXT = """
from metaflow import FlowSpec, current, step


class RunContextFlow(FlowSpec):
    @step
    def start(self):
        self.run = current.run_id
        self.task = current.task_id
        self.who = current.username
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_run_ids_come_from_kfp_placeholders():
    from transpile.api import Converted, convert_text

    result = convert_text(RUN_CONTEXT, "run_context.py", "kfp")
    assert isinstance(result, Converted), result
    code = result.code
    assert "def start(current_run_id: str, current_task_id: str" in code
    assert "current_run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER" in code
    assert "current_task_id=dsl.PIPELINE_TASK_ID_PLACEHOLDER" in code
    assert "who = None" in code and "TODO(transpile): TP211 current.username" in code


def test_two_collected_outputs_of_one_name_get_distinct_fields():
    """A foreach body ending in two steps whose outputs have one name: a Flyte workflow reading
    ``tag_out.tagged`` and ``tag_out.weight`` of a NamedTuple it cannot see (its class line
    gone) gives two steps each returning ``value``; the collected fields were both
    ``value_values`` (TP900)."""
    from pathlib import Path

    from transpile.api import Converted, convert_text

    golden = Path(__file__).parents[1] / "fixtures" / "foreach_index" / "expected" / "flyte.py"
    source = golden.read_text(encoding="utf-8").replace("class TagOutputs(NamedTuple):\n", "")
    result = convert_text(source, "flow.py", "kfp")
    assert isinstance(result, Converted), result
    assert "tag_out_tagged_value_values=dsl.Collected(" in result.code
    assert "tag_out_weight_value_values=dsl.Collected(" in result.code
