"""Components loaded from a component YAML (``components.load_component_from_text/_file/_url``).

The YAML is read statically: from the string in the source, or from the file when it is in the
source tree (a path relative to the source file, as the pipeline is run from its folder). Its
``implementation.container`` becomes a step that runs the same command with ``subprocess`` (see
container.py); ``inputValue`` / ``inputPath`` / ``outputPath`` placeholders map to the step's
values and files as KFP maps them. A URL, a file that is not there, a compiled pipeline spec or a
placeholder this does not know make a step that raises with a TODO naming what was loaded.
"""

from __future__ import annotations

import ast
import json
import os
import re
import textwrap
from pathlib import Path

import libcst as cst
import yaml

from transpile.model.ir import Output, Span, TypeRef
from transpile.reading.cst import code, keyword_args, positional_args
from transpile.util.fileio import SourceError, read_source

from .artifacts import PATH, ArtifactParam
from .component import Component, Param
from .container import argv_word, command_body

LOADERS = ("load_component_from_text", "load_component_from_file", "load_component_from_url")
MAX_YAML = 1_000_000
YAML_TYPES = {  # a component YAML's parameter types → Python
    "String": "str",
    "Integer": "int",
    "Float": "float",
    "Boolean": "bool",
    "Bool": "bool",
    "JsonArray": "list",
    "JsonObject": "dict",
    "List": "list",
    "Dict": "dict",
    "STRING": "str",
    "NUMBER_INTEGER": "int",
    "NUMBER_DOUBLE": "float",
    "BOOLEAN": "bool",
    "LIST": "list",
    "STRUCT": "dict",
}


class NotLoaded(Exception):
    """What the loaded text is, or why it is not read (a URL, a missing file, ...)."""


def loaded_component(
    name: str, call: cst.Call, loader: str, source_path: str, constants: dict[str, str], span: Span
) -> tuple[Component, str | None]:
    """The component a loader call makes, and None; or a stand-in that raises, and why."""
    try:
        text = _yaml_text(call, loader, source_path, constants)
        spec = yaml.safe_load(text)
        if not isinstance(spec, dict):
            raise NotLoaded("the text is not a component YAML mapping")
        return _component(name, spec, span), None
    except NotLoaded as why:
        return _stand_in(name, span, f"{loader}: {why}"), f"{loader}: {why}"
    except yaml.YAMLError as exc:
        why = f"{loader}: the component YAML does not parse ({str(exc).splitlines()[0]})"
        return _stand_in(name, span, why), why


def _yaml_text(call: cst.Call, loader: str, source_path: str, constants: dict[str, str]) -> str:
    given = (positional_args(call) or [None])[0]
    given = given or next(iter(keyword_args(call).values()), None)
    value = _static_text(given, constants)
    if value is None:
        raise NotLoaded(f"its argument {code(given) if given else '()'} is known only at run time")
    if loader == "load_component_from_url":
        raise NotLoaded(f"the component is fetched from {value} when the pipeline is compiled")
    if loader == "load_component_from_text":
        return value
    path = Path(source_path).parent / value
    try:
        return read_source(path, MAX_YAML)
    except SourceError as exc:
        raise NotLoaded(f"{value}: {exc.message}") from None


def _static_text(node: cst.BaseExpression | None, constants: dict[str, str]) -> str | None:
    """A string literal, a module constant holding one, ``textwrap.dedent`` of one, or
    ``os.path.join`` of those (with ``os.path.dirname(__file__)`` as the source's folder)."""
    if node is None:
        return None
    if isinstance(node, cst.Name) and node.value in constants:
        return _static_text(cst.parse_expression(constants[node.value]), {})
    if isinstance(node, cst.Call):
        func = code(node.func)
        args = [_static_text(a.value, constants) for a in node.args]
        if func.endswith("dedent") and len(args) == 1 and args[0] is not None:
            return textwrap.dedent(args[0])
        if func in ("os.path.dirname", "os.path.abspath") and "__file__" in code(node):
            return "."
        if func == "os.path.join" and args and all(a is not None for a in args):
            return os.path.join(*args)  # type: ignore[arg-type]
        return None
    if isinstance(node, cst.Name) and node.value == "__file__":
        return "."
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    try:
        value = ast.literal_eval(code(node))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) else None


def python_name(name: str) -> str:
    """KFP's name for a YAML input or output in Python (``Input 1`` → ``input_1``)."""
    text = re.sub(r"[^0-9a-zA-Z_]+", "_", name.strip()).strip("_").lower()
    return text if text and not text[0].isdigit() else f"_{text}"


def _component(name: str, spec: dict, span: Span) -> Component:
    container = (spec.get("implementation") or {}).get("container")
    if not isinstance(container, dict):
        raise NotLoaded("only a component YAML with implementation.container is read")
    params, artifacts, outputs = [], {}, []
    for given in spec.get("inputs") or []:
        pname, kind = python_name(str(given.get("name", ""))), _type(given.get("type"))
        default = given.get("default")
        text = None if default is None else _default(default, kind)
        if text is None and given.get("optional"):
            text = "None"
        params.append(Param(pname, TypeRef(kind or "bytes", "annotation"), text))
        if kind is None:
            artifacts[pname] = ArtifactParam(pname, "input", PATH)
    for given in spec.get("outputs") or []:
        oname, kind = python_name(str(given.get("name", ""))), _type(given.get("type"))
        artifacts[oname] = ArtifactParam(oname, "output", PATH, parameter=kind)
        outputs.append(Output(oname, TypeRef(kind or "bytes", "annotation")))
    words = _YamlWords({p.name: p.type.expr for p in params}, artifacts)
    command = [*words.items(container.get("command")), *words.items(container.get("args"))]
    if not command:
        raise NotLoaded("the container has no command")
    env = {str(k): str(v) for k, v in (container.get("env") or {}).items()}
    body = command_body(command, artifacts, words.json, env)
    image = str(container.get("image", ""))
    text = f"{spec.get('name', name)} ({image})"
    component = Component(name, span, "container", params, outputs, body, {}, artifacts)
    component.doc = spec.get("description") if isinstance(spec.get("description"), str) else None
    component.spec = text
    return component


def _type(given) -> str | None:
    """A parameter type's Python name; None for an artifact (a file)."""
    if isinstance(given, str):
        return YAML_TYPES.get(given)
    return None


def _default(value, kind: str | None) -> str:
    if kind in ("list", "dict") and isinstance(value, str):
        try:
            return repr(json.loads(value))
        except ValueError:
            return repr(value)
    if kind in ("int", "float", "bool") and isinstance(value, str):
        try:
            return repr(json.loads(value.lower() if kind == "bool" else value))
        except ValueError:
            return repr(value)
    return repr(value)


class _YamlWords:
    """One command or args item of a component YAML → Python expressions for argv words."""

    def __init__(self, kinds: dict[str, str], artifacts: dict[str, ArtifactParam]):
        self.kinds, self.artifacts = kinds, artifacts
        self.json = False

    def items(self, given) -> list[str]:
        if given is None:
            return []
        if not isinstance(given, list):
            given = [given]
        return [w for item in given for w in self.item(item)]

    def item(self, item) -> list[str]:
        if isinstance(item, dict) and "if" in item:
            cond = item["if"] or {}
            present = (cond.get("cond") or {}).get("isPresent")
            if present is None:
                raise NotLoaded(f"the placeholder {item} is not read")
            name = python_name(str(present))
            then = ", ".join(self.items(cond.get("then")))
            otherwise = ", ".join(self.items(cond.get("else")))
            return [f"*([{then}] if {name} is not None else [{otherwise}])"]
        return [self.text(item)]

    def text(self, item) -> str:
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            return repr(str(item))
        if isinstance(item, dict) and len(item) == 1:
            ((kind, value),) = item.items()
            if kind == "concat":
                return '"".join([' + ", ".join(self.text(v) for v in value or []) + "])"
            name = python_name(str(value))
            if kind in ("inputPath", "outputPath") and name in self.artifacts:
                return name
            if kind == "inputValue" and name in self.kinds:
                word = argv_word(name, self.kinds[name])
                self.json |= word.startswith("json.")
                return word
        raise NotLoaded(f"the placeholder {item} is not read")


def _stand_in(name: str, span: Span, why: str) -> Component:
    """A component whose step raises, saying what was loaded and why it was not read."""
    component = Component(name, span, "container", [], [], "", {}, {})
    component.spec = why
    component.loose = True
    return component
