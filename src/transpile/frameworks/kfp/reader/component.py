"""KFP components (``@dsl.component`` functions) → neutral step templates.

A component becomes a template: typed parameters, named outputs, and a body in which ``return``
is rewritten into assignments of the output locals. Each call in a pipeline instantiates it.
Artifacts are files in KFP; in the model they travel as ``bytes`` (see kfp_artifacts.py), except
our KFP writer's own pickle idiom (``save_value``/``load_value``), which is read back as values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from keyword import iskeyword

import libcst as cst

from transpile.model.diagnostics import error
from transpile.model.ir import ANY, Output, Span, TypeRef
from transpile.reading.cst import code, walk
from transpile.reading.inference import (
    TypeEnv,
    annotation,
    changed_holders,
    infer,
    returned_type,
)

from .artifacts import (
    ArtifactParam,
    artifact_param,
    file_epilogue,
    file_prelude,
    mark_directories,
    strip_writer_idiom,
)
from .container import container_body
from .json_text import strip_json_text
from .names import KfpNames
from .returns import ReturnFinder, return_of, rewrite_returns

BUILTIN_TYPES = {
    "int",
    "float",
    "str",
    "bool",
    "bytes",
    "list",
    "dict",
    "tuple",
    "set",
    "typing.Any",
}
SINGLE = "Output"  # KFP's name for the output of a component that returns one value


@dataclass(frozen=True)
class Param:
    name: str
    type: TypeRef
    default: str | None  # source text of the function default


@dataclass
class Component:
    name: str
    span: Span
    kind: str  # "python" | "container"
    params: list[Param]
    outputs: list[Output]
    body: str
    decorator: dict[str, str] = field(default_factory=dict)  # decorator keyword → source
    artifacts: dict[str, ArtifactParam] = field(default_factory=dict)
    doc: str | None = None
    raises_no_case: bool = False  # our writer's "value matches no switch case" task
    does_nothing: bool = False  # our writer's stand-in for a switch case that runs no step
    passes_on: bool = False  # our writer's task handing on a dsl.OneOf in a loop
    spec: str = ""  # a container component's ContainerSpec, as source text
    statements: list = field(default_factory=list)  # the body before returns were rewritten
    json_text: set[str] = field(default_factory=set)  # str inputs the body parses as JSON first
    loose: bool = False  # a loaded component that could not be read: any inputs and outputs


def annotation_type(node: cst.BaseExpression | None) -> TypeRef:
    """A parameter or output annotation as a TypeRef; ``List[int]`` is spelled ``list[int]``."""
    if node is None:
        return ANY
    text = code(node)
    for old, new in (("typing.", ""), ("List[", "list["), ("Dict[", "dict["), ("Tuple[", "tuple[")):
        text = text.replace(old, new)
    return TypeRef(text, "annotation")


def read_component(
    node: cst.FunctionDef, kind: str, names: KfpNames, span: Span, tuples: dict[str, list]
) -> Component:
    """The template of one ``@dsl.component`` / ``@dsl.container_component`` function."""
    if node.params.star_arg not in (None, cst.MaybeSentinel.DEFAULT) or node.params.star_kwarg:
        raise error("TP171", f"component {node.name.value} takes *args/**kwargs", span)
    artifacts = _artifacts(node, names)
    outputs = _outputs(node, names, tuples, span)
    statements = list(_statements(node))
    doc = None
    if statements and _is_docstring(statements[0]):
        doc = statements[0].body[0].value.evaluated_value  # type: ignore[attr-defined]
        statements = statements[1:]
    outputs = _named_single(outputs, statements)
    component = Component(node.name.value, span, kind, [], [], "", {}, artifacts, doc)
    component.decorator = _decorator_args(node)
    statements, idiom_outputs = _read_idioms(component, node, statements, outputs)
    component.statements = statements
    component.raises_no_case = _raises_no_case(statements)
    component.does_nothing = not node.params.params and _only_pass(statements)
    component.passes_on = " ".join(code(cst.Module(statements)).split()) in PASSES_ON and (
        doc or ""
    ).startswith("The value the switch case taken")
    final = return_of(statements[-1]) if statements else None
    if kind == "container" and final is not None and final.value is not None:
        component.spec = " ".join(code(final.value).split())
    plain = [a for a in artifacts.values() if _is_plain_output(a)]
    component.outputs = [*outputs, *idiom_outputs, *(Output(a.name, _carried(a)) for a in plain)]
    if kind == "container":
        params = {p.name: p.type.expr for p in component.params}
        body = container_body(final.value, params, artifacts, names) if final else None
        component.body = body or ""
        return component
    param_names = tuple(p.name.value for p in _all_params(node))
    body = rewrite_returns(statements, [o.name for o in outputs], span, param_names)
    mark_directories(artifacts, body)
    component.body = file_prelude(artifacts) + body + file_epilogue(artifacts)
    return component


def _read_idioms(
    component: Component, node: cst.FunctionDef, statements: list, outputs: list[Output]
) -> tuple[list[cst.BaseStatement], list[Output]]:
    """Our writer's idioms out of the body: pickled values (the outputs they stand for) and JSON
    taken as text; sets the component's parameters."""
    artifacts = component.artifacts
    statements, pickled = strip_writer_idiom(statements, artifacts, {o.name for o in outputs})
    params = _params(node, artifacts)
    texts = {p.name for p in params if p.type.expr == "str" and p.name not in artifacts}
    statements, component.json_text = strip_json_text(statements, texts)
    component.params = [
        replace(p, type=ANY) if p.name in component.json_text else p for p in params
    ]
    known = {p.name: p.type.expr for p in component.params if p.type.known}
    changed = changed_holders(cst.Module(body=statements))  # its type may not be the input's
    pickled = [o if o.var in changed else _as_input(o, component.params) for o in pickled]
    return statements, inferred(pickled, statements, known, changed)


def inferred(
    outputs: list[Output],
    statements: list[cst.BaseStatement],
    known: dict[str, str],
    changed: set[str] | None = None,
) -> list[Output]:
    """Types of values our writer pickled, from the body's last assignment to each, where the
    type is made of builtins only (classes defined inside the body are unknown elsewhere) and
    the body does not change the value in place after it (``changed``: the names it may change,
    found here when not given). ``known``: the types of the inputs."""
    env = TypeEnv(dict(known))
    helpers = {}
    for stmt in statements:
        if isinstance(stmt, cst.FunctionDef) and stmt.returns is None:  # a helper copied in
            kind = returned_type(stmt, TypeEnv(dict(known), helpers=helpers))
            if kind:
                helpers[stmt.name.value] = kind
    env = TypeEnv(dict(known), helpers=helpers)  # this function's own: bound in place below
    for stmt in statements:
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
        if isinstance(small, cst.Assign) and isinstance(small.targets[0].target, cst.Name):
            kind = infer(small.value, env)
            env.names[small.targets[0].target.value] = kind or ""  # "": not known now
    nones = _assigned_none(statements)
    if changed is None:
        changed = changed_holders(cst.Module(body=statements))
    return [
        _maybe_none(_typed(o, None if o.var in changed else env.get(o.var)), o.var in nones)
        for o in outputs
    ]


def _assigned_none(statements: list[cst.BaseStatement]) -> set[str]:
    """Names the body sets to ``None`` somewhere (``x = None`` before a ``try``, as @catch does)."""
    finder = _NoneAssignments()
    for stmt in statements:
        walk(stmt, finder)
    return finder.found


class _NoneAssignments(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == "None":
            self.found.update(
                t.target.value for t in node.targets if isinstance(t.target, cst.Name)
            )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a helper's locals are its own

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def _maybe_none(output: Output, none: bool) -> Output:
    """A value of no known type that may be None is ``typing.Any | None``: Flyte carries None
    only in an Optional."""
    if not none or output.type.known or output.type.expr != "typing.Any":
        return output
    return replace(output, type=TypeRef("typing.Any | None", "fallback"))


def _as_input(output: Output, params: list[Param]) -> Output:
    """An output our writer left unannotated because its input of the same name is typed."""
    typed = next((p.type for p in params if p.name == output.var and p.type.known), None)
    return replace(output, type=typed) if typed and not output.type.known else output


def _typed(output: Output, kind: str | None) -> Output:
    kind = annotation(kind)
    if output.type.known or not kind or set(re.findall(r"[A-Za-z_.]+", kind)) - BUILTIN_TYPES:
        return output
    return replace(output, type=TypeRef(kind, "inferred"))


def output_aliases(component: Component) -> dict[str, str]:
    """KFP output key → model output name (our writer's ``x_out`` artifact carries ``x``)."""
    by_local = {o.var: o.name for o in component.outputs}
    return {
        a.name: by_local[a.value]
        for a in component.artifacts.values()
        if a.direction == "output" and a.value is not None
    }


def _carried(artifact: ArtifactParam) -> TypeRef:
    """What a file artifact travels as in the model: its value for ``InputPath(int)`` /
    ``OutputPath(str)``, else the file's bytes."""
    if artifact.cls == "list":  # Input[List[Artifact]]: a Collected list of files
        return TypeRef("list[bytes]", "annotation")
    return TypeRef(artifact.parameter or "bytes", "annotation")


def _is_plain_output(artifact: ArtifactParam) -> bool:
    return artifact.direction == "output" and artifact.value is None


def _named_single(outputs: list[Output], statements: list[cst.BaseStatement]) -> list[Output]:
    """``return message`` names the single output ``message`` (the model's convention)."""
    final = return_of(statements[-1]) if statements else None
    if len(outputs) != 1 or final is None or not isinstance(final.value, cst.Name):
        return outputs
    if ReturnFinder.has_return(statements[:-1]):
        return outputs
    return [Output(final.value.value, outputs[0].type)]


def _decorator_args(node: cst.FunctionDef) -> dict[str, str]:
    for deco in node.decorators:
        if isinstance(deco.decorator, cst.Call):
            return {a.keyword.value: code(a.value) for a in deco.decorator.args if a.keyword}
    return {}


def _all_params(node: cst.FunctionDef) -> list[cst.Param]:
    return [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]


def _artifacts(node: cst.FunctionDef, names: KfpNames) -> dict[str, ArtifactParam]:
    found = {}
    for p in _all_params(node):
        if p.annotation is not None:
            artifact = artifact_param(p.name.value, p.annotation.annotation, names)
            if artifact is not None:
                found[p.name.value] = artifact
    return found


def _params(node: cst.FunctionDef, artifacts: dict[str, ArtifactParam]) -> list[Param]:
    """The inputs: every parameter except output artifacts."""
    params = []
    for p in _all_params(node):
        artifact = artifacts.get(p.name.value)
        if artifact is not None and artifact.direction == "output":
            continue
        kind = annotation_type(p.annotation.annotation if p.annotation else None)
        if artifact is not None:
            # our writer's pickled value has the type it annotated; a plain artifact is its bytes
            kind = artifact.type if artifact.value is not None else _carried(artifact)
        default = code(p.default) if p.default is not None else None
        params.append(Param(p.name.value, kind, default))
    return params


def _outputs(
    node: cst.FunctionDef, names: KfpNames, tuples: dict[str, list], span: Span
) -> list[Output]:
    """Outputs from the return annotation: one value, an inline NamedTuple, or a module class."""
    if node.returns is None:
        return []
    ann = node.returns.annotation
    if isinstance(ann, cst.Name) and ann.value == "None":
        return []
    if isinstance(ann, cst.Call) and names.resolve(ann.func) in ("NamedTuple", "namedtuple"):
        return named_fields(ann, span)
    if isinstance(ann, cst.Name) and ann.value in tuples:
        return [Output(n, t) for n, t in tuples[ann.value]]
    return [Output(SINGLE, annotation_type(ann))]


def named_fields(call: cst.Call, span: Span) -> list[Output]:
    """``NamedTuple("O", [("a", int)])`` or ``NamedTuple("O", a=int)``: its fields."""
    fields = call.args[1].value if len(call.args) > 1 and not call.args[1].keyword else None
    if isinstance(fields, cst.SimpleString):  # collections.namedtuple("O", "a b")
        words = str(fields.evaluated_value).replace(",", " ").split()
        fields = cst.List([cst.Element(cst.SimpleString(repr(w))) for w in words])
    if isinstance(fields, (cst.List, cst.Tuple)):
        outputs = [named_field(e.value, span) for e in fields.elements]
        names = [o.name for o in outputs]
        twice = next((n for n in names if names.count(n) > 1), None)
        if twice is not None:  # NamedTuple refuses it too
            raise error("TP172", f"NamedTuple field {twice!r} is named twice", span)
        return outputs
    keywords = [a for a in call.args if a.keyword is not None]
    if fields is None and keywords:
        return [Output(a.keyword.value, annotation_type(a.value)) for a in keywords]  # type: ignore[union-attr]
    raise error("TP172", "NamedTuple outputs need a literal list of fields", span)


def named_field(node: cst.BaseExpression, span: Span) -> Output:
    if isinstance(node, cst.SimpleString):  # collections.namedtuple("O", ["a", "b"]): untyped
        return Output(_field_name(str(node.evaluated_value), span), ANY)
    if (
        isinstance(node, cst.Tuple)
        and len(node.elements) == 2
        and isinstance(node.elements[0].value, cst.SimpleString)
    ):
        name = _field_name(str(node.elements[0].value.evaluated_value), span)
        return Output(name, annotation_type(node.elements[1].value))
    raise error("TP172", f"cannot read NamedTuple field {code(node)}", span)


def _field_name(name: str, span: Span) -> str:
    if not name.isidentifier() or iskeyword(name):  # NamedTuple refuses it too
        raise error("TP172", f"NamedTuple field {name!r} is not a Python name", span)
    return name


def _statements(node: cst.FunctionDef) -> list[cst.BaseStatement]:
    body = node.body
    if isinstance(body, cst.IndentedBlock):
        return list(body.body)
    return [cst.SimpleStatementLine(body=list(body.body))]


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, cst.SimpleString)
    )


# the bodies of the writer's "chosen" components (frameworks/kfp/writer/helpers.py)
PASSES_ON = ("return value", "import shutil shutil.copyfile(value.path, chosen.path)")


def _only_pass(statements: list[cst.BaseStatement]) -> bool:
    return all(  # nothing but `pass`, or nothing at all (a docstring only)
        isinstance(stmt, cst.SimpleStatementLine)
        and all(isinstance(small, cst.Pass) for small in stmt.body)
        for stmt in statements
    )


def _raises_no_case(statements: list[cst.BaseStatement]) -> bool:
    """Our writer's else-branch task: it only raises Metaflow's "not in the available cases"."""
    if len(statements) != 1 or not isinstance(statements[0], cst.SimpleStatementLine):
        return False
    small = statements[0].body[0]
    return isinstance(small, cst.Raise) and "not in the available cases" in code(small)
