"""Read an Airflow DAG file into the pipeline model, statically: never imports it or Airflow.

The DAG is ``with DAG(...)``, ``dag = DAG(...)`` (operators passing ``dag=``) or an ``@dag``
function. Each TaskFlow call, ``PythonOperator`` and ``EmptyOperator`` is one step; the task
functions and callables become module definitions the step bodies call. Data edges come from
task results passed as arguments (``r["key"]`` for several outputs), order edges from ``>>``,
``<<``, ``chain`` and ``set_upstream``/``set_downstream``; the flow is their series-parallel tree.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterable

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error, other_entries
from transpile.model.ir import (
    Module,
    Option,
    Parameter,
    Pipeline,
    Span,
)
from transpile.reading.cst import SpanIndex

from .assets import assets_as_dag
from .bound import FILE, Constants, Unread, short
from .dag_body import UNSUPPORTED_ARGS, DagBody, span_of
from .names import AirflowNames
from .sensors import SENSOR_KEYS, check_reads

PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
TASK_OPTIONS = {"retries": "retry", "retry_delay": "retry_delay", "execution_timeout": "timeout"}


def read(
    module: cst.Module, path: str, spans: SpanIndex | None = None, entry: str | None = None
) -> tuple[Pipeline, list[Diagnostic]]:
    tree = ast.parse(module.code)
    return AirflowReader(tree, path, module.code).read(entry)


class AirflowReader:
    def __init__(self, tree: ast.Module, path: str, text: str):
        self.tree, self.path, self.text = tree, path, text
        self.names = AirflowNames(tree)
        self.constants = Constants(tree, path)
        self.diagnostics: list[Diagnostic] = []
        self.asset_dags: set[str] = set()  # the DAGs @asset functions make (assets.py)

    def span(self, node: ast.AST) -> Span:
        return span_of(self.path, node)

    def read(self, entry: str | None) -> tuple[Pipeline, list[Diagnostic]]:
        self._refuse_factories()
        found = self._dags()
        if not found and assets_as_dag(self):  # @asset functions: one pipeline (assets.py)
            found = self._dags()
        if not found:
            raise error("TP005", "no DAG found (with DAG(...), dag = DAG(...) or @dag)", None)
        if entry is not None:
            found = [d for d in found if d[0] == entry] or _no_entry(entry, found)
        if len(found) > 1:
            others = [d[0] for d in found[1:]]
            where = self.span(found[1][1])
            self.diagnostics.append(other_entries("DAG", found[0][0], others, where, "the first"))
        name, call, body, params_node, holder = found[0]
        pipeline = self._pipeline(name, call, body, params_node, holder)
        unique = list(dict.fromkeys(self.diagnostics))
        return pipeline, unique

    def _refuse_factories(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.For, ast.While)):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Call) and self.names.resolve(inner) == "DAG":
                        raise error(
                            "TP185", "DAG built in a loop (a DAG factory)", self.span(inner)
                        )
            if (
                isinstance(node, ast.Subscript)
                and ast.unparse(node.value) == "globals()"
                and isinstance(node.ctx, ast.Store)
            ):
                raise error(
                    "TP185", "DAG registered through globals() (a DAG factory)", self.span(node)
                )

    def _dags(self) -> list[tuple]:
        """(dag id, DAG call or decorator call, body statements, function params, holder name)."""
        found = []
        for node in self.tree.body:
            if isinstance(node, ast.With):
                for item in node.items:
                    if self.names.resolve(item.context_expr) == "DAG":
                        call = item.context_expr
                        found.append((_dag_id(call, "dag"), call, node.body, None, None))
            elif isinstance(node, ast.FunctionDef):
                for deco in node.decorator_list:
                    if self.names.resolve(deco) == "dag":
                        bare = ast.copy_location(ast.Call(deco, [], []), deco)  # @dag
                        call = deco if isinstance(deco, ast.Call) else bare
                        found.append((_dag_id(call, node.name), call, node.body, node.args, None))
            elif isinstance(node, ast.Assign) and self.names.resolve(node.value) == "DAG":
                holder = ast.unparse(node.targets[0])
                later = self.tree.body[self.tree.body.index(node) + 1 :]
                found.append((_dag_id(node.value, holder), node.value, later, None, holder))
        return found

    def _pipeline(self, name, call: ast.Call, body, args, holder) -> Pipeline:
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        parameters = self._parameters(keywords.get("params"), args)
        defaults = self.default_args(keywords.get("default_args"))
        dag = DagBody(self, parameters, defaults, holder)
        dag.dag_id = name
        dag.read(body)
        check_reads(dag)
        if not dag.steps:
            raise error("TP190", f"DAG {name} has no tasks: nothing to convert", self.span(call))
        flow = dag.flow()
        imports, definitions = self._module(dag, parameters.values())
        options = (*self._schedule(keywords), *dag.exit_options)
        for key in sorted(DAG_CALLBACKS & set(keywords)):
            message = f"{key}= of the DAG is not carried (the targets call no function on it)"
            self.diagnostics.append(
                Diagnostic("TP189", "warning", message, self.span(keywords[key]), lossy=True)
            )
        doc = keywords.get("description")
        return Pipeline(
            name=_identifier(name),
            framework="airflow",
            span=self.span(call),
            parameters=tuple(parameters.values()),
            steps=tuple(dag.steps),
            flow=flow,
            results=dag.results(),
            module=Module(tuple(imports), tuple(definitions)),
            options=options,
            doc=doc.value if isinstance(doc, ast.Constant) and isinstance(doc.value, str) else None,
        )

    def _parameters(
        self, node: ast.expr | None, args: ast.arguments | None
    ) -> dict[str, Parameter]:
        found: dict[str, Parameter] = {}
        home = self.constants.home
        if node is not None:
            try:
                items = self.constants.mapping(node, home)
                for key, (value, scope) in items.items():  # another module's: literals only
                    literal = value if scope is home else self.constants.literal(value, scope)
                    found[key] = self._parameter(key, literal)
            except Unread as unread:
                message = f"DAG params must be a dict literal ({unread.reason})"
                raise error("TP186", message, self.span(unread.node)) from None
        if args is not None:
            defaults = [None] * (len(args.args) - len(args.defaults)) + list(args.defaults)
            for arg, default in zip(args.args, defaults):
                found[arg.arg] = self._parameter(arg.arg, default, arg)
        return found

    def _parameter(
        self, name: str, value: ast.expr | None, where: ast.AST | None = None
    ) -> Parameter:
        default, kind, helptext = value, None, None
        if isinstance(value, ast.Call) and self.names.resolve(value) == "Param":
            keywords = {k.arg: k.value for k in value.keywords}
            default = value.args[0] if value.args else keywords.get("default")
            kind = _param_type(keywords.get("type"))
            described = keywords.get("description")
            helptext = described.value if isinstance(described, ast.Constant) else None
        text = ast.unparse(default) if default is not None else None
        kind = kind or _literal_type(default)
        from transpile.model.ir import TypeRef

        ref = TypeRef(kind, "parameter") if kind else TypeRef("str", "fallback")
        json_kind = kind in ("list", "dict")
        span = self.span(where or value or self.tree)
        return Parameter(
            name, ref, text, text is None, helptext, "json" if json_kind else "value", span
        )

    def default_args(self, node: ast.expr | None) -> dict[str, ast.expr]:
        """The task options a ``default_args`` dict sets (a DAG's or a task group's): a dict
        literal, or a name bound to one at the top of this file or of a module of its tree it
        imports from (``bound``); else none, with a TP189 at the spot it could not read."""
        if node is None:
            return {}
        shown = short(node)
        try:
            items = self.constants.mapping(node, self.constants.home)
        except Unread as unread:
            message = (
                f"default_args {shown}: {unread.reason}: the retries, retry delays, timeouts "
                "and trigger rules it may set are not carried"
            )
            self.diagnostics.append(
                Diagnostic("TP189", "warning", message, self.span(unread.node), lossy=True)
            )
            return {}
        found = {}
        for key, (value, scope) in items.items():
            if key in UNSUPPORTED_ARGS:  # pool, sla, callbacks: as on a task
                message = f"default_args {shown}: {key} is not carried"
                self.diagnostics.append(
                    Diagnostic("TP189", "warning", message, self.span(value), lossy=True)
                )
            if key not in TASK_OPTIONS and key != "trigger_rule" and key not in SENSOR_KEYS:
                continue  # (a sensor's keys are read by the sensors made with them)
            try:
                found[key] = self.constants.option(key, value, scope)
            except Unread as unread:
                message = f"default_args {shown}: {unread.reason}: {key} not carried"
                self.diagnostics.append(
                    Diagnostic("TP189", "warning", message, self.span(unread.node), lossy=True)
                )
        return found

    def option_value(self, key: str, node: ast.expr) -> ast.expr:
        """A task option as written in the DAG file (``@task(retries=RETRIES)``, a
        ``default_args`` entry): a name followed to the constant it is bound to, in this file or
        a module of its tree; a value read from another module is already followed."""
        if hasattr(node, FILE) or (key not in TASK_OPTIONS and key != "trigger_rule"):
            return node
        try:
            return self.constants.option(key, node, self.constants.home)
        except Unread:
            return node

    def _schedule(self, keywords: dict[str, ast.expr]) -> tuple[Option, ...]:
        node = keywords.get("schedule", keywords.get("schedule_interval"))
        if isinstance(node, ast.Name):  # a constant of this file or of a module of its tree
            try:
                value, _ = self.constants.follow(node, self.constants.home)
            except Unread:
                value = node
            if isinstance(value, ast.Constant) and isinstance(value.value, str | None):
                node = ast.copy_location(ast.Constant(value.value), node)
        assets = self._assets(node)
        if assets:
            key, value = ("event", assets[0]) if len(assets) == 1 else ("events", assets)
            message = (
                f"the DAG runs when {' and '.join(map(repr, assets))} "
                f"{'is' if len(assets) == 1 else 'are'} updated: read as a trigger on an event "
                "of that name, which whatever updates the data must publish"
            )
            self.diagnostics.append(Diagnostic("TP202", "info", message, self.span(node)))
            return (Option("trigger", ((key, repr(value)),), self.span(node)),)
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            if node is not None and not (isinstance(node, ast.Constant) and node.value is None):
                message = (
                    f"schedule {ast.unparse(node)} is not a cron string or preset: not carried"
                )
                self.diagnostics.append(
                    Diagnostic("TP202", "warning", message, self.span(node), lossy=True)
                )
            return ()
        cron = PRESETS.get(node.value, node.value)
        if cron.startswith("@"):
            self.diagnostics.append(
                Diagnostic(
                    "TP202",
                    "warning",
                    f"schedule {node.value!r} not carried",
                    self.span(node),
                    lossy=True,
                )
            )
            return ()
        return (Option("schedule", (("cron", repr(cron)),), self.span(node)),)

    def _assets(self, node: ast.expr | None) -> list[str]:
        """The names of the assets (Airflow 2: datasets) a schedule ``[Asset("x"), ...]`` waits
        for, all of them updated (a literal name or URI each); else nothing."""
        if isinstance(node, ast.Call) and self.names.resolve(node) in ("Asset", "Dataset"):
            node = ast.List([node])
        if not isinstance(node, ast.List | ast.Tuple) or not node.elts:
            return []
        found = []
        for element in node.elts:
            if not (
                isinstance(element, ast.Call)
                and self.names.resolve(element) in ("Asset", "Dataset")
            ):
                return []
            keywords = {k.arg: k.value for k in element.keywords}
            name = element.args[0] if element.args else keywords.get("name", keywords.get("uri"))
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                return []
            found.append(name.value)
        return found

    def _module(self, dag: DagBody, parameters: Iterable[Parameter]) -> tuple[list[str], list[str]]:
        """Imports and definitions other than Airflow's, then the task functions as helpers;
        an import keeps the names the steps, definitions, options and parameter defaults use."""
        imports, definitions = [], []
        for node in self.tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                kept = _without_airflow(node)
                if kept:
                    imports.append(kept)
            elif (isinstance(node, ast.FunctionDef) and node.name in dag.defined) or id(
                node
            ) in dag.tasks_made:  # a task function, or ``done = summary(...)`` after DAG()
                continue
            elif isinstance(node, ast.FunctionDef) and node.name in dag.rewritten:
                definitions.append(dag.rewritten[node.name])  # its xcom_pulls now parameters
            elif isinstance(
                node, ast.FunctionDef | ast.ClassDef | ast.Assign | ast.AnnAssign
            ) and not self._airflow_related(node):
                definitions.append(ast.get_source_segment(self.text, node) or ast.unparse(node))
        definitions = [*dag.preamble, *definitions, *dag.helpers]
        written = [v for s in dag.steps for o in s.options for _, v in o.args]
        written += [p.default for p in parameters if p.default is not None]
        used = _names_used([*definitions, *(s.body for s in dag.steps), *written])
        return [kept for i in imports if (kept := _only(i, used))], definitions

    def _airflow_related(self, node: ast.AST) -> bool:
        if isinstance(node, ast.FunctionDef) and any(
            self.names.resolve(d) for d in node.decorator_list
        ):
            return True
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            return any(
                isinstance(n, ast.Call | ast.Name | ast.Attribute) and self.names.resolve(n)
                for n in ast.walk(node.value)
            ) or _calls_dag_function(node.value, self)
        return False


DAG_CALLBACKS = {"on_failure_callback", "on_success_callback", "sla_miss_callback"}


def _calls_dag_function(value: ast.expr, reader: AirflowReader) -> bool:
    dag_functions = {
        n.name
        for n in reader.tree.body
        if isinstance(n, ast.FunctionDef)
        and any(reader.names.resolve(d) == "dag" for d in n.decorator_list)
    }
    return isinstance(value, ast.Call) and ast.unparse(value.func) in dag_functions


def _without_airflow(node: ast.Import | ast.ImportFrom) -> str | None:
    if isinstance(node, ast.ImportFrom):
        if (node.module or "").split(".")[0] in (
            "airflow",
            "pendulum",
        ) or node.module == "__future__":
            return None
        return ast.unparse(node)
    kept = [a for a in node.names if a.name.split(".")[0] not in ("airflow", "pendulum")]
    return ast.unparse(ast.Import(kept)) if kept else None


def _names_used(texts: list[str]) -> set[str]:
    found = set()
    for text in texts:
        for node in ast.walk(ast.parse(textwrap.dedent(text))):
            if isinstance(node, ast.Name):
                found.add(node.id)
    return found


def _only(statement: str, used: set[str]) -> str | None:
    """An import statement cut down to the names ``used`` (the others would be unused imports
    in the output); None when it binds none of them."""
    node = ast.parse(statement).body[0]
    assert isinstance(node, ast.Import | ast.ImportFrom)
    kept = [a for a in node.names if (a.asname or a.name).split(".")[0] in used]
    if len(kept) == len(node.names):
        return statement
    if not kept:
        return None
    node.names = kept
    return ast.unparse(node)


def _dag_id(call: ast.Call, fallback: str) -> str:
    for keyword in call.keywords:
        if keyword.arg == "dag_id" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    if call.args and isinstance(call.args[0], ast.Constant):
        return str(call.args[0].value)
    return fallback


def _identifier(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"dag_{cleaned}"


def _param_type(node: ast.expr | None) -> str | None:
    names = {"integer": "int", "number": "float", "string": "str", "boolean": "bool"}
    names |= {"array": "list", "object": "dict"}
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return names.get(node.value)
    return None


def _literal_type(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and node.value is not None:
        return type(node.value).__name__
    if isinstance(node, ast.List):
        return "list"
    if isinstance(node, ast.Dict):
        return "dict"
    return None


def _no_entry(entry: str, found: list[tuple]):
    from transpile.model.diagnostics import no_such_entry

    raise no_such_entry(entry, [d[0] for d in found])


def dedented(text: str) -> str:
    return textwrap.dedent(text)
