"""Type-strict comparison of what two pipeline runs produced.

A run's results are normalized (``normalize``) into JSON-able forms in the process that ran it;
two results are equal iff their forms are equal. ``render`` shows a form as Python-like text and
``diff`` says, one name per line, how two results differ.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import math
import os
from typing import Any

Normalized = Any  # JSON-able: None, or a one-key dict {tag: payload}; see normalize()


def normalize(value: Any) -> Normalized:
    """A type-strict JSON-able form of ``value``: equal forms mean equal values of equal types.

    Floats compare exactly (their shortest repr, so nan equals nan and -0.0 differs from 0.0):
    both frameworks run the same Python on the same machine, so any drift is a real difference.
    Dict entries and set members are sorted, so insertion order does not count.
    """
    if value is None:
        return None
    for kind, convert in _SCALARS:
        if type(value) is kind:  # exact type: bool is not int, and a str subclass is not str
            return {kind.__name__: convert(value)}
    if isinstance(value, enum.Enum):
        return {"enum": [type(value).__qualname__, value.name]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: normalize(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"dataclass": [type(value).__qualname__, fields]}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        fields = {name: normalize(getattr(value, name)) for name in value._fields}
        return {"namedtuple": [type(value).__qualname__, fields]}
    return _normalize_container(value)


def _normalize_container(value: Any) -> Normalized:
    kind = type(value)
    if kind in (list, tuple):
        return {kind.__name__: [normalize(item) for item in value]}
    if kind in (set, frozenset):
        return {kind.__name__: sorted((normalize(item) for item in value), key=_sort_key)}
    if kind is dict:
        pairs = [[normalize(k), normalize(v)] for k, v in value.items()]
        return {"dict": sorted(pairs, key=lambda pair: _sort_key(pair[0]))}
    return _normalize_other(value)


_BUILTIN_BASES = (int, float, complex, str, bytes, bytearray, list, tuple, set, frozenset, dict)


def _normalize_other(value: Any) -> Normalized:
    """Values of other types: their class name and state, or their repr as a last resort."""
    name = f"{type(value).__module__}.{type(value).__qualname__}"
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta, decimal.Decimal)):
        return {"object": [name, str(value)]}
    if isinstance(value, os.PathLike):
        return {"path": os.fspath(value)}
    base = next((t for t in _BUILTIN_BASES if isinstance(value, t)), None)
    if base is not None:  # a subclass of a builtin (OrderedDict, a str subclass): class + value
        return {"object": [name, normalize(base(value))]}
    state = getattr(value, "__dict__", None)
    if isinstance(state, dict):
        public = {k: v for k, v in state.items() if not k.startswith("_")}
        return {"object": [name, normalize(public)]}
    return {"object": [name, repr(value)]}


def _float(value: float) -> str:
    return repr(value) if math.isfinite(value) else str(value)


_SCALARS = (
    (bool, lambda v: v),
    (int, lambda v: v),
    (float, _float),
    (str, lambda v: v),
    (complex, repr),
    (bytes, bytes.hex),
    (bytearray, bytearray.hex),
)


def _sort_key(norm: Normalized) -> str:
    return json.dumps(norm, sort_keys=True)


def render(norm: Normalized) -> str:
    """Python-like text of a normalized value, for failure messages (type differences stay visible)."""
    if norm is None:
        return "None"
    ((tag, payload),) = norm.items()
    if tag in ("int", "bool", "str"):
        return repr(payload)
    if tag in ("float", "complex"):
        return payload if tag == "complex" or not payload[-1:].isalpha() else f"float({payload!r})"
    if tag in ("bytes", "bytearray"):
        text = repr(bytes.fromhex(payload))
        return text if tag == "bytes" else f"bytearray({text})"
    if tag == "list":
        return "[" + ", ".join(map(render, payload)) + "]"
    if tag == "tuple":
        items = ", ".join(map(render, payload))
        return f"({items},)" if len(payload) == 1 else f"({items})"
    if tag in ("set", "frozenset"):
        items = "{" + ", ".join(map(render, payload)) + "}" if payload else ""
        return items if tag == "set" and payload else f"{tag}({items})"
    if tag == "dict":
        return "{" + ", ".join(f"{render(k)}: {render(v)}" for k, v in payload) + "}"
    if tag in ("dataclass", "namedtuple"):
        cls, fields = payload
        return f"{cls}(" + ", ".join(f"{k}={render(v)}" for k, v in fields.items()) + ")"
    if tag == "enum":
        return ".".join(payload)
    if tag == "path":
        return f"Path({payload!r})"
    cls, state = payload
    return f"<{cls} {state if isinstance(state, str) else render(state)}>"


def diff(
    expected: dict[str, Normalized],
    actual: dict[str, Normalized],
    labels: tuple[str, str] = ("metaflow", "flyte"),
) -> str:
    """Empty if both result dicts are equal, else one readable line per differing name."""
    lines = []
    left, right = labels
    for name in sorted(expected.keys() | actual.keys()):
        if name not in actual:
            lines.append(f"  {name}: only in {left}: {render(expected[name])}")
        elif name not in expected:
            lines.append(f"  {name}: only in {right}: {render(actual[name])}")
        elif expected[name] != actual[name]:
            a, b = render(expected[name]), render(actual[name])
            if a == b:  # same text, different normalized form: show the forms themselves
                a, b = json.dumps(expected[name]), json.dumps(actual[name])
            lines.append(f"  {name}:\n    {left:<8}: {a}\n    {right:<8}: {b}")
    return "\n".join(lines)
