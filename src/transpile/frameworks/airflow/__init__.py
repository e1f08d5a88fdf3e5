"""Apache Airflow (2.x and 3.x): DAGs of TaskFlow ``@task`` functions and Python operators.

- ``reader/``: ``read.py`` finds the DAG (``with DAG(...)``, ``dag = DAG(...)``, ``@dag``) and
  reads its tasks, data edges and ``>>`` dependencies; ``names.py`` the import spellings of both
  major versions. Never imports the DAG file or Airflow.
- ``writer/``: ``write.py`` writes an Airflow 3 TaskFlow module (``from airflow.sdk import dag,
  task``), ``options.py`` task settings.
"""

from __future__ import annotations

from transpile.model.framework import Framework

FRAMEWORK = Framework(
    name="airflow",
    title="Apache Airflow",
    pipeline_noun="DAG",
    rank=4,
    import_roots=("airflow",),
    reader="transpile.frameworks.airflow.reader.read",
    writer="transpile.frameworks.airflow.writer.write",
    upgrader="transpile.frameworks.airflow.upgrade",  # Airflow 2 → 3 (ruff's AIR3 rules)
    early_writer=True,  # issue 18: no mapped task groups or maps in maps yet (TP260)
    declarations=frozenset({"task", "dag"}),
    map_construct=lambda members, names, code: ".expand()",
    capabilities={
        "retry": ("exact", "@task(retries=N) or default_args"),
        "retry_delay": ("exact", "retry_delay=timedelta(...)"),
        "timeout": ("exact", "execution_timeout=timedelta(...)"),
        "resources": ("approximate", "executor_config for the KubernetesExecutor"),
        "environment": ("approximate", "set in the task body or the executor's pod template"),
        "packages": ("approximate", "@task.virtualenv(requirements=[...])"),
        "image": ("approximate", "@task.kubernetes(image=...) or executor_config"),
        "cache": ("none", "Airflow does not reuse earlier results"),
        "custom": ("none", "a TODO with the decorator's text"),
        "catch": ("none", "a failed task fails its downstream (trigger rules aside)"),
        "card": ("none", "no per-task report"),
        "compute_platform": ("approximate", "pool= and queue= on the task"),
        "secrets": ("approximate", "Airflow connections and variables"),
        "schedule": ("exact", "@dag(schedule='cron')"),
        "schedule_timezone": ("approximate", "start_date with a pendulum time zone"),
        "project": ("none", "DAGs share one Airflow deployment"),
        "trigger": ("approximate", "Asset (Dataset) schedules"),
        "exit_hook": ("approximate", "a task with trigger_rule='all_done'"),
        "run_context": ("approximate", "the task context (run_id, ti, ...)"),
        "tuple_results": ("approximate", "XCom values travel as JSON: tuples become lists"),
        "launch_settings": (
            "none",
            "no @dag argument carries it: set it up by hand",
        ),
    },
)
