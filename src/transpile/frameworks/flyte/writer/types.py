"""Model types → annotations Flyte's type engine accepts."""

from __future__ import annotations

import re

from transpile.reading.inference import split_args

SCALARS = {"int", "float", "str", "bool"}
ANY = "typing.Any"


def flyte_type(expr: str, classes: frozenset[str]) -> str:
    """The annotation a Flyte task declares for a value of model type ``expr``.

    Lists and str-keyed dicts of supported types stay typed; dataclasses defined in the module stay
    as they are; everything else (tuples, sets, bytes, unknown) travels pickled as ``typing.Any``.
    Stdlib classes too: flytekit hands a task a naive ``datetime`` made UTC-aware (its text and
    its comparisons with naive ones change), and a pickle keeps the value as it was.
    Lists collected from a fan-out are always ``list[...]`` (see ``collected_type``).
    """
    if expr in SCALARS or expr in classes:
        return expr
    match = re.fullmatch(r"list\[(.*)\]", expr)
    if match:
        inner = flyte_type(match.group(1), classes)
        return ANY if inner == ANY else f"list[{inner}]"
    match = re.fullmatch(r"dict\[str, (.*)\]", expr)
    if match:
        inner = flyte_type(match.group(1), classes)
        return ANY if inner == ANY else f"dict[str, {inner}]"
    optional = re.fullmatch(r"(?:typing\.)?Optional\[(.*)\]", expr)
    if optional:
        expr = f"{optional.group(1)} | None"
    if expr.endswith(" | None"):  # pickled or not, None travels only in an Optional
        return f"{flyte_type(expr[:-7], classes)} | None"
    parts = split_args(expr, "|")
    if len(parts) > 1:  # flytekit matches a union's value against each part
        kinds = [flyte_type(part, classes) for part in parts]
        return ANY if ANY in kinds else " | ".join(kinds)
    return ANY


def is_tuple(expr: str) -> bool:
    """Flyte refuses a task output whose value is a tuple ("received a tuple ... instead of")."""
    return expr.startswith("tuple[")


def collected_type(element: str, classes: frozenset[str]) -> str:
    """A fan-in list: Flyte builds it element by element, so it is a list even of pickled values."""
    return f"list[{flyte_type(element, classes)}]"
