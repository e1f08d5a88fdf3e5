"""What the Airflow rules share: which calls are Airflow's, and the settings given to tasks."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..unit import LintUnit


def airflow_calls(unit: LintUnit) -> Iterator[tuple[ast.Call, str]]:
    """Every call of something the file imports from Airflow (an operator, a sensor, ``DAG``,
    a TaskFlow ``@task``...), with its full dotted name."""
    for node in ast.walk(unit.tree):
        if isinstance(node, ast.Call):
            full = unit.qualified(node)
            if full is not None and full.split(".")[0] == "airflow":
                yield node, full


def settings(unit: LintUnit, *names: str) -> Iterator[tuple[ast.AST, str, ast.expr]]:
    """Each task setting named in ``names``: a keyword of an Airflow call (an operator, a
    ``@task(...)`` decorator, ``DAG(...)``) or a key of a dict literal (``default_args``), as
    (where, name, value)."""
    for node in ast.walk(unit.tree):
        if isinstance(node, ast.Call) and _is_airflow(unit, node):
            for keyword in node.keywords:
                if keyword.arg in names:
                    yield keyword.value, keyword.arg, keyword.value
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in names:
                    yield key, key.value, value


def _is_airflow(unit: LintUnit, call: ast.Call) -> bool:
    full = unit.qualified(call)
    return full is not None and full.split(".")[0] == "airflow"
