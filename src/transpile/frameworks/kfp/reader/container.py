"""A ``@dsl.container_component`` → a Python body that runs the same command with ``subprocess``.

KFP runs ``command + args`` in the component's image, with placeholders replaced: an input
parameter by its value as text, an ``OutputPath`` by a file path the command writes, an
artifact's ``.path`` by its file, ``ConcatPlaceholder`` by the joined text and
``IfPresentPlaceholder`` by its ``then`` or ``else_`` items. The body built here does the same in
the step's own environment (the image is the step's image option); the input and output files
are those the component's artifacts already get (artifacts.py). What it cannot read stays a TODO.
"""

from __future__ import annotations

import ast

import libcst as cst

from transpile.reading.cst import code, keyword_args, positional_args

from .artifacts import PATH, ArtifactParam, file_epilogue, file_prelude
from .names import KfpNames

SPEC_FIELDS = ("image", "command", "args")


class NotStatic(Exception):
    """A part of the ContainerSpec whose text is only known when the pipeline runs."""


def container_body(
    spec: cst.BaseExpression,
    params: dict[str, str],
    artifacts: dict[str, ArtifactParam],
    names: KfpNames,
) -> str | None:
    """A body that runs ``spec``'s command (``params``: input name → type), or None."""
    if not (isinstance(spec, cst.Call) and names.resolve(spec.func) == "ContainerSpec"):
        return None
    given: dict[str, cst.BaseExpression] = dict(
        zip(SPEC_FIELDS, (a.value for a in positional_args(spec)), strict=False)
    )
    given.update(keyword_args(spec))
    words = _Words(params, artifacts, names)
    try:
        items = [*words.items(given.get("command")), *words.items(given.get("args"))]
    except NotStatic:
        return None
    return command_body(items, artifacts, words.json) if items else None


def command_body(
    words: list[str],
    artifacts: dict[str, ArtifactParam],
    uses_json: bool,
    env: dict[str, str] | None = None,
) -> str:
    """A step body that runs the argv ``words`` (Python expressions) with ``subprocess``, the
    artifacts' files made before it and read after it; ``env``: variables the command gets
    unless the step's environment sets them."""
    imports = ["import json"] if uses_json else []
    run = f"subprocess.run([{', '.join(words)}], check=True"
    if env:
        imports.append("import os")
        pairs = ", ".join(f"{k!r}: {v!r}" for k, v in env.items())
        run += f", env={{{pairs}, **os.environ}}"
    imports.append("import subprocess")
    head = "\n".join(imports) + "\n"
    return head + file_prelude(artifacts) + run + ")\n" + file_epilogue(artifacts)


class _Words:
    """One ContainerSpec list item → Python expressions for the argv words it stands for."""

    def __init__(self, params: dict[str, str], artifacts: dict[str, ArtifactParam], names):
        self.params, self.artifacts, self.names = params, artifacts, names
        self.json = False

    def items(self, node: cst.BaseExpression | None) -> list[str]:
        if node is None:
            return []
        if isinstance(node, (cst.List, cst.Tuple)):
            return [w for e in node.elements for w in self.item(e.value)]
        return self.item(node)

    def item(self, node: cst.BaseExpression) -> list[str]:
        if isinstance(node, cst.Call) and self.names.resolve(node.func) == "IfPresentPlaceholder":
            return [self.if_present(node)]
        return [self.text(node)]

    def if_present(self, node: cst.Call) -> str:
        args = keyword_args(node)
        name = _literal(args.get("input_name"))
        if not isinstance(name, str) or name not in self.params:
            raise NotStatic
        then = self.items(args.get("then"))
        otherwise = self.items(args.get("else_"))
        return f"*([{', '.join(then)}] if {name} is not None else [{', '.join(otherwise)}])"

    def text(self, node: cst.BaseExpression) -> str:
        """One argv word: a str expression."""
        value = _literal(node)
        if isinstance(value, str):
            return code(node)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return repr(str(value))
        if isinstance(node, cst.Call) and self.names.resolve(node.func) == "ConcatPlaceholder":
            parts = keyword_args(node).get("items") or (positional_args(node) or [None])[0]
            if not isinstance(parts, (cst.List, cst.Tuple)):
                raise NotStatic
            return '"".join([' + ", ".join(self.text(e.value) for e in parts.elements) + "])"
        if isinstance(node, cst.Name) and node.value in self.artifacts:
            art = self.artifacts[node.value]
            if art.cls == PATH:
                return node.value  # InputPath / OutputPath: the file's path
            raise NotStatic
        if isinstance(node, cst.Name) and node.value in self.params:
            return self.parameter(node.value, self.params[node.value])
        if (
            isinstance(node, cst.Attribute)
            and node.attr.value in ("path", "uri")
            and isinstance(node.value, cst.Name)
            and node.value.value in self.artifacts
        ):
            return f"{node.value.value}.path"
        raise NotStatic

    def parameter(self, name: str, kind: str) -> str:
        word = argv_word(name, kind)
        self.json |= word.startswith("json.")
        return word


def argv_word(name: str, kind: str) -> str:
    """A parameter as KFP places it in a command: text as is, numbers as digits, anything else
    as JSON (``true``, ``[1, 2]``)."""
    if kind == "str":
        return name
    if kind in ("int", "float"):
        return f"str({name})"
    return f"json.dumps({name})"


def _literal(node: cst.BaseExpression | None) -> object:
    if node is None:
        return None
    try:
        return ast.literal_eval(code(node))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
