"""Flyte (flytekit): ``@task`` functions and ``@workflow`` bodies.

- ``reader/``: ``read.py`` reads a module (``module.py`` finds tasks and workflows, ``task.py``
  signatures, ``workflow.py`` workflow bodies with ``control.py`` (map_task, @dynamic) and
  ``conditional.py``, ``values.py`` promises, ``shape.py`` nests the calls as a series-parallel
  graph, ``options.py`` task settings, ``names.py`` import spellings).
- ``writer/``: ``write.py`` writes a module (``module_state.py`` the names, imports and task
  functions it tracks, ``flow.py`` the workflow, ``types.py`` Flyte types, ``options.py`` task
  settings).
"""

from __future__ import annotations

import re

from transpile.model.framework import Framework


def _map_construct(members: tuple[str, ...], names: dict[str, str], code: str) -> str:
    """A one-task foreach body became ``map_task`` where the writer mapped it, else ``@dynamic``."""
    task = re.escape(names.get(members[0], members[0])) if len(members) == 1 else None
    mapped = task and re.search(rf"map_task\((functools\.partial\()?{task}\b", code)
    return "map_task" if mapped else "@dynamic"


FRAMEWORK = Framework(
    name="flyte",
    title="Flyte",
    pipeline_noun="workflow",
    rank=2,
    import_roots=("flytekit", "union"),  # union: the Union.ai SDK, flytekit re-exported
    reader="transpile.frameworks.flyte.reader.read",
    writer="transpile.frameworks.flyte.writer.write",
    declarations=frozenset({"task", "workflow"}),
    map_construct=_map_construct,
    capabilities={
        "retry": ("exact", "@task(retries=N)"),
        "retry_delay": ("none", "Flyte has no per-task retry delay"),
        "timeout": ("exact", "@task(timeout=timedelta(...))"),
        "resources": ("exact", "@task(requests=Resources(...), limits=Resources(...))"),
        # flytekit 1.16 sets them in the task's container only: a local run reads none
        "environment": (
            "exact",
            "@task(environment={...}), set in the task's container (a local run sets none)",
        ),
        "packages": ("exact", "@task(container_image=ImageSpec(packages=[...]))"),
        "image": ("exact", "@task(container_image=...)"),
        "cache": ("exact", "@task(cache=True, cache_version=...)"),
        "custom": ("none", "a TODO with the decorator's text"),
        "catch": (
            "approximate",
            "the exception is kept as its text, not a MetaflowExceptionWrapper",
        ),
        "card": ("approximate", "@task(enable_deck=True) shows a Flyte Deck instead of a card"),
        "compute_platform": ("none", "set per project/domain in Flyte's platform configuration"),
        "secrets": ("approximate", "@task(secret_requests=[Secret(...)]) with different names"),
        "schedule": ("exact", "LaunchPlan with CronSchedule"),
        "schedule_timezone": ("none", "CronSchedule has no time zone"),
        "project": (
            "approximate",
            "a Flyte project is chosen at registration (pyflyte register -p)",
        ),
        "trigger": (
            "none",
            "Flyte has no event triggers in flytekit (use Flyte reactive artifacts)",
        ),
        "exit_hook": ("approximate", "@workflow(on_failure=...)"),
        "run_context": ("approximate", "flytekit.current_context() carries other identifiers"),
        "tuple_results": ("approximate", "Flyte refuses tuple outputs: tuples travel as lists"),
        "launch_settings": ("none", "add it to the workflow's LaunchPlan by hand"),
    },
)
