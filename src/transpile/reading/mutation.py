"""Which values a body changes in place: the values behind some "roots" (a step's artifacts, a
helper's parameters) that it mutates by subscript or attribute assignment, ``del``, augmented
assignment of an alias, a mutating method call, or by passing them to a module helper that
mutates that parameter; also through a local alias (``rows = self.rows``, ``for row in rows``).

Where the reader cannot tell, it assumes a change: a method it does not know to be read-only is
taken to mutate its receiver (an extra output is safe, a missing one is a wrong result). A value
passed as an argument to a function outside the file is taken to stay unchanged, the Python
convention (methods change their receiver; functions return new values), except the few standard
functions that exist to mutate an argument (``random.shuffle``, ``heapq.heappush``...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import libcst as cst

from .cst import dotted, walk

# Methods that never change their receiver, on the builtin containers, str/bytes, numpy arrays,
# pandas frames and series (without inplace=True) and fitted scikit-learn estimators.
_READ_ONLY = """
    copy get keys values items count index find rfind rindex startswith endswith split rsplit
    splitlines join strip lstrip rstrip lower upper title capitalize casefold swapcase format
    format_map replace encode decode isdigit isalpha isalnum isnumeric isdecimal isspace islower
    isupper istitle isidentifier zfill center ljust rjust partition rpartition expandtabs
    translate removeprefix removesuffix hex union intersection difference symmetric_difference
    issubset issuperset isdisjoint most_common elements total
    head tail describe info groupby agg aggregate sum mean median mode min max std var prod
    cumsum cumprod cummax cummin apply applymap map filter query merge to_dict to_list tolist
    to_numpy to_csv to_json to_parquet to_string to_markdown to_records to_frame to_pickle astype
    reshape ravel flatten transpose dot round abs all any argmax argmin argsort nonzero isin
    unique nunique value_counts sort_values sort_index drop drop_duplicates dropna fillna
    rename reset_index set_index iterrows itertuples iteritems pivot pivot_table melt stack
    unstack explode sample nlargest nsmallest corr cov diff pct_change shift rolling expanding
    ewm resample clip where mask isna isnull notna notnull duplicated between equals idxmax
    idxmin quantile rank describe select_dtypes memory_usage squeeze assign pipe join
    predict predict_proba predict_log_proba decision_function score transform get_params
    inverse_transform
"""
READ_ONLY_METHODS = frozenset(_READ_ONLY.split())

MUTATING_FUNCTIONS = frozenset(
    {
        "random.shuffle",
        "np.random.shuffle",
        "numpy.random.shuffle",
        "heapq.heappush",
        "heapq.heappop",
        "heapq.heapify",
        "heapq.heappushpop",
        "heapq.heapreplace",
        "bisect.insort",
        "bisect.insort_left",
        "bisect.insort_right",
    }
)

# a root's value of one of these types cannot change in place
IMMUTABLE = ("int", "float", "str", "bool", "bytes", "complex", "None", "tuple", "frozenset")

Rooter = Callable[[cst.BaseExpression], "str | None"]


def immutable(kind: str | None) -> bool:
    return kind is not None and (kind in IMMUTABLE or kind.startswith(("tuple[", "frozenset[")))


class MutationScan(cst.CSTVisitor):
    """Visit a body in source order; ``mutated`` collects the roots it changes in place.

    ``root`` names the root an expression *is* (``self.rows`` → ``rows`` for a step; a parameter's
    name for a helper), or None. ``helpers`` maps a module function to the parameters it mutates
    (positions and names), so a call of it with a root there is a mutation."""

    def __init__(self, root: Rooter, helpers: Mapping[str, frozenset] | None = None):
        self.root = root
        self.helpers = helpers or {}
        self.aliases: dict[str, set[str]] = {}
        self.shadowed: set[str] = set()  # names rebound to something else
        self.mutated: dict[str, None] = {}

    # what an expression holds ---------------------------------------------------------------
    def roots_of(self, node: cst.BaseExpression) -> set[str]:
        """The roots whose value (or a part of it) ``node`` is: the chain of attributes,
        subscripts and method calls down to a root or an alias of one."""
        while True:
            if isinstance(node, cst.Name):
                if node.value in self.aliases:
                    return set(self.aliases[node.value])
                if node.value in self.shadowed:
                    return set()
            found = self.root(node)
            if found is not None:
                return {found}
            if isinstance(node, (cst.Attribute, cst.Subscript)):
                node = node.value
            elif isinstance(node, cst.Call):
                node = node.func
            else:
                return set()

    def _mentioned(self, node: cst.CSTNode) -> set[str]:
        """Every root an expression mentions (what a loop over it may hand out)."""
        found: set[str] = set()
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, (cst.Name, cst.Attribute, cst.Subscript)):
                roots = self.roots_of(current)
                if roots:
                    found |= roots
                    continue
            stack.extend(current.children)
        return found

    def _mark(self, roots: set[str]) -> None:
        for name in sorted(roots):
            self.mutated.setdefault(name)

    def _bind(self, target: cst.BaseExpression, roots: set[str]) -> None:
        if isinstance(target, cst.Name):
            if roots:
                self.aliases[target.value] = set(roots)
            else:
                self.aliases.pop(target.value, None)
                self.shadowed.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind(element.value, roots)
        elif isinstance(target, cst.StarredElement):
            self._bind(target.value, roots)

    def _changed(self, target: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Attribute, cst.Subscript)) and self.root(target) is None:
            self._mark(self.roots_of(target.value))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._changed(element.value)
        elif isinstance(target, cst.StarredElement):
            self._changed(target.value)

    # statements -------------------------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._changed(target.target)

    def leave_Assign(self, node: cst.Assign) -> None:
        whole = _aliasing(node.value) and self.roots_of(node.value)
        for target in node.targets:
            self._bind(target.target, whole or set())

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._changed(node.target)

    def leave_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            whole = _aliasing(node.value) and self.roots_of(node.value)
            self._bind(node.target, whole or set())

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._changed(node.target)
        if isinstance(node.target, cst.Name):  # `rows += [...]` extends the list in place
            self._mark(self.roots_of(node.target))

    def visit_Del(self, node: cst.Del) -> None:
        self._changed(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, self._mentioned(node.iter))

    def _comprehension(self, node: cst.BaseComp) -> None:
        """Bind the loop targets first: the element is visited before its ``for`` clause."""
        clause: cst.CompFor | None = node.for_in
        while clause is not None:
            self._bind(clause.target, self._mentioned(clause.iter))
            clause = clause.inner_for_in

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, set())

    def leave_NamedExpr(self, node: cst.NamedExpr) -> None:
        whole = _aliasing(node.value) and self.roots_of(node.value)
        self._bind(node.target, whole or set())

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            inplace = any(a.keyword is not None and a.keyword.value == "inplace" for a in node.args)
            if inplace or func.attr.value not in READ_ONLY_METHODS:
                self._mark(self.roots_of(func.value))
        name = dotted(func)
        if name in MUTATING_FUNCTIONS and node.args:
            self._mark(self.roots_of(node.args[0].value))
        elif name in self.helpers:
            changed = self.helpers[name]
            for position, arg in enumerate(node.args):
                key = arg.keyword.value if arg.keyword is not None else position
                if key in changed and arg.star == "":
                    self._mark(self.roots_of(arg.value))


def _aliasing(value: cst.BaseExpression) -> bool:
    """Does binding ``value`` share the object with its root (rather than compute a new one)?"""
    while isinstance(value, (cst.Attribute, cst.Subscript)):
        value = value.value
    return isinstance(value, cst.Name)


def mutating_helpers(module: cst.Module) -> dict[str, frozenset]:
    """Module functions → the parameters (positions and names) each changes in place, directly
    or by passing them on to another such function (repeated until nothing changes)."""
    functions = {stmt.name.value: stmt for stmt in module.body if isinstance(stmt, cst.FunctionDef)}
    found: dict[str, frozenset] = {}
    for _ in range(len(functions) + 1):
        changed = False
        for name, function in functions.items():
            params = [
                p.name.value for p in (*function.params.posonly_params, *function.params.params)
            ]
            scan = MutationScan(_param_root(set(params)), found)
            walk(function.body, scan)
            keys = frozenset(
                key
                for position, param in enumerate(params)
                if param in scan.mutated
                for key in (position, param)
            )
            if keys and found.get(name) != keys:
                found[name] = keys
                changed = True
        if not changed:
            break
    return found


def _param_root(params: set[str]) -> Rooter:
    def root(node: cst.BaseExpression) -> str | None:
        return node.value if isinstance(node, cst.Name) and node.value in params else None

    return root
