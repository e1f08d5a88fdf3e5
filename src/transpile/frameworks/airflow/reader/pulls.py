"""``ti.xcom_pull(task_ids="load")`` in a task function's body, as a data edge.

Airflow 2 code passes data between classic operators by pulling it from the run's task instance:
``def report(ti): total = ti.xcom_pull(task_ids="load")`` (or ``context["ti"]`` of a
``**context`` function). The targets pass data as arguments, so the function is rewritten: each
pull of another task's return value becomes a parameter of the function (``load_value``) and
the ``ti`` parameter goes, which is how an engineer of the target would write it. The task id
must be a literal and the key the return value (``key`` left out, ``"return_value"`` or
``None``); a function that uses its ``ti`` for anything else (``xcom_push``, a computed id) is
left as it is (the reader says the context is not carried).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

TI_NAMES = ("ti", "task_instance")


@dataclass(frozen=True)
class Pull:
    """A pull of ``task_id``'s return value (``listed``: ``task_ids=[...]``, a list of one
    value); ``dag_id`` when it names the DAG (an asset's, see assets.py)."""

    call: ast.Call
    task_id: str
    listed: bool = False
    dag_id: str | None = None
    whole: ast.expr | None = None  # ``pull(...)[0]`` of a listed pull: replaced as one value


@dataclass(frozen=True)
class Pulls:
    """The pulls of a function: ``ti`` is the parameter they pull through (None: through
    ``**kwarg``), ``kwarg`` the ``**`` parameter's node when they index it."""

    function: ast.FunctionDef
    pulls: tuple[Pull, ...]
    ti: ast.arg | None
    kwarg: ast.arg | None

    @property
    def task_ids(self) -> list[str]:
        return list(dict.fromkeys(p.task_id for p in self.pulls))


def pulls_of(function: ast.FunctionDef) -> Pulls | None:
    """The return-value pulls ``function`` makes through its task instance, when it makes some
    and every use of the task instance is such a pull; else None."""
    params = {a.arg: a for a in [*function.args.args, *function.args.kwonlyargs]}
    ti = next((params[n] for n in TI_NAMES if n in params), None)
    kwarg = function.args.kwarg or params.get("context")  # an @asset's context by name
    found: list[Pull] = []
    inside: set[int] = set()
    for node in ast.walk(function):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "xcom_pull"
        ):
            continue
        holder = node.func.value
        through_ti = ti is not None and isinstance(holder, ast.Name) and holder.id == ti.arg
        through_kwarg = (
            kwarg is not None
            and isinstance(holder, ast.Subscript)
            and isinstance(holder.value, ast.Name)
            and holder.value.id == kwarg.arg
            and isinstance(holder.slice, ast.Constant)
            and holder.slice.value in TI_NAMES
        )
        if not (through_ti or through_kwarg):
            continue
        pull = _pull(node)
        if pull is None:
            return None
        first = next(
            (
                s
                for s in ast.walk(function)
                if isinstance(s, ast.Subscript)
                and s.value is node
                and isinstance(s.slice, ast.Constant)
                and s.slice.value == 0
            ),
            None,
        )
        if pull.listed and first is not None:
            pull = Pull(node, pull.task_id, pull.listed, pull.dag_id, first)
        found.append(pull)
        inside |= {id(n) for n in ast.walk(holder)}
    if not found:
        return None
    if ti is not None and any(
        isinstance(n, ast.Name) and n.id == ti.arg and id(n) not in inside
        for n in ast.walk(function)
    ):
        return None  # the task instance is used for something else too
    uses_ti = any(isinstance(p.call.func.value, ast.Name) for p in found)  # type: ignore[union-attr]
    if kwarg is not None and kwarg is not function.args.kwarg:  # ``context`` by name
        if any(
            isinstance(n, ast.Name) and n.id == kwarg.arg and id(n) not in inside
            for n in ast.walk(function)
        ):
            return None  # the context is read for more than the pulls
        return Pulls(function, tuple(found), kwarg, None)  # it goes, as ``ti`` does
    return Pulls(function, tuple(found), ti if uses_ti else None, kwarg)


def _pull(call: ast.Call) -> Pull | None:
    """A return-value pull of one literal task id (``task_ids="t"`` or ``["t"]``, with the
    DAG's id, ``include_prior_dates``: an asset's pull), else None."""
    keywords = {k.arg: k.value for k in call.keywords}
    allowed = {"task_ids", "key", "dag_id", "include_prior_dates"}
    if None in keywords or set(keywords) - allowed or len(call.args) > 1:
        return None
    task = call.args[0] if call.args else keywords.get("task_ids")
    key = keywords.get("key")
    if key is not None and not (
        isinstance(key, ast.Constant) and key.value in (None, "return_value")
    ):
        return None
    dag = keywords.get("dag_id")
    if dag is not None and not (isinstance(dag, ast.Constant) and isinstance(dag.value, str)):
        return None
    dag_id = dag.value if dag is not None else None  # type: ignore[union-attr]
    listed = isinstance(task, ast.List) and len(task.elts) == 1
    if listed:
        task = task.elts[0]  # type: ignore[union-attr]
    if isinstance(task, ast.Constant) and isinstance(task.value, str):
        return Pull(call, task.value, listed, dag_id)
    return None


def _has_default(function: ast.FunctionDef, arg: ast.arg) -> bool:
    args = function.args
    if arg in args.kwonlyargs:
        return args.kw_defaults[args.kwonlyargs.index(arg)] is not None
    return args.args.index(arg) >= len(args.args) - len(args.defaults)


def rewritten(text: str, pulls: Pulls, names: dict[str, str], new_name: str | None = None) -> str:
    """The source of the function with each pull replaced by the parameter ``names[task_id]``,
    the ``ti`` parameter replaced by those parameters (or they added before ``**kwarg``), and
    the function renamed to ``new_name`` when given; indented as it was (a caller dedents)."""
    lines = text.splitlines(keepends=True)
    encoded = [line.encode() for line in lines]
    starts = [0]
    for line in encoded:
        starts.append(starts[-1] + len(line))
    data = b"".join(encoded)

    def at(line: int, col: int) -> int:
        return starts[line - 1] + col

    function = pulls.function
    added = ", ".join(names[t] for t in pulls.task_ids)
    if pulls.ti is not None and _has_default(function, pulls.ti):  # ``ti=None`` keeps its default
        added = ", ".join(
            [*(f"{names[t]}=None" for t in pulls.task_ids[:-1]), names[pulls.task_ids[-1]]]
        )
    edits: list[tuple[int, int, str]] = []
    for pull in pulls.pulls:
        call = pull.whole or pull.call
        listed = pull.listed and pull.whole is None
        edits.append(
            (
                at(call.lineno, call.col_offset),
                at(call.end_lineno or call.lineno, call.end_col_offset or 0),
                f"[{names[pull.task_id]}]" if listed else names[pull.task_id],
            )
        )
    if pulls.ti is not None:
        ti = pulls.ti
        edits.append(
            (at(ti.lineno, ti.col_offset), at(ti.end_lineno or ti.lineno, ti.end_col_offset or 0),
             added)
        )  # fmt: skip
    elif pulls.kwarg is not None:
        stars = data.rindex(b"**", 0, at(pulls.kwarg.lineno, pulls.kwarg.col_offset))
        edits.append((stars, stars, f"{added}, "))
    if new_name is not None:
        name_at = data.index(f"def {function.name}".encode(), at(function.lineno, 0)) + 4
        edits.append((name_at, name_at + len(function.name.encode()), new_name))
    start = at(function.lineno, function.col_offset)
    end = at(function.end_lineno or function.lineno, function.end_col_offset or 0)
    for begin, stop, new in sorted(edits, reverse=True):
        data = data[:begin] + new.encode() + data[stop:]
        end += len(new.encode()) - (stop - begin)
    return " " * function.col_offset + data[start:end].decode()
