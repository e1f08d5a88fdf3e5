"""Metaflow's ``current.<attr>`` in a step body, for a target with a run context of its own."""

from __future__ import annotations

import libcst as cst


class CurrentRewriter(cst.CSTTransformer):
    """``current.<attr>``: the target's expression from ``table``, or ``None`` (the names of
    those in ``missing``, for the writer's TODO); ``used_context`` says whether a replacement
    contains ``marker`` (the target's context function, which the module must then import)."""

    def __init__(self, table: dict[str, str], marker: str) -> None:
        self.table, self.marker = table, marker
        self.used_context = False
        self.missing: list[str] = []

    def leave_Attribute(
        self, original: cst.Attribute, updated: cst.Attribute
    ) -> cst.BaseExpression:
        if isinstance(updated.value, cst.Name) and updated.value.value == "current":
            replacement = self.table.get(updated.attr.value)
            if replacement:
                self.used_context |= self.marker in replacement
                return cst.parse_expression(replacement)
            self.missing.append(updated.attr.value)
            return cst.Name("None")
        return updated
