"""``conditional().if_(...).then(...)`` chains in a workflow body → a Switch.

Tests that compare one value with literals (``x == "a"``, ``flag.is_true()``) switch on that value;
any other test (``x > 5``, ``&``, ``|``, an else that runs a task) gets a small step computing which
case runs, and the switch is on that step's output.
"""

from __future__ import annotations

import libcst as cst

from transpile.model.diagnostics import error
from transpile.model.ir import Case, Input, Output, Ref, Step, Switch, Task, TypeRef
from transpile.reading.cst import code

from .shape import Item, structure
from .values import Scope, Val, outer_deps

ELSE = cst.Name("else")  # marks the else_() clause of a conditional
NO_MATCH = "raise ValueError('no branch of the conditional matched')"


class ConditionalFlow:
    """Mixed into WorkflowReader, whose expression and step machinery it uses."""

    def is_conditional(self, node: cst.Call) -> bool:
        return self.r.names.resolve(_chain(node)[0]) == "conditional"

    def conditional(self, node: cst.Call, scope: Scope) -> Val:
        root, chain = _chain(node)
        label = _label(root)
        clauses = self._clauses(chain)
        direct = self._direct(clauses, scope)
        if direct is not None:
            condition, values = direct
        else:
            condition, values = self._condition_step(label, clauses, scope)
        cases, results, inner_items = [], [], []
        for value, (_, then) in zip(values, clauses):
            if then is None:
                continue
            items: list[Item] = []
            results.append(self.expr(then, scope.child(items)))
            cases.append(Case(value, structure(items, self.span)))
            inner_items += items
        deps = outer_deps(inner_items) | condition.deps
        item = self.add_item(Switch(condition.refs[0], tuple(cases)), deps, scope)
        return _merge(results, item.id)

    def _clauses(self, chain) -> list[tuple[cst.BaseExpression, cst.BaseExpression | None]]:
        clauses, test = [], None
        for method, call in chain:
            args = [a.value for a in call.args]
            if method in ("if_", "elif_") and len(args) == 1:
                test = args[0]
            elif method == "else_":
                test = ELSE
            elif method in ("then", "fail") and test is not None:
                clauses.append((test, args[0] if method == "then" and args else None))
                test = None
            else:
                raise error("TP162", f"conditional(...).{method}(...) is not supported", self.span)
        return clauses

    def _direct(self, clauses, scope: Scope):
        """``x == <literal>`` on one value in every test, and no else case: a plain Switch."""
        subject, values = None, []
        for test, then in clauses:
            if test is ELSE:
                if then is not None:
                    return None
                continue
            pair = self._equality(test, scope)
            if pair is None or (subject is not None and pair[0].refs != subject.refs):
                return None
            subject = pair[0]
            values.append(pair[1])
        return (subject, values) if subject is not None else None

    def _equality(self, test, scope: Scope) -> tuple[Val, str] | None:
        if isinstance(test, cst.Call) and isinstance(test.func, cst.Attribute):
            flag = {"is_true": "True", "is_false": "False"}.get(test.func.attr.value)
            value = self.expr(test.func.value, scope) if flag else None
            return (value, flag) if value is not None and len(value.refs) == 1 else None  # type: ignore[return-value]
        if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
            return None
        if not isinstance(test.comparisons[0].operator, cst.Equal):
            return None
        left, right = self.expr(test.left, scope), self.expr(test.comparisons[0].comparator, scope)
        value, literal = (left, right) if right.literal is not None else (right, left)
        if literal.literal is None or len(value.refs) != 1 or value.mode != "value":
            return None
        return value, literal.literal

    def _condition_step(self, label: str, clauses, scope: Scope) -> tuple[Val, list[str]]:
        """A small step that computes which case runs, for tests a Switch cannot compare."""
        inputs: dict[str, Val] = {}
        lines, values = self._condition_body(clauses, scope, inputs)
        name = self.step_name(f"{scope.prefix}{label}_condition")
        step_inputs = tuple(Input(n, _type(v), v.refs, v.mode) for n, v in inputs.items())  # type: ignore[arg-type]
        output = Output("branch", TypeRef("str", "inferred"))
        where = self.r.spans.find("conditional", self.span)
        self.steps.append(Step(name, where, step_inputs, (output,), "\n".join(lines) + "\n"))
        item = self.add_item(Task(name), set().union(*(v.deps for v in inputs.values())), scope)
        self.note("TP201", f"conditional '{label}' switches on a computed key (step {name})")
        return Val((Ref("output", name, "branch"),), deps=frozenset({item.id})), values

    def _condition_body(self, clauses, scope: Scope, inputs: dict[str, Val]):
        """``if <test>: branch = 'case_1'`` ... and the case values; a fail clause raises."""
        lines, values = [], []
        for number, (test, then) in enumerate(clauses):
            key = "else" if test is ELSE else f"case_{number + 1}"
            values.append(repr(key))
            if test is ELSE:
                lines.append("else:")
            else:
                keyword = "if" if number == 0 else "elif"
                lines.append(f"{keyword} {self._python(test, scope, inputs)}:")
            lines.append(f"    branch = {key!r}" if then is not None else f"    {NO_MATCH}")
        if clauses and clauses[-1][0] is not ELSE:
            lines += ["else:", f"    {NO_MATCH}"]
        return lines, values

    def _python(self, test: cst.BaseExpression, scope: Scope, inputs: dict[str, Val]) -> str:
        """A Flyte test (``&``, ``|``, comparisons, ``is_true()``) as a Python condition."""
        if isinstance(test, cst.BinaryOperation) and isinstance(
            test.operator, (cst.BitAnd, cst.BitOr)
        ):
            word = "and" if isinstance(test.operator, cst.BitAnd) else "or"
            left, right = (self._python(side, scope, inputs) for side in (test.left, test.right))
            return f"({left}) {word} ({right})"
        if isinstance(test, cst.Comparison):
            parts = [self._operand(test.left, scope, inputs)]
            for target in test.comparisons:
                operator = code(target.operator).strip()
                parts.append(f"{operator} {self._operand(target.comparator, scope, inputs)}")
            return " ".join(parts)
        method = (
            test.func.attr.value
            if isinstance(test, cst.Call) and isinstance(test.func, cst.Attribute)
            else None
        )
        if method in ("is_true", "is_false"):
            operand = self._operand(test.func.value, scope, inputs)  # type: ignore[attr-defined]
            return operand if method == "is_true" else f"not {operand}"
        return self._operand(test, scope, inputs)

    def _operand(self, node: cst.BaseExpression, scope: Scope, inputs: dict[str, Val]) -> str:
        value = self.expr(node, scope)
        if value.literal is not None:
            return value.literal
        if not value.refs or value.fields is not None:
            raise error("TP162", f"`{code(node)}` in a condition is not a single value", self.span)
        for name, known in inputs.items():
            if known.refs == value.refs:
                return name
        base = node.value if isinstance(node, cst.Name) else value.refs[0].name
        name, number = base, 2
        while name in inputs:
            name, number = f"{base}_{number}", number + 1
        inputs[name] = value
        return name


def _chain(node: cst.BaseExpression) -> tuple[cst.BaseExpression, list[tuple[str, cst.Call]]]:
    chain = []
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        chain.append((node.func.attr.value, node))
        node = node.func.value
    return node, chain[::-1]


def _label(root: cst.BaseExpression) -> str:
    args = root.args if isinstance(root, cst.Call) else ()
    if args and isinstance(args[0].value, cst.SimpleString):
        text = str(args[0].value.evaluated_value)
        return "".join(c if c.isalnum() else "_" for c in text).strip("_") or "branch"
    return "branch"


def _merge(results: list[Val], item_id: int) -> Val:
    """The value after a switch: whichever case ran (per field when cases return several)."""
    deps = frozenset({item_id})
    if results and all(r.fields is not None for r in results):
        width = min(len(r.fields) for r in results)  # type: ignore[arg-type]
        names = [n for n, _ in results[0].fields[:width]]  # type: ignore[index]
        parts = [_merge([r.fields[i][1] for r in results], item_id) for i in range(width)]  # type: ignore[index]
        return Val(deps=deps, fields=tuple(zip(names, parts)))
    refs = tuple(dict.fromkeys(ref for r in results for ref in r.refs))
    kind = next((r.type for r in results if r.type), None)
    return Val(refs, "oneof" if len(refs) > 1 else "value", deps, type=kind)


def _type(value: Val) -> TypeRef:
    return TypeRef(value.type, "annotation") if value.type else TypeRef("typing.Any", "fallback")
