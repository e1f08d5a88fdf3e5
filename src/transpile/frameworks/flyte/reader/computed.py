"""Values a workflow body computes itself, not by calling a task.

Flyte runs a workflow's body once, when the workflow is compiled, with promises for task outputs.
What the body builds from literals and module classes (``Hyperparameters(epochs=10)``) is a value
of that moment: it is carried as a constant expression, evaluated where a step uses it. What it
builds from promises (``fruits["apple"]``, ``items[0]``, ``result.name``: Flyte resolves such an
access when the run reaches it) becomes a small step that computes it from the promised values.
Everything else (a flytekit object, a task or workflow inside an expression, a name the module
does not define) is refused at its line.
"""

from __future__ import annotations

import ast
import builtins
import re

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import Input, Output, Ref, Step, Task, TypeRef
from transpile.reading.cst import calls_in, code
from transpile.reading.inference import split_args

from .values import Scope, Val

BUILTIN_NAMES = frozenset(dir(builtins))
# calls that give the same value wherever and whenever they run, so a constant expression may
# hold them (a module class is added to these; ``datetime.now()`` is not)
PURE_CALLS = frozenset(
    {"list", "dict", "tuple", "set", "frozenset", "range", "int", "float", "str", "bool", "len"}
    | {"sorted", "min", "max", "sum", "abs", "round", "zip", "enumerate", "reversed", "repr"}
)


class ComputedValues:
    """Mixed into WorkflowReader."""

    def computed(self, node: cst.BaseExpression, scope: Scope) -> Val:
        used = _free_names(node)
        promised: dict[str, Val] = {}
        for name in sorted(used):
            value = scope.names.get(name)
            if value is not None:
                if value.fields is not None:
                    message = f"`{code(node)}` uses {name}, which holds several outputs"
                    raise error("TP151", message, self.span)
                if value.literal is None:
                    promised[name] = value
                continue
            self._module_name(node, name)
        if not promised:
            return self._constant(node, scope, used)
        if not _access_chain(node) and not set(promised) <= scope.concrete:
            head = code(node.func).split(".")[0] if isinstance(node, cst.Call) else ""
            origin = next((text for bound, text in self.r.imports if head in bound), None)
            if origin is not None:
                message = (
                    f"`{_short(node)}` calls '{head}' with promises: a task imported by "
                    f"`{origin}`, from a module not found in the source tree (convert with "
                    "that module beside the file)"
                )
                raise error("TP151", message, self.span)
            message = (
                f"`{code(node)}` is not a literal, a workflow input or a task output: Flyte "
                "computes nothing with a promise in a workflow body (a task must)"
            )
            raise error("TP151", message, self.span)
        return self._value_step(node, scope, promised)

    def _module_name(self, node: cst.BaseExpression, name: str) -> None:
        """``name`` must be something the output module can have: not flytekit's, not a task."""
        r = self.r
        if name in r.functions:
            message = (
                f"`{code(node)}` uses {r.functions[name].kind} '{name}' inside an expression; "
                "call it on its own line"
            )
            raise error("TP151", message, self.span)
        if name in r.names.names or name in r.names.modules:
            message = f"`{code(node)}` builds a flytekit object ({name}) in the workflow body"
            raise error("TP151", message, self.span)
        if name in r.flyte_objects:
            message = f"`{code(node)}` uses '{name}', a flytekit {r.flyte_objects[name]}"
            raise error("TP151", message, self.span)
        if name not in BUILTIN_NAMES and name not in r.module_names():
            message = f"`{code(node)}` uses '{name}', which the workflow does not define"
            raise error("TP151", message, self.span)

    def _constant(self, node: cst.BaseExpression, scope: Scope, used: set[str]) -> Val:
        """No promise in it: the expression itself, with the body's literals put in."""
        text = _substitute(node, {n: scope.names[n].literal for n in used if n in scope.names})
        calls = {code(c.func) for c in calls_in(node)}
        pure = PURE_CALLS | set(self.r.classes) | set(self.r.namedtuples)
        if calls - pure:
            message = (
                f"`{code(node)}` is computed where a step uses it; Flyte computed it once, "
                "when the workflow was compiled"
            )
            self.r.diagnostics.append(Diagnostic("TP201", "info", message, self.span))
        return Val(literal=text, type=self._type_of(node, scope))

    def _value_step(self, node: cst.BaseExpression, scope: Scope, promised: dict[str, Val]) -> Val:
        """A small step computes the expression from the promised values it reads."""
        name = self.step_name(scope.prefix + _step_base(node))
        kind = self._type_of(node, scope)
        inputs = []
        for local, value in promised.items():
            known = value.type or ("list" if value.mode == "collected" else None)
            in_type = TypeRef(known, "annotation") if known else TypeRef("typing.Any", "fallback")
            inputs.append(Input(local, in_type, value.refs, value.mode))  # type: ignore[arg-type]
        literals = [
            f"{n} = {v.literal}"
            for n, v in sorted(scope.names.items())
            if n in _free_names(node) and v.literal is not None
        ]
        text = code(node)
        if isinstance(node, cst.Call) and code(node.func) == "range":
            text = f"list({text})"  # a list travels between steps (KFP takes JSON)
        body = "\n".join([*literals, f"value = {text}"]) + "\n"
        out_type = TypeRef(kind, "annotation") if kind else TypeRef("typing.Any", "fallback")
        doc = f"Added by transpile: the workflow's `{_short(node)}`, computed when the run reaches it."
        if set(promised) <= scope.concrete:
            doc = f"Added by transpile: the @dynamic's `{_short(node)}`, computed when it runs."
        step = Step(name, self.span, tuple(inputs), (Output("value", out_type),), body, (), doc)
        self.steps.append(step)
        deps = set().union(*(v.deps for v in promised.values()))
        item = self.add_item(Task(name), deps, scope)
        when = (
            "the @dynamic computes it when it runs"
            if set(promised) <= scope.concrete
            else "Flyte resolves it when the run reaches it"
        )
        message = f"`{_short(node)}` becomes step '{name}' ({when})"
        self.r.diagnostics.append(Diagnostic("TP201", "info", message, self.span))
        return Val((Ref("output", name, "value"),), deps=frozenset({item.id}), type=kind)

    # types ----------------------------------------------------------------------------------------
    def _type_of(self, node: cst.BaseExpression, scope: Scope) -> str | None:
        """The annotation of what the expression gives, where the source says it."""
        if isinstance(node, cst.Name):
            value = scope.names.get(node.value)
            return value.type if value is not None else None
        if isinstance(node, cst.Subscript) and len(node.slice) == 1:
            owner = self._type_of(node.value, scope)
            index = node.slice[0].slice
            if owner is None or not isinstance(index, cst.Index):
                return None
            return _item_type(owner, self._literal_index(index.value))
        if isinstance(node, cst.Attribute):
            owner = self._type_of(node.value, scope)
            fields = dict(
                self.r.classes.get(owner or "", []) + self.r.namedtuples.get(owner or "", [])
            )
            return fields.get(node.attr.value)
        if isinstance(node, cst.Call):
            name = code(node.func)
            if name in self.r.classes or name in self.r.namedtuples:
                return name
            if name == "range":
                return "list[int]"
            return {"str": "str", "int": "int", "float": "float", "bool": "bool"}.get(name)
        return _literal_type(node)

    @staticmethod
    def _literal_index(node: cst.BaseExpression) -> object:
        try:
            return ast.literal_eval(code(node))
        except (ValueError, SyntaxError, TypeError):
            return None


def _item_type(owner: str, index: object) -> str | None:
    """``dict[str, list[str]]`` indexed → ``list[str]``; ``list[int]`` → ``int``; a tuple's part."""
    match = re.fullmatch(r"(?:typing\.)?(\w+)\[(.*)\]", owner.strip())
    if match is None:
        return None
    head, args = match.group(1).lower(), split_args(match.group(2))
    if head in ("list", "sequence") and len(args) == 1 and not isinstance(index, slice):
        return args[0]
    if head in ("dict", "mapping") and len(args) == 2:
        return args[1]
    if head == "tuple" and isinstance(index, int) and 0 <= index < len(args) and "..." not in args:
        return args[index]
    return None


def _literal_type(node: cst.BaseExpression) -> str | None:
    """The type of a literal, or of literals joined by ``+``/``*`` (``[0] * 26`` is ``list[int]``),
    found from the syntax: nothing of the user's is evaluated."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.Multiply)):
        left, right = _literal_type(node.left), _literal_type(node.right)
        if isinstance(node.operator, cst.Multiply) and "int" in (left, right):
            other = right if left == "int" else left
            return other if other and other.startswith(("list[", "str")) else None
        return left if left == right else None
    try:
        value = ast.literal_eval(code(node))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    scalar = {bool: "bool", int: "int", float: "float", str: "str"}
    kinds = {type(v) for v in value} if isinstance(value, list) else set()
    if isinstance(value, list) and len(kinds) == 1 and next(iter(kinds)) in scalar:
        return f"list[{scalar[next(iter(kinds))]}]"
    return scalar.get(type(value))


def _free_names(node: cst.CSTNode) -> set[str]:
    """The names an expression reads (not attribute names, keywords, or comprehension locals)."""
    found: set[str] = set()
    bound: set[str] = set()

    class Visit(cst.CSTVisitor):
        def visit_Attribute(self, attr: cst.Attribute) -> bool:
            attr.value.visit(self)
            return False

        def visit_Arg(self, arg: cst.Arg) -> bool:
            arg.value.visit(self)
            return False

        def visit_CompFor(self, comp: cst.CompFor) -> None:
            bound.update(n.value for n in _names(comp.target))

        def visit_Lambda(self, lam: cst.Lambda) -> None:
            bound.update(p.name.value for p in lam.params.params)

        def visit_Name(self, name: cst.Name) -> None:
            found.add(name.value)

    node.visit(Visit())
    return found - bound


def _names(node: cst.CSTNode) -> list[cst.Name]:
    if isinstance(node, cst.Name):
        return [node]
    if isinstance(node, (cst.Tuple, cst.List)):
        return [n for e in node.elements for n in _names(e.value)]
    return []


def _substitute(node: cst.BaseExpression, literals: dict[str, str | None]) -> str:
    """The expression's text with body names that hold literals replaced by them."""
    values = {k: v for k, v in literals.items() if v is not None}
    if not values:
        return code(node)

    class Swap(cst.CSTTransformer):
        def visit_Attribute(self, attr: cst.Attribute) -> bool:
            return True

        def leave_Attribute(self, old: cst.Attribute, new: cst.Attribute) -> cst.Attribute:
            return new.with_changes(attr=old.attr)

        def leave_Arg(self, old: cst.Arg, new: cst.Arg) -> cst.Arg:
            return new.with_changes(keyword=old.keyword)

        def leave_Name(self, old: cst.Name, new: cst.Name) -> cst.BaseExpression:
            text = values.get(old.value)
            return cst.parse_expression(f"({text})") if text is not None else new

    return code(node.visit(Swap()))  # type: ignore[arg-type]


def _step_base(node: cst.BaseExpression) -> str:
    """A step name from the expression: ``fruits["apple"].name`` → ``fruits_apple_name``."""
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\d+", code(node))
    base = "_".join(w.strip("_").lower() for w in words if w.strip("_"))[:40].strip("_")
    return base if base and not base[0].isdigit() else f"value_{base}".strip("_")


def _short(node: cst.BaseExpression) -> str:
    text = re.sub(r"\s+", " ", code(node))
    return text if len(text) <= 60 else text[:57] + "..."


def _access_chain(node: cst.BaseExpression) -> bool:
    """``d["a"][0].name``: attribute and constant-index reads of one name, what Flyte resolves
    on a promise when the run reaches it."""
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        if isinstance(node, cst.Subscript):
            if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
                return False
            index = node.slice[0].slice.value
            if not isinstance(index, (cst.Integer, cst.SimpleString)):
                return False
        node = node.value
    return isinstance(node, cst.Name)
