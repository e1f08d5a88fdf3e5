"""Flyte's imperative workflows, read as the @workflow function they build.

    wf = Workflow(name="imperative_workflow")
    wf.add_workflow_input("x", list[int])
    node = wf.add_entity(slope, x=wf.inputs["x"])
    wf.add_workflow_output("out", node.outputs["o0"])

is the workflow ``def wf(x: list[int]) -> float: node = create_node(slope, x=x); return node.o0``
(the output keeps its name; its type is the entity's, or ``python_type=`` when given). The module-level statements
that build it are read here and left out of the output's module code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from transpile.model.diagnostics import error
from transpile.model.ir import Span
from transpile.reading.cst import code, keyword_args, positional_args

CREATE = "_transpile_create_node"  # the reader's own spelling of create_node; never written
ADDERS = {"add_entity", "add_task", "add_subwf", "add_launch_plan"}


@dataclass
class Builder:
    """One ``Workflow(...)`` object and the statements that build it, in order."""

    var: str
    span: Span
    inputs: list[tuple[str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    outputs: list[tuple[str, str, str | None]] = field(default_factory=list)  # name, expr, type


class ImperativeWorkflows:
    """Mixed into ModuleScan."""

    def imperative_statement(self, small: cst.BaseSmallStatement, span: Span) -> bool:
        """Record a statement that makes or builds an imperative workflow; True when it did."""
        value = getattr(small, "value", None)
        if isinstance(small, cst.Assign) and isinstance(value, cst.Call):
            target = small.targets[0].target
            if self.names.resolve(value) == "Workflow" and isinstance(target, cst.Name):
                self.builders[target.value] = Builder(target.value, span)
                return True
        if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Attribute):
            return False
        owner = code(value.func.value)
        builder = self.builders.get(owner)
        if builder is None:
            return False
        method = value.func.attr.value
        args = positional_args(value)
        if method == "add_workflow_input" and len(args) == 2:
            builder.inputs.append((_text(args[0], span), code(args[1])))
        elif method == "add_workflow_output" and args:
            kind = keyword_args(value).get("python_type")
            expr = args[1] if len(args) > 1 else keyword_args(value).get("p")
            if expr is None:
                raise error("TP151", f"`{code(value)}` names no output value", span)
            builder.outputs.append(
                (_text(args[0], span), self._wired(builder, expr), code(kind) if kind else None)
            )
        elif method in ADDERS and isinstance(small, (cst.Assign, cst.Expr)) and args:
            call = f"{CREATE}({code(args[0])}, " + ", ".join(
                f"{k}={self._wired(builder, v)}" for k, v in keyword_args(value).items()
            )
            call = call.rstrip(", ") + ")"
            if isinstance(small, cst.Assign):
                call = f"{code(small.targets[0].target)} = {call}"
            builder.lines.append(call)
        else:
            raise error("TP151", f"`{code(value)}`: {method} of an imperative workflow", span)
        return True

    def _wired(self, builder: Builder, node: cst.BaseExpression) -> str:
        """``wf.inputs["x"]`` → ``x``; ``node.outputs["o0"]`` → ``node.o0``."""

        class Wire(cst.CSTTransformer):
            def leave_Subscript(self, old: cst.Subscript, new: cst.Subscript) -> cst.BaseExpression:
                owner = new.value
                index = new.slice[0].slice if len(new.slice) == 1 else None
                key = index.value if isinstance(index, cst.Index) else None
                if not isinstance(owner, cst.Attribute) or not isinstance(key, cst.SimpleString):
                    return new
                name = str(key.evaluated_value)
                if owner.attr.value == "inputs" and code(owner.value) == builder.var:
                    return cst.Name(name)
                if owner.attr.value == "outputs":
                    return cst.Attribute(owner.value, cst.Name(name))
                return new

        return code(node.visit(Wire()))  # type: ignore[arg-type]

    def imperative_functions(self) -> list[cst.FunctionDef]:
        """Each builder as the @workflow function it makes (CREATE resolves to create_node)."""
        if self.builders:
            self.names.names[CREATE] = "create_node"
        made = []
        for builder in self.builders.values():
            params = ", ".join(f"{name}: {kind}" for name, kind in builder.inputs)
            returns, result = self._returns(builder)
            lines = [*builder.lines, *([f"return {result}"] if result else [])] or ["pass"]
            body = "".join(f"    {line}\n" for line in lines)
            text = f"def {builder.var}({params}){returns}:\n{body}"
            made.append(cst.parse_statement(text))
        return made  # type: ignore[return-value]

    def _returns(self, builder: Builder) -> tuple[str, str]:
        if not builder.outputs:
            return " -> None", ""
        kinds = [kind or self._output_type(expr) for _, expr, kind in builder.outputs]
        # the outputs keep their names (add_workflow_output("wf_output", ...)), one or several
        fields = ", ".join(f"({n!r}, {k})" for (n, _, _), k in zip(builder.outputs, kinds))
        values = ", ".join(expr for _, expr, _ in builder.outputs)
        values += "," if len(builder.outputs) == 1 else ""
        return f' -> NamedTuple("{builder.var}_outputs", [{fields}])', values

    def _output_type(self, expr: str) -> str:
        """The annotation of ``node.o0``: the entity's output of that name."""
        node, _, name = expr.partition(".")
        for builder in self.builders.values():
            for line in builder.lines:
                if line.startswith(f"{node} = {CREATE}("):
                    entity = line.split("(", 1)[1].split(",")[0].split(")")[0].strip()
                    fn = self.functions.get(entity)
                    if fn is None:
                        continue
                    if fn.fields is None and name == "o0" and fn.single:
                        return fn.single
                    return dict(fn.fields or []).get(name, "typing.Any")
        return "typing.Any"


def _text(node: cst.BaseExpression, span: Span) -> str:
    if not isinstance(node, cst.SimpleString):
        raise error("TP151", f"`{code(node)}` must be a string literal", span)
    return str(node.evaluated_value)
