"""Setup and teardown tasks: ``@setup`` / ``@teardown`` functions, ``op.as_setup()``,
``op.as_teardown(setups=...)`` and ``with teardown_task:`` / ``with setup_task:``.

A setup is a task like any other. A teardown is a task after the tasks it waits for (and after
its ``setups=``, which ``as_teardown`` puts before it, as Airflow does): when every task
succeeds that is what Airflow runs. What is not carried is said at the teardown (TP189, lossy):
Airflow runs a teardown when the tasks before it are done even if they failed (its trigger rule
``all_done_setup_success``), and a teardown's failure does not fail the run unless
``on_failure_fail_dagrun=True``; in the targets it runs only after they succeed.

``with t:`` for a setup or teardown ``t`` orders the tasks made in the block as Airflow's
``SetupTeardownContext`` does: the block's tasks with no upstream task after the setups, those
with no downstream task before the teardowns (the first / last task made when there is none).
"""

from __future__ import annotations

import ast

from transpile.model.diagnostics import error

MARKS = ("as_setup", "as_teardown")
RULE = "all_done_setup_success"  # the trigger rule Airflow gives a teardown


def marked(node: ast.expr) -> bool:
    """``task.as_setup()`` / ``task.as_teardown(...)``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in MARKS
    )


def mark(dag, node: ast.Call, variable: str | None) -> str:
    """The step ``node.func.value`` makes (``variable`` names it) or names, marked a setup
    or a teardown."""
    func = node.func
    assert isinstance(func, ast.Attribute)
    if node.args:
        raise error("TP186", f"{ast.unparse(node)}: arguments by position", dag.span(node))
    made = dag.task_expression(func.value, variable)
    steps = [made] if made is not None else dag.group(func.value)
    if len(steps) != 1 or steps[0].startswith("<"):
        raise error(
            "TP186",
            f"{ast.unparse(func.value)}.{func.attr}(): not one task (a list or a task group)",
            dag.span(node),
        )
    (step,) = steps
    if func.attr == "as_setup":
        dag.setups.add(step)
        return step
    keywords = {k.arg: k.value for k in node.keywords}
    setups = keywords.get("setups")
    if setups is not None:
        before = dag.group(setups)
        dag.setups.update(before)
        dag.edges.append((before, [step]))
    teardown(dag, step, keywords.get("on_failure_fail_dagrun"), node)
    return step


def teardown(dag, step: str, fails_run: ast.expr | None, node: ast.AST) -> None:
    """``step`` is a teardown: its trigger rule is Airflow's (what is not carried is said when
    the flow is built: see ``say``)."""
    if step in dag.teardowns:
        return
    dag.teardowns[step] = node
    dag.rules[step], dag.rule_nodes[step] = RULE, node
    if isinstance(fails_run, ast.Constant) and fails_run.value is True:
        dag.failing_teardowns.add(step)


def say(dag, step: str, cleanup: bool) -> None:
    """What a teardown loses: a teardown after every task that reads only params is the
    pipeline's cleanup (the last step and the failure handler) and loses only that its own
    failure fails the target's run (unless ``on_failure_fail_dagrun=True``); another runs in the
    targets only when the tasks before it succeed."""
    task = dag.task_ids[step]
    node = dag.teardowns[step]
    failing = step in dag.failing_teardowns
    if cleanup:
        if not failing:
            dag.note(
                "TP189",
                f"teardown {task!r} fails the target's run when it fails (Airflow's run does not "
                "fail for a teardown unless on_failure_fail_dagrun=True)",
                node,
            )
        return
    consequence = (
        "" if failing else "; Airflow's run does not fail when it fails, the target's does"
    )
    dag.note(
        "TP189",
        f"teardown {task!r} runs in the targets only when the tasks before it succeed (Airflow "
        f"runs a teardown when they are done, failed too, once a setup succeeded{consequence})",
        node,
    )


def context_steps(dag, node: ast.With) -> list[str] | None:
    """The setup or teardown steps a ``with`` opens (``with teardown(setup()):``), made or
    named here; None when it opens something else."""
    if len(node.items) != 1 or node.items[0].optional_vars is not None:
        return None
    expr = node.items[0].context_expr
    candidate = expr
    while isinstance(candidate, ast.BinOp) and isinstance(candidate.op, ast.RShift | ast.LShift):
        candidate = candidate.right
    if not (marked(candidate) or _marking_call(dag, candidate) or _named(dag, candidate)):
        return None
    steps = dag.group(expr)
    if not steps or not all(s in dag.setups or s in dag.teardowns for s in steps):
        return None
    return steps


def _marking_call(dag, node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in dag.setup_kind
    )


def _named(dag, node: ast.expr) -> bool:
    if isinstance(node, ast.List | ast.Tuple):
        return bool(node.elts) and all(_named(dag, e) for e in node.elts)
    step = dag.variables.get(node.id) if isinstance(node, ast.Name) else None
    return step is not None and (step in dag.setups or step in dag.teardowns)


def read_context(dag, node: ast.With, opened: list[str]) -> None:
    """``with t:`` (a setup or teardown): the block read, then its tasks ordered between the
    setups and the teardowns as Airflow's context manager orders them."""
    before = {s.name for s in dag.steps}
    dag.nested += 1
    dag.read(node.body)
    dag.nested -= 1
    made = [
        s.name
        for s in dag.steps
        if s.name not in before and s.name not in dag.setups and s.name not in dag.teardowns
    ]
    if not made:
        return
    if opened[0] in dag.teardowns:
        teardowns = opened
        setups = _nearest(dag, opened, dag.setups)
    else:
        setups = opened
        teardowns = _nearest(dag, opened, set(dag.teardowns), downstream=True)
    dag.resolve_edges()
    roots = [s for s in made if not dag.built[s].deps]
    leaves = [s for s in made if not any(s in dag.built[o].deps for o in dag.built)]
    if setups:
        dag.edges.append((setups, roots or made[:1]))
    if teardowns:
        dag.edges.append((leaves or made[-1:], teardowns))


def _nearest(dag, steps: list[str], wanted: set[str], downstream: bool = False) -> list[str]:
    """The setups upstream of a teardown (or the teardowns downstream of a setup), the nearest
    ones, as Airflow looks for them when ``with`` opens it."""
    dag.resolve_edges()
    seen = set(steps)
    frontier = list(steps)
    while frontier:
        if downstream:
            nxt = [o for s in frontier for o in dag.built if s in dag.built[o].deps]
        else:
            nxt = [d for s in frontier for d in dag.built[s].deps]
        nxt = [n for n in dict.fromkeys(nxt) if n not in seen]
        found = [n for n in nxt if n in wanted]
        if found:
            return found
        seen.update(nxt)
        frontier = nxt
    return []
