"""The statements of one DAG: tasks, data edges, order edges, and the flow they make."""

from __future__ import annotations

import ast
import copy
import dataclasses
import itertools
import re
import textwrap
from dataclasses import dataclass, field

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import (
    ANY,
    Input,
    Map,
    Node,
    Option,
    Output,
    Parallel,
    Ref,
    Result,
    Sequence,
    Span,
    Step,
    Switch,
    Task,
    TypeRef,
    task_steps,
    walk,
)
from transpile.reading.series_parallel import tightened

from .bound import FILE, MUTATORS, root_name
from .constants import NotConstant, fold, to_node
from .pods import pod_step
from .pulls import TI_NAMES, pulls_of, rewritten
from .sensors import make_sensor
from .setup_teardown import RULE as TEARDOWN_RULE
from .setup_teardown import context_steps, mark, marked, read_context, say, teardown
from .switches import Switching, switch_flow
from .templates import fstring, template_parts

# an argument that renders one task's return value (as text)
XCOM_PULL = re.compile(
    r"\{\{\s*(?:ti|task_instance)\.xcom_pull\(\s*task_ids\s*=\s*(?P<q>['\"])(?P<task>[^'\"]+)"
    r"(?P=q)\s*\)\s*\}\}"
)
# an argument that renders a DAG parameter (as text)
PARAM_TEMPLATE = re.compile(
    r"\{\{\s*params(?:\.(?P<attr>\w+)|\[\s*(?P<q>['\"])(?P<key>\w+)(?P=q)\s*\])\s*\}\}"
)
# what Airflow passes a task function by argument name from the run's context
CONTEXT_KEYS = {
    "context",  # an @asset function's (assets.py)
    "ti",
    "task_instance",
    "dag_run",
    "dag",
    "task",
    "ds",
    "ds_nodash",
    "ts",
    "logical_date",
    "run_id",
    "data_interval_start",
    "data_interval_end",
    "conf",
    "macros",
    "var",
    "outlets",
    "inlets",
    "triggering_asset_events",
}
UNSUPPORTED_ARGS = {"pool", "sla", "on_failure_callback", "on_success_callback"}
# trigger rules that mean the model's order when every task succeeds (and, after a switch, the
# tasks that wait for whichever case ran: checked against Airflow's rules in switches.py)
CARRIED_RULES = {
    "all_success",
    "none_failed_min_one_success",
    "none_failed_or_skipped",
    "none_failed",
}
# a virtualenv task's settings the targets do not carry (site packages: the targets have theirs)
VENV_SETTINGS = {
    "python_version",
    "pip_install_options",
    "index_urls",
    "venv_cache_path",
    "serializer",
    "use_dill",
    "string_args",
}
PENDING = "<pull>"  # a reference to a task by id, resolved once the DAG is read
GROUP = "<group>"  # a variable bound to a task group (never a step name: not an identifier)


def span_of(path: str, node: ast.AST) -> Span:
    path = getattr(node, FILE, path)  # a node read from another module of the tree: its file
    line = getattr(node, "lineno", 1)
    return Span(path, line, getattr(node, "col_offset", 0), getattr(node, "end_lineno", line) or line,
                getattr(node, "end_col_offset", 0) or 0)  # fmt: skip


@dataclass
class Built:
    """A task read from the DAG: its step, what it waits for, and its map if expanded."""

    step: str
    deps: set[str] = field(default_factory=set)
    map_over: Ref | None = None


class DagBody:
    def __init__(self, reader, parameters, defaults: dict[str, str], holder: str | None):
        self.reader, self.parameters, self.defaults, self.holder = (
            reader,
            parameters,
            defaults,
            holder,
        )
        self.functions: dict[str, ast.FunctionDef] = {}  # @task functions by local name
        self.multiple: set[str] = set()
        self.options: dict[str, dict[str, str]] = {}
        self.variables: dict[str, str] = {}  # local variable → step
        self.built: dict[str, Built] = {}
        self.steps: list[Step] = []
        self.helpers: list[str] = []
        self.preamble: list[str] = []  # definitions the module's own need (before them)
        self.local: dict[str, ast.FunctionDef] = {}  # plain functions defined in the DAG body
        self.defined: set[str] = set()
        self.group_functions: dict[str, ast.FunctionDef] = {}  # @task_group functions
        self.switch_kind: dict[str, str] = {}  # @task.branch / @task.short_circuit functions
        self.sensors: dict[str, dict[str, ast.expr]] = {}  # @task.sensor functions: keywords
        self.setup_kind: dict[str, str] = {}  # @setup / @teardown functions: which
        self.setups: set[str] = set()  # setup steps (setup_teardown.py)
        self.teardowns: dict[str, ast.AST] = {}  # teardown steps → where marked
        self.failing_teardowns: set[str] = set()  # on_failure_fail_dagrun=True
        self.switching: dict[str, Switching] = {}  # steps that choose what runs after them
        self.open_groups: list[tuple[str, bool]] = []  # (full id, prefix_group_id), innermost last
        self.members: dict[str, list[str]] = {}  # group id → the steps inside it, nested too
        self.group_defaults: dict[str, dict[str, ast.expr]] = {}  # group id → its default_args
        self.group_chains: dict[str, list[tuple[str, bool]]] = {}  # group id → it and its parents
        self.group_ids: dict[str, int] = {}  # group ids used, for Airflow's __1 suffixes
        self.edges: list[tuple[list[str], list[str]]] = []  # order edges, groups resolved late
        self.task_ids: dict[str, str] = {}  # step → Airflow task id (group prefixes included)
        self.rules: dict[str, str] = {}  # step → trigger rule (when not all_success)
        self.rule_nodes: dict[str, ast.AST] = {}
        self.switched: Node | None = None  # the flow, when it has switches
        self.evaluated: dict[int, tuple[ast.Call, str]] = {}  # task calls read, by node
        self.nested = 0  # inside a with block of the DAG body
        self.bound: dict[str, ast.expr] = {}  # DAG-body constants and loop targets → literal
        self.task_lists: dict[str, list[str]] = {}  # lists of tasks built in the DAG body
        self.looping = 0  # inside an unrolled for loop
        self.hidden = itertools.count()  # names for tasks a loop runs over
        self._constants: dict[str, object] | None = None
        self.unknown: dict[str, ast.AST] = {}  # names the DAG body computes (not constants)
        self.tasks_made: set[int] = set()  # ids of assignments that made a task, group or list
        self.dag_id = ""  # the DAG's id (read.py sets it): what {{ dag.dag_id }} renders
        self.foreign: set[str] = set()  # names of other DAGs' objects and tasks (holder form)
        self._prefixes: dict[str, bool] = {}  # group id → its prefix_group_id
        self.exit_options: list[Option] = []
        self.bash_functions: set[str] = set()  # @task.bash: the command they return is run
        self.packages: dict[
            str, Option
        ] = {}  # @task.virtualenv's requirements, as pypi  # the failure handler a cleanup task makes
        self.local_helper: dict[str, int] = {}  # a DAG-body function → its index in helpers
        self.rewritten: dict[str, str] = {}  # a module function → its source, pulls rewritten
        self.pulled: dict[str, tuple[dict[str, str], set[int]]] = {}  # function → its pulls
        # inputs that pull a task by id, resolved when the DAG is read (the task may come later)
        self.pending: list[tuple[str, str, str, ast.AST]] = []  # (step, input, task id, node)
        for node in reader.tree.body:
            self._task_function(node)

    def span(self, node: ast.AST) -> Span:
        return span_of(self.reader.path, node)

    def note(self, code: str, message: str, node: ast.AST, lossy: bool = True) -> None:
        self.reader.diagnostics.append(Diagnostic(code, "warning", message, self.span(node), lossy))

    def _task_function(self, node: ast.stmt) -> bool:
        if not isinstance(node, ast.FunctionDef):
            return False
        for deco in node.decorator_list:
            base = deco.func if isinstance(deco, ast.Call) else deco
            if self.reader.names.resolve(base) == "task_group":
                self.group_functions[node.name] = node
                return True
            flavour = (
                isinstance(base, ast.Attribute) and self.reader.names.resolve(base.value) == "task"
            )
            if flavour and base.attr in ("branch", "short_circuit"):
                self.switch_kind[node.name] = base.attr
                self._switch_settings(deco, base.attr)
            elif flavour and base.attr == "sensor":
                keywords = getattr(deco, "keywords", [])
                self.sensors[node.name] = {k.arg: k.value for k in keywords if k.arg}
            elif flavour and base.attr == "bash":  # the function returns the command
                self.bash_functions.add(node.name)
            elif flavour and base.attr == "virtualenv":
                self._virtualenv(node.name, deco)
            elif flavour and base.attr != "python":
                raise error("TP188", f"@task.{base.attr} is not supported", self.span(deco))
            if self.reader.names.resolve(base) in ("setup", "teardown"):
                self.setup_kind[node.name] = self.reader.names.resolve(base)  # type: ignore
            if flavour or self.reader.names.resolve(base) in ("task", "setup", "teardown"):
                self.functions[node.name] = node
                keywords = {k.arg: k.value for k in getattr(deco, "keywords", [])}
                if (
                    isinstance(keywords.get("multiple_outputs"), ast.Constant)
                    and keywords["multiple_outputs"].value
                ):
                    self.multiple.add(node.name)
                self.options[node.name] = {k: v for k, v in keywords.items() if k}
                return True
        return False

    def _virtualenv(self, name: str, deco: ast.expr) -> None:
        """``@task.virtualenv(requirements=[...])``: the function runs in a fresh virtualenv
        with those packages; in the targets a step installing them (the model's pypi option:
        Metaflow's @pypi, Flyte's ImageSpec, KFP's packages_to_install)."""
        keywords = {k.arg: k.value for k in getattr(deco, "keywords", []) if k.arg}
        requirements = keywords.get("requirements")
        try:
            listed = ast.literal_eval(requirements) if requirements is not None else []
        except ValueError:
            listed = None
        if isinstance(listed, str):
            listed = [listed]
        if not isinstance(listed, list) or not all(isinstance(r, str) for r in listed):
            self.note("TP189", "requirements= that is not a literal list is not carried", deco)
            listed = []
        pins = dict((n.strip(), v.strip()) if sep else (r.strip(), "")
                    for r in listed for n, sep, v in [r.partition("==")])  # fmt: skip
        if pins:
            self.packages[name] = Option("pypi", (("packages", repr(pins)),), self.span(deco))
        shown = (
            "@task.virtualenv"
            if isinstance(deco, ast.Call)
            and not any(k.arg == "python_callable" for k in deco.keywords)
            else "PythonVirtualenvOperator"
        )
        for key in sorted(set(keywords) & VENV_SETTINGS):  # what else a task's options carry
            self.note("TP189", f"{shown}({key}=...) is not carried", keywords[key])

    # statements
    def read(self, body: list[ast.stmt]) -> None:
        for statement in body:
            self.statement(self._bind(statement))

    def _bind(self, node: ast.stmt) -> ast.stmt:
        """``node`` with the constants bound so far (DAG-body constants, loop targets) put in
        for their names: a compound statement's own expressions only (its body is bound as it
        is read). Inside a loop always a copy: each iteration makes tasks of its own."""
        if (not self.bound and not self.looping) or (
            not self.looping and node in self.reader.tree.body
        ):
            return node  # a module-level statement (``dag = DAG(...)`` then its tasks) as is
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            self._closes_over_constants(node)
            return node
        if not isinstance(node, ast.For | ast.With | ast.If):
            self._changed_in_place(node)
        copied = copy.deepcopy(node)
        if not self.bound:
            return copied
        change = _Substitute(self.bound).visit
        if isinstance(copied, ast.For):
            copied.iter = change(copied.iter)
        elif isinstance(copied, ast.With):
            copied.items = [change(i) for i in copied.items]
        elif isinstance(copied, ast.If):
            copied.test = change(copied.test)
        else:
            copied = change(copied)
        return copied

    def _closes_over_constants(self, node: ast.stmt) -> None:
        """A function defined in the DAG body that reads a loop's element or a constant bound
        there: its definition, moved to the module, would not see them."""
        own = {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
        own |= {
            n.id
            for n in ast.walk(node)
            if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
        }
        for inner in ast.walk(node):
            if isinstance(inner, ast.Name) and inner.id in self.bound and inner.id not in own:
                raise error(
                    "TP186",
                    f"{getattr(node, 'name', 'a definition')} is defined in the DAG body and "
                    f"reads {inner.id}, bound there{' by a loop' if self.looping else ''}: "
                    "pass it as an argument",
                    self.span(inner),
                )

    def _changed_in_place(self, node: ast.stmt) -> None:
        """A constant changed in place (``keys.append(k)``, ``d[k] = v``): no longer known."""
        for inner in ast.walk(node):
            name = None
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Attribute)
                and inner.func.attr in MUTATORS
            ):
                name = root_name(inner.func.value)
            elif isinstance(inner, ast.Subscript | ast.Attribute) and isinstance(
                inner.ctx, ast.Store | ast.Del
            ):
                name = root_name(inner.value)
            if name is not None and name in self.bound:
                self._forget(name)
                self.unknown[name] = inner

    def constants(self) -> dict[str, object]:
        """The module's names bound once to a constant (a literal, or computed from ones)."""
        if self._constants is None:
            self._constants = module_constants(self.reader.tree)
        return self._constants

    def statement(self, node: ast.stmt) -> None:
        if self._task_function(node) or isinstance(node, ast.Pass):
            return
        if self._another_dags(node):
            return
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return
        if isinstance(node, ast.Expr) and _named_list(node.value, self):
            return  # a list of tasks named on its own: nothing happens
        if isinstance(node, ast.For):
            self._unroll(node)
            return
        if isinstance(node, ast.If) and self._static_if(node):
            return
        if self._list_statement(node):
            self.tasks_made.add(id(node))
            return
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            step = self.task_expression(node.value, node.targets[0].id)
            if step is not None:
                self.tasks_made.add(id(node))
                self._forget(node.targets[0].id)
                self.variables[node.targets[0].id] = step
                return
            if self._constant_assignment(node.targets[0].id, node):
                return
        if isinstance(node, ast.Expr) and (
            self.order(node.value) or self.task_expression(node.value, None) is not None
        ):
            return
        if (
            isinstance(node, ast.Assign)
            and self.reader.names.resolve(node.value) == "TaskGroup"
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            self.variables[node.targets[0].id] = self._new_group(node.value)
            self.tasks_made.add(id(node))
            return
        if isinstance(node, ast.With) and (opened := context_steps(self, node)) is not None:
            read_context(self, node, opened)  # ``with teardown_task:``
            return
        if isinstance(node, ast.With) and all(self._grouping(i.context_expr) for i in node.items):
            saved = self.open_groups
            for item in node.items:
                group = self._opened_group(item)
                if group is not None:  # it and the groups it is in (parent_group= too)
                    self.open_groups = list(self.group_chains[group[0]])
            self.nested += 1
            try:
                self.read(node.body)  # the DAG itself, or a TaskGroup (flattened)
            finally:
                self.nested -= 1
                self.open_groups = saved
            return
        if (
            self.holder
            and isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef)
            and not (self.nested and isinstance(node, ast.FunctionDef))
        ):
            return  # module-level code after ``dag = DAG(...)``: kept as definitions
        if isinstance(node, ast.FunctionDef) and not node.decorator_list:
            # a plain function in the DAG body (an operator's python_callable): a module helper
            self.local[node.name] = node
            text = ast.get_source_segment(self.reader.text, node, padded=True) or ast.unparse(node)
            self.local_helper[node.name] = len(self.helpers)
            self.helpers.append(textwrap.dedent(text))
            return
        if isinstance(node, ast.With | ast.If):
            raise error(
                "TP186",
                f"{type(node).__name__.lower()} in a DAG body is not supported",
                self.span(node),
            )
        if isinstance(node, ast.AugAssign) and self._constant_update(node):
            return
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        self._forget(name.id)  # no longer the constant it was
                        if node not in self.reader.tree.body:
                            self.unknown[name.id] = node
        self.note("TP202", "statement in the DAG body not converted", node)

    # loops over constants, unrolled; constants and lists of tasks bound in the DAG body
    def _forget(self, name: str) -> None:
        self.unknown.pop(name, None)
        self.bound.pop(name, None)
        self.task_lists.pop(name, None)
        self.variables.pop(name, None)

    def _constant_assignment(self, name: str, node: ast.Assign) -> bool:
        """``name = <constant>`` in the DAG body: bound (put in for the name in what follows);
        at module level (``dag = DAG(...)`` then tasks) it stays a definition of the module.
        ``name = []`` or a list of tasks: a list of tasks (``append`` adds to it)."""
        value = node.value
        if isinstance(value, ast.List | ast.Tuple) and value.elts and self._all_tasks(value.elts):
            self._forget(name)
            self.task_lists[name] = [s for e in value.elts for s in self.group(e)]
            return True
        if isinstance(value, ast.List) and not value.elts:
            self._forget(name)
            self.task_lists[name] = []
            return True
        try:
            found = fold(value, self.constants())
        except NotConstant:
            return False
        if node in self.reader.tree.body:
            return True  # a module constant, kept among the definitions
        self._forget(name)
        self.bound[name] = to_node(found)
        return True

    def _constant_update(self, node: ast.AugAssign) -> bool:
        """``name += <constant>`` on a constant bound in the DAG body: bound to the new value."""
        if not (isinstance(node.target, ast.Name) and node.target.id in self.bound):
            return False
        name = node.target.id
        try:
            found = fold(ast.BinOp(self.bound[name], node.op, node.value), self.constants())
        except NotConstant:
            return False
        self.bound[name] = to_node(found)
        return True

    def _all_tasks(self, elements: list[ast.expr]) -> bool:
        def task(e: ast.expr) -> bool:
            if isinstance(e, ast.List | ast.Tuple):  # a list of tasks in a list: flattened
                return bool(e.elts) and all(task(i) for i in e.elts)
            if isinstance(e, ast.Name):
                return e.id in self.variables or e.id in self.task_lists
            if isinstance(e, ast.Attribute) and e.attr == "output":
                return task(e.value)
            return isinstance(e, ast.Call) and (
                self._calls_a_task(e) or self._calls_a_group(e) or self._operator(e)
            )

        return all(task(e) for e in elements)

    def _list_statement(self, node: ast.stmt) -> bool:
        """``tasks.append(t)``, ``tasks.extend([...])`` or ``tasks += [...]`` on a list of tasks."""
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            name, added = node.target.id, [node.value]
            if not isinstance(node.op, ast.Add) or name not in self.task_lists:
                return False
            extend = True
        elif (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr in ("append", "extend")
            and isinstance(node.value.func.value, ast.Name)
        ):
            call = node.value
            name, added = call.func.value.id, call.args  # type: ignore[attr-defined]
            extend = call.func.attr == "extend"  # type: ignore[attr-defined]
            if name not in self.task_lists:
                if name in self.bound or name in self.constants():
                    raise error(
                        "TP186",
                        f"{name} is a list of constants changed in the DAG body: not read",
                        self.span(node),
                    )
                return False
            if len(added) != 1 or call.keywords:
                raise error("TP186", f"{ast.unparse(call)} is not understood", self.span(call))
        else:
            return False
        (item,) = added
        if extend and not (isinstance(item, ast.List | ast.Tuple) or _named_list(item, self)):
            raise error(
                "TP186", f"{name} extended with {ast.unparse(item)}: not a list", self.span(item)
            )
        if not extend and not self._all_tasks([item]):
            raise error(
                "TP186",
                f"{ast.unparse(item)} added to {name} is not a task of this DAG (a list "
                "of tasks is read; a list of other values built in the DAG body is not)",
                self.span(item),
            )
        self.task_lists[name].extend(self.group(item))
        return True

    def _static_if(self, node: ast.If) -> bool:
        """An ``if`` whose test is a constant (often a loop's element): the branch it takes."""
        try:
            taken = fold(node.test, self.constants())
        except NotConstant:
            return False
        self.read(node.body if taken else node.orelse)
        return True

    def _unroll(self, node: ast.For) -> None:
        """A ``for`` over a constant: its body read once per element, the loop target bound to
        the element (Airflow builds the same tasks when it parses the file)."""
        if node.orelse:
            raise error("TP186", "for ... else: in a DAG body is not supported", self.span(node))
        for inner in _own_nodes(node):
            if isinstance(inner, ast.Break | ast.Continue):
                raise error(
                    "TP186",
                    f"{type(inner).__name__.lower()} in a loop of the DAG body is not supported "
                    "(its loops are unrolled)",
                    self.span(inner),
                )
        items = self._loop_items(node.iter)
        self.looping += 1
        try:
            for item in items:
                self._assign_target(node.target, item, node)
                self.read(node.body)
        finally:
            self.looping -= 1

    def _loop_items(self, node: ast.expr) -> list[ast.expr]:
        """The elements a loop runs over, as expressions (a literal, or a task's name)."""
        if isinstance(node, ast.Name) and node.id in self.task_lists:
            return [self._hidden(step) for step in self.task_lists[node.id]]
        if isinstance(node, ast.List | ast.Tuple) and not any(
            isinstance(e, ast.Starred) for e in node.elts
        ):
            items = []
            for element in node.elts:
                try:
                    items.append(to_node(fold(element, self.constants())))
                except NotConstant:
                    if not self._all_tasks([element]):
                        raise error(
                            "TP186",
                            f"a loop over {ast.unparse(node)}: {ast.unparse(element)} is "
                            "neither a constant nor a task of this DAG",
                            self.span(element),
                        ) from None
                    items.extend(self._hidden(s) for s in self.group(element))
            return items
        try:
            found = fold(node, self.constants())
            values = found if isinstance(found, list | tuple) else list(found)  # type: ignore
            return [to_node(v) for v in values]
        except (NotConstant, TypeError):
            pass
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        tasks = [
            n
            for n in ast.walk(node)
            if (isinstance(n, ast.Name) and n.id in self.variables)
            or (isinstance(n, ast.Call) and (self._calls_a_task(n) or self._operator(n)))
        ]
        if tasks:
            why = "a loop over a task's result: use .expand() (dynamic task mapping)"
        elif names & set(self.parameters):
            param = min(names & set(self.parameters))
            why = (
                f"a loop over the DAG parameter {param}, known only when the DAG runs: use "
                ".expand() (dynamic task mapping)"
            )
        else:
            why = (
                f"a loop over {ast.unparse(node)}, which is not a constant of this file (a "
                "literal, range(...) of constants, or a name bound once to one)"
            )
        raise error("TP186", why, self.span(node))

    def _hidden(self, step: str) -> ast.Name:
        """A name standing for a task a loop runs over."""
        name = f"_task_{next(self.hidden)}"
        self.variables[name] = step
        return ast.Name(name, ast.Load())

    def _assign_target(self, target: ast.expr, item: ast.expr, loop: ast.For) -> None:
        if isinstance(target, ast.Name):
            self._forget(target.id)
            if isinstance(item, ast.Name) and item.id in self.variables:
                self.variables[target.id] = self.variables[item.id]
            else:
                self.bound[target.id] = item
            return
        if (
            isinstance(target, ast.Tuple | ast.List)
            and isinstance(item, ast.Tuple | ast.List)
            and len(target.elts) == len(item.elts)
            and not any(isinstance(t, ast.Starred) for t in target.elts)
        ):
            for t, i in zip(target.elts, item.elts):
                self._assign_target(t, i, loop)
            return
        raise error(
            "TP186",
            f"the loop target {ast.unparse(target)} does not unpack {ast.unparse(item)}",
            self.span(loop.target),
        )

    def _another_dags(self, node: ast.stmt) -> bool:
        """A statement of another DAG of the same file (after ``dag = DAG(...)``, the module's
        statements are this DAG's unless they say otherwise): another ``DAG(...)``, a task made
        with ``dag=`` naming another DAG, ``with other_dag:``, or an order between such tasks."""
        if not self.holder:
            return False
        foreign = self.foreign
        if isinstance(node, ast.With):
            return any(
                isinstance(i.context_expr, ast.Name) and i.context_expr.id in foreign
                for i in node.items
            )
        if not isinstance(node, ast.Assign | ast.Expr):
            return False
        value = node.value
        targets = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
        if isinstance(value, ast.Call) and self.reader.names.resolve(value) == "DAG":
            foreign.update(targets)  # a second DAG: its tasks name it
            return True
        if isinstance(value, ast.Call):
            dag = next((k.value for k in value.keywords if k.arg == "dag"), None)
            if isinstance(dag, ast.Name) and dag.id != self.holder:
                foreign.update(targets)
                return True
        names = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
        if isinstance(node, ast.Expr) and names and names <= foreign | {"chain"}:
            return isinstance(value, ast.BinOp | ast.Call)
        return False

    def _grouping(self, node: ast.expr) -> bool:
        """``with dag:`` for the DAG object, or ``with TaskGroup(...)`` (its tasks flattened)."""
        if self.holder and isinstance(node, ast.Name) and node.id == self.holder:
            return True
        if isinstance(node, ast.Name) and self.variables.get(node.id, "").startswith(GROUP):
            return True
        return self.reader.names.resolve(node) == "TaskGroup"

    # task groups: flattened; their task ids take the group's prefix as in Airflow
    def _new_group(self, call: ast.Call, fallback: str = "group", suffix: bool = False) -> str:
        """A TaskGroup(...) call: its group id as a variable; a @task_group's (``suffix``) made
        unique as Airflow does, a TaskGroup's id made twice refused as Airflow refuses it.
        ``parent_group=outer`` makes it in ``outer`` (as ``with outer:`` would)."""
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        parent = keywords.get("parent_group")
        if parent is not None and not (isinstance(parent, ast.Constant) and parent.value is None):
            marker = self.variables.get(parent.id, "") if isinstance(parent, ast.Name) else ""
            if (
                isinstance(parent, ast.Attribute)
                and parent.attr == "task_group"
                and isinstance(parent.value, ast.Name)
                and parent.value.id not in self.variables
            ):
                marker = GROUP  # ``dag.task_group``: the DAG's own (root) group
            if not marker.startswith(GROUP):
                raise error(
                    "TP186",
                    f"parent_group={ast.unparse(parent)} is not a task group of this DAG",
                    self.span(parent),
                )
            chain = self.group_chains[marker[len(GROUP) :]] if marker != GROUP else []
            saved, self.open_groups = self.open_groups, list(chain)
            rest = [k for k in call.keywords if k.arg != "parent_group"]
            try:
                return self._new_group(
                    ast.copy_location(ast.Call(call.func, call.args, rest), call), fallback, suffix
                )
            finally:
                self.open_groups = saved
        named = call.args[0] if call.args else keywords.get("group_id")
        base = fallback
        if named is not None:
            try:
                base = fold(named, self.constants())  # type: ignore[assignment]
            except NotConstant:
                base = None  # type: ignore[assignment]
            if not isinstance(base, str):
                raise error(
                    "TP186",
                    "a task group id that is not computed from constants",
                    self.span(named),
                )
        if not suffix and self.child_id(base) in self.group_ids:
            where = " (made in each iteration of a loop)" if self.looping else ""
            raise error(
                "TP186",
                f"task group id {self.child_id(base)!r} is made twice{where}: Airflow refuses "
                "a DAG with a duplicate group id",
                self.span(named or call),
            )
        prefix = keywords.get("prefix_group_id")
        prefixed = not (isinstance(prefix, ast.Constant) and prefix.value is False)
        full = self.child_id(base)
        count = self.group_ids.get(full, 0)
        self.group_ids[full] = count + 1
        if count:
            full = f"{full}__{count}"
        self.members.setdefault(full, [])
        self._prefixes[full] = prefixed
        # a group's default_args override the DAG's for the tasks made in it (Airflow merges
        # them when the operator is built, inner groups over outer ones)
        self.group_defaults[full] = self.reader.default_args(keywords.get("default_args"))
        self.group_chains[full] = [*self.open_groups, (full, prefixed)]
        return f"{GROUP}{full}"

    def task_defaults(self) -> dict[str, ast.expr]:
        """The default_args of a task made now: the DAG's, then each open group's."""
        merged = dict(self.defaults)
        for group, _ in self.open_groups:
            merged |= self.group_defaults.get(group, {})
        return merged

    def _opened_group(self, item: ast.withitem) -> tuple[str, bool] | None:
        node = item.context_expr
        if isinstance(node, ast.Name) and self.variables.get(node.id, "").startswith(GROUP):
            marker = self.variables[node.id]
        elif self.reader.names.resolve(node) == "TaskGroup":
            marker = self._new_group(node)
            if isinstance(item.optional_vars, ast.Name):
                self.variables[item.optional_vars.id] = marker
        else:
            return None
        full = marker[len(GROUP) :]
        return full, self._prefixes[full]

    def child_id(self, label: str) -> str:
        """A task's or group's id inside the groups open now, as Airflow makes it."""
        if self.open_groups and self.open_groups[-1][1]:
            return f"{self.open_groups[-1][0]}.{label}"
        return label

    def call_group(self, name: str, call: ast.Call) -> str:
        """A ``@task_group`` function called in the DAG: its body read in a group of its own,
        arguments bound to its parameters; what it returns (a task, else the group itself)."""
        function = self.group_functions[name]
        keywords = {}
        for deco in function.decorator_list:
            if isinstance(deco, ast.Call) and self.reader.names.resolve(deco.func) == "task_group":
                keywords = {k.arg: k for k in deco.keywords if k.arg}
        fake = ast.Call(ast.Name("TaskGroup"), [], [k for k in keywords.values()])
        marker = self._new_group(fake, name, suffix=True)
        full = marker[len(GROUP) :]
        arguments = function.args
        names = [a.arg for a in arguments.args]
        defaults = dict(zip(names[len(names) - len(arguments.defaults) :], arguments.defaults))
        given = dict(zip(names, call.args))
        for keyword in call.keywords:
            if keyword.arg is None:
                raise error("TP186", "**kwargs in a task group call", self.span(keyword))
            given[keyword.arg] = keyword.value
        if len(call.args) > len(names) or arguments.vararg or arguments.kwarg:
            raise error("TP186", "a task group called with *args / **kwargs", self.span(call))
        saved, saved_bound = dict(self.variables), self.bound
        self.bound = {}  # the function's own scope: the DAG body's constants are not in it
        constants: dict[str, ast.expr] = {}
        for param in names + [a.arg for a in arguments.kwonlyargs]:
            value = given.get(param, defaults.get(param))
            if value is None:
                kw_defaults = dict(
                    zip([a.arg for a in arguments.kwonlyargs], arguments.kw_defaults)
                )
                value = kw_defaults.get(param)
            if value is None:
                raise error("TP186", f"task group argument {param} is not given", self.span(call))
            step = self._argument_task(value)
            if step is not None:
                self.variables[param] = step
            else:
                self.variables.pop(param, None)
                constants[param] = value
        body = [copy.deepcopy(s) for s in function.body]
        if constants:
            body = [_Substitute(constants).visit(s) for s in body]
        saved_groups, self.open_groups = self.open_groups, list(self.group_chains[full])
        result = marker
        try:
            for statement in body:
                if isinstance(statement, ast.Return):
                    if statement.value is not None:
                        found = self.task_expression(statement.value, None)
                        if found is None:
                            raise error(
                                "TP186",
                                f"task group {name} returns {ast.unparse(statement.value)}, "
                                "which is not a task",
                                self.span(statement),
                            )
                        result = found
                    break
                self.statement(statement)
        finally:
            self.open_groups = saved_groups
            self.variables, self.bound = saved, saved_bound
        return result

    def _argument_task(self, value: ast.expr) -> str | None:
        """The step a task group argument stands for (a task, its result, a group), else None
        (a constant or a DAG parameter, substituted into the group's body)."""
        if isinstance(value, ast.Name) and value.id in self.variables:
            return self.variables[value.id]
        if isinstance(value, ast.Attribute) and value.attr == "output":
            return self.task_expression(value, None)
        if isinstance(value, ast.Call) and (
            self._calls_a_task(value) or self._calls_a_group(value) or self._operator(value)
        ):
            return self.task_expression(value, None)
        return None

    def _calls_a_group(self, node: ast.Call) -> bool:
        return isinstance(node.func, ast.Name) and node.func.id in self.group_functions

    def _operator(self, node: ast.Call) -> bool:
        name = self.reader.names.resolve(node)
        known = bool(name) and name.endswith(("Operator", "Sensor"))
        return known or self._other_operator(node)

    def _make_switch(self, step: str, kind: str, node: ast.Call) -> None:
        """A branching task's step: its value decides which tasks after it run (the switch
        itself is made in ``flow``). A short circuit's step adds ``proceed``, its value's truth;
        a branch's returns are read for the task ids it may name."""
        i = next(i for i, s in enumerate(self.steps) if s.name == step)
        this = self.steps[i]
        call = (
            this.body.strip().split(" = ", 1)[-1]
            if this.body.startswith("return_value = ")
            else None
        )
        span = self.span(node)
        if kind == "short_circuit":
            body = this.body if call else f"return_value = {this.body.strip()}\n"
            body += "proceed = bool(return_value)\n"
            outputs = (*this.outputs, Output("proceed", TypeRef("bool", "inferred")))
            self.steps[i] = _replace(this, body=body, outputs=outputs)
            self.switching[step] = Switching(step, kind, span, None)
            return
        function = self._callable_of(node)
        if function is None or call is None:
            raise error("TP188", "a branch whose callable is not a function of this file", span)
        literals, computed, listed = self._branch_returns(function)
        body = this.body
        if computed or listed:
            body += (
                "if isinstance(return_value, (list, tuple)) and len(return_value) == 1:\n"
                "    return_value = return_value[0]\n"
                "if not isinstance(return_value, str):\n"
                "    raise ValueError(\n"
                f'        f"TODO(transpile): TP188 {step} returned {{return_value!r}}: following '
                'several task ids or none is not converted"\n'
                "    )\n"
            )
        if computed:
            self.note(
                "TP188",
                f"{function.name} computes the task id to follow: a run where it names no task "
                "right after it, several or none fails (Airflow would follow them)",
                function,
            )
        outputs = tuple(
            Output(o.name, TypeRef("str", "inferred")) if o.name == "return_value" else o
            for o in this.outputs
        )
        self.steps[i] = _replace(this, body=body, outputs=outputs)
        returns = None if computed else tuple(literals)
        self.switching[step] = Switching(step, kind, span, returns)

    def _callable_of(self, node: ast.Call) -> ast.FunctionDef | None:
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        callable_ = keywords.get("python_callable")
        if isinstance(callable_, ast.Name):
            found = self.reader_function(callable_.id)
            if found is None:  # defined inside the DAG's with block
                defined = [
                    n
                    for n in ast.walk(self.reader.tree)
                    if isinstance(n, ast.FunctionDef) and n.name == callable_.id
                ]
                found = defined[0] if len(defined) == 1 else None
            return found
        func = node.func
        if isinstance(func, ast.Call):  # f.override(...)(...)
            func = func.func.value if isinstance(func.func, ast.Attribute) else func.func
        if isinstance(func, ast.Name):
            return self.functions.get(func.id)
        return None

    def _branch_returns(self, function: ast.FunctionDef) -> tuple[list[str], bool, bool]:
        """The task ids a branch callable returns as literals, whether any is computed, and
        whether any is a list of one; several ids or None are refused at their return."""
        literals: list[str] = []
        computed = listed = False

        def literal(value: ast.expr | None, at: ast.AST) -> None:
            nonlocal computed, listed
            if value is None or (isinstance(value, ast.Constant) and value.value is None):
                raise error(
                    "TP188",
                    f"{function.name} returns None: Airflow then skips every task after it, "
                    "which no switch expresses",
                    self.span(at),
                )
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                literals.append(value.value)
            elif isinstance(value, ast.IfExp):
                literal(value.body, at)
                literal(value.orelse, at)
            elif isinstance(value, ast.List | ast.Tuple) and len(value.elts) > 1:
                raise error(
                    "TP188",
                    f"{function.name} follows several task ids ({ast.unparse(value)}): only one "
                    "case of a switch runs",
                    self.span(at),
                )
            elif isinstance(value, ast.List | ast.Tuple) and len(value.elts) == 1:
                listed = True
                literal(value.elts[0], at)
            else:
                computed = True

        for node in _own_nodes(function):
            if isinstance(node, ast.Return):
                literal(node.value, node)
        if _falls_through(function.body):
            raise error(
                "TP188",
                f"{function.name} may end without returning a task id (None: Airflow skips "
                "every task after it)",
                self.span(function),
            )
        return list(dict.fromkeys(literals)), computed, listed

    def _switch_settings(self, deco: ast.expr, kind: str) -> None:
        for keyword in getattr(deco, "keywords", []):
            if keyword.arg == "ignore_downstream_trigger_rules" and not (
                isinstance(keyword.value, ast.Constant) and keyword.value.value is True
            ):
                raise error(
                    "TP188",
                    "a short circuit that leaves the trigger rules after it to decide "
                    "(ignore_downstream_trigger_rules) is not supported",
                    self.span(keyword),
                )

    # order edges
    def order(self, node: ast.expr) -> bool:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift | ast.LShift):
            left, right = self.group(node.left), self.group(node.right)
            before, after = (left, right) if isinstance(node.op, ast.RShift) else (right, left)
            self.edges.append((before, after))
            return True
        if isinstance(node, ast.Call):
            if self.reader.names.resolve(node) == "cross_downstream" and len(node.args) == 2:
                before, after = (self.group(a) for a in node.args)
                for step in after:
                    self.edges.append((before, [step]))
                return True
            if self.reader.names.resolve(node) == "chain":
                groups = []
                for a in node.args:
                    if isinstance(a, ast.Starred):  # chain(*tasks): one after another
                        groups += [[s] for s in self.group(a.value)]
                    else:
                        groups.append(self.group(a))
                for before, after in itertools.pairwise(groups):
                    self.edges.append((before, after))
                return True
            if isinstance(node.func, ast.Attribute) and node.func.attr in (
                "set_upstream",
                "set_downstream",
            ):
                this = self.group(node.func.value)
                other = self.group(node.args[0]) if node.args else []
                before, after = (other, this) if node.func.attr == "set_upstream" else (this, other)
                self.edges.append((before, after))
                return True
        return False

    def resolve_edges(self) -> None:
        """The order edges as step dependencies: a task group stands for its first tasks after
        ``>>`` and its last tasks before it (Airflow's roots and leaves of the group), worked out
        until nothing changes (an edge inside a group changes which tasks are its ends)."""

        def ends(items: list[str], first: bool) -> set[str]:
            found: set[str] = set()
            for item in items:
                if not item.startswith(GROUP):
                    found.add(item)
                    continue
                members = self.members[item[len(GROUP) :]]
                inside = set(members)
                for m in members:
                    if first:
                        end = not self.built[m].deps & inside
                    else:
                        end = not any(m in self.built[o].deps for o in members)
                    if end:
                        found.add(m)
            return found

        changed = True
        while changed:
            changed = False
            for before, after in self.edges:
                earlier = ends(before, first=False)
                for step in ends(after, first=True):
                    new = earlier - {step} - self.built[step].deps
                    if new:
                        self.built[step].deps |= new
                        changed = True

    def group(self, node: ast.expr) -> list[str]:
        """The steps an operand of ``>>`` stands for (the rightmost of a nested chain)."""
        if isinstance(node, ast.List | ast.Tuple):
            return [s for e in node.elts for s in self.group(e)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.RShift | ast.LShift):
            self.order(node)
            return self.group(node.right)
        if isinstance(node, ast.Name) and node.id in self.variables:
            return [self.variables[node.id]]
        if isinstance(node, ast.Name) and node.id in self.task_lists:
            return list(self.task_lists[node.id])
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id in self.task_lists
        ):
            listed = self.task_lists[node.value.id]
            try:
                picked = listed[fold(node.slice, self.constants())]  # type: ignore[index]
            except (NotConstant, IndexError, TypeError):
                raise error(
                    "TP186", f"{ast.unparse(node)}: not an element of the list", self.span(node)
                ) from None
            return list(picked) if isinstance(picked, list) else [picked]
        step = self.task_expression(node, None)
        if step is None:
            raise error("TP186", f"{ast.unparse(node)} is not a task of this DAG", self.span(node))
        return [step]

    # tasks
    def task_expression(self, node: ast.expr, variable: str | None) -> str | None:
        """The step ``node`` makes or names; a call is read once (``a >> [b(), c()] >> d``
        reads its middle operand again as the start of the next edge)."""
        if isinstance(node, ast.Call) and id(node) in self.evaluated:
            return self.evaluated[id(node)][1]
        chain = self._group_keyword(node)
        if chain is None:
            found = self._task_expression(node, variable)
        else:  # ``task_group=group``: made in that group, as under ``with group:``
            saved, self.open_groups = self.open_groups, list(chain)
            try:
                found = self._task_expression(node, variable)
            finally:
                self.open_groups = saved
        if isinstance(node, ast.Call) and found is not None:
            self.evaluated[id(node)] = (node, found)  # the node kept: its id stays its own
        return found

    def _group_keyword(self, node: ast.expr) -> list[tuple[str, bool]] | None:
        """The groups a call's ``task_group=`` puts its task in (an operator's keyword, or a
        TaskFlow task's ``.override(task_group=...)``); None without one."""
        if not isinstance(node, ast.Call):
            return None
        calls = [node]
        func = node.func
        if isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute):
            calls.append(func)  # task.override(task_group=g)(...)
        for call in calls:
            for keyword in call.keywords:
                if keyword.arg != "task_group":
                    continue
                value = keyword.value
                marker = self.variables.get(value.id, "") if isinstance(value, ast.Name) else ""
                if not marker.startswith(GROUP):
                    raise error(
                        "TP186",
                        f"task_group={ast.unparse(value)} is not a task group of this DAG",
                        self.span(value),
                    )
                return self.group_chains[marker[len(GROUP) :]]
        return None

    def _task_expression(self, node: ast.expr, variable: str | None) -> str | None:
        if marked(node):  # ``task.as_setup()`` / ``task.as_teardown(setups=...)``
            return mark(self, node, variable)  # type: ignore[arg-type]
        if isinstance(node, ast.Attribute) and node.attr == "output":
            node = node.value  # an operator's XComArg: the task itself
        if isinstance(node, ast.Name) and node.id in self.variables:
            return self.variables[node.id]
        if isinstance(node, ast.Name):
            made = self._module_operator(node.id)
            if made is None:
                return None
            step = self.task_expression(made, node.id)
            if step is not None:
                self.variables[node.id] = step
            return step
        if not isinstance(node, ast.Call):
            return None
        if self._calls_a_group(node):
            return self.call_group(node.func.id, node)  # type: ignore[attr-defined]
        name = self.reader.names.resolve(node)
        if name in ("PythonOperator",):
            return self.operator(node)
        if name == "PythonVirtualenvOperator":  # as @task.virtualenv: a step with its packages
            step = self.operator(node)
            self._virtualenv(step, node)
            if step in self.packages:
                made = self.steps[-1]
                self.steps[-1] = _replace(made, options=(*made.options, self.packages[step]))
            return step
        if name == "PythonSensor":  # a step that polls its callable (sensors.py)
            step = self.operator(node)
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            make_sensor(self, step, node, keywords, self._callable_of(node), name)
            return step
        if name in ("BranchPythonOperator", "ShortCircuitOperator"):
            kind = "branch" if name.startswith("Branch") else "short_circuit"
            self._switch_settings(node, kind)
            step = self.operator(node)
            self._make_switch(step, kind, node)
            return step
        if name in ("EmptyOperator", "DummyOperator"):
            task_id = self._task_id(node, variable or "empty")
            rule = {k: v for k, v in self.task_defaults().items() if k == "trigger_rule"}
            return self.add(task_id, node, (), (), "", rule | self._settings(node))
        if name == "BashOperator" and (
            self._plain_command(node) is not None or self._rendered_command(node, variable)
        ):
            return self.bash(node, variable)
        if name == "KubernetesPodOperator" and (step := pod_step(self, node, variable)):
            return step  # its command run with subprocess (pods.py)
        if name and name.endswith(("Operator", "Sensor")):
            return self.unsupported(node, name, variable)
        if self._other_operator(node):
            # a plugin's or provider's operator named otherwise: a task all the same
            return self.unsupported(node, ast.unparse(node.func), variable)
        return self.taskflow(node)

    def _other_operator(self, node: ast.Call) -> bool:
        """A class called with ``task_id=`` that is not a TaskFlow task (``.override(...)``)."""
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("override", "partial"):
            return False
        return (
            isinstance(func, ast.Name | ast.Attribute)
            and any(k.arg == "task_id" for k in node.keywords)
            and not self._calls_a_task(node)
        )

    def _module_operator(self, name: str) -> ast.Call | None:
        """An operator made at the module's top with no DAG (``name = BashOperator(...)``) that
        this DAG's body names: Airflow puts it in the DAG when ``>>`` links it to a task of it."""
        if self.holder:
            return None  # ``dag = DAG(...)`` files read the module's statements as the DAG's
        for node in self.reader.tree.body:
            if (
                isinstance(node, ast.Assign)
                and [ast.unparse(t) for t in node.targets] == [name]
                and isinstance(node.value, ast.Call)
                and self._operator(node.value)
                and not any(k.arg == "dag" for k in node.value.keywords)
            ):
                return node.value
        return None

    def _task_id(self, call: ast.Call, fallback: str, operator: bool = True) -> str:
        """The task id given (computed from constants), else ``fallback``. An operator's id
        made twice is refused: Airflow refuses the DAG (only TaskFlow tasks get __1 suffixes)."""
        for keyword in call.keywords:
            if keyword.arg != "task_id":
                continue
            try:
                found = fold(keyword.value, self.constants())
            except NotConstant:
                return fallback
            if not isinstance(found, str | int):
                return fallback
            task_id = str(found)
            if operator and self.child_id(task_id) in self.task_ids.values():
                where = " (made in each iteration of a loop)" if self.looping else ""
                raise error(
                    "TP186",
                    f"task id {self.child_id(task_id)!r} is made twice{where}: Airflow "
                    "refuses a DAG with a duplicate task id",
                    self.span(keyword.value),
                )
            return task_id
        return fallback

    def _settings(self, call: ast.Call) -> dict[str, str]:
        found = {}
        for keyword in call.keywords:
            if keyword.arg in UNSUPPORTED_ARGS:
                self.note("TP189", f"{keyword.arg}= is not carried", keyword)
            elif keyword.arg in ("retries", "retry_delay", "execution_timeout", "trigger_rule"):
                found[keyword.arg] = keyword.value
        return found

    def unsupported(self, node: ast.Call, name: str, variable: str | None) -> str:
        task_id = self._task_id(node, variable or name.lower())
        why = "is not supported"
        if name.split(" ")[0].endswith("Sensor"):  # (PythonSensor polls its callable instead)
            why = (
                "waits for something outside the pipeline, which no target's step does (start "
                "the pipeline when it holds, or poll in a task)"
            )
        self.note("TP188", f"{name} {task_id!r} {why}: a step that raises with a TODO", node)
        body = (
            f'raise NotImplementedError("TODO(transpile): TP188 {name} {task_id} not converted")\n'
        )
        rule = {k: v for k, v in self.task_defaults().items() if k == "trigger_rule"}
        rule |= {k: v for k, v in self._settings(node).items() if k == "trigger_rule"}
        return self.add(task_id, node, (), (), body, rule)

    def _plain_command(self, node: ast.Call) -> str | None:
        """A BashOperator's ``bash_command`` when it is a literal without a Jinja template
        (Airflow renders those from the run's context; nothing else does), else None."""
        command = next((k.value for k in node.keywords if k.arg == "bash_command"), None)
        if not (isinstance(command, ast.Constant) and isinstance(command.value, str)):
            return None
        text = command.value
        if "{{" in text or "{%" in text or text.rstrip().endswith((".sh", ".bash")):
            return None  # a template, or a script file Airflow renders as a template too
        return text

    def _rendered_command(self, node: ast.Call, variable: str | None) -> list | None:
        """A ``bash_command`` whose templates the conversion renders (templates.py): its parts,
        each a text, a parameter or a task's result (of a task read before), else None."""
        command = next((k.value for k in node.keywords if k.arg == "bash_command"), None)
        if not (isinstance(command, ast.Constant) and isinstance(command.value, str)):
            return None
        if command.value.rstrip().endswith((".sh", ".bash")):
            return None
        task_id = self.child_id(self._task_id(node, variable or "bash", operator=False))
        parts = template_parts(command.value, task_id, self.dag_id)
        if parts is None or any(k == "param" and v not in self.parameters for k, v in parts):
            return None
        return parts

    def bash(self, node: ast.Call, variable: str | None) -> str:
        """A BashOperator with a plain command: a step that runs it with bash (a failing command
        fails the step, as in Airflow; its output goes to the step's log, and its last line is
        the step's result, as Airflow pushes it unless do_xcom_push=False)."""
        rendered = self._rendered_command(node, variable)
        task_id = self._task_id(node, variable or "bash")
        command = self._plain_command(node)
        inputs: list[Input] = []
        deps: set[str] = set()
        pending = []
        if rendered is not None:  # the templates rendered as Airflow renders them: str()
            parts: list[tuple[str, str]] = []
            for kind, value in rendered:
                if kind == "param":
                    ref = Ref("param", value, value)
                    name = value
                elif kind == "pull":  # the task may be made later: resolved then
                    ref = Ref("output", PENDING + value, "return_value")
                    name = f"{_identifier(value)}_value"
                    pending.append((name, value))
                else:
                    parts.append((kind, value))
                    continue
                if name not in [i.name for i in inputs]:
                    inputs.append(Input(name, self._type_of(ref), (ref,)))
                parts.append((kind, name))
        where = _bash_settings(node)
        for keyword in node.keywords:
            if keyword.arg in ("env", "append_env", "cwd") and where is not None:
                continue  # carried (literals)
            if keyword.arg in ("env", "append_env", "cwd", "skip_on_exit_code", "output_encoding"):
                self.note("TP189", f"{keyword.arg}= is not carried", keyword)
        shown = fstring(parts) if rendered is not None else repr(command)
        pushed = next((k.value for k in node.keywords if k.arg == "do_xcom_push"), None)
        cwd, env = where or (None, None)
        imports = BASH_IMPORTS if cwd is None else "import subprocess\n\n"
        if env is not None and env.startswith("{**os.environ"):
            imports = "import os\n" + imports
        if isinstance(pushed, ast.Constant) and pushed.value is False:
            body, outputs = imports + bash_run(shown, pushed=False, cwd=cwd, env=env), ()
        else:  # Airflow pushes the output's last line (stderr goes to the same pipe)
            body = imports + bash_run(shown, cwd=cwd, env=env)
            outputs = (Output("return_value", TypeRef("str", "inferred")),)
        options = self._options(None, self._settings(node), node)  # default_args' retries too
        step = self.add(task_id, node, tuple(inputs), outputs, body, options)
        self.built[step].deps |= deps
        self.pending += [(step, name, task, node) for name, task in pending]
        return step

    def operator(self, node: ast.Call) -> str:
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        callable_ = keywords.get("python_callable")
        if not isinstance(callable_, ast.Name):
            raise error("TP186", "python_callable must name a function", self.span(node))
        args = keywords.get("op_args")
        kwargs = keywords.get("op_kwargs")
        positional = args.elts if isinstance(args, ast.List | ast.Tuple) else []
        named = []
        if isinstance(kwargs, ast.Dict):
            named = [
                (k.value, v)
                for k, v in zip(kwargs.keys, kwargs.values)
                if isinstance(k, ast.Constant)
            ]
        for keyword in node.keywords:
            if keyword.arg in ("templates_dict", "provide_context"):
                self.note("TP189", f"{keyword.arg}= is not carried", keyword)
        task_id = self._task_id(node, callable_.id)
        return self.call_step(
            task_id, node, callable_.id, positional, named, None, self._settings(node)
        )

    def taskflow(self, node: ast.Call) -> str | None:
        func, settings, expand, task_id = node.func, {}, None, None
        fixed: list[tuple[str, ast.expr]] = []
        if isinstance(func, ast.Attribute) and func.attr in ("expand", "expand_kwargs"):
            expand = node
            inner = func.value
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Attribute)
                and inner.func.attr == "partial"
            ):
                fixed = [(k.arg, k.value) for k in inner.keywords if k.arg]
                func = inner.func.value
            else:
                func = inner
            if isinstance(func, ast.Name) and func.id in self.functions:
                return self.mapped(func.id, node, fixed)
            name = self.reader.names.resolve(func) if inner is not func else None
            if name and name.endswith(("Operator", "Sensor")):
                # a mapped operator that is not converted: one step that raises, as unmapped
                return self.unsupported(inner, f"{name} (mapped)", None)  # type: ignore[arg-type]
            if isinstance(func, ast.Name) and func.id in self.group_functions:
                raise error(
                    "TP187",
                    f"task group {func.id} mapped with .{node.func.attr}() is not supported",
                    self.span(node),
                )
            return None
        if (
            isinstance(func, ast.Call)
            and isinstance(func.func, ast.Attribute)
            and func.func.attr == "override"
        ):
            task_id = self._task_id(func, "", operator=False)
            settings = self._settings(func)
            func = func.func.value
            if isinstance(func, ast.Name) and func.id in self.group_functions:
                raise error(
                    "TP186", f"task group {func.id}.override(...) is not supported", self.span(node)
                )
        if not (isinstance(func, ast.Name) and func.id in self.functions):
            return None
        del expand
        named = [(k.arg, k.value) for k in node.keywords if k.arg]
        return self.call_step(
            task_id or func.id, node, func.id, node.args, named, func.id, settings
        )

    def mapped(self, function: str, node: ast.Call, fixed) -> str:
        if function in self.switch_kind:
            raise error(
                "TP187",
                f"a mapped @task.{self.switch_kind[function]} ({function}) is not supported",
                self.span(node),
            )
        over = [(k.arg, k.value) for k in node.keywords if k.arg]
        if isinstance(node.func, ast.Attribute) and node.func.attr == "expand_kwargs":
            # one mapped task per dict of keyword arguments
            over = [("**kwargs", a) for a in node.args] + [
                ("**kwargs", k.value) for k in node.keywords if k.arg is None
            ]
        if len(over) != 1:
            raise error("TP187", "expand over several arguments is not supported", self.span(node))
        (arg, collection), = over  # fmt: skip
        refs, deps = self.value(collection)
        if not refs:
            refs, deps = self._constant_items(function, collection)
        if len(refs) != 1:
            raise error("TP187", "expand needs a task result to map over", self.span(collection))
        source = self.built.get(refs[0].source)
        if source is not None and source.map_over is not None:
            refs, deps = self._gathered(refs[0], collection)
        item = Ref("item", refs[0].source, "item")
        step = self.call_step(function, node, function, [], fixed, function, {}, (arg, item))
        self.built[step].deps |= deps
        self.built[step].map_over = refs[0]
        return step

    def _constant_items(self, function: str, node: ast.expr) -> tuple[list[Ref], set[str]]:
        """A map over a constant (a literal list, a module constant): a small step returns it,
        as the model maps over a value a step or parameter gives."""
        step = self.add(
            f"{function}_items",
            node,
            (),
            (Output("return_value", ANY),),
            f"return_value = {ast.unparse(node)}\n",
            {},
        )
        self.steps[-1] = _replace(
            self.steps[-1],
            doc=f"Added by transpile: the items {function} is mapped over.",
        )
        return [self._result(step)], {step}

    def _gathered(self, ref: Ref, node: ast.expr) -> tuple[list[Ref], set[str]]:
        """A map over a mapped task's results (Airflow's second-order mapping): a small step
        gathers them into the list the next map expands over, as Airflow hands it on."""
        element = self._type_of(ref)
        kind = TypeRef(f"list[{element.expr}]", "inferred" if element.known else "fallback")
        values = Input("values", kind, (ref,), "collected")
        step = self.add(
            f"{ref.source}_gathered",
            node,
            (values,),
            (Output("return_value", kind),),
            "return_value = list(values)\n",
            {},
        )
        self.steps[-1] = _replace(
            self.steps[-1],
            doc=f"Added by transpile: {ref.source}'s mapped results as one list to map over.",
        )
        self.built[step].deps.add(ref.source)
        return [self._result(step)], {step}

    def value(self, node: ast.expr) -> tuple[list[Ref], set[str]]:
        """The references an argument makes (task results, DAG parameters), or none (a constant)."""
        if isinstance(node, ast.Attribute) and node.attr == "output":
            node = node.value  # an operator's XComArg: its return value
        if isinstance(node, ast.Name) and node.id in self.variables:
            step = self.variables[node.id]
            if step.startswith(GROUP):
                raise error("TP186", f"task group {node.id} used as a value", self.span(node))
            return [self._result(step)], {step}
        if isinstance(node, ast.Call) and self._calls_a_group(node):
            step = self.task_expression(node, None)
            if step is None or step.startswith(GROUP):
                raise error(
                    "TP186",
                    f"{ast.unparse(node)} returns no task whose result could be passed",
                    self.span(node),
                )
            return [self._result(step)], {step}
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id in self.variables
        ):
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                step = self.variables[node.value.id]
                return [Ref("output", step, key.value)], {step}
        if (
            isinstance(node, ast.Name)
            and node.id in self.parameters
            and node.id not in self.variables
        ):
            return [Ref("param", node.id, node.id)], set()
        if isinstance(node, ast.Call) and self._calls_a_task(node):
            step = self.taskflow(node)  # a task called in another's arguments: its result
            if step is not None:
                return [self._result(step)], {step}
        inner = [
            n
            for n in ast.walk(node)
            if isinstance(n, ast.Name) and (n.id in self.variables or n.id in self.parameters)
        ]
        if inner:
            raise error(
                "TP186",
                f"argument {ast.unparse(node)} computes with a task result",
                self.span(node),
            )
        return [], set()

    def _pulled(self, node: ast.expr) -> Ref | None:
        """What an argument ``"{{ ti.xcom_pull(task_ids='t') }}"`` (a step's result) or
        ``"{{ params.n }}"`` (a parameter) renders; another Jinja template in an argument is
        named: only Airflow renders it."""
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            return None
        if "{{" not in node.value and "{%" not in node.value:
            return None
        found = XCOM_PULL.fullmatch(node.value.strip())
        if found:
            step = _identifier(found.group("task"))
            if step in self.built:
                return self._result(step)
        found = PARAM_TEMPLATE.fullmatch(node.value.strip())
        if found and (found.group("attr") or found.group("key")) in self.parameters:
            name = found.group("attr") or found.group("key")
            return Ref("param", name, name)
        self.note(
            "TP189",
            f"the Jinja template {node.value!r} is not rendered (only Airflow renders "
            "templates): the task is given the text as written",
            node,
        )
        return None

    def _calls_a_task(self, node: ast.Call) -> bool:
        func = node.func
        while isinstance(func, ast.Call) or (
            isinstance(func, ast.Attribute) and func.attr in ("expand", "partial", "override")
        ):
            if isinstance(func, ast.Call):
                func = func.func
                continue
            func = func.value.func if isinstance(func.value, ast.Call) else func.value
        return isinstance(func, ast.Name) and func.id in self.functions

    def _type_of(self, ref: Ref) -> TypeRef:
        if ref.kind == "param":
            return self.parameters[ref.source].type
        step = next((s for s in self.steps if s.name == ref.source), None)
        output = next((o for o in step.outputs if o.name == ref.name), None) if step else None
        return output.type if output else ANY

    def _result(self, step: str) -> Ref:
        return Ref("output", step, "return_value")

    def call_step(
        self, task_id, node, function, positional, named, taskflow, settings, item=None
    ) -> str:
        """A step whose body calls ``function`` with constants and references."""
        params = self.functions.get(function) or self.reader_function(function)
        pulled, ignored = self._pulls(function, params)
        definition = self._helper(function)
        inputs, texts, deps = [], [], set()
        pending = []
        for name, pulled_id in pulled.items():  # ``ti.xcom_pull(task_ids=...)``, a parameter
            inputs.append(Input(name, ANY, (Ref("output", PENDING + pulled_id, "return_value"),)))
            texts.append(f"{name}={name}")
            pending.append((name, pulled_id))
        names = [a.arg for a in params.args.args] if params else []
        bound = list(zip(names, positional)) + list(named)
        kinds = _annotations(params)
        for name, value in bound:
            ref = self._pulled(value)
            if ref is not None:  # Jinja renders the pulled value (or parameter) as text
                inputs.append(Input(name, self._type_of(ref), (ref,)))
                texts.append(f"{name}=str({name})")
                if ref.kind == "output":
                    deps.add(ref.source)
                continue
            listed = self._task_list(value)
            if listed is not None:  # a list of task results: Airflow passes their values
                element = kinds.get(name)
                inner = (
                    TypeRef(element.expr[5:-1], "annotation")
                    if element and element.expr.startswith("list[") and element.expr[-1] == "]"
                    else None
                )
                names = []
                for k, step in enumerate(listed):
                    ref = self._result(step)
                    inputs.append(Input(f"{name}_{k}", inner or self._type_of(ref), (ref,)))
                    names.append(f"{name}_{k}")
                    deps.add(step)
                texts.append(f"{name}=[{', '.join(names)}]")
                continue
            refs, used = self.value(value)
            deps |= used
            if refs:
                inputs.append(Input(name, kinds.get(name) or self._type_of(refs[0]), tuple(refs)))
                texts.append(f"{name}={name}")
            elif _substituted(value):  # a loop's element or a DAG-body constant: its value
                try:
                    texts.append(f"{name}={ast.unparse(to_node(fold(value, self.constants())))}")
                except NotConstant:
                    self._known(value)
                    texts.append(f"{name}={ast.unparse(value)}")
            else:
                self._known(value)
                texts.append(f"{name}={ast.unparse(value)}")
        if item is not None and item[0].startswith("**"):  # expand_kwargs: a dict per task
            inputs.append(Input(item[0][2:], ANY, (item[1],)))
            texts.append(item[0])
        elif item is not None:
            inputs.append(Input(item[0], kinds.get(item[0], ANY), (item[1],)))
            texts.append(f"{item[0]}={item[0]}")
        if params and ("params" in names or params.args.kwarg):
            given = {n for n, _ in bound}
            for p, parameter in self.parameters.items():
                inputs.append(Input(p, parameter.type, (Ref("param", p, p),)))
            mapping = ", ".join(f"{p!r}: {p}" for p in self.parameters)
            if "params" in names and "params" not in given or params.args.kwarg:
                texts.append(f"params={{{mapping}}}")
        given = {n for n, _ in bound} | ({item[0]} if item else set())
        self._context_note(params, given | ({*TI_NAMES, "context"} if pulled else set()), ignored)
        call = f"{definition}({', '.join(texts)})"
        returns = params is not None and any(
            isinstance(n, ast.Return) and n.value is not None for n in ast.walk(params)
        )
        if taskflow in self.bash_functions:  # Airflow runs the command the function returns
            body = f"{BASH_IMPORTS}command = {call}\n" + bash_run("command")
            outputs = (Output("return_value", TypeRef("str", "inferred")),)
        elif not returns:
            body, outputs = f"{call}\n", ()
        elif taskflow in self.multiple:
            body, outputs = f"_result = {call}\n", ()  # outputs added as they are indexed
        else:
            annotation = params.returns
            if isinstance(annotation, ast.Constant) and annotation.value is None:
                annotation = None  # `-> None` on a function that returns: Airflow pushes it
            kind = TypeRef(ast.unparse(annotation), "annotation") if annotation else ANY
            body, outputs = f"return_value = {call}\n", (Output("return_value", kind),)
        step = self.add(
            task_id, node, tuple(inputs), outputs, body, self._options(taskflow, settings, node)
        )
        if taskflow in self.packages:  # @task.virtualenv's requirements
            made = self.steps[-1]
            self.steps[-1] = _replace(made, options=(*made.options, self.packages[taskflow]))
        self.built[step].deps |= deps
        self.pending += [(step, name, task, node) for name, task in pending]
        if taskflow in self.switch_kind and item is None:
            self._make_switch(step, self.switch_kind[taskflow], node)
        if taskflow in self.sensors:
            make_sensor(self, step, node, self.sensors[taskflow], params, "@task.sensor")
        if self.setup_kind.get(taskflow) == "setup":
            self.setups.add(step)
        elif self.setup_kind.get(taskflow) == "teardown":
            fails_run = self.options[taskflow].get("on_failure_fail_dagrun")
            teardown(self, step, fails_run, node)
        return step

    def _known(self, value: ast.expr) -> None:
        """An argument naming a value the DAG body computes (not a constant): refused, as
        the converted task could not name it."""
        for inner in ast.walk(value):
            if isinstance(inner, ast.Name) and inner.id in self.unknown:
                where = self.unknown[inner.id]
                raise error(
                    "TP186",
                    f"argument {ast.unparse(value)}: {inner.id} is computed in the DAG body "
                    f"(line {getattr(where, 'lineno', '?')}), not a constant this reader knows",
                    self.span(value),
                )

    def _task_list(self, value: ast.expr) -> list[str] | None:
        """The tasks a list argument holds (a list of tasks built in the DAG body, or a literal
        list of task results), else None."""
        if isinstance(value, ast.Name) and value.id in self.task_lists:
            listed = self.task_lists[value.id]
        elif isinstance(value, ast.List | ast.Tuple) and value.elts and self._all_tasks(value.elts):
            listed = [s for e in value.elts for s in self.group(e)]
        else:
            return None
        for step in listed:
            if step.startswith(GROUP):
                raise error(
                    "TP186",
                    f"{ast.unparse(value)} holds a task group: not a value",
                    self.span(value),
                )
        return listed

    def _pulls(
        self, function: str, node: ast.FunctionDef | None
    ) -> tuple[dict[str, str], set[int]]:
        """The parameters ``function`` gets for the task results it pulls through its task
        instance (parameter → step), its source rewritten to take them; and the ids of the
        nodes the rewrite removed. Nothing when it pulls nothing, or anything else."""
        if node is None:
            return {}, set()
        if function in self.pulled:
            return self.pulled[function]
        found = pulls_of(node)
        if found is None or any(
            p.dag_id is not None
            and not (p.dag_id == p.task_id and p.dag_id in self.reader.asset_dags)
            for p in found.pulls
        ):  # another DAG's task (an asset's DAG of one task is this pipeline's task)
            self.pulled[function] = {}, set()
            return self.pulled[function]
        taken = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        taken |= {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
        names: dict[str, str] = {}
        for task_id in found.task_ids:
            name = base = f"{_identifier(task_id)}_value"
            count = 1
            while name in taken:
                count += 1
                name = f"{base}_{count}"
            taken.add(name)
            names[task_id] = name
        ignored = {id(n) for p in found.pulls for n in ast.walk(p.call)}
        self.pulled[function] = {names[t]: t for t in found.task_ids}, ignored
        if function in self.functions:  # a TaskFlow function: its helper copy, renamed
            return self.pulled[function]
        text = textwrap.dedent(rewritten(self.reader.text, found, names))
        if function in self.local_helper:
            self.helpers[self.local_helper[function]] = text
        else:
            self.rewritten[function] = text
        return self.pulled[function]

    def _context_note(
        self, function: ast.FunctionDef | None, given: set[str], ignored: set[int] = frozenset()
    ) -> None:
        """A task function that reads Airflow's run context (``ti``, ``dag_run``, ``**context``
        beyond ``params``): only the DAG's params reach it in the conversion (the pulls the
        rewrite removed, ``ignored``, aside)."""
        if function is None:
            return
        arguments = [*function.args.args, *function.args.kwonlyargs]
        read = [a.arg for a in arguments if a.arg in CONTEXT_KEYS and a.arg not in given]
        kwarg = function.args.kwarg
        if kwarg is not None and any(
            isinstance(n, ast.Name)
            and n.id == kwarg.arg
            and id(n) not in ignored
            and not _params_lookup(n, function)
            for n in ast.walk(function)
        ):
            read.append(f"**{kwarg.arg}")
        if read:
            self.note(
                "TP189",
                f"{function.name} reads Airflow's task context ({', '.join(read)}), which is "
                "not carried: only the DAG's params reach it",
                function,
            )

    def reader_function(self, name: str) -> ast.FunctionDef | None:
        if name in self.local:
            return self.local[name]
        for node in self.reader.tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return node
        return None

    def _helper(self, function: str) -> str:
        node = self.functions.get(function)
        if node is None:
            return function  # a module-level callable, kept among the definitions
        helper = f"{function}_task"
        if function not in self.defined:
            found = pulls_of(node) if self.pulled.get(function, ({}, None))[0] else None
            if found is not None:
                names = {t: n for n, t in self.pulled[function][0].items()}
                text = rewritten(self.reader.text, found, names, helper)
            else:
                text = ast.get_source_segment(self.reader.text, node, padded=True)
                text = (text or ast.unparse(node)).replace(f"def {function}(", f"def {helper}(", 1)
            text = textwrap.dedent(text)
            self.helpers.append(text)
            self.defined.add(function)
        return helper

    def _options(self, taskflow: str | None, settings: dict, node) -> dict:
        merged = self.task_defaults()
        merged |= {
            k: v
            for k, v in self.options.get(taskflow or "", {}).items()
            if k in ("retries", "retry_delay", "execution_timeout", "trigger_rule")
        }
        merged |= settings
        return merged

    def add(self, task_id: str, node: ast.AST, inputs, outputs, body: str, options: dict) -> str:
        task_id = self.child_id(task_id)
        name = _identifier(task_id)
        taken = {s.name for s in self.steps}
        base, count = name, 0
        while name in taken:
            count += 1
            name = f"{base}__{count}"
        span = self.span(node)
        options = {k: self.reader.option_value(k, v) for k, v in options.items()}
        made = task_options(options, span, self.note)
        self.steps.append(Step(name, span, inputs, outputs, body, tuple(made)))
        self.built[name] = Built(name)
        self.task_ids[name] = _unique_id(task_id, set(self.task_ids.values()))
        for group, _ in self.open_groups:
            self.members[group].append(name)
        rule = options.get("trigger_rule")
        if rule is not None:
            text = _rule_text(rule)
            if text is None:
                self.note("TP189", "trigger_rule= is not a literal: not carried", rule)
            elif text != "all_success":
                self.rules[name], self.rule_nodes[name] = text, rule
        return name

    def results(self) -> tuple[Result, ...]:
        """The outputs no task reads: what the DAG computes last."""
        waited = {r.source for step in self.steps for i in step.inputs for r in i.refs}
        found = []
        merged, in_cases = self._case_results(waited)
        for step in self.steps:
            if step.name in waited or self.built[step.name].map_over is not None:
                continue
            if step.name in in_cases:
                if step.name in merged:
                    found.append(merged[step.name])
                continue
            for output in step.outputs:
                if step.name in self.switching:
                    continue  # what the switch reads (Airflow keeps it only for some choices)
                name = (
                    f"{step.name}_result"
                    if output.name == "return_value"
                    else f"{step.name}_{output.name}"
                )
                found.append(Result(name, output.type, (Ref("output", step.name, output.name),)))
        return tuple(found)

    def _case_results(self, waited: set[str]) -> tuple[dict[str, Result], set[str]]:
        """What tasks inside a switch's cases compute and no task reads: one result (whichever
        case ran) when each case has one such value, else none (they run in some runs only)."""
        if self.switched is None:
            return {}, set()
        merged: dict[str, Result] = {}
        inside: set[str] = set()
        outputs = {s.name: s.outputs for s in self.steps}
        for node in walk(self.switched):
            if not isinstance(node, Switch):
                continue
            per_case = []
            for case in node.cases:
                steps = task_steps(case.body)
                inside |= set(steps)
                per_case.append(
                    [
                        (s, o)
                        for s in steps
                        if s not in waited and self.built[s].map_over is None
                        for o in outputs[s]
                    ]
                )
            if all(len(c) == 1 for c in per_case) and len(per_case) > 1:
                first, _ = per_case[0][0]
                kinds = {o.type for c in per_case for _, o in c}
                refs = tuple(Ref("output", s, o.name) for c in per_case for s, o in c)
                kind = next(iter(kinds)) if len(kinds) == 1 else ANY
                merged[first] = Result(f"{node.condition.source}_case_result", kind, refs)
            else:
                for c in per_case:
                    for s, o in c:
                        self.reader.diagnostics.append(
                            Diagnostic(
                                "TP202",
                                "warning",
                                f"{s}'s value is not a result of the pipeline: it runs in some "
                                "branches only",
                                self.steps[[t.name for t in self.steps].index(s)].span,
                            )
                        )
        return merged, inside

    # flow
    def _reads_of_stubs(self) -> None:
        """A task reading the result of a task that is not converted (a TODO step, which has
        none) is refused there: the conversion could not pass it a value."""
        outputs = {s.name: {o.name for o in s.outputs} for s in self.steps}
        for step in self.steps:
            for inp in step.inputs:
                for ref in inp.refs:
                    if ref.kind == "output" and ref.name not in outputs.get(ref.source, set()):
                        raise error(
                            "TP188",
                            f"{self.task_ids[step.name]} reads the result of "
                            f"{self.task_ids.get(ref.source, ref.source)}, which is not "
                            "converted (a step that raises with a TODO)",
                            step.span,
                        )

    def _resolve_pulls(self) -> None:
        """Inputs that pull a task by its id (``ti.xcom_pull(task_ids="t")`` in a callable or
        a command's template) as references to its step, now that every task is read."""
        by_id = {task_id: step for step, task_id in self.task_ids.items()}
        for step, name, task_id, node in self.pending:
            if task_id not in by_id:
                raise error(
                    "TP186",
                    f"{self.task_ids[step]} pulls the result of {task_id!r}, which is not a task "
                    "of this DAG",
                    self.span(node),
                )
            source = by_id[task_id]
            self.built[step].deps.add(source)
            i = next(k for k, s in enumerate(self.steps) if s.name == step)
            ref = self._result(source)
            inputs = tuple(
                dataclasses.replace(inp, type=self._type_of(ref), refs=(ref,))
                if inp.name == name
                else inp
                for inp in self.steps[i].inputs
            )
            self.steps[i] = _replace(self.steps[i], inputs=inputs)

    def flow(self) -> Node:
        self._resolve_pulls()
        self.resolve_edges()
        self._multiple_outputs()
        self._reads_of_stubs()
        order = self._topological()
        cleanup = self._cleanup(order)
        for step, rule in self.rules.items():
            if step in self.teardowns:
                say(self, step, step == cleanup)
            elif rule not in CARRIED_RULES and step != cleanup:
                self.note("TP189", f"trigger_rule={rule!r} is not carried", self.rule_nodes[step])
        for step in self.steps:
            for inp in step.inputs:
                branch = next(
                    (r.source for r in inp.refs if r.kind == "output" and r.source in self.switching
                     and self.switching[r.source].kind == "branch"),
                    None,
                )  # fmt: skip
                if branch is not None:
                    message = (
                        f"{self.task_ids[step.name]} reads the value of the branching task "
                        f"{self.task_ids[branch]}: the conversion passes the task id it chose "
                        "(as Airflow 2 does); Airflow 3 pushes no value for a branching task "
                        "that skips others, and the task gets None"
                    )
                    self.reader.diagnostics.append(
                        Diagnostic("TP189", "warning", message, step.span, lossy=True)
                    )
        if self.switching:
            reads = {
                s.name: {r.source for i in s.inputs for r in i.refs if r.kind == "output"}
                for s in self.steps
            }
            deps = {s: set(self.built[s].deps) for s in order}
            self.switched = switch_flow(
                order,
                deps,
                self.switching,
                self.task_ids,
                self.rules,
                reads,
                self._node,
                self._added_waits,
            )
            return self.switched
        index = {s: i for i, s in enumerate(order)}
        deps = {index[s]: {index[d] for d in self.built[s].deps} for s in order}
        tree, added = tightened(list(range(len(order))), deps)
        for item, waits in sorted(added.items()):
            self._added_waits(order[item], [order[w] for w in sorted(waits)])
        return self._node(tree, order)

    def _cleanup(self, order: list[str]) -> str | None:
        """A last task that runs however the others ended (``trigger_rule="all_done"``, a
        cleanup): it stays the last step, which runs when they succeed, and its body is also
        the pipeline's failure handler, which runs when one fails (the model's ``exit_hook``:
        Metaflow's @exit_hook, Flyte's on_failure, KFP's ExitHandler). Only where nothing
        branches, it runs after every other task and reads nothing but the DAG's params."""
        if self.switching or len(order) < 2:
            return None
        last = order[-1]
        if self.rules.get(last) not in ("all_done", "always", TEARDOWN_RULE):
            return None
        ancestors: set[str] = set()
        todo = [last]
        while todo:
            for dep in self.built[todo.pop()].deps:
                if dep not in ancestors:
                    ancestors.add(dep)
                    todo.append(dep)
        step = next(s for s in self.steps if s.name == last)
        if ancestors != set(order[:-1]) or any(
            r.kind != "param" for i in step.inputs for r in i.refs
        ):
            return None
        taken = {s.name for s in self.steps} | set(self.functions) | set(self.defined)
        taken |= {n.name for n in self.reader.tree.body if isinstance(n, ast.FunctionDef)}
        name = f"{last}_on_failure"
        while name in taken:
            name += "_"
        params = list(self.parameters.values())
        signature = ", ".join(f"{p.name}: {p.type.expr}" for p in params)
        bindings = [f"{i.name} = {i.refs[0].name}" for i in step.inputs if i.name != i.refs[0].name]
        body = "\n".join([*bindings, _without_result(step.body).rstrip("\n")])
        task = self.task_ids[last]
        what = "a teardown" if last in self.teardowns else f"trigger_rule={self.rules[last]!r}"
        self.helpers.append(
            "\n".join([
                f"def {name}({signature}) -> None:",
                f'    """Added by transpile: the cleanup task {last}, run when the pipeline failed."""',
                *(f"    {line}" if line.strip() else "" for line in body.splitlines()),
            ])
        )  # fmt: skip
        names = tuple(p.name for p in params)
        self.exit_options.append(
            Option("exit_hook", (("on_error", f"[{name}]"), ("inputs", repr(names))), step.span)
        )
        self.reader.diagnostics.append(
            Diagnostic(
                "TP201",
                "info",
                f"{task} ({what}) runs as the last step when the "
                f"other tasks succeed, and as the failure handler {name} when one fails "
                "(Metaflow's @exit_hook, Flyte's on_failure, KFP's ExitHandler)",
                step.span,
            )
        )
        return last

    def _added_waits(self, step: str, waits: list[str]) -> None:
        """Says at ``step`` that it now also waits for ``waits`` (TP191, lossy)."""
        task = self.task_ids[step]
        earlier = ", ".join(self.task_ids[w] for w in waits)
        self.reader.diagnostics.append(
            Diagnostic(
                "TP191",
                "warning",
                f"{task} now also waits for {earlier}: the targets nest sequences and "
                "parallel branches, and this graph is not of that form (the results are "
                f"the same; fewer tasks run at once, and a failure of {earlier} stops {task})",
                next(s.span for s in self.steps if s.name == step),
                lossy=True,
            )
        )

    def _node(self, tree, order: list[str]) -> Node:
        if isinstance(tree, int):
            built = self.built[order[tree]]
            if built.map_over is not None:
                collection = self._type_of(built.map_over).expr
                item = (
                    TypeRef(collection[5:-1], "inferred") if collection.startswith("list[") else ANY
                )
                return Map(built.map_over.source, built.map_over, item, Task(built.step))
            return Task(built.step)
        kind, parts = tree
        nodes = tuple(self._node(p, order) for p in parts)
        return Sequence(nodes) if kind == "seq" else Parallel(nodes)

    def _topological(self) -> list[str]:
        done: list[str] = []
        visiting: set[str] = set()

        def visit(step: str) -> None:
            if step in done:
                return
            if step in visiting:
                raise error("TP190", f"dependency cycle through {step}", None)
            visiting.add(step)
            for dep in sorted(self.built[step].deps, key=list(self.built).index):
                visit(dep)
            done.append(step)

        for step in self.built:
            visit(step)
        return done

    def _multiple_outputs(self) -> None:
        """A multiple-outputs task's outputs are the keys its consumers index; mapped consumers
        of a mapped task collect."""
        keys: dict[str, list[str]] = {}
        kinds: dict[tuple[str, str], TypeRef] = {}
        mapped = {s for s, b in self.built.items() if b.map_over is not None}
        for i, step in enumerate(self.steps):
            inputs = []
            for inp in step.inputs:
                ref = inp.refs[0]
                if ref.kind == "output":
                    keys.setdefault(ref.source, [])
                    if ref.name not in keys[ref.source]:
                        keys[ref.source].append(ref.name)
                    if inp.type.known:
                        kinds.setdefault((ref.source, ref.name), inp.type)
                mode = (
                    "collected"
                    if ref.kind == "output" and ref.source in mapped and step.name not in mapped
                    else inp.mode
                )
                kind = inp.type
                if mode == "collected" and not (
                    inp.type.known and inp.type.expr.startswith("list[")
                ):
                    element = self._type_of(ref).expr
                    kind = TypeRef(
                        f"list[{element}]", "inferred" if element != ANY.expr else "fallback"
                    )
                inputs.append(Input(inp.name, kind, inp.refs, mode))
            self.steps[i] = _replace(step, inputs=tuple(inputs))
        for i, step in enumerate(self.steps):
            if step.body.startswith("_result = "):
                wanted = keys.get(step.name, [])
                extra = "".join(f"{k} = _result[{k!r}]\n" for k in wanted)
                outputs = tuple(Output(k, kinds.get((step.name, k), ANY)) for k in wanted)
                self.steps[i] = _replace(step, body=step.body + extra, outputs=outputs)
        self._types_from_consumers()

    def _types_from_consumers(self) -> None:
        """A return value without an annotation takes the type every task reading it annotates
        (Airflow passes the value as it is; a target that types its tasks needs it to agree)."""
        wanted: dict[tuple[str, str], set[str]] = {}
        for step in self.steps:
            over = self.built[step.name].map_over
            for inp in step.inputs:
                ref = inp.refs[0]
                if inp.type.origin != "annotation":
                    continue
                kind = inp.type.expr
                if ref.kind == "item" and over is not None and over.kind == "output":
                    wanted.setdefault((over.source, over.name), set()).add(f"list[{kind}]")
                if ref.kind != "output":
                    continue
                if inp.mode == "collected":
                    if not kind.startswith("list[") or not kind.endswith("]"):
                        continue
                    kind = kind[5:-1]
                wanted.setdefault((ref.source, ref.name), set()).add(kind)
        for i, step in enumerate(self.steps):
            outputs = tuple(
                Output(o.name, TypeRef(next(iter(kinds)), "inferred"), o.local)
                if not o.type.known and len(kinds := wanted.get((step.name, o.name), set())) == 1
                else o
                for o in step.outputs
            )
            if outputs != step.outputs:
                self.steps[i] = _replace(step, outputs=outputs)
        typed = {(s.name, o.name): o.type for s in self.steps for o in s.outputs if o.type.known}
        for i, step in enumerate(self.steps):  # an input read without an annotation: its type
            inputs = tuple(
                dataclasses.replace(inp, type=typed[(r.source, r.name)])
                if not inp.type.known
                and len(inp.refs) == 1
                and (r := inp.refs[0]).kind == "output"
                and inp.mode == "value"
                and (r.source, r.name) in typed
                else inp
                for inp in step.inputs
            )
            if inputs != step.inputs:
                self.steps[i] = _replace(step, inputs=inputs)


def _params_lookup(name: ast.Name, function: ast.FunctionDef) -> bool:
    """``name`` is only indexed or looked up for ``"params"`` (``context["params"]``,
    ``context.get("params")``)."""
    for node in ast.walk(function):
        if isinstance(node, ast.Subscript) and node.value is name:
            return isinstance(node.slice, ast.Constant) and node.slice.value == "params"
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.value is name
            and node.func.attr == "get"
        ):
            key = node.args[0] if node.args else None
            return isinstance(key, ast.Constant) and key.value == "params"
    return False


def task_options(options: dict[str, ast.expr], span: Span, note) -> tuple[Option, ...]:
    """retries, retry_delay and execution_timeout as the model's retry and timeout options."""
    made = []
    retries = options.get("retries")
    if isinstance(retries, ast.Constant) and retries.value in (0, None, False):
        options = {k: v for k, v in options.items() if k not in ("retries", "retry_delay")}
    if "retries" in options:
        delay = _seconds(options["retry_delay"]) if "retry_delay" in options else 300
        if delay is None:
            note(
                "TP201",
                "retry_delay is not a literal timedelta: the default wait",
                options["retry_delay"],
            )
            delay = 300
        minutes = -(-delay // 60)
        if minutes * 60 != delay:
            note(
                "TP201",
                f"retry_delay of {delay} s became {minutes} minute(s)",
                options["retry_delay"],
            )
        made.append(
            Option(
                "retry",
                (
                    ("times", ast.unparse(options["retries"])),
                    ("minutes_between_retries", str(minutes)),
                ),
                span,
            )
        )
    if "execution_timeout" in options:
        seconds = _seconds(options["execution_timeout"])
        if seconds is None:
            note(
                "TP202",
                "execution_timeout is not a literal timedelta: not carried",
                options["execution_timeout"],
            )
        else:
            made.append(Option("timeout", (("seconds", str(seconds)),), span))
    return tuple(made)


def _seconds(node: ast.expr) -> int | None:
    """A literal ``timedelta(...)`` (or a number of seconds) in whole seconds, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return int(node.value)
    if (
        not (isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "timedelta")
        or node.args
    ):
        return None
    scale = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "weeks": 604800}
    total = 0.0
    for keyword in node.keywords:
        value = keyword.value
        if (
            keyword.arg not in scale
            or not isinstance(value, ast.Constant)
            or not isinstance(value.value, int | float)
        ):
            return None
        total += scale[keyword.arg] * value.value
    return int(total)


def _annotations(function: ast.FunctionDef | None) -> dict[str, TypeRef]:
    if function is None:
        return {}
    args = function.args.args + function.args.kwonlyargs
    return {a.arg: TypeRef(ast.unparse(a.annotation), "annotation") for a in args if a.annotation}


BASH_IMPORTS = "import subprocess\nimport tempfile\n\n"


def _bash_settings(node: ast.Call) -> tuple[str | None, str | None] | None:
    """A BashOperator's ``cwd`` (a literal folder) and environment (``env`` replaces the
    process's, ``append_env=True`` adds to it) as the step passes them; None when one is not a
    literal (not carried, said by the caller)."""
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    cwd, env, append = keywords.get("cwd"), keywords.get("env"), keywords.get("append_env")
    if cwd is not None and not (
        isinstance(cwd, ast.Constant) and isinstance(cwd.value, str) and "{{" not in cwd.value
    ):
        return None
    if append is not None and not (
        isinstance(append, ast.Constant) and append.value in (True, False)
    ):
        return None
    text = None
    if env is not None:
        try:
            value = ast.literal_eval(env)
        except ValueError:
            return None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and "{{" not in v for k, v in value.items()
        ):
            return None
        text = (
            f"{{**os.environ, **{value!r}}}" if append is not None and append.value else repr(value)
        )
    return (cwd.value if cwd is not None else None), text


def bash_run(
    command: str, pushed: bool = True, cwd: str | None = None, env: str | None = None
) -> str:
    """Statements that run ``command`` (an expression) with bash as Airflow's BashOperator does:
    in ``cwd`` (a literal) or a new temporary folder, with ``env`` (an expression) if given,
    stdout and stderr in one pipe, printed; a failing command fails the step; its last line is
    the result (unless ``pushed`` is False)."""
    if cwd is None:
        folder = (
            'with tempfile.TemporaryDirectory(prefix="airflowtmp") as cwd:  # as Airflow runs it\n'
        )
        indent, where = "    ", "cwd=cwd"
    else:
        folder, indent, where = "", "", f"cwd={cwd!r}"
    if env is not None:
        where += f", env={env}"
    if not pushed:
        return f'{folder}{indent}subprocess.run(["bash", "-c", {command}], {where}, check=True)\n'
    return (
        f'{folder}{indent}done = subprocess.run(["bash", "-c", {command}], {where}, '
        "stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)\n"
        'output = done.stdout.decode(errors="backslashreplace")\n'
        'print(output, end="")\n'
        "done.check_returncode()\n"
        'return_value = output.removesuffix("\\n").split("\\n")[-1].rstrip()\n'
    )


def _without_result(body: str) -> str:
    """``body`` with its last statement ``return_value = call(...)`` as the bare call (a
    failure handler returns nothing)."""
    tree = ast.parse(body)
    last = tree.body[-1] if tree.body else None
    if not (
        isinstance(last, ast.Assign)
        and [ast.unparse(t) for t in last.targets] == ["return_value"]
        and last.col_offset == 0
    ):
        return body
    lines = body.splitlines(keepends=True)
    head = "".join(lines[: last.lineno - 1])
    return head + (ast.get_source_segment(body, last.value) or ast.unparse(last.value)) + "\n"


def _replace(step: Step, **changes) -> Step:
    from dataclasses import replace

    return replace(step, **changes)


def _identifier(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"t_{cleaned}"


def _rule_text(node: ast.expr) -> str | None:
    """A trigger rule written as text or as ``TriggerRule.NAME``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Attribute) and ast.unparse(node.value).endswith("TriggerRule"):
        return node.attr.lower()
    return None


class _Substitute(ast.NodeTransformer):
    """A task group's parameters replaced by the constants it is called with."""

    def __init__(self, values: dict[str, ast.expr]) -> None:
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id in self.values:
            made = ast.copy_location(copy.deepcopy(self.values[node.id]), node)
            for inner in ast.walk(made):
                inner.lineno, inner.col_offset = node.lineno, node.col_offset
                inner.end_lineno, inner.end_col_offset = node.end_lineno, node.end_col_offset
            made._substituted = True  # type: ignore[attr-defined]
            return made
        return node


def _substituted(node: ast.expr) -> bool:
    return any(getattr(n, "_substituted", False) for n in ast.walk(node))


def _named_list(node: ast.expr, body: DagBody) -> bool:
    return isinstance(node, ast.Name) and node.id in body.task_lists


def _unique_id(task_id: str, taken: set[str]) -> str:
    """The id Airflow gives a TaskFlow task whose id is taken (``t``, ``t__1``, ``t__2``)."""
    if task_id not in taken:
        return task_id
    core = re.split(r"__\d+$", task_id)[0]
    numbers = [
        int(t.rsplit("__", 1)[1]) for t in taken if re.fullmatch(rf"{re.escape(core)}__\d+", t)
    ]
    return f"{core}__{max(numbers, default=0) + 1}"


def module_constants(tree: ast.Module) -> dict[str, object]:
    """Module-level names bound once, to a constant, and never changed in place."""
    stores: dict[str, int] = {}
    changed: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, ast.Global | ast.Nonlocal):
            changed.update(node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATORS
            and (root := root_name(node.func.value)) is not None
        ):
            changed.add(root)
        elif isinstance(node, ast.Subscript | ast.Attribute) and isinstance(
            node.ctx, ast.Store | ast.Del
        ):
            changed.update(n.id for n in ast.walk(node.value) if isinstance(n, ast.Name))
    found: dict[str, object] = {}
    for node in tree.body:
        if not (
            isinstance(node, ast.Assign | ast.AnnAssign)
            and node.value is not None
            and len(targets := getattr(node, "targets", [getattr(node, "target", None)])) == 1
            and isinstance(targets[0], ast.Name)
        ):
            continue
        name = targets[0].id
        if stores.get(name) != 1 or name in changed:
            continue
        try:
            found[name] = fold(node.value, found)
        except NotConstant:
            continue
    return found


def _own_nodes(function: ast.FunctionDef):
    """The nodes of ``function``'s body, not of functions or lambdas defined inside it."""
    todo = list(function.body)
    while todo:
        node = todo.pop(0)
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            todo.extend(ast.iter_child_nodes(node))


def _falls_through(body: list[ast.stmt]) -> bool:
    """The statements may end without a return or raise (a conservative reading)."""
    if not body:
        return True
    last = body[-1]
    if isinstance(last, ast.Return | ast.Raise):
        return False
    if isinstance(last, ast.If):
        return _falls_through(last.body) or _falls_through(last.orelse)
    if isinstance(last, ast.With | ast.AsyncWith):
        return _falls_through(last.body)
    if isinstance(last, ast.Try):
        return _falls_through(last.body + last.orelse) if not last.finalbody else True
    if isinstance(last, ast.Match):
        return any(_falls_through(c.body) for c in last.cases)
    return True
