"""Step bodies as Metaflow code: free input names and output locals become ``self.<artifact>``
(or the join's ``inputs`` expression), rewritten with libcst so comments and layout survive."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst


@dataclass
class Body:
    prelude: list[str] = field(default_factory=list)
    code: str = ""
    epilogue: list[str] = field(default_factory=list)


def rewrite(
    body: str,
    reads: dict[str, str],
    writes: dict[str, str],
    local: set[str],
    types: dict[str, str] | None = None,
) -> Body:
    """``reads``: input name → expression; ``writes``: output local → artifact; names in ``local``
    are bound once at the top (a join's collected lists) instead of substituted; ``types``:
    artifact → the type the source declared, annotated where the artifact is first set."""
    result = _rewrite(body, reads, writes, local)
    return _annotated(result, types) if types else result


def _rewrite(body: str, reads: dict[str, str], writes: dict[str, str], local: set[str]) -> Body:
    module = cst.parse_module(body)
    scan = _Scan()
    module.visit(scan)
    result = Body()
    replace: dict[str, cst.BaseExpression] = {}
    for name in sorted(set(reads) | set(writes)):
        target = f"self.{writes[name]}" if name in writes else None
        source = reads.get(name) if name in scan.loaded or name not in writes else None
        if target is not None and name not in scan.used and name in reads:
            result.epilogue.append(f"{target} = {reads[name]}")  # an input handed on unchanged
        elif _keep_local(name, scan, reads, writes, local) or _differs(source, target):
            if source is not None and name in scan.used:
                result.prelude.append(f"{name} = {source}")
            if target is not None:
                result.epilogue.append(f"{target} = {name}")
        elif name in scan.used:
            replace[name] = cst.parse_expression(target or source or name)
    result.code = module.visit(_Substitute(replace)).code if replace else module.code
    return result


def _annotated(body: Body, types: dict[str, str]) -> Body:
    """The ``self.x = ...`` of each artifact in ``types`` as ``self.x: T = ...`` where the body
    sets it once, at its top level (or in the epilogue); an artifact set several times (a file
    built, then read into bytes) or only inside a block stays as it is."""
    module = cst.parse_module(body.code)
    counts = _sets(module)
    pending = {k: v for k, v in types.items() if counts.get(k, 0) <= 1}
    statements = []
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
            small = statement.body[0]
            name = _self_target(small)
            if name in pending and isinstance(small, cst.Assign):
                annotation = cst.Annotation(cst.parse_expression(pending.pop(name)))
                target = small.targets[0].target
                small = cst.AnnAssign(target, annotation, small.value)
                statement = statement.with_changes(body=[small])
        elif isinstance(statement, cst.BaseCompoundStatement):
            pending = {k: v for k, v in pending.items() if k not in _sets(statement)}
        statements.append(statement)
    epilogue = []
    for line in body.epilogue:
        target, _, value = line.partition(" = ")
        name = target[len("self.") :] if target.startswith("self.") else None
        if name in pending:
            line = f"{target}: {pending.pop(name)} = {value}"
        epilogue.append(line)
    code = module.with_changes(body=statements).code
    return Body(body.prelude, code, epilogue)


def _self_target(small: cst.BaseSmallStatement) -> str | None:
    """``x`` of ``self.x = ...`` (one target)."""
    if not isinstance(small, cst.Assign) or len(small.targets) != 1:
        return None
    target = small.targets[0].target
    if (
        isinstance(target, cst.Attribute)
        and isinstance(target.value, cst.Name)
        and target.value.value == "self"
    ):
        return target.attr.value
    return None


def _sets(node: cst.CSTNode) -> dict[str, int]:
    """How many times a block sets each artifact anywhere in it (``self.x = ...``)."""
    found: dict[str, int] = {}

    class _Sets(cst.CSTVisitor):
        def visit_Assign(self, assign: cst.Assign) -> None:
            name = _self_target(assign)
            if name:
                found[name] = found.get(name, 0) + 1

    node.visit(_Sets())
    return found


def _differs(source: str | None, target: str | None) -> bool:
    """An input and an output sharing a local but not an artifact."""
    return source is not None and target is not None and source != target


def _keep_local(name: str, scan: _Scan, reads: dict, writes: dict, local: set[str]) -> bool:
    """Whether ``name`` stays a local bound from/assigned to ``self`` instead of being replaced."""
    if name in scan.nested or name in scan.bound or name in local:
        return True  # bound where `self.x` cannot go, or shadowed in a nested scope
    if name in writes and name in reads and name not in scan.assigned:
        return True  # an artifact only mutated in place (`stats.count += 1`): assign it back
    # an input the body rebinds is its own local: the artifact upstream stays as it was
    return name in reads and name not in writes and name in scan.assigned


def drop_namespace_inputs(module: cst.Module) -> cst.Module:
    """The Metaflow reader rebuilds a join's ``inputs`` as SimpleNamespaces from neutral values
    (``inputs = [SimpleNamespace(x=a_x), ...]``); in a Metaflow join the real ``inputs`` is there."""
    if not module.body:
        return module
    first = module.body[0]
    if not (isinstance(first, cst.SimpleStatementLine) and len(first.body) == 1):
        return module
    stmt = first.body[0]
    if not (isinstance(stmt, cst.Assign) and len(stmt.targets) == 1):
        return module
    target = stmt.targets[0].target
    text = cst.Module([]).code_for_node(stmt.value)
    if not (
        isinstance(target, cst.Name) and target.value == "inputs" and "SimpleNamespace(" in text
    ):
        return module
    rest = list(module.body[1:])
    if rest and first.leading_lines:  # keep the comments that sat above the dropped line
        leading = (*first.leading_lines, *rest[0].leading_lines)
        rest[0] = rest[0].with_changes(leading_lines=leading)
    return module.with_changes(body=rest)


def keep_join_inputs(module: cst.Module) -> cst.Module:
    """A join body that rebinds ``inputs`` later on (a namespace built after other lines, such
    as a restore of KFP's floats) keeps Metaflow's real ``inputs`` for what the writer adds
    after it (values handed on, ``merge_artifacts``): its own list takes another name from the
    rebinding on."""
    position = next(
        (n for n, stmt in enumerate(module.body) if _binds_inputs(stmt)),
        None,
    )
    if position is None:
        return module
    used = free_names(module.code)
    fresh = next(
        f"{base}_inputs" for base in ("joined", "own", "body") if f"{base}_inputs" not in used
    )

    class Rename(cst.CSTTransformer):
        """The variable ``inputs``, not an attribute or a keyword that shares its name."""

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            return False  # ``obj.inputs`` keeps its attribute; its value is renamed on leaving

        def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
            return updated.with_changes(value=original.value.visit(self))

        def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
            return updated.with_changes(keyword=original.keyword)  # ``f(inputs=...)``

        def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
            return updated.with_changes(value=fresh) if updated.value == "inputs" else updated

    later = [stmt.visit(Rename()) for stmt in module.body[position:]]
    return module.with_changes(body=[*module.body[:position], *later])


def _binds_inputs(stmt: cst.CSTNode) -> bool:
    """``inputs = ...`` as a statement of its own (the body's top level)."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return False
    assign = stmt.body[0]
    return isinstance(assign, cst.Assign) and any(
        isinstance(t.target, cst.Name) and t.target.value == "inputs" for t in assign.targets
    )


def free_names(body: str) -> set[str]:
    """Names a body uses (a superset of its free names: enough to decide imports)."""
    scan = _Scan()
    cst.parse_module(body).visit(scan)
    return scan.used


class _Scan(cst.CSTVisitor):
    """Names used, names bound in nested scopes, and names bound where ``self.x`` cannot go."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.nested: set[str] = set()
        self.bound: set[str] = set()
        self.depth = 0
        self.skip: set[int] = set()
        self.stores: set[int] = set()
        self.loaded: set[str] = set()
        self.assigned: set[str] = set()  # names rebound (not only mutated) somewhere

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self.skip:
            self.used.add(node.value)
            if id(node) not in self.stores:
                self.loaded.add(node.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.stores |= _name_ids(node.target)
        self.assigned |= _targets(node.target) if _name_ids(node.target) else set()

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.stores |= _name_ids(node.target)
        self.assigned |= _targets(node.target) if _name_ids(node.target) else set()

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.assigned.add(node.target.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def visit_Import(self, node: cst.Import) -> bool:
        self.bound |= {_alias(a) for a in node.names}
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if not isinstance(node.names, cst.ImportStar):
            self.bound |= {_alias(a) for a in node.names}
        return False

    def _scope(self, names: set[str]) -> None:
        self.nested |= names
        self.depth += 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.bound.add(node.name.value)
        self.skip.add(id(node.name))
        self._scope(_params(node.params) | _assigned(node.body))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._scope(_params(node.params))

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.depth -= 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.bound.add(node.name.value)
        self.skip.add(id(node.name))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self.nested |= _targets(node.target)

    def visit_For(self, node: cst.For) -> None:
        self.bound |= _targets(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self.bound |= _targets(node.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.bound |= _targets(node.target)

    def visit_Global(self, node: cst.Global) -> bool:
        self.nested |= {n.name.value for n in node.names}
        return False


def _alias(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return cst.Module([]).code_for_node(alias.name).split(".")[0]


def _params(params: cst.Parameters) -> set[str]:
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            every.append(star)
    return {p.name.value for p in every}


def _targets(node: cst.CSTNode) -> set[str]:
    found: set[str] = set()

    class _Names(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.add(name.value)

        def visit_Attribute(self, attr: cst.Attribute) -> bool:
            return False

        def visit_Subscript(self, sub: cst.Subscript) -> bool:
            return False

    node.visit(_Names())
    return found


def _name_ids(target: cst.BaseExpression) -> set[int]:
    """The Names a plain assignment target stores to (not those inside subscripts or attributes)."""
    if isinstance(target, cst.Name):
        return {id(target)}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {i for e in target.elements for i in _name_ids(e.value)}
    if isinstance(target, cst.StarredElement):
        return _name_ids(target.value)
    return set()


def _assigned(body: cst.CSTNode) -> set[str]:
    found: set[str] = set()

    class _Assigned(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            found.update(_targets(node.target))

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            found.update(_targets(node.target))

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            found.update(_targets(node.target))

    body.visit(_Assigned())
    return found


class _Substitute(cst.CSTTransformer):
    def __init__(self, replace: dict[str, cst.BaseExpression]):
        self.replace = replace
        self.skip: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.skip.add(id(node.name))

    def visit_Param(self, node: cst.Param) -> None:
        self.skip.add(id(node.name))

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        if id(original) in self.skip or original.value not in self.replace:
            return updated
        return self.replace[original.value]
