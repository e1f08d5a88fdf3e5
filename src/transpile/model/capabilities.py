"""The capability table: what each framework can express. Writers consult it, the report
cites it, lint rules derive from it.

This module holds the rows (a capability key and what it means); each framework's package holds its
column (``Framework.capabilities``: key → support and note), and
``transpile.frameworks.capabilities()`` joins them. Support levels: ``exact`` (same meaning),
``approximate`` (nearest native construct, behaviour can differ: counts as lossy), ``none`` (a TODO
is left in the output: counts as lossy).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

Support = Literal["exact", "approximate", "none"]
Column = Mapping[str, tuple[Support, str]]  # capability key → (support, note) for one framework

# Capability key → what it stands for, in the order the report and lint list them.
KEYS: dict[str, str] = {
    "retry": "retry a failed step N times",
    "retry_delay": "wait between retries",
    "timeout": "stop a step that runs too long",
    "resources": "cpu, memory, gpu and disk for a step",
    "environment": "environment variables of a step",
    "packages": "Python packages a step installs",
    "image": "container image of a step",
    "cache": "reuse a step's earlier results for the same inputs",
    "catch": "keep going when a step fails, storing the exception",
    "card": "a report rendered for a step",
    "compute_platform": "scheduler-specific settings (queue, namespace, tolerations...)",
    "secrets": "secrets mounted into a step",
    "schedule": "run the pipeline on a schedule",
    "schedule_timezone": "time zone of a schedule",
    "project": "namespacing of deployments",
    "trigger": "start the pipeline on an event or another pipeline's end",
    "exit_hook": "code that runs when the pipeline ends",
    "run_context": "run ids, task ids and similar run metadata inside a step",
    "tuple_results": "a tuple handed back to the caller of the pipeline",
    "custom": "a decorator of the user's own (or one transpile does not know) on a step",
    "launch_settings": (
        "settings of a deployed pipeline (Flyte LaunchPlan notifications, labels, parallelism, "
        "output location, identity...)"
    ),
}


@dataclass(frozen=True)
class Capability:
    key: str
    summary: str
    support: dict[str, Support]
    notes: dict[str, str]

    def lossy(self, framework: str) -> bool:
        return self.support.get(framework, "none") != "exact"


def table(columns: Iterable[tuple[str, Column]]) -> dict[str, Capability]:
    """The whole table from each framework's column (in the order given); a key a column leaves
    out is ``none`` there."""
    columns = list(columns)
    return {
        key: Capability(
            key,
            summary,
            {name: column[key][0] for name, column in columns if key in column},
            {name: column[key][1] for name, column in columns if key in column},
        )
        for key, summary in KEYS.items()
    }
