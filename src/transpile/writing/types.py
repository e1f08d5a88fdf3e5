"""Type expressions as every writer sees them: which names a module can annotate with."""

from __future__ import annotations

import ast
import builtins
import re

BUILTIN_TYPES = frozenset(n for n, v in vars(builtins).items() if isinstance(v, type))


def declarable(expr: str, classes: frozenset[str] | set[str]) -> bool:
    """Whether a type can annotate a value where only builtins and ``classes`` (the module
    classes the emitted code defines) are in scope: known all through (no ``typing.Any``)."""
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        return False
    return all(
        n.id in BUILTIN_TYPES or n.id in classes for n in ast.walk(node) if isinstance(n, ast.Name)
    )


def defined_names(definitions: tuple[str, ...], classes_only: bool = False) -> list[str]:
    """Names the copied module-level code defines (Python's own parser: fast, runs nothing)."""
    names = []
    for node in ast.parse("\n".join(definitions)).body:
        if isinstance(node, ast.ClassDef):
            names.append(node.name)
        elif classes_only:
            continue
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


# A date or time has no JSON form: such a parameter travels as ISO 8601 text, read back with
# ``<class>.fromisoformat(...)`` where a step uses it.
ISO_CLASSES = {
    "datetime": "datetime",
    "datetime.datetime": "datetime",
    "date": "date",
    "datetime.date": "date",
}


def iso_class(expr: str) -> str | None:
    """``datetime`` or ``date`` for a parameter type carried as ISO text, else None."""
    return ISO_CLASSES.get(expr)


def nested_dates(expr: str) -> bool:
    """Whether a type holds dates or times inside a container (``list[datetime]``): a JSON
    parameter carries them as ISO text, which the step receives as text."""
    return iso_class(expr) is None and bool(re.search(r"\b(datetime|date)\b", expr))


def iso_text(default: str, cls: str) -> str | None:
    """A date or time default as ISO text, worked out without running the user's code:
    ``datetime(2024, 1, 2)`` (literal arguments) or an ISO string; None when it is neither."""
    import datetime

    try:
        node = ast.parse(default, mode="eval").body
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            value = getattr(datetime, cls).fromisoformat(node.value)
        elif isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == cls:
            args = [ast.literal_eval(a) for a in node.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
            if len(kwargs) != len(node.keywords):
                return None
            value = getattr(datetime, cls)(*args, **kwargs)
        else:
            return None
    except (SyntaxError, ValueError, TypeError, OverflowError):
        return None
    return value.isoformat()


def iso_read(text: str, cls: str, framework: str, date_name: str, utc_name: str) -> str:
    """The expression making ISO text ``text`` a ``cls`` again (``date_name`` names that class,
    ``utc_name`` is ``timezone.utc`` where the code has it). From Flyte, a datetime is UTC-aware
    wherever a task receives it (flytekit reads a naive one as UTC): the same here."""
    read = f"{date_name}.fromisoformat({text})"
    if cls != "datetime" or framework != "flyte":
        return read
    return f"{read}.replace(tzinfo={read}.tzinfo or {utc_name})"


def utc_aware(framework: str, cls: str | None) -> bool:
    """Whether a ``cls`` value read back from ISO text must be made UTC-aware (see iso_read)."""
    return framework == "flyte" and cls == "datetime"


def iso_default(default: str, cls: str) -> tuple[str, bool]:
    """A date or time default as the code of its ISO text, and whether it is worked out now:
    the text itself for a literal date, else ``<default>.isoformat()``, evaluated where the
    output module is imported (as Flyte evaluates it when it registers the workflow)."""
    text = iso_text(default, cls)
    if text is not None:
        return repr(text), True
    try:
        node = ast.parse(default, mode="eval").body
    except SyntaxError:
        return f"({default}).isoformat()", False
    plain = isinstance(node, (ast.Call, ast.Name, ast.Attribute))
    return (f"{default}.isoformat()" if plain else f"({default}).isoformat()"), False
