"""The ``inputs`` a Metaflow join iterates, as the Metaflow reader rebuilds it at the top of the
join's body: ``inputs = [SimpleNamespace(x=a_x), SimpleNamespace(x=b_x)]`` for a split's
branches, ``inputs = [SimpleNamespace(r=r, o=o) for r in r_values]`` for a foreach. Which input
each field holds lets a writer keep the artifact names the body reads and a reader see values
that are only handed on."""

from __future__ import annotations

import ast


class Namespace:
    """Field → the step inputs it holds: one per branch, a collected list, or one broadcast."""

    def __init__(self) -> None:
        self.branches: dict[str, list[str]] = {}
        self.collected: dict[str, str] = {}
        self.broadcast: dict[str, str] = {}

    @classmethod
    def of(cls, body: str) -> Namespace:
        """The namespace a body starts with (an empty one when it has none or will not parse)."""
        found = cls()
        try:
            stmts = ast.parse(body).body
        except (SyntaxError, ValueError):
            return found
        stmts = [s for s in stmts if not isinstance(s, (ast.Import, ast.ImportFrom))]
        for stmt in stmts[:1]:  # after the imports the body needs (``SimpleNamespace``)
            if isinstance(stmt, ast.Assign) and ast.unparse(stmt.targets[0]) == "inputs":
                found.read(stmt.value)
        return found

    def locals(self) -> dict[str, list[str]]:
        """Field → every input local it holds."""
        out = {f: list(names) for f, names in self.branches.items()}
        for field, name in [*self.collected.items(), *self.broadcast.items()]:
            out.setdefault(field, []).append(name)
        return out

    def read(self, value: ast.expr) -> None:
        if isinstance(value, ast.List):
            for item in value.elts:
                for field, name in _fields(item).items():
                    self.branches.setdefault(field, []).append(name)
        elif isinstance(value, ast.ListComp):
            loop = value.generators[0]
            targets = loop.target.elts if isinstance(loop.target, ast.Tuple) else [loop.target]
            lists = loop.iter.args if isinstance(loop.iter, ast.Call) else [loop.iter]
            per_var = {ast.unparse(t): ast.unparse(s) for t, s in zip(targets, lists)}
            for field, name in _fields(value.elt).items():
                if name in per_var:
                    self.collected[field] = per_var[name]
                else:
                    self.broadcast[field] = name

    def moved(self, value: ast.expr) -> str | None:
        """The input a value hands on as it is: ``x``, ``[inp.x for inp in inputs]`` (a collected
        input) or ``inputs[0].x`` (a broadcast one)."""
        if isinstance(value, ast.Name):
            return value.id
        text = ast.unparse(value)
        for field, source in self.collected.items():
            if text == f"[inp.{field} for inp in inputs]":
                return source
        for field, source in self.broadcast.items():
            if text == f"inputs[0].{field}":
                return source
        return None


def _fields(call: ast.expr) -> dict[str, str]:
    if not isinstance(call, ast.Call):
        return {}
    return {k.arg: k.value.id for k in call.keywords if k.arg and isinstance(k.value, ast.Name)}
