"""``dsl.If`` / ``dsl.Elif`` / ``dsl.Else`` / ``dsl.Condition`` chains → Switch nodes.

Equality tests of one value against literals switch on that value directly. An Else, or any
other test, gets a small synthetic step computing the key of the branch to take.
"""

from __future__ import annotations

import ast

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import ANY, Case, Input, Output, Ref, Switch, Task, TypeRef
from transpile.reading.cst import code

from .draft import Draft
from .flow import Item, Value, group, ref_steps, steps_in
from .scope import Scope, body_of
from .settings import Settings


class Branches:
    """Mixed into PipelineBuilder (pipeline.py): If/Elif/Else chains."""

    def branches(self, chain: list[cst.With], scope: Scope) -> None:
        """One If/Elif/Else chain → a Switch (and maybe a condition step before it)."""
        span = scope.locator.at(chain[0])
        tests, bodies = [], []
        before = set(scope.handles)
        for stmt in chain:
            call = stmt.items[0].item
            tests.append(call.args[0].value if isinstance(call, cst.Call) and call.args else None)
            inner = self.nested(scope)
            self.walk(body_of(stmt), inner)
            bodies.append([i for i in inner.items if not self.no_step_idiom(i)])
        if tests[-1] is None and self.no_case_idiom(bodies[-1]):
            tests, bodies = tests[:-1], bodies[:-1]
        elif tests[-1] is not None and not (set(scope.handles) - before) & self.one_of_names():
            # no branch matches: KFP skips them all, so an empty case (a dsl.OneOf over the
            # branches' outputs fails without a match in KFP too: then no empty case)
            tests, bodies = [*tests, None], [*bodies, []]
        if not any(bodies):
            raise error("TP180", "a dsl.If / dsl.Elif / dsl.Else chain with no task in it", span)
        condition, values = self.equality_switch(tests, scope)
        if condition is None:
            condition, values = self.condition_step(tests, bodies, span, scope)
        cases = tuple(Case(v, group(b).node) for v, b in zip(values, bodies, strict=True))
        inner = group([i for b in bodies for i in b])
        waits = inner.deps | ref_steps((condition,))
        scope.items.append(Item(Switch(condition, cases), inner.steps, waits))

    def one_of_names(self) -> set[str]:
        """The names that ``dsl.OneOf(...)`` arguments start from, in any pipeline."""
        if self._one_of is None:
            found: set[str] = set()
            names = self.ctx.names

            class Finder(cst.CSTVisitor):
                def visit_Call(self, node: cst.Call) -> None:
                    if names.resolve(node.func) == "OneOf":
                        for arg in node.args:
                            root = arg.value
                            while isinstance(root, (cst.Attribute, cst.Subscript)):
                                root = root.value
                            if isinstance(root, cst.Name):
                                found.add(root.value)

            for fn in self.ctx.pipelines.values():
                fn.visit(Finder())
            self._one_of = found
        return self._one_of

    def no_step_idiom(self, item: Item) -> bool:
        """Our writer's task for a case that runs no step (a component that only passes)."""
        steps = list(item.steps)
        comp = self.ctx.components.get(self.origin.get(steps[0], "")) if len(steps) == 1 else None
        if comp is not None and comp.does_nothing:
            del self.drafts[steps[0]]
            return True
        return False

    def no_case_idiom(self, items: list[Item]) -> bool:
        """Our writer's else branch: one task that fails because the value matched no case."""
        steps = [s for i in items for s in i.steps]
        comp = self.ctx.components.get(self.origin.get(steps[0], "")) if len(steps) == 1 else None
        if comp is not None and comp.raises_no_case:
            del self.drafts[steps[0]]
            return True
        return False

    def equality_switch(self, tests: list, scope: Scope):
        """``x == 'a'`` / ``x == 'b'`` on one reference: a switch on it, no extra step."""
        pairs = [_equality(t) for t in tests]
        if not tests or any(p is None for p in pairs):
            return None, []
        found = [(self.lookup(a, scope), b) for a, b in pairs]  # type: ignore[misc]
        refs = {
            v.refs if v and v.literal is None and v.mode == "value" and v.field is None else ()
            for v, _ in found
        }
        if len(refs) != 1 or len(next(iter(refs))) != 1:
            return None, []
        return next(iter(refs))[0], [code(lit) for _, lit in found]

    def condition_step(self, tests: list, bodies: list, span, scope: Scope):
        """Tests other than equality on one reference: a small step computes the branch key."""
        name = self.unique(f"{steps_in(bodies[0][0].node)[0]}_condition")
        renamer = Channels(self, scope)
        texts = [code(t.visit(renamer)) if t is not None else None for t in tests]
        keys = [repr(str(i)) for i in range(len(tests))]
        expr = repr("none")  # no case has it: the run fails, as a switch without a match does
        for key, text in reversed(list(zip(keys, texts, strict=True))):
            expr = key if text is None else f"{key} if {text} else {expr}"
        found = renamer.found.items()
        bindings = "".join(f"{n} = {v.literal}\n" for n, v in found if v.literal is not None)
        inputs = [_input(n, v) for n, v in found if v.literal is None]
        output = Output("branch", TypeRef("str", "annotation"))
        body = f"{bindings}branch = {expr}\n"
        self.drafts[name] = Draft(name, span, inputs, [output], body, Settings(span))
        scope.items.append(
            Item(Task(name), {name}, ref_steps(tuple(r for i in inputs for r in i.refs)))
        )
        message = f"a new step {name} computes which branch runs; the switch is on its result"
        self.ctx.diagnostics.append(Diagnostic("TP201", "info", message, span))
        return Ref("output", name, "branch"), keys


class Channels(cst.CSTTransformer):
    """Replaces task outputs and parameters inside an expression (a condition, a formatted
    argument) with input names (none of ``taken``)."""

    def __init__(
        self,
        builder: Branches,
        scope: Scope,
        taken: frozenset[str] = frozenset(),
        literals: bool = False,
    ):
        """``literals``: a name bound to a literal is replaced by the literal itself."""
        self.builder, self.scope, self.taken, self.literals = builder, scope, taken, literals
        self.found: dict[str, Value] = {}

    def _value(self, node: cst.CSTNode) -> Value | None:
        if not isinstance(node, (cst.Name, cst.Attribute, cst.Subscript)):
            return None
        if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
            return None  # a constant, not a value that reaches the step
        value = self.builder.lookup(node, self.scope)
        return value if value is not None and (value.refs or isinstance(node, cst.Name)) else None

    def on_visit(self, node: cst.CSTNode) -> bool:
        return self._value(node) is None

    def on_leave(self, original, updated):
        value = self._value(original)
        if value is None:
            return updated
        if self.literals and value.literal is not None:
            return cst.parse_expression(value.literal)
        base = value.refs[0].name if value.refs else code(original)
        name, n = base, 1
        while name in self.taken or (name in self.found and self.found[name] is not value):
            n += 1
            name = f"{base}_{n}"
        self.found[name] = value
        if value.field is not None:  # the whole item is the input; the test reads its field
            return cst.parse_expression(f"{name}[{value.field!r}]")
        return cst.Name(name)


def _input(name: str, value: Value) -> Input:
    return Input(name, value.type or ANY, value.refs, value.mode)  # type: ignore[arg-type]


def _equality(test):
    if (
        isinstance(test, cst.Comparison)
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, cst.Equal)
    ):
        left, right = test.left, test.comparisons[0].comparator
        if _is_literal(right):
            return left, right
        if _is_literal(left):
            return right, left
    return None


def _is_literal(node) -> bool:
    try:
        ast.literal_eval(code(node))
    except (ValueError, SyntaxError, TypeError):
        return False
    return True
