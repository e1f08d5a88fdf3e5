"""A flow's base classes imported from a module of the same source tree, read statically.

``class TrainFlow(FlowSpec, Loader)`` with ``from .mixins import Loader`` (or ``from mixins import
Loader`` beside the flow, or a package beside it): the module is parsed like the flow's file, never
imported. Its class (and the classes of that module it derives from) lend the flow their methods,
steps and class constants as an in-file base class does (scan.py); the module's imports and
definitions (helpers, constants, other classes) come into the flow's module, where the entry's own
import of the base stood, so what the base's code uses is defined in every output. A base of that
class which its module imports from another module of the tree is read from there in turn. A base that
cannot be read so (not found, a syntax error, relative imports of its own, a name the flow's module
binds differently) stays an import, and what the flow reads from it is refused where it is read
(TP120).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Span
from transpile.reading.cst import SpanIndex, calls_in, code
from transpile.reading.siblings import module_file


def merge_bases(reader) -> dict[str, cst.ClassDef]:
    """Replace ``reader.module`` by the module with the sibling modules of the flow's imported
    base classes merged in; the base classes read (by their name in the flow's module)."""
    module: cst.Module = reader.module
    reader.unread_bases = {}  # base → why its module was not read (for the TP120 message)
    wanted = _imported_bases(module, reader.names)
    if not wanted:
        return {}
    own = _bound(module.body)
    carried_texts = {code(s).strip() for s in module.body}
    found: dict[str, cst.ClassDef] = {}
    body: list[cst.BaseStatement] = []
    carried: set[str] = carried_texts  # statements already in the module or brought
    for stmt in module.body:
        taken = _take(reader, stmt, wanted, own, found, carried)
        if taken is None:
            body.append(stmt)
        else:
            body.extend(taken)
    if found:
        reader.module = module.with_changes(body=body)
    return found


def _imported_bases(module: cst.Module, names) -> set[str]:
    """Names used as a base of a flow class of the module (one deriving from FlowSpec, having a
    step, or run by the ``__main__`` block), not classes of the module itself. Another class's
    bases stay imports: what it derives from is not brought."""
    started = {
        code(node.func)
        for stmt in module.body
        if isinstance(stmt, cst.If) and _docstring_or_main(stmt)
        for node in calls_in(stmt)
    }
    bases = {
        code(b.value)
        for stmt in module.body
        if isinstance(stmt, cst.ClassDef) and _maybe_flow(stmt, names, started)
        for b in stmt.bases
        if isinstance(b.value, cst.Name)
    }
    bases -= {s.name.value for s in module.body if isinstance(s, cst.ClassDef)}
    return {b for b in bases if names.resolve(cst.Name(b)) != "FlowSpec"}


def _maybe_flow(node: cst.ClassDef, names, started: set[str]) -> bool:
    if node.name.value in started:
        return True
    if any(names.resolve(b.value) == "FlowSpec" for b in node.bases):
        return True
    return any(
        isinstance(item, cst.FunctionDef)
        and any(names.resolve(d.decorator) == "step" for d in item.decorators)
        for item in node.body.body
    )


def _take(
    reader, stmt, wanted, own, found, carried, source: SpanIndex | None = None
) -> list[cst.BaseStatement] | None:
    """What an import line of the flow's module (or of a module read for its bases, at
    ``source``) becomes: None when it imports no base read here, else the line without those
    names followed by what their modules bring."""
    unread = reader.unread_bases
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    node = stmt.body[0]
    if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
        return None
    hits = [a for a in node.names if code(a.asname.name if a.asname else a.name) in wanted]
    if not hits:
        return None
    spans = source or reader.spans
    where = spans.find(code(stmt), Span(spans.path, 1, 0, len(spans.lines), 0))
    path = module_file(str(spans.path) if source else reader.path, node)
    if path is None:
        return None
    sibling = _parse(reader, path, where)
    if sibling is None:
        for alias in hits:
            unread[code(alias.name)] = f"{path.name} could not be read"
        return None
    module, index = sibling
    classes = {s.name.value: s for s in module.body if isinstance(s, cst.ClassDef)}
    brought: list[cst.ImportAlias] = []
    lent: set[str] = set()
    for alias in hits:
        name = code(alias.name)
        local = code(alias.asname.name) if alias.asname else name
        if name not in classes or local != name:
            continue
        lent |= _ancestry(name, classes)
        brought.append(alias)
    if not brought:
        return None
    context = _Sibling(index, classes, lent, found)
    added, reason = _context(reader, module, context, own | set(found), carried)
    if reason is not None:
        message = (
            f"{', '.join(code(a.name) for a in brought)} is not read from {path.name}: {reason}"
        )
        reader.diagnostics.append(Diagnostic("TP201", "warning", message, where))
        for alias in brought:
            unread[code(alias.name)] = f"not read from {path.name}: {reason}"
        return None
    for name in lent:
        found.setdefault(name, classes[name])
        reader.spans.borrow(index, name)
    names = ", ".join(sorted(code(a.name) for a in brought))
    message = f"base class {names} read from {path.name} (a module of the same tree)"
    reader.diagnostics.append(Diagnostic("TP201", "info", message, where))
    rest = [a for a in node.names if a not in brought]
    kept: list[cst.BaseStatement] = []
    if rest:
        rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        kept.append(stmt.with_changes(body=[node.with_changes(names=rest)]))
    return kept + added


def _parse(reader, path, where) -> tuple[cst.Module, SpanIndex] | None:
    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        module = cst.parse_module(text)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, cst.ParserSyntaxError):
        message = f"{path.name} (imported here) could not be read; its classes stay an import"
        reader.diagnostics.append(Diagnostic("TP201", "warning", message, where))
        return None
    return module, SpanIndex(str(path), text, tree)


def _ancestry(name: str, classes: dict[str, cst.ClassDef]) -> set[str]:
    """``name`` and the classes of the same module it derives from."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen or current not in classes:
            continue
        seen.add(current)
        todo += [code(b.value) for b in classes[current].bases]
    return seen


@dataclass
class _Sibling:
    """A module read for the flow's bases: its file, its classes, the ones it lends (a base and
    what it derives from in that module), and the classes read so far (of every module)."""

    spans: SpanIndex
    classes: dict[str, cst.ClassDef]
    lent: set[str]
    found: dict[str, cst.ClassDef]


def _context(reader, module: cst.Module, sibling: _Sibling, own: set[str], carried):
    """The sibling's imports and definitions, for the code its classes lend (the writers keep
    only what is used); a reason instead when they cannot come into the flow's module. A base
    of a lent class that the sibling imports from another module of the tree is read from that
    module in turn (its import replaced by what that module brings)."""
    lent = sibling.lent
    further = {
        code(b.value)
        for name in lent
        for b in sibling.classes[name].bases
        if isinstance(b.value, cst.Name) and code(b.value) not in sibling.classes
    }
    further = {b for b in further if reader.names.resolve(cst.Name(b)) != "FlowSpec"}
    out: list[cst.BaseStatement] = []
    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef) and stmt.name.value in lent:
            continue
        if further and isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
            taken = _take(reader, stmt, further, own, sibling.found, carried, sibling.spans)
            if taken is not None:
                out.extend(taken)
                continue
        if _docstring_or_main(stmt):
            continue
        text = code(stmt).strip()
        if isinstance(stmt, cst.SimpleStatementLine) and all(
            isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
        ):
            if any(isinstance(s, cst.ImportFrom) and s.relative for s in stmt.body):
                return [], f"it imports from its own package ({text})"
            if any(reader.names.add_import(s) for s in stmt.body):  # type: ignore[arg-type]
                continue  # metaflow's names: understood, not carried
        elif isinstance(stmt, cst.ClassDef) and any(
            reader.names.resolve(b.value) == "FlowSpec" for b in stmt.bases
        ):
            continue  # another flow of that module
        if text in carried:
            continue  # the same statement: the same name
        clash = _bound([stmt]) & own
        if clash:
            return [], f"{', '.join(sorted(clash))} is also bound in this file"
        carried.add(text)
        out.append(stmt)
    return out, None


def _docstring_or_main(stmt: cst.BaseStatement) -> bool:
    if isinstance(stmt, cst.If):
        test = code(stmt.test)
        return "__name__" in test and "__main__" in test
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _bound(body) -> set[str]:
    """The top-level names statements bind."""
    names: set[str] = set()
    for stmt in body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            names.add(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    names |= {
                        code(a.asname.name) if a.asname else code(a.name).split(".")[0]
                        for a in small.names
                    }
                elif isinstance(small, cst.ImportFrom) and not isinstance(
                    small.names, cst.ImportStar
                ):
                    names |= {code(a.asname.name if a.asname else a.name) for a in small.names}
                elif isinstance(small, (cst.Assign, cst.AnnAssign)):
                    targets = (
                        [t.target for t in small.targets]
                        if isinstance(small, cst.Assign)
                        else [small.target]
                    )
                    names |= {code(t) for t in targets if isinstance(t, cst.Name)}
    return names
