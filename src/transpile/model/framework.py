"""What a framework package declares about itself (``FRAMEWORK = Framework(...)`` in its
``__init__.py``); ``transpile.frameworks`` finds the declarations and nothing else names a
framework.

A declaration is data, cheap to import: the reader and writer are module names, imported only when a
file is read or written, so ``lint`` and ``--help`` never load them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .capabilities import Column

# (members of a foreach body, step name → emitted name, emitted code) → the construct it became
MapConstruct = Callable[[tuple[str, ...], dict[str, str], str], str]


@dataclass(frozen=True)
class Framework:
    name: str  # what --from/--to, lint --target and the report call it
    title: str  # how its users name it in prose ("Kubeflow Pipelines")
    rank: int  # its place wherever frameworks are listed (choices, tables, messages)
    import_roots: tuple[str, ...]  # top-level packages whose import identifies its source files
    reader: str | None = None  # module with read(module, path, spans) -> (Pipeline, diagnostics)
    writer: str | None = None  # module with write(pipeline) -> (code, diagnostics)
    # module with upgrade(text, path) -> (code, diagnostics) | None: ``--to`` its own framework
    # brings an older version's file up to date (None: nothing to change)
    upgrader: str | None = None
    capabilities: Column = field(default_factory=dict)  # its column of the capability table
    # decorators that declare a step or a pipeline (a keyword there is an option, not a name)
    declarations: frozenset[str] = frozenset()
    map_construct: MapConstruct | None = None  # what a foreach becomes here (report pictures)
    pipeline_noun: str = "pipeline"  # what its users call a pipeline ("flow", "workflow")
    class_pipelines: bool = False  # a pipeline is a class, named in CamelCase (a Metaflow flow)
    # a join receives Metaflow's ``inputs``: the reader's shim that rebuilds it stays as written
    # (other targets get plain values where the body only reads them: writing/unshim.py)
    join_inputs: bool = False
    # an early writer: convert, report and verify write it (``--to``), but it is not yet among
    # the default targets lint checks portability to, nor in the writers every model must pass
    early_writer: bool = False

    @property
    def package(self) -> str:
        """The package its source files import (``flytekit`` for Flyte)."""
        return self.import_roots[0]

    def construct_for_map(self, members: tuple[str, ...], names: dict[str, str], code: str) -> str:
        return self.map_construct(members, names, code) if self.map_construct else "foreach"
