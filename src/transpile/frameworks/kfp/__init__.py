"""Kubeflow Pipelines v2 (``kfp.dsl``): ``@dsl.component`` functions and ``@dsl.pipeline`` bodies.

- ``reader/``: ``read.py`` reads a module (``component.py`` components with ``artifacts.py``,
  ``returns.py`` and ``json_text.py``; ``pipeline.py`` pipeline bodies with ``control.py``
  (ParallelFor, nested pipelines, ExitHandler) and ``branches.py`` (If/Elif/Else); ``scope.py``,
  ``draft.py``, ``flow.py``, ``settings.py``, ``names.py``, ``shared.py`` the pieces they share).
- ``writer/``: ``write.py`` writes what ``plan.py`` decided (how values travel, how loops run):
  ``component.py`` components, ``flow.py`` the pipeline, ``helpers.py`` the small components it
  adds, ``types.py`` KFP types, ``options.py`` task settings.
"""

from __future__ import annotations

from transpile.model.framework import Framework

FRAMEWORK = Framework(
    name="kfp",
    title="Kubeflow Pipelines",
    pipeline_noun="pipeline",
    rank=3,
    import_roots=("kfp",),
    reader="transpile.frameworks.kfp.reader.read",
    writer="transpile.frameworks.kfp.writer.write",
    declarations=frozenset({"component", "pipeline"}),
    map_construct=lambda members, names, code: "dsl.ParallelFor",
    capabilities={
        "retry": ("exact", "task.set_retry(num_retries=N)"),
        "retry_delay": ("exact", "set_retry(backoff_duration=...)"),
        "timeout": ("none", "the KFP SDK has no task timeout (kfp-kubernetes set_timeout)"),
        "resources": (
            "exact",
            "set_cpu_request/limit, set_memory_request/limit, set_accelerator_limit",
        ),
        "environment": ("exact", "task.set_env_variable(name, value)"),
        "packages": ("exact", "@dsl.component(packages_to_install=[...])"),
        "image": ("exact", "@dsl.component(base_image=...)"),
        "cache": ("exact", "task.set_caching_options(enable_caching=True)"),
        "custom": ("none", "a TODO with the decorator's text"),
        "catch": (
            "approximate",
            "the exception is kept as its text, not a MetaflowExceptionWrapper",
        ),
        "card": ("approximate", "an Output[Markdown] or Output[HTML] artifact"),
        "compute_platform": ("approximate", "kfp-kubernetes settings"),
        "secrets": ("approximate", "kfp-kubernetes use_secret_as_env"),
        "schedule": ("approximate", "a recurring run created with the KFP client"),
        "schedule_timezone": ("exact", "recurring run cron in UTC"),
        "project": ("approximate", "a KFP experiment"),
        "trigger": ("none", "no event triggers in KFP"),
        "exit_hook": ("exact", "dsl.ExitHandler"),
        "run_context": ("approximate", "dsl.PIPELINE_JOB_ID_PLACEHOLDER and friends"),
        "tuple_results": ("approximate", "KFP parameters are JSON: tuples become lists"),
        "launch_settings": (
            "none",
            "KFP takes such settings on a run or a recurring run, not in the pipeline",
        ),
    },
)
