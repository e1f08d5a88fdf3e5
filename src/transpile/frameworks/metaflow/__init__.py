"""Metaflow: ``FlowSpec`` subclasses with ``@step`` methods.

- ``reader/``: ``read.py`` walks a flow (dataflow over ``self.x``: ``scan.py`` finds the flow and
  its steps, ``graph.py`` where branches meet, ``analysis.py`` reads one step with ``step.py``,
  ``join.py`` what a join hands on, ``state.py`` what is known so far, ``added_steps.py`` drops
  the steps our writer adds).
- ``writer/``: ``write.py`` writes a flow (``graph.py`` the step graph, ``data.py`` the artifacts
  each step hands on, ``names.py`` step and artifact names, ``body.py`` step bodies, ``options.py``
  decorators).
"""

from __future__ import annotations

from transpile.model.framework import Framework

FRAMEWORK = Framework(
    name="metaflow",
    title="Metaflow",
    pipeline_noun="flow",
    class_pipelines=True,
    join_inputs=True,
    rank=1,
    import_roots=("metaflow",),
    reader="transpile.frameworks.metaflow.reader.read",
    writer="transpile.frameworks.metaflow.writer.write",
    declarations=frozenset({"step"}),
    map_construct=lambda members, names, code: "foreach",
    capabilities={
        "retry": ("exact", "@retry(times=N)"),
        "retry_delay": ("exact", "@retry(minutes_between_retries=M)"),
        "timeout": ("exact", "@timeout(seconds=, minutes=, hours=)"),
        "resources": ("exact", "@resources(cpu=, memory=, gpu=, disk=)"),
        "environment": ("exact", "@environment(vars={...})"),
        "packages": ("exact", "@pypi(packages=...) / @conda(libraries=...)"),
        "image": ("exact", "@kubernetes(image=...) / @batch(image=...)"),
        "cache": ("none", "Metaflow never reuses results (only `resume` skips finished steps)"),
        "custom": ("exact", "the decorator, as written"),
        "catch": ("exact", "@catch(var=...)"),
        "card": ("exact", "@card"),
        "compute_platform": ("exact", "@kubernetes / @batch arguments"),
        "secrets": ("exact", "@secrets(sources=[...])"),
        "schedule": ("exact", "@schedule(cron=...|daily|hourly|weekly)"),
        "schedule_timezone": ("exact", "@schedule(timezone=...)"),
        "project": ("exact", "@project(name=...)"),
        "trigger": ("exact", "@trigger(event=...) / @trigger_on_finish(flow=...)"),
        "exit_hook": ("exact", "@exit_hook"),
        "run_context": ("exact", "current.run_id, current.task_id, ..."),
        "tuple_results": ("exact", "artifacts keep their Python type"),
        "launch_settings": (
            "none",
            "a flow has no place for it: set it up where the flow is deployed",
        ),
    },
)
