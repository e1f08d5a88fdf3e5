"""A Jinja template (``{{ ds }}``, ``{{ params.x }}``, a macro) in an Airflow task's arguments.

Why: Airflow renders templated fields just before a task runs, from the run's context (the logical
date, params, XCom). Metaflow, Flyte and KFP pass arguments as they are: the text ``{{ ds }}``
would reach the command unrendered.

Instead: make the value a DAG ``Param`` (a pipeline parameter in every target) or compute it in
the task from its inputs; a date the scheduler supplies becomes a parameter the trigger sets.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from ..unit import Hit, LintUnit

CODE = "TP518"
NAME = "airflow-template"
MESSAGE = "{template} is a Jinja template, which only Airflow renders (into a task's arguments)"
FRAMEWORKS = frozenset({"airflow"})
TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)

VALID = [
    """
from airflow.operators.bash import BashOperator

copy = BashOperator(task_id="copy", bash_command="cp a.csv b.csv")


def render(text):
    return text.replace("{{ name }}", "x")  # a task's own string: plain text
""",
]
INVALID = [
    """
from airflow.operators.bash import BashOperator

copy = BashOperator(
    task_id="copy",
    bash_command="cp data/{{ ds }}.csv out/",  # error
)
STAMP = "{{ ts_nodash }}"  # error
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    """Templates in the DAG's own code (module level, ``with DAG`` blocks, loops; often a
    variable later passed to an operator), not in task bodies, whose strings are plain text."""
    for node in _outside_functions(unit.tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found = TEMPLATE.search(node.value)
            if found:
                yield unit.hit(node, MESSAGE.format(template=" ".join(found.group(0).split())))


def _outside_functions(node: ast.AST) -> Iterator[ast.AST]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        yield child
        yield from _outside_functions(child)
