"""Something `transpile convert` writes for a target only approximately (a lossy diagnostic).

Why: lint and convert must agree. Where convert reports that its output is not an exact
translation (an option the target cannot express, a value that changes type on the way), the
file is not portable as written, even though it converts; `--strict` would fail on it.

Instead: change the construct as the message says, or accept the loss explicitly with
`# transpile: ignore[TP516]` on that line.
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import unit as lint_unit
from ..unit import Hit, LintUnit

CODE = "TP516"
NAME = "convert-loses"
MESSAGE = "convert --to {targets} writes this approximately: {code} {message}"
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
from metaflow import FlowSpec, current, step

class Flow(FlowSpec):
    @step
    def start(self):
        self.x = current.retry_count  # error
        self.next(self.end)

    @step
    def end(self):
        pass
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    yield from lint_unit.conversion_hits(unit, MESSAGE, refused=False)
