"""Airflow 3's ``@asset`` functions of one file as one pipeline.

Each ``@asset`` is a DAG of one task (both named after the asset) that materializes the asset
with the function's return value; an asset whose ``schedule`` names other assets of the file
runs when they are updated, and reads their values with
``context["ti"].xcom_pull(dag_id="up", task_ids=["up"], include_prior_dates=True)[0]``. The
targets have no data-triggered pipelines, so the file's chain of assets becomes one pipeline:
each asset a task, after the assets it is scheduled on, the pipeline scheduled as the one asset
no other asset triggers (its cron, preset or the Assets it waits for), and a pull of an upstream
asset's value a data edge (pulls.py). Said once at the chain: Airflow runs each as a DAG of its
own. The tree is changed in place into that of an equivalent ``@dag`` file (nodes keep their
places, so diagnostics name the asset's lines): the decorators become ``@task``, and a ``@dag``
function calls the tasks in order.
"""

from __future__ import annotations

import ast
from pathlib import Path

from transpile.model.diagnostics import Diagnostic, error

TASK, DAG = "_transpile_asset_task", "_transpile_asset_dag"


def assets_as_dag(reader) -> bool:
    """Rewrites ``reader.tree`` when it defines ``@asset`` functions and no DAG; True if so."""
    found: dict[str, tuple[ast.FunctionDef, ast.expr]] = {}
    for node in reader.tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            kind = reader.names.resolve(deco)
            if kind == "multi_asset":
                raise error("TP186", "@multi_asset is not read yet", reader.span(deco))
            if kind == "asset":
                found[_asset_name(node, deco)] = (node, deco)
    if not found:
        return False
    functions = {node.name: name for name, (node, _) in found.items()}
    upstream: dict[str, list[str]] = {}
    roots: list[str] = []
    for name, (node, deco) in found.items():
        schedule = _keyword(deco, "schedule")
        named = _named_assets(schedule, functions)
        if named is None:
            roots.append(name)
            continue
        missing = [n for n in named if n not in found]
        if missing or not named:
            raise error(
                "TP186",
                f"asset {name} is scheduled on {ast.unparse(schedule)}, which is not an "
                "asset of this file",
                reader.span(schedule),
            )
        upstream[name] = named
    if len(roots) != 1:
        spans = [reader.span(found[r][1]) for r in roots] or [
            reader.span(found[next(iter(found))][1])
        ]
        raise error(
            "TP186",
            f"the assets of this file start from {len(roots)} assets "
            f"({', '.join(roots) or 'none'}): one pipeline needs one",
            spans[0],
        )
    order = _ordered(list(found), upstream, reader, found)
    (root,) = roots
    _, root_deco = found[root]
    for name in order:
        node, deco = found[name]
        task = ast.copy_location(ast.Name(TASK, ast.Load()), deco)
        node.decorator_list = [task if d is deco else d for d in node.decorator_list]
    reader.names.names[TASK], reader.names.names[DAG] = "task", "dag"
    reader.asset_dags = set(found)
    body: list[ast.stmt] = []
    handles = {name: f"_{name}_asset" for name in order}
    for name in order:
        node, deco = found[name]
        call = ast.Call(ast.Name(node.name, ast.Load()), [], [])
        body.append(_at(ast.Assign([ast.Name(handles[name], ast.Store())], call), deco))
    for name in order:
        for up in upstream.get(name, []):
            edge = ast.BinOp(
                ast.Name(handles[up], ast.Load()), ast.RShift(), ast.Name(handles[name], ast.Load())
            )
            body.append(_at(ast.Expr(edge), found[name][1]))
    keywords = []
    schedule = _keyword(root_deco, "schedule")
    if schedule is not None:
        keywords.append(ast.keyword("schedule", schedule))
    dag_call = _at(ast.Call(ast.Name(DAG, ast.Load()), [], keywords), root_deco)
    stem = Path(reader.path).stem
    function = ast.FunctionDef(
        name=stem
        if stem.isidentifier()
        else "assets_" + "".join(c if c.isalnum() else "_" for c in stem),
        args=ast.arguments([], [], None, [], [], None, []),
        body=body,
        decorator_list=[dag_call],
        returns=None,
        type_params=[],
    )
    reader.tree.body.append(_at(function, root_deco))
    if len(order) > 1:
        message = (
            f"the assets {', '.join(order)} are DAGs of their own in Airflow, each run when the "
            f"assets it is scheduled on are updated; here one pipeline runs them in that order, "
            f"scheduled as {root}"
        )
        reader.diagnostics.append(  # lossy: not the same orchestration, nor proven by a run
            Diagnostic("TP202", "warning", message, reader.span(root_deco), lossy=True)
        )
    return True


def _asset_name(node: ast.FunctionDef, deco: ast.expr) -> str:
    name = _keyword(deco, "name")
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        return name.value
    return node.name


def _keyword(deco: ast.expr, key: str) -> ast.expr | None:
    if not isinstance(deco, ast.Call):
        return None
    return next((k.value for k in deco.keywords if k.arg == key), None)


def _named_assets(schedule: ast.expr | None, functions: dict[str, str]) -> list[str] | None:
    """The assets of this file a schedule names (``up`` or ``[up, other]``), by asset name;
    None when it is not a schedule on assets of the file (a cron, a preset, None, Assets)."""
    items = schedule.elts if isinstance(schedule, ast.List | ast.Tuple) else [schedule]
    if not items or not all(isinstance(i, ast.Name) for i in items):
        return None
    return [functions.get(i.id, i.id) for i in items]  # type: ignore[union-attr]


def _ordered(names: list[str], upstream: dict[str, list[str]], reader, found) -> list[str]:
    done: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise error("TP190", f"the assets' schedules go round through {name}",
                        reader.span(found[name][1]))  # fmt: skip
        visiting.add(name)
        for up in upstream.get(name, []):
            visit(up)
        done.append(name)

    for name in names:
        visit(name)
    return done


def _at(node, where: ast.AST):
    """``node`` (and the nodes in it without a place) at ``where``'s place."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.expr | ast.stmt) and getattr(inner, "lineno", None) is None:
            ast.copy_location(inner, where)
    return ast.copy_location(node, where)
