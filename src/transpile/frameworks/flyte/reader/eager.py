"""``@eager`` workflows (issue 15, item 3): an async function that awaits tasks and runs as
Python, building its graph while it runs.

One whose body is straight-line code (awaited task and workflow calls, assignments, a return)
builds the same graph every run: it is read as the ``@workflow`` it is equivalent to (``await``
dropped), so what a workflow body cannot hold (arithmetic on a task's result) is refused as in a
workflow (TP151). One that branches, loops, catches or checks at run time (``if out < 0:``,
``for``, ``try``, ``assert``, ``asyncio.gather``) has no static graph: it is refused at that
statement, naming it. Only reading that pipeline fails: the file's other entries still convert.
"""

from __future__ import annotations

import libcst as cst

from transpile.model.diagnostics import TranspileError, error
from transpile.model.ir import Span
from transpile.reading.cst import code

DYNAMIC = (cst.If, cst.For, cst.While, cst.Try, cst.With, cst.Match)


def as_workflow(node: cst.FunctionDef, span: Span, spans) -> cst.FunctionDef | TranspileError:
    """The ``@eager`` function ``node`` as the plain workflow function it is equivalent to, or
    the refusal naming the statement that builds its graph at run time."""
    name = node.name.value
    for stmt in getattr(node.body, "body", ()):
        why = _dynamic(stmt)
        if why is not None:
            first = code(stmt).strip().splitlines()[0]
            where = spans.find(first, span)
            return error(
                "TP163",
                f"@eager '{name}' {why} (`{first[:60]}`): its graph is built while it runs; no "
                "target can hold it (write it as a @workflow with conditional(), or a @dynamic)",
                where,
            )
    plain = node.visit(_NoAwait())
    return plain.with_changes(asynchronous=None)  # type: ignore[union-attr]


def _dynamic(stmt: cst.BaseStatement) -> str | None:
    if isinstance(stmt, cst.If):
        return "branches on a value at run time"
    if isinstance(stmt, (cst.For, cst.While)):
        return "loops at run time"
    if isinstance(stmt, cst.Try):
        return "catches a task's failure at run time"
    if isinstance(stmt, DYNAMIC):
        return "runs a block at run time"
    if isinstance(stmt, cst.SimpleStatementLine):
        for small in stmt.body:
            if isinstance(small, cst.Assert):
                return "checks a value at run time"
            if "gather" in code(small) or "create_task" in code(small):
                return "runs tasks side by side with asyncio"
    return None


class _NoAwait(cst.CSTTransformer):
    def leave_Await(self, original: cst.Await, updated: cst.Await) -> cst.BaseExpression:
        return updated.expression.with_changes(lpar=updated.lpar, rpar=updated.rpar)
