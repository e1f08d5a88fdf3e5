"""What writing one Flyte module keeps track of: the pipeline, the names taken, the imports and
the task functions; ``FlowEmitter`` (flow.py) and ``FlyteWriter`` (write.py) both work on it."""

from __future__ import annotations

import ast
import builtins

from transpile.model.diagnostics import Diagnostic
from transpile.model.ir import Pipeline
from transpile.writing.render import task_functions
from transpile.writing.types import defined_names

from .options import OptionMapper
from .types import flyte_type

# Names the emitted module imports or relies on: a task function must not shadow them.
FLYTE_NAMES = frozenset(dir(builtins)) | {
    "task", "workflow", "dynamic", "map_task", "conditional", "current_context", "Resources",
    "ImageSpec", "LaunchPlan", "CronSchedule", "FlyteFile", "Secret", "functools", "typing",
    "NamedTuple", "SimpleNamespace", "timedelta", "dataclass", "argparse",
}  # fmt: skip


class ModuleState:
    def __init__(self, pipeline: Pipeline):
        self.p = pipeline
        self.diagnostics: list[Diagnostic] = []
        self.flytekit: set[str] = {"task", "workflow"}
        self.std_imports: set[str] = set()
        self.client: set[str] = set()  # kubernetes.client names the tasks' pod templates use
        self.classes = frozenset(defined_names(pipeline.module.definitions, classes_only=True))
        taken = set(defined_names(pipeline.module.definitions)) | _imported_names(
            pipeline.module.imports
        )
        taken |= FLYTE_NAMES
        self.functions, renamed = task_functions(pipeline.steps, taken, "task")
        self.diagnostics += renamed
        self.taken = taken | set(self.functions.values())
        self.options = OptionMapper(self.diagnostics)
        self.todos: dict[str, list[str]] = {}
        self.flytekit_files = False
        self.markdown_decks = False  # a card's Markdown shown in a Deck: MarkdownRenderer
        self.exit_modules: set[str] = set()  # modules a rewritten sys.exit no longer uses

    def ftype(self, expr: str) -> str:
        text = flyte_type(expr, self.classes)
        if "typing." in text:
            self.std_imports.add("import typing")
        return text


def _imported_names(imports: tuple[str, ...]) -> set[str]:
    names: set[str] = set()
    for node in ast.parse("\n".join(imports)).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names
