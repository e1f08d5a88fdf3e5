"""Join steps: turn `inputs.<step>.x`, iteration over `inputs` and merge_artifacts into explicit inputs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from transpile.model.diagnostics import error
from transpile.model.ir import Input, Ref, TypeRef

from .step import StepLocals

if TYPE_CHECKING:
    from .scan import StepDef
    from .state import Avail, FlowState, Incoming
    from .step import StepFacts

ANY = TypeRef("typing.Any", "fallback")


class JoinBuilder:
    def __init__(self, reader: FlowState, step: StepDef, facts: StepFacts, incoming: Incoming):
        self.reader, self.step, self.facts, self.incoming = reader, step, facts, incoming
        self.inputs: list[Input] = []
        self.names: dict[str, str] = {}
        self.branch_names: dict[tuple[str, str], str] = {}
        self.prelude: list[str] = []
        self.merge_code: list[str] = []
        self.passthrough: Avail = {}
        self.local = StepLocals(facts.bare_names, facts.aliases).claim

    def build(self) -> Avail:
        if self.incoming.kind == "parallel":
            self._branch_reads()
            if self.facts.generic_inputs:
                self._branch_namespace()
        else:
            if self.facts.branch_reads:
                raise error(
                    "TP124",
                    "a foreach join cannot read inputs.<step>; iterate over inputs",
                    self.step.span,
                )
            if self.facts.generic_inputs:
                self._foreach_namespace()
        if self.facts.merge is not None:
            self._merge()
        self._self_reads()
        reader = self.reader
        reader.inputs[self.step.name] = self.inputs
        reader.rewrites[self.step.name] = reader._rewrite(
            self.step, self.names, self.branch_names, self.prelude, self.merge_code
        )
        out = dict(self.passthrough)
        out.update({name: (self.step.name,) for name in self.facts.writes})
        for name in self.facts.deleted:
            out.pop(name, None)
        return out

    # static branches ----------------------------------------------------------------------------
    def _branch_input(self, branch: str, name: str) -> str:
        local = self.local(f"inputs.{branch}.{name}", f"{branch}_{name}")
        if (branch, name) not in self.branch_names:
            defs = self.incoming.branches[branch].get(name)
            if not defs:
                raise error(
                    "TP120", f"inputs.{branch}.{name} is never set on that branch", self.step.span
                )
            self.inputs.append(self.reader._input(name, defs, local))
            self.branch_names[(branch, name)] = local
        return local

    def _branch_reads(self) -> None:
        for branch, name in self.facts.branch_reads:
            if branch not in self.incoming.branches:
                known = ", ".join(self.incoming.branches)
                raise error(
                    "TP124",
                    f"inputs.{branch}: '{branch}' is not a step joined here ({known})",
                    self.step.span,
                )
            self._branch_input(branch, name)

    def _namespace(self) -> None:
        """The shim needs SimpleNamespace; a body that binds the name itself (an import of its
        own, later on) makes it local to the step, so the shim imports it first."""
        self.reader.needs_namespace = True
        if "SimpleNamespace" in self.facts.bare_names:
            self.prelude.append("from types import SimpleNamespace")

    def _branch_namespace(self) -> None:
        self._namespace()
        items = []
        for branch, avail in self.incoming.branches.items():
            attrs = sorted(n for n in avail if n in self.facts.attribute_names)
            fields = ", ".join(f"{a}={self._branch_input(branch, a)}" for a in attrs)
            items.append(f"SimpleNamespace({fields})")
        self.prelude.append(f"{self.step.inputs_name} = [{', '.join(items)}]")

    # foreach ------------------------------------------------------------------------------------
    def _body_avail(self) -> Avail:
        return next(iter(self.incoming.branches.values()))

    def _per_iteration(self, defs: tuple[str, ...]) -> bool:
        return all(d in self.incoming.body_steps for d in defs)

    def _collected(self, name: str) -> str:
        local = self.local(f"{name} values", f"{name}_values")
        if local not in {i.name for i in self.inputs}:
            defs = self._body_avail()[name]
            single = self.reader._input(name, defs, local)
            kind = TypeRef(f"list[{single.type.expr}]", single.type.origin)
            self.inputs.append(Input(local, kind, single.refs, "collected"))
        return local

    def _broadcast(self, name: str) -> str:
        local = self.local(name)
        if local not in {i.name for i in self.inputs}:
            self.inputs.append(self.reader._input(name, self._body_avail()[name], local))
        return local

    def _foreach_namespace(self) -> None:
        self._namespace()
        avail = self._body_avail()
        attrs = sorted(n for n in avail if n in self.facts.attribute_names)
        collected = [a for a in attrs if self._per_iteration(avail[a])]
        if not collected:
            raise error(
                "TP125",
                "this foreach join reads nothing that differs per iteration",
                self.step.span,
            )
        lists = [self._collected(a) for a in collected]
        fields = ", ".join(f"{a}={a if a in collected else self._broadcast(a)}" for a in attrs)
        loop = ", ".join(collected)
        if "input" in self.facts.attribute_names and "input" not in avail:
            item = self.local("foreach item", "item")
            lists.insert(0, self._foreach_items())
            fields = f"input={item}, {fields}"
            loop = f"{item}, {loop}"
        source = lists[0] if len(lists) == 1 else f"zip({', '.join(lists)})"
        self.prelude.append(
            f"{self.step.inputs_name} = [SimpleNamespace({fields}) for {loop} in {source}]"
        )

    def _foreach_items(self) -> str:
        """The list the foreach iterated over, so each input's ``.input`` is its element (the
        target's map keeps the order)."""
        ref, item = self.incoming.collection, self.incoming.item_type
        assert ref is not None and item is not None
        local = self.local(ref.name)
        if local not in {i.name for i in self.inputs}:
            kind = TypeRef(f"list[{item.expr}]", item.origin)
            if ref.kind == "output":
                self.reader.consumed.add((ref.source, ref.name))
            self.inputs.append(Input(local, kind, (ref,)))
        return local

    # merge_artifacts ------------------------------------------------------------------------------
    def _merge(self) -> None:
        merge = self.facts.merge
        assert merge is not None
        candidates: dict[str, None] = {}
        for avail in self.incoming.branches.values():
            candidates.update(dict.fromkeys(avail))
        for name in candidates:
            if merge.include is not None and name not in merge.include:
                continue
            if name in merge.exclude or name in merge.written_before or name in self.reader.params:
                continue
            self._merge_one(name)

    def _merge_one(self, name: str) -> None:
        if self.incoming.kind == "parallel":
            holders = [b for b, avail in self.incoming.branches.items() if name in avail]
            defs = tuple(dict.fromkeys(d for b in holders for d in self.incoming.branches[b][name]))
            if len(defs) == 1 or len(holders) == 1:  # nothing to compare: it passes through
                self.passthrough[name] = defs
                return
            locals_ = [self._branch_input(b, name) for b in holders]
            check = " == ".join(locals_)
            self.merge_code += [
                f"if not ({check}):",
                f'    raise ValueError("merge_artifacts: branches set different values for {name!r}")',
                f"{self.local(name)} = {locals_[0]}",
            ]
        else:
            defs = self._body_avail()[name]
            if not self._per_iteration(defs):
                self.passthrough[name] = defs
                return
            values = self._collected(name)
            self.merge_code += [
                f"if any(value != {values}[0] for value in {values}):",
                f'    raise ValueError("merge_artifacts: iterations set different values for {name!r}")',
                f"{self.local(name)} = {values}[0]",
            ]
        self.facts.writes[name] = []
        self.reader.types[(self.step.name, name)] = self._merged_type(defs, name)

    def _merged_type(self, defs: tuple[str, ...], name: str) -> TypeRef:
        kinds = {self.reader.types.get((d, name), ANY) for d in defs}
        return kinds.pop() if len(kinds) == 1 else ANY

    # plain self.x reads -----------------------------------------------------------------------------
    def _self_reads(self) -> None:
        reader = self.reader
        for name in self.facts.reads:
            if self.local(name) in {i.name for i in self.inputs}:
                pass  # already an input (the list a foreach iterated over)
            elif name in reader.params:
                ref = Ref("param", name, name)
                self.inputs.append(Input(self.local(name), reader.params[name].type, (ref,)))
            elif name in reader.flow.constants:
                continue
            elif name in self.passthrough:
                self.inputs.append(reader._input(name, self.passthrough[name], self.local(name)))
            elif name not in self.facts.writes:
                where = reader.spans.find(f"self.{name}", self.step.span)
                raise error(
                    "TP120",
                    f"join '{self.step.name}' reads self.{name} without taking it from inputs",
                    where,
                )
            self.names[name] = self.local(name)
        self.names.update(
            {name: self.local(name) for name in (*self.facts.writes, *self.facts.deleted)}
        )
