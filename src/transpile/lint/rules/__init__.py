"""Lint rules, one module each, found by walking this package (no registry to update)."""

from __future__ import annotations

import ast
from typing import TypeGuard

from ..unit import self_attribute


def is_transition(node: ast.AST) -> TypeGuard[ast.Call]:
    """A Metaflow transition: a call of ``self.next``."""
    return isinstance(node, ast.Call) and self_attribute(node.func) == "next"
