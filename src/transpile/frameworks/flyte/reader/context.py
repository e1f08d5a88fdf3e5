"""flytekit's run context in a task body (``current_context().<attr>``), in the model's terms.

The model's step bodies name the run context as Metaflow does (``current.run_id``); each writer
turns that into its target's form (writing/current.py for Flyte and Airflow, KFP's placeholders),
so a Flyte body read here reaches every target through that one rewrite. What has a plain Python
equivalent becomes it: the task's scratch directory is a ``tempfile.mkdtemp()`` made once per
task run (a module function, so a helper the task calls reads the same directory), a secret is
the environment variable flytekit itself reads in a local run, the logger is a ``logging``
logger. Statements that only fill a Flyte deck are dropped (no deck elsewhere), as the writers
drop Metaflow card statements. Everything else (a checkpoint, the raw output prefix, a plugin's
session) becomes ``None`` with a TODO at the statement and a lossy diagnostic. A local alias
(``ctx = flytekit.current_context()``, ``s = ctx.secrets``) is read through and its assignment
dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Span
from transpile.reading.cst import SpanIndex, code, dotted
from transpile.util.text import todo

from .names import FlyteNames

CONTEXT = "current_context"
DECKS = {"default_deck", "decks", "timeline_deck"}
SCRATCH = "working_directory"  # the function that gives the scratch directory (made free)
# attribute chains after the context: the model's expression and what to tell the user
RUN_ID = "current.run_id"
DECK = "a Flyte deck was filled here; no deck in this target"
NOT_CARRIED = {
    "checkpoint": "Flyte's task checkpoint",
    "raw_output_prefix": "Flyte's raw output prefix",
    "task_id": "Flyte's task identifier",
}


@dataclass
class ContextRead:
    """The body rewritten, the module imports it now needs, and the diagnostics."""

    body: str
    imports: set[str] = field(default_factory=set)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    scratch: bool = False  # reads the scratch directory: the module needs scratch_function


def uses_context(body: str) -> bool:
    return CONTEXT in body or "Deck" in body


def neutral_context(
    body: str,
    names: FlyteNames,
    constants: dict[str, cst.BaseExpression],
    scratch: str,
    where: str,
    spans: SpanIndex,
    within: Span,
) -> ContextRead:
    """``body`` (a task's, as task.py made it, or a helper function's definition) with
    flytekit's run context in the model's terms; ``where`` names it in diagnostics."""
    if not uses_context(body):
        return ContextRead(body)
    try:
        module = cst.parse_module(body)
    except cst.ParserSyntaxError:
        return ContextRead(body)
    finder = _Aliases(names)
    module.visit(finder)
    taken = set(re.findall(r"(?<![.\w])[A-Za-z_]\w*", body))  # names, not attributes
    free = "current" not in taken
    rewriter = _Rewriter(names, finder.aliases(), finder.decks(), scratch, free, constants)
    text = module.visit(rewriter).code
    if not rewriter.changed:
        return ContextRead(body)
    result = ContextRead(text, set(rewriter.imports))
    result.scratch = rewriter.scratch_used
    seen = set()
    for statement, code_, severity, message in rewriter.notes:
        key = (statement, code_, message)
        if key in seen:
            continue
        seen.add(key)
        span = spans.find(statement, within)
        if span == within and " = " in statement:  # a final return, now an assignment
            span = spans.find("return " + statement.split(" = ", 1)[1], within)
        lossy = severity == "warning"
        result.diagnostics.append(
            Diagnostic(code_, severity, f"{where}: {message}", span, lossy=lossy)
        )
    return result


def scratch_function(name: str) -> str:
    """The definition a module gets for Flyte's ``working_directory``: one directory per task
    run (a Metaflow or KFP task runs in a process of its own), the same for every read."""
    return (
        "@functools.cache\n"
        f"def {name}() -> str:\n"
        '    """Added by transpile: Flyte\'s working_directory, made once per task run."""\n'
        "    return tempfile.mkdtemp()"
    )


def _context_call(node: cst.BaseExpression, names: FlyteNames) -> bool:
    """``current_context()``, ``flytekit.current_context()``, ``fl.current_context()``; not
    ``FlyteContextManager.current_context()`` (flytekit's internal context)."""
    if not isinstance(node, cst.Call) or node.args:
        return False
    name = dotted(node.func)
    if name is None:
        return False
    head, _, rest = name.rpartition(".")
    if not head:
        return names.names.get(name) == CONTEXT
    return rest == CONTEXT and head in names.modules


class _Aliases(cst.CSTVisitor):
    """Names bound once to the context or to one of its parts (``ctx = current_context()``,
    ``secrets = ctx.secrets``), and names bound to a deck (``d = flytekit.Deck(...)``)."""

    def __init__(self, names: FlyteNames) -> None:
        self.names = names
        self.bound: dict[str, list[cst.BaseExpression | None]] = {}

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.bound.setdefault(target.target.value, []).append(node.value)
            else:
                for name in _names(target.target):
                    self.bound.setdefault(name, []).append(None)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        for name in _names(node.target):
            self.bound.setdefault(name, []).append(None)

    def visit_For(self, node: cst.For) -> None:
        for name in _names(node.target):
            self.bound.setdefault(name, []).append(None)

    def visit_AsName(self, node: cst.AsName) -> None:
        for name in _names(node.name):
            self.bound.setdefault(name, []).append(None)

    def aliases(self) -> dict[str, list[str]]:
        """Alias → the attributes after the context it stands for (``[]`` for the context)."""
        found: dict[str, list[str]] = {}
        for _ in range(3):  # an alias of an alias
            for name, values in self.bound.items():
                if len(values) == 1 and values[0] is not None:
                    chain = _chain(values[0], self.names, found)
                    if chain in ([], ["secrets"], ["execution_id"]):
                        found[name] = chain
        return found

    def decks(self) -> set[str]:
        return {
            name
            for name, values in self.bound.items()
            if len(values) == 1
            and isinstance(values[0], cst.Call)
            and self.names.resolve(values[0].func) == "Deck"
        }


def _names(node: cst.BaseExpression) -> list[str]:
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, (cst.Tuple, cst.List)):
        return [n for e in node.elements for n in _names(e.value)]
    return []


def _chain(
    node: cst.BaseExpression, names: FlyteNames, aliases: dict[str, list[str]]
) -> list[str] | None:
    """The attributes after the context that ``node`` reads (``current_context().a.b`` →
    ``[a, b]``), or None when it does not start at the context."""
    attrs: list[str] = []
    while isinstance(node, cst.Attribute):
        attrs.insert(0, node.attr.value)
        node = node.value
    if _context_call(node, names):
        return attrs
    if isinstance(node, cst.Name) and node.value in aliases:
        return [*aliases[node.value], *attrs]
    return None


class _Rewriter(cst.CSTTransformer):
    def __init__(
        self,
        names: FlyteNames,
        aliases: dict[str, list[str]],
        decks: set[str],
        scratch: str,
        current_free: bool,
        constants: dict[str, cst.BaseExpression],
    ) -> None:
        self.names, self.aliases, self.deck_names = names, aliases, decks
        self.constants = constants
        self.scratch, self.current_free = scratch, current_free
        self.scratch_used = False
        self.changed = False
        self.imports: set[str] = set()
        self.notes: list[tuple[str, str, str, str]] = []  # statement, code, severity, message
        self._statements: list[tuple[cst.CSTNode, list[str]]] = []  # open statements, TODOs
        self._inner: set[int] = set()  # nodes whose parent reads an attribute of them
        self._funcs: set[int] = set()  # nodes called
        self._skipped: dict[int, str] = {}  # statements left whole: "alias" or "deck"

    # statements ---------------------------------------------------------------------------
    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            self._statements.append((node, []))
        if isinstance(node, cst.SimpleStatementLine):
            smalls = list(node.body)
            if all(self._alias_assignment(s) for s in smalls):
                self._skipped[id(node)] = "alias"
                return False
            if all(self._on_deck(s) for s in smalls):
                self._skipped[id(node)] = "deck"
                return False
        if isinstance(node, cst.Attribute):
            self._inner.add(id(node.value))
        if isinstance(node, cst.Call):
            self._funcs.add(id(node.func))
        return super().on_visit(node)

    def on_leave(self, original_node, updated_node):
        skipped = self._skipped.get(id(original_node))
        if skipped == "alias":
            self.changed = True
            self._statements.pop()
            return cst.RemoveFromParent()
        if skipped == "deck":
            self.changed = True
            self._note("TP211", "info", DECK)
            updated_node = updated_node.with_changes(
                body=[cst.Pass()],
                trailing_whitespace=cst.TrailingWhitespace(
                    whitespace=cst.SimpleWhitespace("  "),
                    comment=cst.Comment(todo("TP211", DECK)),
                ),
            )
        result = super().on_leave(original_node, updated_node)
        if not isinstance(original_node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            return result
        _, todos = self._statements.pop()
        if isinstance(result, cst.RemovalSentinel) or not todos:
            return result
        comments = [cst.EmptyLine(comment=cst.Comment(text)) for text in dict.fromkeys(todos)]
        return result.with_changes(leading_lines=[*result.leading_lines, *comments])

    def leave_IndentedBlock(self, original, updated):
        return updated.with_changes(body=_deck_comments(list(updated.body)))

    def leave_Module(self, original, updated):
        return updated.with_changes(body=_deck_comments(list(updated.body)))

    def _note(self, code_: str, severity: str, message: str, text: str | None = None) -> None:
        statement = self._statements[-1][0] if self._statements else None
        where = code(statement).strip() if statement is not None else ""
        first = next((line for line in where.splitlines() if line.strip()[:1] != "#"), where)
        self.notes.append((first, code_, severity, message))
        if text is not None and self._statements:
            self._statements[-1][1].append(todo(code_, text))

    def _alias_assignment(self, small: cst.BaseSmallStatement) -> bool:
        return (
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
            and small.targets[0].target.value in self.aliases
        )

    def _on_deck(self, small: cst.BaseSmallStatement) -> bool:
        """A statement that only makes or fills a deck."""
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target = small.targets[0].target
            return isinstance(target, cst.Name) and target.value in self.deck_names
        if not (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)):
            return False
        node: cst.BaseExpression = small.value
        if self.names.resolve(node.func) == "Deck":  # type: ignore[attr-defined]
            return True
        while isinstance(node, (cst.Attribute, cst.Call, cst.Subscript)):
            node = node.func if isinstance(node, cst.Call) else node.value
            if isinstance(node, cst.Name) and node.value in self.deck_names:
                return True
            chain = _chain(node, self.names, self.aliases)
            if chain and chain[0] in DECKS:
                return True
        return False

    # expressions --------------------------------------------------------------------------
    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated, cst.Call):
            return updated
        chain = _chain(updated.func, self.names, self.aliases)
        if chain is None or chain[:1] != ["secrets"] or len(chain) != 2:
            return self._whole(original, updated)
        method = chain[1]
        args = {a.keyword.value: a.value for a in updated.args if a.keyword}
        positional = [a.value for a in updated.args if a.keyword is None]
        for key, value in zip(("group", "key", "group_version"), positional):
            args.setdefault(key, value)
        if method not in ("get", "get_secrets_env_var") or "key" not in args:
            return self._not_carried(updated, len(chain), f"secrets.{method}", "a secrets call")
        self.changed = True
        name = _env_name(
            [args[k] for k in ("group", "group_version", "key") if k in args], self.constants
        )
        if method == "get_secrets_env_var":
            return cst.parse_expression(name)
        self.imports.add("os")
        message = (
            f"the secret is read from the environment variable {name} (as flytekit reads it "
            "in a local run): provide it (Metaflow @secrets, a Kubernetes secret as "
            "environment in KFP)"
        )
        self._note("TP211", "warning", message, message)
        return cst.parse_expression(f"os.environ[{name}]")

    def leave_Attribute(
        self, original: cst.Attribute, updated: cst.Attribute
    ) -> cst.BaseExpression:
        return self._whole(original, updated)

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        if updated.value in self.aliases:
            return self._whole(original, updated)
        return updated

    def _whole(self, original: cst.CSTNode, node: cst.BaseExpression) -> cst.BaseExpression:
        """``node`` when it is the whole of a read of the context (the attribute chain ends
        here), with the longest part the model has a term for replaced; else as it is."""
        if id(original) in self._inner:
            return node  # the attribute around it decides
        chain = _chain(node, self.names, self.aliases)
        if chain is None:
            return node
        head = chain[:1]
        if head == ["execution_id"] and self.current_free:
            if chain[1:2] == ["name"]:
                return self._replace(node, len(chain), 2, RUN_ID)
            if len(chain) == 1:
                message = (
                    "current_context().execution_id is the run id here (text), not Flyte's "
                    "execution identifier (project, domain, name)"
                )
                self._note("TP201", "info", message)
                return self._replace(node, 1, 1, RUN_ID)
        if chain == ["working_directory"] or head == ["working_directory"]:
            self.scratch_used = True
            return self._replace(node, len(chain), 1, f"{self.scratch}()")
        if head == ["logging"]:
            self.imports.add("logging")
            return self._replace(node, len(chain), 1, "logging.getLogger(__name__)")
        if head == ["secrets"] and len(chain) == 2 and id(original) in self._funcs:
            return node  # the call decides
        if head == ["secrets"] and len(chain) >= 3:  # secrets.<group>.<key>
            self.imports.add("os")
            name = repr(f"{chain[1]}_{chain[2]}".upper())
            message = f"the secret is read from the environment variable {name}: provide it"
            self._note("TP211", "warning", message, message)
            return self._replace(node, len(chain), 3, f"os.environ[{name}]")
        if not chain:
            return self._not_carried(node, 0, "", "flytekit's run context")
        if head == ["execution_id"]:
            attr, what = ".".join(chain[:2]), "a part of Flyte's execution identifier"
            return self._not_carried(node, len(chain), attr, what, min(2, len(chain)))
        what = NOT_CARRIED.get(chain[0], f"a plugin's or flytekit's {chain[0]}")
        return self._not_carried(node, len(chain), chain[0], what)

    def _replace(self, node: cst.BaseExpression, length: int, keep: int, text: str):
        """``node``, a chain of ``length`` attributes, with its first ``keep`` replaced."""
        self.changed = True
        if length <= keep or not isinstance(node, cst.Attribute):
            return cst.parse_expression(text)
        return node.with_changes(value=self._replace(node.value, length - 1, keep, text))

    def _not_carried(self, node, length: int, attr: str, what: str, keep: int = 1):
        shown = f"current_context().{attr}" if attr else "current_context()"
        message = f"{shown}, {what}, has no equivalent here: it is None"
        self._note("TP211", "warning", message, message)
        return self._replace(node, length, min(keep, max(length, 0)) or 0, "None")


def _deck_comments(body: list) -> list:
    """A dropped deck statement (``pass  # TODO``) in a block with other statements: its TODO
    goes above the next statement (or the one before, at the end of the block), no ``pass``."""
    marker = todo("TP211", DECK)
    dropped = [
        n
        for n, s in enumerate(body)
        if isinstance(s, cst.SimpleStatementLine)
        and s.trailing_whitespace.comment is not None
        and s.trailing_whitespace.comment.value == marker
    ]
    if not dropped or len(dropped) == len(body):
        return body
    comment = cst.EmptyLine(comment=cst.Comment(marker))
    kept: list = []
    pending: list = []
    for number, statement in enumerate(body):
        if number in dropped:
            pending += [*statement.leading_lines, comment]
            continue
        if pending:
            statement = statement.with_changes(leading_lines=[*pending, *statement.leading_lines])
            pending = []
        kept.append(statement)
    if pending:  # dropped at the end of the block: the TODO goes above the last statement
        last = kept[-1]
        kept[-1] = last.with_changes(leading_lines=[*last.leading_lines, *pending])
    return kept


def _env_name(parts: list[cst.BaseExpression], constants: dict[str, cst.BaseExpression]) -> str:
    """The environment variable flytekit reads for a secret: its parts (literals, or module
    constants bound to one) upper-cased, joined by ``_``."""
    texts = []
    for part in parts:
        if isinstance(part, cst.Name) and isinstance(constants.get(part.value), cst.SimpleString):
            part = constants[part.value]
        texts.append(part.evaluated_value if isinstance(part, cst.SimpleString) else None)
    if all(isinstance(t, str) for t in texts):
        return repr("_".join(texts).upper())  # type: ignore[arg-type]
    return f'"_".join([{", ".join(code(p) for p in parts)}]).upper()'
