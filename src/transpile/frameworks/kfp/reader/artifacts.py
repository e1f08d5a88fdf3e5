"""KFP artifacts (``Input[Dataset]``, ``Output[Model]`` ...) → neutral values.

A KFP artifact is a file the component reads or writes at ``.path``. In the model it travels as
the file's ``bytes``: an output artifact ``out`` is a local ``SimpleNamespace(path=<temp file>)``
during the body and becomes the file's bytes at the end; an input artifact gets a temporary file
written from those bytes. Bodies keep using ``.path`` and ``.metadata`` unchanged.

Our KFP writer's own idiom is read back as plain values: ``x_out: Output[Artifact]`` filled by
``save_value(x, x_out.path)`` is the output ``x`` (``save_value(x_, x_out.path)``: the output ``x``
held in the local ``x_``); ``x: Input[Artifact]`` read by ``x = load_value(x.path)`` is the input
``x``. Their types are the writer's annotations: ``x: list[int] = load_value(x.path)`` for an
input, a bare ``x: list[int]`` in the body for an output; without one a type is unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from transpile.model.ir import ANY, Output, TypeRef
from transpile.reading.cst import code, dotted

from .names import KfpNames

ARTIFACT_CLASSES = {
    "Artifact",
    "Dataset",
    "Model",
    "Metrics",
    "ClassificationMetrics",
    "SlicedClassificationMetrics",
    "HTML",
    "Markdown",
}
SAVE, LOAD = "save_value", "load_value"
PARAMETER_TYPES = {"str", "int", "float", "bool", "list", "dict", "List", "Dict"}
PATH = "path"  # InputPath / OutputPath: a str path instead of an artifact object
CARRIES = re.compile(r"(\w+)_out(?:_\d+)?")  # our writer's name for the artifact of output x


@dataclass
class ArtifactParam:
    name: str
    direction: str  # "input" | "output"
    cls: str
    value: str | None = None  # our writer's idiom: the local this artifact carries
    type: TypeRef = ANY  # that value's type, where the writer annotated it
    parameter: str | None = None  # InputPath(int) / OutputPath(str): a value passed as a file
    directory: bool = False  # the body uses its path as a folder (os.makedirs(out.path), ...)

    @property
    def output(self) -> str:
        """The output an idiom artifact stands for: ``x`` for ``x_out``, else its local."""
        carried = CARRIES.fullmatch(self.name)
        return carried.group(1) if carried else str(self.value)


def artifact_param(name: str, ann: cst.BaseExpression, names: KfpNames) -> ArtifactParam | None:
    """``Input[Dataset]`` / ``Output[Model]`` / a bare ``Dataset`` annotation, else None."""
    if isinstance(ann, cst.Subscript) and len(ann.slice) == 1:
        wrapper = names.resolve(ann.value)
        inner = ann.slice[0].slice
        cls = names.resolve(inner.value) if isinstance(inner, cst.Index) else None
        if wrapper in ("Input", "Output", "InputPath", "OutputPath") and cls in ARTIFACT_CLASSES:
            direction = "output" if wrapper.startswith("Output") else "input"
            return ArtifactParam(name, direction, cls)
        if (
            wrapper == "Input"
            and isinstance(inner, cst.Index)
            and _artifact_list(inner.value, names)
        ):
            return ArtifactParam(name, "input", "list")  # a Collected list of artifacts
    if isinstance(ann, cst.Call) and names.resolve(ann.func) in ("InputPath", "OutputPath"):
        direction = "output" if names.resolve(ann.func) == "OutputPath" else "input"
        kind = _parameter_type(ann.args[0].value) if ann.args else None
        # the parameter is the file's path itself; with a parameter type, the file holds a value
        return ArtifactParam(name, direction, PATH, parameter=kind)
    if names.resolve(ann) in ARTIFACT_CLASSES:
        return ArtifactParam(name, "input", str(names.resolve(ann)))
    return None


def _parameter_type(node: cst.BaseExpression) -> str | None:
    """``int`` in ``OutputPath(int)``: a KFP parameter type (``OutputPath("Dataset")`` and
    ``OutputPath()`` are artifacts)."""
    text = code(node).replace("typing.", "")
    for old, new in (("List[", "list["), ("Dict[", "dict[")):
        text = text.replace(old, new)
    head = text.partition("[")[0]
    return text if head in PARAMETER_TYPES else None


def _artifact_list(node: cst.BaseExpression, names: KfpNames) -> bool:
    if not (isinstance(node, cst.Subscript) and dotted(node.value) in ("list", "List")):
        return False
    inner = node.slice[0].slice if len(node.slice) == 1 else None
    return isinstance(inner, cst.Index) and names.resolve(inner.value) in ARTIFACT_CLASSES


def strip_writer_idiom(
    statements: list[cst.BaseStatement], artifacts: dict[str, ArtifactParam], returned: set[str]
) -> tuple[list[cst.BaseStatement], list[Output]]:
    """Drop our writer's save_value/load_value lines and output annotations; the outputs they
    stand for (``returned``: the names of the outputs the component returns)."""
    kept, saved = [], []
    for stmt in statements:
        found = _idiom(stmt, artifacts)
        if found is None:
            kept.append(stmt)
        elif found.direction == "output" and all(found is not s for s in saved):
            saved.append(found)  # saved twice: one output, the file holding the last value
    by_local = {a.value: a for a in saved}
    kept = [s for s in kept if not _declares(s, by_local)]
    return kept, [_output(a, returned | {b.output for b in saved if b is not a}) for a in saved]


def _output(artifact: ArtifactParam, others: set[str]) -> Output:
    """The output, named after its artifact unless that name is another output's."""
    name = artifact.output if artifact.output not in others else str(artifact.value)
    return Output(name, artifact.type, None if name == artifact.value else artifact.value)


def _declares(stmt: cst.BaseStatement, saved: dict[str | None, ArtifactParam]) -> bool:
    """A bare ``x: T`` for a saved local ``x``: the writer's note of the output's type."""
    small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
    if not (isinstance(small, cst.AnnAssign) and small.value is None and len(stmt.body) == 1):
        return False
    target = small.target.value if isinstance(small.target, cst.Name) else None
    if target not in saved:
        return False
    saved[target].type = TypeRef(code(small.annotation.annotation), "annotation")
    return True


def _idiom(stmt: cst.BaseStatement, artifacts: dict[str, ArtifactParam]) -> ArtifactParam | None:
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    if isinstance(small, cst.Expr) and _call_of(small.value, SAVE):
        args = small.value.args  # type: ignore[attr-defined]
        target = _path_of(args[1].value) if len(args) > 1 else None
        if target in artifacts and isinstance(args[0].value, cst.Name):
            artifacts[target].value = args[0].value.value
            return artifacts[target]
    if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
        return _load_idiom(small, artifacts)
    return None


def _load_idiom(small: cst.Assign | cst.AnnAssign, artifacts: dict[str, ArtifactParam]):
    """``x = load_value(x.path)``, or ``x: T = ...`` with the value's type."""
    source = _loads(small.value)  # type: ignore[arg-type]
    target = small.targets[0].target if isinstance(small, cst.Assign) else small.target
    if source not in artifacts or not (isinstance(target, cst.Name) and target.value == source):
        return None
    artifacts[source].value = source
    if isinstance(small, cst.AnnAssign):
        artifacts[source].type = TypeRef(code(small.annotation.annotation), "annotation")
    return artifacts[source]


def _loads(node: cst.BaseExpression) -> str | None:
    """The artifact ``load_value(x.path)`` reads, or ``[load_value(a.path) for a in x]``'s x."""
    if _call_of(node, LOAD):
        return _path_of(node.args[0].value)  # type: ignore[attr-defined]
    if isinstance(node, cst.ListComp) and _call_of(node.elt, LOAD):
        loop = node.for_in
        item = _path_of(node.elt.args[0].value)  # type: ignore[attr-defined]
        if loop.inner_for_in is None and item == dotted(loop.target):
            return dotted(loop.iter)
    return None


def _call_of(node: cst.BaseExpression, name: str) -> bool:
    return isinstance(node, cst.Call) and dotted(node.func) == name and bool(node.args)


def _path_of(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Attribute) and node.attr.value == "path":
        return dotted(node.value)
    return None


DIRECTORY_MARK = b"transpile-directory\n"  # the bytes of a folder artifact: this, then a tar
DIRECTORY_USES = (
    r"os\.(makedirs|mkdir|listdir|scandir|walk)\({p}\b",
    r"os\.path\.join\({p}\b",
    r"(pathlib\.)?Path\({p}\)(/|\.(iterdir|glob|rglob|mkdir)\b)",
    r"copytree\([^)]*\b{p}\b",
    r"\b{p}\+['\"]/",
)


def mark_directories(artifacts: dict[str, ArtifactParam], body: str) -> None:
    """Artifacts whose path the body uses as a folder: they travel as a tar of its files."""
    compact = re.sub(r"\s+", "", body)
    for art in artifacts.values():
        if art.value is not None or art.parameter or art.cls == "list":
            continue
        path = re.escape(art.name if art.cls == PATH else f"{art.name}.path")
        art.directory = any(re.search(u.format(p=path), compact) for u in DIRECTORY_USES)


def file_prelude(artifacts: dict[str, ArtifactParam]) -> str:
    """Code at the start of a body: a file for each input artifact, a path for each output."""
    plain = [a for a in artifacts.values() if a.value is None]
    if not plain:
        return ""
    lines = ["import tempfile"]
    if any(a.parameter not in (None, "str") for a in plain if a.direction == "input"):
        lines.insert(0, "import json")
    if any(a.cls != PATH for a in plain):
        lines.append("from types import SimpleNamespace")
    if any(a.directory and a.direction == "input" for a in plain):
        lines[:0] = ["import io", "import tarfile"]
    lines.append("")
    for art in plain:
        if art.direction == "input" and art.directory:
            lines += [
                f"if {art.name}.startswith({DIRECTORY_MARK!r}):  # a folder, as a tar of its files",
                "    _folder = tempfile.mkdtemp()",
                f"    _data = io.BytesIO({art.name}[{len(DIRECTORY_MARK)}:])",
                "    with tarfile.open(fileobj=_data) as _archive:",
                "        _archive.extractall(_folder, filter='data')",
                f"    {art.name} = {_handle(art, '_folder')}",
                "else:",
                *(f"    {line}" for line in _input_file(art)),
            ]
            continue
        if art.direction == "input" and art.parameter:
            text = art.name if art.parameter == "str" else f"json.dumps({art.name})"
            lines += [
                "with tempfile.NamedTemporaryFile('w', delete=False) as _artifact_file:",
                f"    _artifact_file.write({text})",
                f"{art.name} = _artifact_file.name",
            ]
        elif art.direction == "input" and art.cls == "list":  # a Collected list of artifacts
            lines += [
                f"{art.name}_files = []",
                f"for _artifact_data in {art.name}:",
                "    with tempfile.NamedTemporaryFile(delete=False) as _artifact_file:",
                f"        _artifact_file.write({_as_bytes('_artifact_data')})",
                f"    {art.name}_files.append({_handle(art, '_artifact_file.name')})",
                f"{art.name} = {art.name}_files",
            ]
        elif art.direction == "input":
            lines += _input_file(art)
        else:
            path = f"tempfile.mkdtemp() + {'/' + art.name!r}"
            lines.append(f"{art.name} = {_handle(art, path)}")
            if art.cls == "Metrics":  # Metrics.log_metric(name, value) sets metadata[name]
                lines.append(f"{art.name}.log_metric = {art.name}.metadata.__setitem__")
    return "\n".join(lines) + "\n"


def file_epilogue(artifacts: dict[str, ArtifactParam]) -> str:
    """Code at the end of a body: each output artifact's file read back as its bytes."""
    lines = []
    metrics = any(a.cls == "Metrics" for a in artifacts.values() if _plain_output(a))
    if metrics or any(
        a.parameter not in (None, "str") for a in artifacts.values() if _plain_output(a)
    ):
        lines.append("import json")
    folders = any(a.directory for a in artifacts.values() if _plain_output(a))
    if metrics or folders:
        lines.append("import os")
    if folders:
        lines += ["import io", "import tarfile"]
    for art in artifacts.values():
        if _plain_output(art) and art.directory:
            path = art.name if art.cls == PATH else f"{art.name}.path"
            lines += [
                f"if os.path.isdir({path}):  # a folder travels as a tar of its files",
                "    _data = io.BytesIO()",
                "    with tarfile.open(fileobj=_data, mode='w') as _archive:",
                f"        _archive.add({path}, arcname='.')",
                f"    {art.name} = {DIRECTORY_MARK!r} + _data.getvalue()",
                "else:",
                f"    with open({path}, 'rb') as _artifact_file:",
                f"        {art.name} = _artifact_file.read()",
            ]
            continue
        if _plain_output(art) and art.cls == "Metrics":
            # the metrics logged are the artifact's metadata; its file is seldom written
            lines += [
                f"if os.path.exists({art.name}.path):",
                f"    with open({art.name}.path, 'rb') as _artifact_file:",
                f"        {art.name} = _artifact_file.read()",
                "else:",
                f"    {art.name} = json.dumps({art.name}.metadata).encode()",
            ]
            continue
        if _plain_output(art) and art.parameter:
            # as KFP reads an OutputPath parameter: text as is, anything else as JSON
            read = {"str": "{}", "bool": "json.loads({}.lower())"}.get(
                art.parameter, "json.loads({})"
            )
            lines += [
                f"with open({art.name}) as _artifact_file:",
                f"    {art.name} = {read.format('_artifact_file.read()')}",
            ]
        elif _plain_output(art):
            path = art.name if art.cls == PATH else f"{art.name}.path"
            lines += [
                f"with open({path}, 'rb') as _artifact_file:",
                f"    {art.name} = _artifact_file.read()",
            ]
    return "\n".join(lines) + "\n" if lines else ""


def _input_file(art: ArtifactParam) -> list[str]:
    """An input artifact's bytes written to a file the body opens."""
    return [
        "with tempfile.NamedTemporaryFile(delete=False) as _artifact_file:",
        f"    _artifact_file.write({_as_bytes(art.name)})",
        f"{art.name} = {_handle(art, '_artifact_file.name')}",
    ]


def _plain_output(art: ArtifactParam) -> bool:
    return art.value is None and art.direction == "output"


def _as_bytes(name: str) -> str:
    """A file parameter arrives as text; an artifact from another step as bytes."""
    return f"{name} if isinstance({name}, bytes) else str({name}).encode()"


def _handle(art: ArtifactParam, path: str) -> str:
    """What the body sees: the path itself (``*Path`` parameters) or an artifact-like object."""
    return path if art.cls == PATH else f"SimpleNamespace(path={path}, metadata={{}})"
