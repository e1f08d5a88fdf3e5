"""One step at a time: what it reads and writes (``StepAnalyzer``), the types of what it writes,
its inputs, and the rewrite of its body; joins are handed to ``JoinBuilder`` (join.py)."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator, Mapping
from keyword import iskeyword

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import Input, Ref, TypeRef
from transpile.reading.cst import code, is_self_attr, walker
from transpile.reading.cst import literal as _literal
from transpile.reading.inference import (
    EMPTY_LIST,
    INPUTS,
    TypeEnv,
    agreed,
    aliased,
    args_of,
    change_sites,
    container,
    filled_type,
    keeps_type,
    optional,
    plain,
    union,
)
from transpile.reading.mutation import MutationScan, immutable, mutating_helpers
from transpile.reading.siblings import module_path

from .join import JoinBuilder
from .methods import MethodValues
from .scan import StepDef
from .state import Avail, FlowState, Incoming
from .step import (
    SPECIAL,
    StepAnalyzer,
    StepFacts,
    StepLocals,
    Touched,
    artifact_aliases,
    rewrite_words,
)

CURRENT_TYPES = {
    "flow_name": "str",
    "step_name": "str",
    "run_id": "str",
    "task_id": "str",
    "retry_count": "int",
    "is_running_flow": "bool",
    "username": "str",
    "pathspec": "str",
}


class AvailableTypes(Mapping[str, str]):
    """``self.<name>`` → the type of an artifact available to a step, where every step that may
    have set it agrees: looked up when inference asks, not built for every artifact of every
    step (a long flow made that quadratic)."""

    def __init__(self, avail: Avail, types: dict):
        self.avail, self.types = avail, types

    def __getitem__(self, key: str) -> str:
        name = key.removeprefix("self.")
        defs = self.avail.get(name) if key.startswith("self.") else None
        if defs:
            kinds = [self.types[(d, name)].expr for d in defs if (d, name) in self.types]
            one = agreed(kinds) if len(kinds) == len(defs) else None
            if one:
                return one
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (f"self.{name}" for name in self.avail if f"self.{name}" in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class StepReader(FlowState):
    """Mixed into MetaflowReader (read.py), which walks the flow and calls ``_analyse`` per step."""

    _helpers: dict[str, frozenset] | None = None  # module functions → parameters they mutate
    _beside: dict[str, bool] | None = None  # module an import names → a file beside this one?

    def _analyse(
        self, step: StepDef, avail: Avail, maps: tuple, incoming: Incoming | None
    ) -> Avail:
        known = [p for p in self.flow.parameters if p.name not in self.flow.configs]
        env = self.env.child(
            **{
                f"self.{p.name}": "list[str]" if p.name in self.flow.separators else p.type.expr
                for p in known
            }
        )
        env = env.child(
            **{
                f"{c}.{attr}": kind
                for c in self.current_names
                for attr, kind in CURRENT_TYPES.items()
            }
        )
        env = env.child(AvailableTypes(avail, self.types))
        if maps:
            env = env.child(**{"self.input": maps[-1][1].expr, "self.index": "int"})
        if step.inputs_name:
            env = env.child(**{step.inputs_name: INPUTS})
            env.artifact_types = self._incoming_types(incoming)
        sites = change_sites(step.node.body)
        found, aliases = sites.found, sites.aliases
        passed = sites.passed(self._keeping(env, sites.imports)) if sites.calls else set()
        changed: set[str] = set()
        kept: set[str] = set()  # changed in place, each change keeping the type
        if found:  # which changes in place keep the types: a walk to see
            probe = StepAnalyzer(
                env, step.inputs_name, self.current_names, self.flow.methods, body=step.node.body
            )
            each = walker(probe)
            for statement in step.node.body.body:  # type: ignore[union-attr]
                each(statement)
            unsure = probe.unsure | (found - probe.kept) | passed
            changed = aliased(unsure, aliases)
            kept = aliased(probe.kept, aliases) - changed
        elif passed:
            changed = aliased(passed, aliases)
        if changed:
            # what the step holds from before (artifacts, its foreach item) and may change
            # into another type is of no known type anywhere in the step
            env = env.child(**{h: "" for h in changed if container(env.get(h))})
        analyzer = StepAnalyzer(
            env, step.inputs_name, self.current_names, self.flow.methods, changed, step.node.body
        )
        scan = MutationScan(_artifact_root, self._changing_helpers())
        values = MethodValues(self.flow.methods)
        words = rewrite_words(self.current_names, step.inputs_name)
        touched: set[int] = set()  # the statements the body rewrite changes (step.py)
        finder = Touched(words)
        each = walker(analyzer, scan, finder, values)  # one walk of the body for them all
        for statement in step.node.body.body:  # type: ignore[union-attr]
            finder.found = False
            each(statement)
            if finder.found:
                touched.add(id(statement))
        facts = analyzer.finish()
        for name in values.found:
            raise error(
                "TP113",
                f"step '{step.name}' uses self.{name} as a value, not a call: what it reads "
                "or sets on self cannot go with it; call it (a lambda around the call will do)",
                self.spans.find(f"self.{name}", step.span),
            )
        self._mutations(scan, facts, AvailableTypes(avail, self.types), kept)
        self._method_effects(facts, AvailableTypes(avail, self.types))
        for name in facts.deleted:  # Metaflow keeps no artifact a step deletes
            facts.writes.pop(name, None)
        tree = self._ast_step(step)
        unbound = augmented_only(tree)
        if unbound is not None:
            raise error(
                "TP123",
                f"step '{step.name}' changes {unbound} with an augmented assignment, but nothing "
                f"in the step binds {unbound} first (Python raises UnboundLocalError there)",
                self.spans.find(f"{unbound} ", step.span),
            )
        facts.aliases = artifact_aliases(tree)
        facts.reads = [name for name in facts.reads if name not in self.flow.steps]
        self.facts[step.name] = facts
        for name, kinds in facts.writes.items():
            self.types[(step.name, name)] = self._write_type(step, name, kinds, facts)
        self._catch(step, facts, avail)
        if step.inputs_name:
            if incoming is None:
                raise error("TP107", f"'{step.name}' takes inputs but is not a join", step.span)
            result = self._join(step, facts, incoming)
        else:
            result = self._plain(step, facts, avail, maps)
        rewrite = self.rewrites.get(step.name)
        if (
            rewrite is not None
            and rewrite_words(rewrite.current_names, rewrite.inputs_name) == words
        ):
            rewrite.touched = frozenset(touched)
        return result

    def _mutations(
        self,
        scan: MutationScan,
        facts: StepFacts,
        available: Mapping[str, str],
        kept: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> None:
        """An artifact the step changes in place (``scan``, walked with the step's analysis) is
        one it writes: Metaflow saves the changed value, and every later step (a join, per
        foreach branch) reads that one."""
        for name in scan.mutated:
            self._changed_in_place(name, facts, available, f"self.{name}" in kept)

    def _changed_in_place(
        self, name: str, facts: StepFacts, available: Mapping[str, str], kept: bool = False
    ) -> None:
        """``name`` changed in place by the step (or a method it calls): written, as it was."""
        if name in SPECIAL or name in self.params or name in self.flow.constants:
            return
        kind = available.get(f"self.{name}")
        if name in facts.writes or immutable(kind):
            return
        # a list, dict or set changed in place holds what went in, of no known type, unless
        # each change the step makes was seen to keep its type (``kept``); a record's keys
        # may be others now
        facts.writes[name] = [
            None if container(kind) and not kept else plain(kind) if kind else None
        ]
        if name not in facts.reads:
            facts.reads.append(name)

    def _appended(
        self, name: str, kinds: list[str | None], facts: StepFacts, available: Mapping[str, str]
    ) -> None:
        """An artifact a method the step calls only appends to: a list of the type it had
        where each value appended is of its element type; a list made empty before is one of
        what goes in (to be settled with the flow's other writes); anything else unknown."""
        if name in SPECIAL or name in self.params or name in self.flow.constants:
            return
        own = facts.writes.get(name)  # set by the step too: what it set must take the values
        if own is not None:
            known = [k for k in own if k]
            lists = len(known) == len(own) and all(args_of(k, "list") for k in known)
            full = {k for k in known if k != EMPTY_LIST}
            kind = (full.pop() if len(full) == 1 else None) if full else EMPTY_LIST
            kind = kind if lists else None
        else:
            kind = available.get(f"self.{name}")
        if kind == EMPTY_LIST:
            found = filled_type(kinds)
        else:
            keeps = kind and all(keeps_type(kind, "append", [k]) for k in kinds)
            found = plain(kind) if keeps else None  # type: ignore[arg-type]
        if own is not None:
            own.append(found)
            return
        facts.writes[name] = [found]
        if name not in facts.reads:
            facts.reads.append(name)

    def _method_effects(self, facts: StepFacts, available: Mapping[str, str]) -> None:
        """What the flow's methods the step calls set or change are written by the step (and
        read, so an artifact a call may leave as it was keeps its value); a method that sets
        any makes the step keep what they read and set in a namespace (methods.py)."""
        held: dict[str, None] = {}
        for method in (self.flow.methods[m] for m in facts.methods):
            for attr in method.current:  # what the step passes it (methods.py)
                if attr not in facts.current:
                    facts.current.append(attr)
            typed = facts.method_sets.get(method.name, {})
            for name in method.all_sets:
                if name in SPECIAL or name in self.flow.constants:
                    continue
                kinds = typed.get(name) or method.set_kinds.get(name) or [None]
                facts.writes.setdefault(name, []).extend(kinds)
                if name not in facts.reads:
                    facts.reads.append(name)
            appended = facts.method_appends.get(method.name, {})
            only = set(method.all_mutates) == set(method.mutates)  # no callee changes them
            for name in method.all_mutates:
                if only and name in appended:
                    self._appended(name, appended[name], facts, available)
                elif name in facts.writes and name not in SPECIAL:
                    if any(container(k) for k in facts.writes[name]):
                        facts.writes[name].append(None)  # set by the step, then changed
                else:
                    self._changed_in_place(name, facts, available)
            if method.stateful and method.kind in ("method", "property"):
                held.update(dict.fromkeys(method.held))
        facts.namespace = [n for n in held if n not in self.flow.constants]

    def _ast_step(self, step: StepDef) -> ast.FunctionDef:
        """The step as Python's ``ast`` has it: from the file's index, else parsed alone."""
        node = self.spans.nodes.get(("method", self.flow.name, step.name))
        if isinstance(node, ast.FunctionDef):
            return node
        return ast.parse(textwrap.dedent(code(step.node))).body[0]  # type: ignore[return-value]

    def _catch(self, step: StepDef, facts: StepFacts, avail: Avail) -> None:
        """@catch: the step's body runs in a try (catch.py). ``var`` is None when the step
        succeeds, the exception's text when it fails; an artifact the step sets that no earlier
        step did may then be unset (None here)."""
        option = next((o for o in step.options if o.kind == "catch"), None)
        if option is None:
            return
        var = option.arg("var")
        name = literal_value(var) if var else None
        # a name no step can read as self.<name> (Metaflow stores it anyway) carries nothing
        if not isinstance(name, str) or not name.isidentifier() or iskeyword(name):
            name = None
        for written in facts.writes:
            kind = self.types[(step.name, written)]
            if written not in avail and not kind.expr.endswith("| None"):
                self.types[(step.name, written)] = TypeRef(f"{kind.expr} | None", kind.origin)
        if name is not None and name not in facts.writes:
            facts.writes[name] = []
            self.types[(step.name, name)] = TypeRef("str | None", "inferred")
        self.catches[step.name] = name

    def _keeping(self, env: TypeEnv, own: dict[str, str]) -> set[str]:
        """The functions a step calls that change no argument: the module's helpers and the
        flow's methods typed per call, and what the file or the step imports from a library
        (``combinations``), not from a module beside the file (the user's own code)."""
        keeps = set(env.calls.functions) if env.calls is not None else set()
        keeps |= {"self.next", "self.merge_artifacts"}  # Metaflow's: they change nothing
        keeps |= {f"self.{m.name}" for m in self.flow.methods.values() if not m.changed_params}
        changing = self._changing_helpers()
        keeps |= {
            s.name.value
            for s in self.module.body
            if isinstance(s, cst.FunctionDef) and not changing.get(s.name.value)
        }
        imports = {**env.imports, **own}  # the file's imports and the step's own
        if self._beside is None:
            self._beside = {}
        for name, target in imports.items():
            module = target.rpartition(".")[0] or target
            if module not in self._beside:
                self._beside[module] = module_path(self.path, module) is not None
            if not self._beside[module]:
                keeps.add(name)
            elif env.siblings is not None:  # the user's own: read to see what it changes
                whole = env.siblings.unchanging(target)  # ``import utils``: utils.f(...)
                if whole is not None:
                    keeps |= {f"{name}.{function}" for function in whole}
                elif target.rpartition(".")[2] in (env.siblings.unchanging(module) or ()):
                    keeps.add(name)  # ``from utils import f``: f(...)
        return keeps

    def _changing_helpers(self) -> dict[str, frozenset]:
        """The module's functions and the flow's methods → the parameters they change."""
        if self._helpers is None:
            self._helpers = mutating_helpers(self.module)
            for method in self.flow.methods.values():  # self.add(self.rows) changes rows
                if method.changed_params:
                    self._helpers[f"self.{method.name}"] = method.changed_params
        return self._helpers

    def _write_type(
        self, step: StepDef, name: str, kinds: list[str | None], facts: StepFacts
    ) -> TypeRef:
        if name in facts.annotated:
            return TypeRef(facts.annotated[name], "annotation")
        kinds = kinds[facts.settled.get(name, 0) :]  # what a later write overwrites: gone
        known = [k for k in kinds if k]
        every = len(known) == len(kinds)  # each write of a known type
        if EMPTY_LIST in known and all(args_of(k, "list") for k in known):
            # `self.rows = []` then `self.rows = [1]`: the empty list is one of the others
            known = [k for k in known if k != EMPTY_LIST] or [EMPTY_LIST]
        kind = optional(known) if known and every else None
        if kind and kind != "None":
            return TypeRef(kind, "inferred")
        if "None" in known:  # None, or values of no known type: Flyte carries None only so
            return TypeRef("typing.Any | None", "fallback")
        return TypeRef("typing.Any", "fallback")

    def _incoming_types(self, incoming: Incoming | None) -> dict[str, str]:
        """What ``inp.name`` holds for one of a join's inputs: the type every branch gives it,
        or the union of the branches' types (``RandomForestClassifier | SVC``); unknown where
        any branch's is."""
        found: dict[str, list[str | None]] = {}
        for avail in incoming.branches.values() if incoming else ():
            for name, defs in avail.items():
                kinds = [self.types[(d, name)].expr for d in defs if (d, name) in self.types]
                found.setdefault(name, []).append(
                    agreed(kinds) if len(kinds) == len(defs) else None
                )
        out: dict[str, str] = {}
        for name, kinds in found.items():
            known = [k for k in kinds if k]
            one = agreed(known) if len(known) == len(kinds) else None
            if not one and not any("typing.Any" in k for k in known):
                one = union(kinds)  # None where any is unknown
            out[name] = one or ""  # "": ``inp.name`` is of no known type (not a branch)
        return out

    def _plain(self, step: StepDef, facts: StepFacts, avail: Avail, maps: tuple) -> Avail:
        inputs: list[Input] = []
        names: dict[str, str] = {}
        local = StepLocals(facts.bare_names, facts.aliases).claim
        for name in facts.reads:
            if name in self.params:
                param = Input(local(name), self.params[name].type, (Ref("param", name, name),))
                inputs.append(param)
            elif name in self.flow.constants:
                continue
            elif name in avail:
                inputs.append(self._input(name, avail[name], local(name)))
            elif name not in facts.writes:
                where = self.spans.find(f"self.{name}", step.span)
                message = f"step '{step.name}' reads self.{name}, which no earlier step sets"
                if self.flow.bases:
                    bases = ", ".join(self.flow.bases)
                    message += (
                        f" (if the base class {bases} defines it, transpile cannot see it: "
                        "it is imported; define it in this file)"
                    )
                    unread = getattr(self, "unread_bases", {})
                    message += "".join(
                        f"; {b}: {unread[b]}" for b in self.flow.bases if b in unread
                    )
                raise error("TP120", message, where)
            names[name] = local(name)
        names.update({name: local(name) for name in (*facts.writes, *facts.deleted)})
        if maps and (facts.uses_input or facts.uses_index):
            split, item_type = maps[-1]
            if facts.uses_input:
                names["input"] = local("self.input", "item")
                inputs.append(Input(names["input"], item_type, (Ref("item", split, "item"),)))
            if facts.uses_index:
                names["index"] = local("self.index", "index")
                inputs.append(
                    Input(
                        names["index"], TypeRef("int", "inferred"), (Ref("index", split, "index"),)
                    )
                )
        for depth, pick in sorted(facts.stack_reads):  # self.foreach_stack()[depth][pick]
            if depth >= len(maps):
                raise error("TP121", f"step '{step.name}' reads a foreach it is not in", step.span)
            split, item_type = maps[depth]
            kind = "item" if pick == 2 else "index"
            key = f"foreach_stack()[{depth}][{pick}]"
            names[key] = local(f"self.{key}", kind)
            given = item_type if kind == "item" else TypeRef("int", "inferred")
            inputs.append(Input(names[key], given, (Ref(kind, split, kind),)))
        if (facts.uses_input or facts.uses_index) and not maps:
            raise error(
                "TP121",
                f"step '{step.name}' uses self.input/self.index outside a foreach",
                step.span,
            )
        self.inputs[step.name] = inputs
        self.rewrites[step.name] = self._rewrite(step, names, {}, [], [])
        out = dict(avail)
        out.update({name: (step.name,) for name in facts.writes})
        for name in facts.deleted:
            out.pop(name, None)
        return out

    def _join(self, step: StepDef, facts: StepFacts, incoming: Incoming) -> Avail:
        parents = [s for s in self.flow.steps.values() if step.name in s.transition.targets]
        if incoming.kind == "foreach" and len(parents) > 1 and facts.generic_inputs:
            message = (
                f"the switch cases lead straight to the foreach join '{step.name}': Metaflow "
                "hands it its inputs grouped by the step each came from, the groups in no fixed "
                "order; the target hands them over in foreach order"
            )
            self.diagnostics.append(Diagnostic("TP126", "warning", message, step.span))
        builder = JoinBuilder(self, step, facts, incoming)
        return builder.build()


def augmented_only(function: ast.FunctionDef) -> str | None:
    """A local the function only changes with ``x += ...`` and never binds otherwise: reading
    it raises UnboundLocalError (and the emitted code would use a name nothing defines)."""
    targets = [n.target for n in ast.walk(function) if isinstance(n, ast.AugAssign)]
    augmented = [t.id for t in targets if isinstance(t, ast.Name)]
    if not augmented:
        return None
    skip = {id(t) for t in targets}
    bound: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            if id(node) not in skip:
                bound.add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
    return next((name for name in augmented if name not in bound), None)


def _artifact_root(node: cst.BaseExpression) -> str | None:
    return node.attr.value if is_self_attr(node) else None  # type: ignore[union-attr]


def literal_value(source: str):
    return _literal(cst.parse_expression(source))
