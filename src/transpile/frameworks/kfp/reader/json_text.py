"""JSON taken as text (``config: str`` + ``config = json.loads(config)``) → a JSON parameter.

KFP turns the ints inside a dict or list parameter into floats, so a JSON value of unknown shape
travels as its text and each component parses it first thing (our KFP writer's idiom, TP221).
Read back, that text is what it stands for: the component input is the parsed value and a
pipeline parameter that reaches components only this way is a JSON parameter (kind ``json``),
its default the parsed value, as the Metaflow reader models ``JSONType``.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import libcst as cst

from transpile.model.ir import ANY, Input, Parameter, TypeRef
from transpile.reading.cst import code, dotted

if TYPE_CHECKING:
    from .draft import Draft

IMPORT = "import json"
TEXT = TypeRef("str", "annotation")


def strip_json_text(
    statements: list[cst.BaseStatement], text_params: set[str]
) -> tuple[list[cst.BaseStatement], set[str]]:
    """The body without its leading ``x = json.loads(x)`` lines for ``str`` parameters ``x``
    (nor ``import json`` once nothing else uses it); the parameters so parsed."""
    parsed: set[str] = set()
    dropped: set[int] = set()
    for index, stmt in enumerate(statements):
        name = _parses(stmt, text_params)
        if name is not None:
            parsed.add(name)
            dropped.add(index)
        elif not _is_import(stmt):
            break  # only the lines before the step's own code
    kept = [s for i, s in enumerate(statements) if i not in dropped]
    if parsed and not _uses_json(kept):
        kept = [s for s in kept if code(s).strip() != IMPORT]
    return kept, parsed


def _parses(stmt: cst.BaseStatement, text_params: set[str]) -> str | None:
    small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
    if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
        return None
    call, target = small.value, small.targets[0].target
    if not (isinstance(call, cst.Call) and dotted(call.func) == "json.loads"):
        return None
    name = target.value if isinstance(target, cst.Name) else None
    args = [a.value for a in call.args]
    if name in text_params and len(args) == 1 and dotted(args[0]) == name:
        return name
    return None


def _is_import(stmt: cst.BaseStatement) -> bool:
    small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
    return isinstance(small, (cst.Import, cst.ImportFrom))


def _uses_json(statements: list[cst.BaseStatement]) -> bool:
    found = []

    class Uses(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> bool:
            return False  # the import itself is no use

        def visit_Name(self, node: cst.Name) -> None:
            found.append(node.value == "json")

    for stmt in statements:
        stmt.visit(Uses())
    return any(found)


def reparse(name: str) -> str:
    """Body lines giving back the parse a component's input does when it stays text."""
    return f"{IMPORT}\n{name} = json.loads({name})\n"


@dataclass
class JsonTexts:
    """Which pipeline parameters reach components as JSON text, and which as plain text."""

    parsed: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # → (step, input)
    plain: set[str] = field(default_factory=set)

    def reached(self, step: str, inputs: list[Input], parsed: set[str]) -> list[str]:
        """Notes each input fed by a pipeline parameter (a parsed one is the JSON value, of
        unknown type, in ``inputs``); the lines parsing the JSON text of the parsed inputs fed
        by anything else (a task output, a literal, a default), which stay text."""
        for index, inp in enumerate(inputs):
            param = _parameter_of(inp)
            if inp.name in parsed and param:
                self.parsed.setdefault(param, []).append((step, inp.name))
                inputs[index] = replace(inp, type=ANY)
            elif inp.name in parsed:
                inputs[index] = replace(inp, type=TEXT)
            elif param:
                self.plain.add(param)
        fed = {i.name for i in inputs if _parameter_of(i)}
        return [reparse(name) for name in sorted(parsed - fed)]

    def settle(self, parameters: list[Parameter], drafts: dict[str, Draft]) -> list[Parameter]:
        """``parameters`` with those every component reads as JSON text made JSON parameters;
        the other parsed inputs get their parse back, as text inputs."""
        found = {}
        for p in parameters:
            value = _json_default(p)
            if p.name in self.parsed and p.name not in self.plain and value is not False:
                found[p.name] = replace(p, type=ANY, kind="json", default=value)
        for name, uses in self.parsed.items():
            for step, inp in uses if name not in found else ():
                draft = drafts[step]
                draft.body = reparse(inp) + draft.body
                draft.inputs = [replace(i, type=TEXT) if i.name == inp else i for i in draft.inputs]
        return [found.get(p.name, p) for p in parameters]


def _parameter_of(inp: Input) -> str | None:
    refs = inp.refs
    single = len(refs) == 1 and refs[0].kind == "param" and inp.mode == "value"
    return refs[0].name if single else None


def _json_default(param: Parameter) -> str | None | bool:
    """The default's parsed value as Python source; None without one; False when it is not
    JSON text (then the parameter stays text)."""
    if param.default is None:
        return None
    try:
        return repr(json.loads(ast.literal_eval(param.default)))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
