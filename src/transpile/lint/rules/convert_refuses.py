"""Something `transpile convert` refuses for a target: the file would not convert at all.

Why: lint and convert must agree. A file that lints clean for a target but that convert then
refuses (exit 2) sends the user back to square one; the finding names the spot and the reason
convert gives, with convert's own code (`TP1xx` from reading, `TP2xx` from writing).

Instead: change the construct as the message says (convert's code is listed in the README's
diagnostics), or drop that target from `[tool.transpile] targets` if the file is not meant to move.
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import unit as lint_unit
from ..unit import Hit, LintUnit

CODE = "TP515"
NAME = "convert-refuses"
MESSAGE = "convert --to {targets} refuses this: {code} {message}"
FRAMEWORKS = frozenset({"metaflow", "flyte", "kfp", "airflow"})

VALID = [
    """
from metaflow import FlowSpec, step

class Flow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.end)

    @step
    def end(self):
        pass
""",
]
INVALID = [
    """
from metaflow import FlowSpec, step

class Flow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.end)

    @step
    def end(self):
        pass

    @step  # error
    def orphan(self):
        self.y = 2
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    yield from lint_unit.conversion_hits(unit, MESSAGE, refused=True)
