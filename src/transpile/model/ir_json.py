"""Canonical JSON of the pipeline model.

Schema ``transpile.pipeline/1``:

- The document is one JSON object: the fields of ``ir.Pipeline`` plus ``"schema":
  "transpile.pipeline/1"``.
- Every dataclass of ``ir`` becomes an object with one key per field, named as the field; every
  field is written, defaults included. ``None`` is ``null``; tuples are arrays (``Option.args`` is
  an array of ``[key, value]`` pairs); strings, ints and bools are themselves.
- A value whose declared type is a union of several dataclasses (``Node``: ``Task``, ``Sequence``,
  ``Parallel``, ``Map``, ``Switch``) carries an extra ``"kind"`` key: the class name in lower case
  (``"task"``, ``"sequence"``, ``"parallel"``, ``"map"``, ``"switch"``). No other object has a tag;
  a ``"kind"`` key elsewhere (``Ref.kind``, ``Parameter.kind``, ``Option.kind``) is a plain field.
- Text is canonical: keys sorted, two-space indent, UTF-8 (non-ASCII characters written as
  themselves), one trailing newline. Equal pipelines give byte-identical text.

``from_json`` rebuilds the exact frozen dataclasses (tuples, nested nodes), so
``from_json(to_json(p)) == p``. It checks what it reads against the declared field types and
raises ``IRJsonError`` naming the JSON path of the first problem. A missing field that has a
default takes the default; an unknown field is an error.

Encoding and decoding are driven by ``dataclasses.fields`` and the model's type hints, so a field
added to ``ir.py`` needs no change here.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from functools import cache
from typing import Any, Literal, Union

from . import ir

SCHEMA = f"transpile.pipeline/{ir.SCHEMA_VERSION}"
_MISSING = dataclasses.MISSING


class IRJsonError(ValueError):
    """The JSON text is not a pipeline of the current schema."""


def to_json(pipeline: ir.Pipeline) -> str:
    """The canonical JSON text of ``pipeline``."""
    document = {"schema": SCHEMA, **_encode(pipeline, ir.Pipeline)}
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def from_json(text: str) -> ir.Pipeline:
    """Rebuild the pipeline that ``to_json`` wrote."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IRJsonError(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise IRJsonError("$: expected an object")
    schema = document.pop("schema", None)
    if schema != SCHEMA:
        raise IRJsonError(f"$.schema: expected {SCHEMA!r}, found {schema!r}")
    return _decode(document, ir.Pipeline, "$")


# --- types -----------------------------------------------------------------------------------


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(ir))


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType)


def _tagged_members(tp: Any) -> dict[str, type]:
    """Dataclass members of a union that needs a ``kind`` tag, by tag; empty if none needed."""
    if not _is_union(tp):
        return {}
    members = [t for t in typing.get_args(tp) if dataclasses.is_dataclass(t)]
    return {t.__name__.lower(): t for t in members} if len(members) > 1 else {}


# --- encoding --------------------------------------------------------------------------------


def _encode(value: Any, tp: Any) -> Any:
    if value is None:
        return None
    if _is_union(tp):
        member = next((t for t in typing.get_args(tp) if _accepts(t, value)), None)
        if member is None:
            raise TypeError(f"cannot encode {type(value).__name__} as {tp}")
        encoded = _encode(value, member)
        if _tagged_members(tp):
            encoded = {"kind": type(value).__name__.lower(), **encoded}
        return encoded
    if dataclasses.is_dataclass(tp):
        hints = _hints(type(value))
        return {
            f.name: _encode(getattr(value, f.name), hints[f.name])
            for f in dataclasses.fields(value)
        }
    if typing.get_origin(tp) is tuple:
        return [
            _encode(item, item_type) for item, item_type in zip(value, _item_types(tp, len(value)))
        ]
    return value


def _accepts(tp: Any, value: Any) -> bool:
    if dataclasses.is_dataclass(tp):
        return type(value) is tp
    origin = typing.get_origin(tp)
    if origin is Literal:
        return value in typing.get_args(tp)
    if origin is tuple:
        return isinstance(value, (tuple, list))
    if tp is type(None):
        return value is None
    return isinstance(value, tp)


def _item_types(tp: Any, length: int) -> list[Any]:
    args = typing.get_args(tp)
    if len(args) == 2 and args[1] is Ellipsis:
        return [args[0]] * length
    return list(args)


# --- decoding --------------------------------------------------------------------------------


def _decode(data: Any, tp: Any, where: str) -> Any:
    if _is_union(tp):
        return _decode_union(data, tp, where)
    if dataclasses.is_dataclass(tp):
        return _decode_dataclass(data, tp, where)
    origin = typing.get_origin(tp)
    if origin is tuple:
        return _decode_tuple(data, tp, where)
    if origin is Literal:
        if data not in typing.get_args(tp):
            raise IRJsonError(f"{where}: expected one of {typing.get_args(tp)}, found {data!r}")
        return data
    if tp is type(None):
        if data is not None:
            raise IRJsonError(f"{where}: expected null, found {data!r}")
        return None
    if not isinstance(data, tp) or (tp is int and isinstance(data, bool)):
        raise IRJsonError(f"{where}: expected {tp.__name__}, found {type(data).__name__}")
    return data


def _decode_union(data: Any, tp: Any, where: str) -> Any:
    tagged = _tagged_members(tp)
    if data is None and type(None) in typing.get_args(tp):
        return None
    if tagged:
        if not isinstance(data, dict) or data.get("kind") not in tagged:
            raise IRJsonError(f"{where}: expected an object with kind in {sorted(tagged)}")
        fields = {k: v for k, v in data.items() if k != "kind"}
        return _decode_dataclass(fields, tagged[data["kind"]], where)
    errors = []
    for member in typing.get_args(tp):
        try:
            return _decode(data, member, where)
        except IRJsonError as exc:
            errors.append(str(exc))
    raise IRJsonError("; ".join(errors))


def _decode_dataclass(data: Any, cls: type, where: str) -> Any:
    if not isinstance(data, dict):
        raise IRJsonError(f"{where}: expected a {cls.__name__} object, found {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise IRJsonError(f"{where}: unknown field {unknown[0]!r} for {cls.__name__}")
    hints = _hints(cls)
    values = {}
    for name, f in fields.items():
        if name in data:
            values[name] = _decode(data[name], hints[name], f"{where}.{name}")
        elif f.default is _MISSING and f.default_factory is _MISSING:
            raise IRJsonError(f"{where}: missing field {name!r} for {cls.__name__}")
    return cls(**values)


def _decode_tuple(data: Any, tp: Any, where: str) -> tuple:
    if not isinstance(data, list):
        raise IRJsonError(f"{where}: expected an array, found {type(data).__name__}")
    item_types = _item_types(tp, len(data))
    if len(item_types) != len(data):
        raise IRJsonError(f"{where}: expected {len(item_types)} items, found {len(data)}")
    return tuple(
        _decode(item, t, f"{where}[{i}]") for i, (item, t) in enumerate(zip(data, item_types))
    )
