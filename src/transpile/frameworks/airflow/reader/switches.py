"""Airflow's branching tasks as the model's switches, and the proof that the tree means the DAG.

A ``@task.branch`` / ``BranchPythonOperator`` task returns the task id to follow among the tasks
right after it; Airflow skips the others (and what only they lead to), and the tasks after the
cases run by their trigger rules. A ``@task.short_circuit`` / ``ShortCircuitOperator`` task
skips everything after it when its value is falsy. Both become a Switch on the task's value: a
branch's cases are the task ids of the tasks right after it (one empty when that task is also
reached through another case: the "skip this step" shape); a short circuit's cases are ``True``
(everything after it) and ``False`` (nothing).

The tree is built by cutting the graph at each switching task (what it leads to goes into its
switch, the rest before it) and is then checked against Airflow's own rules: for every
combination of the switches' choices, the tasks Airflow runs (skips and trigger rules as Airflow
applies them) must be the tasks the tree runs, and no task may read what a task that did not
run would have returned. Where they differ the DAG is refused at the switching task, naming the
first task that would run differently.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from transpile.model.diagnostics import error
from transpile.model.ir import Case, Map, Node, Sequence, Span, Switch, Task, walk
from transpile.reading.series_parallel import tightened

# trigger rules whose outcome this check knows when nothing fails (a task whose upstream tasks
# all succeeded or were skipped), as Airflow's TriggerRuleDep decides it
RULES = {
    "all_success": lambda ran, skipped: not skipped,
    "none_failed_min_one_success": lambda ran, skipped: ran > 0 or not skipped,
    "none_failed_or_skipped": lambda ran, skipped: ran > 0 or not skipped,
    "none_failed": lambda ran, skipped: True,
    "all_done": lambda ran, skipped: True,
    # a teardown's: all done, and a setup succeeded (some task before it ran: its setups are)
    "all_done_setup_success": lambda ran, skipped: ran > 0 or not skipped,
    "always": lambda ran, skipped: True,
    "one_success": lambda ran, skipped: ran > 0,
    "none_skipped": lambda ran, skipped: not skipped,
    "all_skipped": lambda ran, skipped: not ran,
}
MOST_COMBINATIONS = 256


@dataclass(frozen=True)
class Switching:
    """A switching task: ``kind`` is "branch" or "short_circuit"; ``returns`` the task ids a
    branch returns when they are literals (None: computed at run time)."""

    step: str
    kind: str
    span: Span
    returns: tuple[str, ...] | None


def switch_flow(
    order: list[str],
    deps: dict[str, set[str]],
    switching: dict[str, Switching],
    task_ids: dict[str, str],
    rules: dict[str, str],
    reads: dict[str, set[str]],
    make_node,
    added_waits,
) -> Node:
    """The flow of the steps in ``order`` (topological) with each switching task's switch.
    ``make_node(tree, order)`` turns a series-parallel tree of indices into model nodes;
    ``added_waits(step, earlier)`` is told each wait added to nest a part that does not."""
    later = {s: set() for s in order}
    for step in order:
        for dep in deps[step]:
            later[dep].add(step)

    def descendants(step: str, within: set[str]) -> set[str]:
        found, todo = set(), [step]
        while todo:
            for nxt in later[todo.pop()]:
                if nxt in within and nxt not in found:
                    found.add(nxt)
                    todo.append(nxt)
        return found

    def plain(steps: set[str]) -> Node:
        if not steps:
            return Sequence(())
        chosen = [s for s in order if s in steps]
        index = {s: i for i, s in enumerate(chosen)}
        tree, added = tightened(
            list(range(len(chosen))),
            {index[s]: {index[d] for d in deps[s] if d in index} for s in chosen},
        )
        for item, waits in sorted(added.items()):
            added_waits(chosen[item], [chosen[w] for w in sorted(waits)])
        return make_node(tree, chosen)

    def build(steps: set[str], done: frozenset[str]) -> Node:
        pending = [s for s in order if s in steps and s in switching and s not in done]
        if not pending:
            return plain(steps)
        this = switching[pending[0]]
        after = descendants(this.step, steps)
        before = build(steps - after, done | {this.step})
        if not after:  # nothing after it to skip: a task like any other
            return before
        if this.kind == "short_circuit":
            cases = (Case("True", build(after, done)), Case("False", Sequence(())))
            return _sequence(before, Switch(_condition(this), cases))
        roots = [s for s in order if s in after and this.step in deps[s]]
        joined = {r for r in roots if deps[r] & after}  # also reached through another case
        bodies: dict[str, set[str]] = {}
        for root in roots:
            if root in joined:
                bodies[root] = set()
                continue
            body = {root}
            grown = True
            while grown:
                grown = False
                for step in order:
                    if step in after and step not in body and step not in joined:
                        inside = deps[step] & after
                        if inside and inside <= body and rules.get(step) in (None, "all_success"):
                            body.add(step)
                            grown = True
            bodies[root] = body
        rest = after - set().union(*bodies.values())
        cases = tuple(Case(repr(task_ids[r]), build(bodies[r], done)) for r in roots)
        return _sequence(before, Switch(_condition(this), cases), build(rest, done))

    flow = build(set(order), frozenset())
    _check(flow, order, deps, switching, task_ids, rules, reads)
    return flow


def _condition(this: Switching):
    from transpile.model.ir import Ref

    return Ref("output", this.step, "proceed" if this.kind == "short_circuit" else "return_value")


def _sequence(*nodes: Node) -> Node:
    flat: list[Node] = []
    for node in nodes:
        if isinstance(node, Sequence):
            flat += node.nodes
        else:
            flat.append(node)
    return flat[0] if len(flat) == 1 else Sequence(tuple(flat))


def _check(flow, order, deps, switching: dict[str, Switching], task_ids, rules, reads) -> None:
    """Every combination of choices: the tasks Airflow runs are the tasks the tree runs."""
    switches = [n for n in walk(flow) if isinstance(n, Switch)]
    choices = []
    for node in switches:
        this = switching[node.condition.source]
        if this.kind == "branch" and this.returns is not None:
            literal = {repr(r) for r in this.returns}
            named = {c.value for c in node.cases}
            for value in this.returns:
                if repr(value) not in named:
                    raise error(
                        "TP188",
                        f"{this.step} returns {value!r}, which is not a task right after it "
                        f"({', '.join(sorted(named)) or 'none'})",
                        this.span,
                    )
            choices.append([c.value for c in node.cases if c.value in literal])
        else:
            choices.append([c.value for c in node.cases])
    combinations = list(itertools.islice(itertools.product(*choices), MOST_COMBINATIONS + 1))
    if len(combinations) > MOST_COMBINATIONS:
        raise error(
            "TP188", "too many combinations of branches to check", switching[order[0]].span
            if order[0] in switching else next(iter(switching.values())).span
        )  # fmt: skip
    for step in order:
        rule = rules.get(step, "all_success")
        if rule not in RULES:
            raise error(
                "TP188",
                f"trigger_rule {rule!r} of {step} in a DAG that branches is not supported",
                next(iter(switching.values())).span,
            )
    by_step = {switching[n.condition.source].step: n for n in switches}
    for combination in combinations:
        chosen = dict(zip(by_step, combination, strict=True))
        model = _model_runs(flow, chosen)
        airflow = _airflow_runs(order, deps, switching, task_ids, rules, chosen)
        if model != airflow:
            step = next(s for s in order if (s in model) != (s in airflow))
            branch = next((s for s in chosen if step in _after(s, order, deps)), next(iter(chosen)))
            how = "runs" if step in airflow else "is skipped"
            where = ", ".join(f"{s} takes {v}" for s, v in chosen.items())
            raise error(
                "TP188",
                f"{step} {how} in Airflow when {where} (by its trigger rule "
                f"{rules.get(step, 'all_success')!r}), which no switch of the model expresses",
                switching[branch].span,
            )
        for step in sorted(model, key=order.index):
            missing = sorted(reads.get(step, set()) - model, key=order.index)
            if missing:
                raise error(
                    "TP188",
                    f"{step} reads the result of {missing[0]}, which does not run when "
                    + ", ".join(f"{s} takes {v}" for s, v in chosen.items()),
                    next(switching[s].span for s in chosen if missing[0] in _after(s, order, deps)),
                )


def _after(step: str, order: list[str], deps) -> set[str]:
    found = {step}
    for s in order:
        if deps[s] & found:
            found.add(s)
    return found - {step}


def _model_runs(node: Node, chosen: dict[str, str]) -> set[str]:
    if isinstance(node, Task):
        return {node.step}
    if isinstance(node, Switch):
        value = chosen[node.condition.source]
        body = next(c.body for c in node.cases if c.value == value)
        return _model_runs(body, chosen)
    if isinstance(node, Map):
        return _model_runs(node.body, chosen)
    parts = node.nodes if isinstance(node, Sequence) else node.branches  # type: ignore[union-attr]
    found: set[str] = set()
    for part in parts:
        found |= _model_runs(part, chosen)
    return found


def _airflow_runs(order, deps, switching, task_ids, rules, chosen) -> set[str]:
    """The tasks Airflow runs when every task that runs succeeds and each switching task in
    ``chosen`` returns the case named there."""
    ran: set[str] = set()
    skipped: set[str] = set()
    for step in order:
        if step not in skipped:
            upstream = deps[step]
            done = len(upstream & ran)
            if upstream and not RULES[rules.get(step, "all_success")](done, upstream & skipped):
                skipped.add(step)
                continue
            ran.add(step)
            if step not in chosen:
                continue
            after = _after(step, order, deps)
            if switching[step].kind == "short_circuit":
                if chosen[step] == "False":  # ignore_downstream_trigger_rules: all of it
                    skipped |= after
                continue
            followed = {s for s in after if repr(task_ids[s]) == chosen[step]}
            followed |= {d for f in followed for d in _after(f, order, deps)}
            skipped |= {s for s in after if step in deps[s] and s not in followed}
    return ran
