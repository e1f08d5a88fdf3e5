"""FlyteFile and FlyteDirectory in task signatures → bytes between steps, files inside them.

Flyte uploads a task's FlyteFile output and hands the next task a FlyteFile it can ``open()``,
``download()`` or use as a path. In the model the file travels as its ``bytes`` (a folder: a tar
of its files after a mark, as the KFP reader carries folder artifacts), and each step's body
gets its files back: a prelude writes the bytes to a temporary file (folder) and wraps it in a
local ``FlyteFile`` (``FlyteDirectory``), a small class the output module defines in place of
flytekit's; an epilogue reads each file (folder) output back as bytes. The body runs unchanged.
"""

from __future__ import annotations

import libcst as cst

from transpile.model.ir import Output, TypeRef

FILE_TYPES = {"FlyteFile", "JoblibSerializedFile", "PythonPickledFile", "HTMLPage", "CSVFile"}
DIRECTORY_TYPES = {"FlyteDirectory", "TensorboardLogs", "TFRecordsDirectory"}
MARK = b"transpile-directory\n"  # the same mark the KFP reader gives a folder's tar
FILE_MARK = b"transpile-file\n"  # then the file's name, a newline, and its bytes


def _shim(name: str, remote: str, what: str, extra: str = "") -> str:
    """The output module's own ``name`` class: a local path with Flyte's ways to reach it."""
    return f'''\
class {name}(os.PathLike):
    """Added by transpile: Flyte's {name}, {what}."""

    def __init__(self, path, {remote}=None, **_):
        self.path = os.fspath(path)
        self.{remote} = {remote}

    def __class_getitem__(cls, _format):
        return cls

    def __fspath__(self):
        return self.path

    def __str__(self):
        return self.path

    def download(self):
        return self.path{extra}'''


OPEN = """

    def open(self, mode="r", **kwargs):
        return open(self.path, mode, **kwargs)"""
SHIM = _shim("FlyteFile", "remote_path", "a local file (steps pass its bytes)", OPEN)
DIRECTORY_SHIM = _shim(
    "FlyteDirectory", "remote_directory", "a local folder (steps pass a tar of it)"
)
SHIMS = {"file": ("FlyteFile", SHIM), "directory": ("FlyteDirectory", DIRECTORY_SHIM)}


def kind_of(annotation: str | None, resolve) -> str | None:
    """ "file", "directory" or None for a task annotation (``FlyteFile[typing.TypeVar("csv")]``
    too); ``resolve`` maps an expression to flytekit's name for it."""
    if not annotation:
        return None
    try:
        node = cst.parse_expression(annotation)
    except cst.ParserSyntaxError:
        return None
    if isinstance(node, cst.Subscript):
        node = node.value
    name = resolve(node)
    if name in FILE_TYPES:
        return "file"
    if name in DIRECTORY_TYPES:
        return "directory"
    return None


def prelude(name: str, kind: str) -> list[str]:
    """The input ``name`` (bytes) as the file or folder the body expects."""
    if kind == "file":  # its name, a newline, its bytes: downstream it keeps its name
        return [
            f"_name, _, _content = {name}[{len(FILE_MARK)}:].partition(b'\\n')",
            "_path = os.path.join(tempfile.mkdtemp(), _name.decode())",
            "with open(_path, 'wb') as _flyte_file:",
            "    _flyte_file.write(_content)",
            f"{name} = FlyteFile(_path)",
        ]
    return [
        "_folder = tempfile.mkdtemp()",
        f"with tarfile.open(fileobj=io.BytesIO({name}[{len(MARK)}:])) as _archive:",
        "    _archive.extractall(_folder, filter='data')",
        f"{name} = FlyteDirectory(_folder)",
    ]


def epilogue(name: str, kind: str) -> list[str]:
    """The output ``name`` (a FlyteFile, a path) read back as bytes."""
    if kind == "file":
        return [
            f"with open(os.fspath({name}), 'rb') as _flyte_file:",
            f"    _name = os.path.basename(os.fspath({name})).encode()",
            f"    {name} = {FILE_MARK!r} + _name + b'\\n' + _flyte_file.read()",
        ]
    return [
        "_data = io.BytesIO()",
        "with tarfile.open(fileobj=_data, mode='w') as _archive:",
        f"    _archive.add(os.fspath({name}), arcname='.')",
        f"{name} = {MARK!r} + _data.getvalue()",
    ]


def imports(inputs: set[str], outputs: set[str]) -> list[str]:
    """The modules the prelude (for ``inputs`` kinds) and the epilogue (``outputs``) use."""
    needed = {"tempfile"} if inputs else set()
    needed |= {"os"} if "file" in inputs else set()
    needed |= {"os"} if outputs else set()
    needed |= {"io", "tarfile"} if "directory" in inputs | outputs else set()
    return [f"import {module}" for module in sorted(needed)]


def carried(body: str, inputs: dict[str, str], outputs: tuple[Output, ...], kinds: dict[str, str]):
    """``body`` with the prelude for file ``inputs`` {name: kind} and the epilogue for file
    outputs (``kinds``: output name → kind); the outputs retyped as bytes."""
    if not inputs and not kinds:
        return body, outputs
    lines = imports(set(inputs.values()), set(kinds.values()))
    for name, kind in inputs.items():
        lines += prelude(name, kind)
    after: list[str] = []
    for output in outputs:
        if output.name in kinds:
            after += epilogue(output.name, kinds[output.name])
    text = "\n".join([*lines, body.rstrip("\n"), *after]) + "\n"
    retyped = tuple(
        Output(o.name, TypeRef("bytes", "annotation")) if o.name in kinds else o for o in outputs
    )
    return text, retyped
