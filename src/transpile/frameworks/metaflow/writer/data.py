"""How each value reaches the step that reads it in Metaflow: ``self.<artifact>`` on linear paths,
``inputs.<branch>.<artifact>`` / ``inputs[0]`` / ``[inp.x for inp in inputs]`` in joins, which pass
on exactly what later steps read (Metaflow joins propagate nothing by themselves)."""

from __future__ import annotations

from transpile.model.diagnostics import error
from transpile.model.ir import Pipeline, Ref, Span
from transpile.writing.types import iso_class, iso_read

from .graph import MFStep, ancestors, predecessors
from .names import FlowNames
from .options import is_iso_parameter


class Dataflow:
    def __init__(self, pipeline: Pipeline, steps: list[MFStep], names: FlowNames):
        self.p = pipeline
        self.names = names
        self.by_name = {s.name: s for s in steps}
        self.steps = steps
        self.anc = ancestors(steps)
        self.preds = predecessors(steps)
        self.mf = names.steps  # model step → Metaflow step
        self.passes: dict[str, dict[str, str]] = {s.name: {} for s in steps}
        self.writes = {s.name: self._model_writes(s) for s in steps}
        self.lists: dict[tuple[str, str], str] = {}
        self._seen: set[tuple[str, str, str]] = set()

    def _model_writes(self, step: MFStep) -> set[str]:
        if step.model is None:
            return set()
        return {self.names.artifacts[(step.model, o.name)] for o in self.p.step(step.model).outputs}

    def span(self, step: str) -> Span:
        """Where a Metaflow step came from: its model step, else the pipeline."""
        model = self.by_name[step].model if step in self.by_name else None
        return self.p.step(model).span if model else self.p.span

    def upto(self, step: str) -> frozenset[str]:
        return self.anc[step] | {step}

    # reading ---------------------------------------------------------------------------------------
    def read(self, step: MFStep, ref: Ref) -> str:
        """The expression that reads ``ref`` inside ``step``."""
        if ref.kind == "param":
            param = next((p for p in self.p.parameters if p.name == ref.name), None)
            if param is not None and is_iso_parameter(param):
                attr = f"self.{self.names.params[ref.name]}"
                cls = iso_class(param.type.expr) or "datetime"
                utc = "timezone.utc" if "." not in param.type.expr else "datetime.timezone.utc"
                read = iso_read(attr, cls, self.p.framework, param.type.expr, utc)
                if param.default == "None":  # an optional date: None stays None
                    return f"({attr} and {read})"
                return read
            return f"self.{self.names.params[ref.name]}"
        if ref.kind in ("item", "index"):
            return self._item(step, ref)
        artifact = self.names.artifacts[(ref.source, ref.name)]
        return self.read_artifact(step, artifact, self.mf[ref.source])

    def read_artifact(self, step: MFStep, artifact: str, producer: str) -> str:
        if step.name == producer:
            return f"self.{artifact}"
        if step.join is not None:
            return self._join_read(step, artifact, producer)
        for pred in self.preds[step.name]:
            self._carry(pred, artifact, producer)
        return f"self.{artifact}"

    def ensure(self, step: MFStep, ref: Ref) -> str:
        """An artifact of ``step`` holding ``ref`` (for ``foreach=`` and ``condition=``)."""
        if ref.kind == "param":
            return self.names.params[ref.name]
        expr = self.read(step, ref)
        if expr.startswith("self.") and "(" not in expr and "[" not in expr:
            return expr[5:]
        name = self.names.fresh_artifact(f"{ref.source or 'item'}_{ref.name}")
        self.passes[step.name][name] = expr
        return name

    def _item(self, step: MFStep, ref: Ref) -> str:
        if ref.source not in step.stack:
            message = f"step {step.name!r} reads the item of a map it is not in"
            raise error("TP240", message, self.span(step.name))
        depth = step.stack.index(ref.source)
        attr = "input" if ref.kind == "item" else "index"
        if depth == len(step.stack) - 1:
            return f"self.{attr}"
        # self.input/self.index are the innermost foreach's; outer ones live on the stack
        return f"self.foreach_stack()[{depth}][{2 if attr == 'input' else 0}]"

    def collected(self, step: MFStep, refs: tuple[Ref, ...]) -> str:
        """A list of the value in every iteration of the foreach that produced it: ``refs``
        holds one per switch case that may set it, and each iteration took one case."""
        artifacts = []
        for ref in refs:
            producer = self.mf[ref.source]
            artifact = self.names.artifacts[(ref.source, ref.name)]
            join = self._foreach_join(producer)
            self._carry(join.join.exits[0], artifact, producer)  # type: ignore[union-attr]
            artifacts.append(artifact)
        value = f"inp.{artifacts[-1]}"
        for artifact in reversed(artifacts[:-1]):  # set only where its case ran
            value = f"inp.{artifact} if hasattr(inp, {artifact!r}) else {value}"
        expr = f"[{value} for inp in inputs]"
        while join is not step:
            key = (join.name, "/".join(artifacts))
            if key not in self.lists:
                self.lists[key] = self.names.fresh_artifact(f"{artifacts[0]}_values")
                self.passes[join.name][self.lists[key]] = expr
            outer = self._enclosing_join(join, step)
            if outer is None:
                return self.read_artifact(step, self.lists[key], join.name)
            # a reader outside an enclosing foreach too gets a list of those lists
            self._carry(outer.join.exits[0], self.lists[key], join.name)  # type: ignore[union-attr]
            artifacts, join = [self.lists[key]], outer
            expr = f"[inp.{artifacts[0]} for inp in inputs]"
        return expr

    def _enclosing_join(self, join: MFStep, reader: MFStep) -> MFStep | None:
        """The join of the innermost foreach around ``join`` that ``reader`` is not inside."""
        for step in self.steps:  # inner joins come first
            spec = step.join
            if (
                spec
                and spec.kind == "foreach"
                and step is not join
                and self._inside(join.name, spec)
                and not self._inside(reader.name, spec)
            ):
                return step
        return None

    def _foreach_join(self, producer: str) -> MFStep:
        for step in self.steps:  # inner joins come first
            spec = step.join
            if spec and spec.kind == "foreach" and self._inside(producer, spec):
                return step
        message = f"no foreach collects the outputs of step {producer!r}"
        raise error("TP241", message, self.span(producer))

    def _inside(self, producer: str, spec) -> bool:
        return spec.split in self.anc[producer] and producer in self.upto(spec.exits[0])

    # carrying values through joins -----------------------------------------------------------------
    def _carry(self, step: str, artifact: str, producer: str) -> None:
        """Make ``producer``'s ``artifact`` set on ``step`` when it finishes."""
        key = (step, artifact, producer)
        if step == producer or key in self._seen or producer not in self.anc[step]:
            return
        self._seen.add(key)
        mf = self.by_name[step]
        if mf.join is None:
            for pred in self.preds[step]:
                self._carry(pred, artifact, producer)
        elif artifact not in self.writes[step]:
            self.passes[step][artifact] = self._join_read(mf, artifact, producer)

    def _join_read(self, join: MFStep, artifact: str, producer: str) -> str:
        spec = join.join
        assert spec is not None
        if spec.kind == "foreach":
            self._carry(spec.exits[0], artifact, producer)
            return f"inputs[0].{artifact}"
        exit_ = self._carrier(spec.exits, artifact, producer)
        self._carry(exit_, artifact, producer)
        return f"inputs.{exit_}.{artifact}"

    def _carrier(self, exits: tuple[str, ...], artifact: str, producer: str) -> str:
        """The branch whose last step still holds ``producer``'s value of ``artifact``."""
        reaching = [e for e in exits if producer in self.upto(e)]
        for exit_ in reaching:
            between = self.upto(exit_) - self.upto(producer)
            if not any(artifact in self.writes[s] for s in between):
                return exit_
        if not reaching:
            message = f"no branch carries {artifact!r} from step {producer!r}"
            raise error("TP242", message, self.span(producer))
        return reaching[0]

    def mergeable(self, join: MFStep, artifact: str, expr: str) -> bool:
        """A value every branch carries unchanged from before the split, or that one branch alone
        has: merge_artifacts takes it (and reading the flow sees it pass through, as written)."""
        spec = join.join
        if spec is None or spec.kind != "branch":
            return False
        holders = [e for e in spec.exits if any(artifact in self.writes[s] for s in self.upto(e))]
        if holders and expr == f"inputs.{holders[0]}.{artifact}" and len(holders) == 1:
            return True
        if expr != f"inputs.{spec.exits[0]}.{artifact}":
            return False
        writers = [s for s in self.upto(spec.split) if artifact in self.writes[s]]
        clean = all(
            not any(artifact in self.writes[s] for s in self.upto(e) - self.upto(spec.split))
            for e in spec.exits
        )
        return bool(writers) and clean
