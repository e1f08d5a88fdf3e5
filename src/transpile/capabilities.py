"""What each framework can express. Writers consult it, the report cites it, lint rules derive from it.

Support levels: ``exact`` (same meaning), ``approximate`` (nearest native construct, behaviour can
differ: counts as lossy), ``none`` (a TODO is left in the output: counts as lossy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Support = Literal["exact", "approximate", "none"]


@dataclass(frozen=True)
class Capability:
    key: str
    summary: str
    support: dict[str, Support]
    notes: dict[str, str]

    def lossy(self, framework: str) -> bool:
        return self.support.get(framework, "none") != "exact"


def _cap(key: str, summary: str, **per: tuple[Support, str]) -> Capability:
    return Capability(
        key, summary, {k: v[0] for k, v in per.items()}, {k: v[1] for k, v in per.items()}
    )


CAPABILITIES: dict[str, Capability] = {
    c.key: c
    for c in (
        _cap(
            "retry",
            "retry a failed step N times",
            metaflow=("exact", "@retry(times=N)"),
            flyte=("exact", "@task(retries=N)"),
            kfp=("exact", "task.set_retry(num_retries=N)"),
        ),
        _cap(
            "retry_delay",
            "wait between retries",
            metaflow=("exact", "@retry(minutes_between_retries=M)"),
            flyte=("none", "Flyte has no per-task retry delay"),
            kfp=("exact", "set_retry(backoff_duration=...)"),
        ),
        _cap(
            "timeout",
            "stop a step that runs too long",
            metaflow=("exact", "@timeout(seconds=, minutes=, hours=)"),
            flyte=("exact", "@task(timeout=timedelta(...))"),
            kfp=("none", "the KFP SDK has no task timeout (kfp-kubernetes set_timeout)"),
        ),
        _cap(
            "resources",
            "cpu, memory, gpu and disk for a step",
            metaflow=("exact", "@resources(cpu=, memory=, gpu=, disk=)"),
            flyte=("exact", "@task(requests=Resources(...), limits=Resources(...))"),
            kfp=("exact", "set_cpu_request/limit, set_memory_request/limit, set_accelerator_limit"),
        ),
        _cap(
            "environment",
            "environment variables of a step",
            metaflow=("exact", "@environment(vars={...})"),
            flyte=("exact", "@task(environment={...})"),
            kfp=("exact", "task.set_env_variable(name, value)"),
        ),
        _cap(
            "packages",
            "Python packages a step installs",
            metaflow=("exact", "@pypi(packages=...) / @conda(libraries=...)"),
            flyte=("exact", "@task(container_image=ImageSpec(packages=[...]))"),
            kfp=("exact", "@dsl.component(packages_to_install=[...])"),
        ),
        _cap(
            "image",
            "container image of a step",
            metaflow=("exact", "@kubernetes(image=...) / @batch(image=...)"),
            flyte=("exact", "@task(container_image=...)"),
            kfp=("exact", "@dsl.component(base_image=...)"),
        ),
        _cap(
            "cache",
            "reuse a step's earlier results for the same inputs",
            metaflow=("none", "Metaflow never reuses results (only `resume` skips finished steps)"),
            flyte=("exact", "@task(cache=True, cache_version=...)"),
            kfp=("exact", "task.set_caching_options(enable_caching=True)"),
        ),
        _cap(
            "catch",
            "keep going when a step fails, storing the exception",
            metaflow=("exact", "@catch(var=...)"),
            flyte=("none", "no per-task catch; a failure fails the workflow"),
            kfp=("approximate", "dsl.ExitHandler / ignore_upstream_failure"),
        ),
        _cap(
            "card",
            "a report rendered for a step",
            metaflow=("exact", "@card"),
            flyte=("approximate", "@task(enable_deck=True) shows a Flyte Deck instead of a card"),
            kfp=("approximate", "an Output[Markdown] or Output[HTML] artifact"),
        ),
        _cap(
            "compute_platform",
            "scheduler-specific settings (queue, namespace, tolerations...)",
            metaflow=("exact", "@kubernetes / @batch arguments"),
            flyte=("none", "set per project/domain in Flyte's platform configuration"),
            kfp=("approximate", "kfp-kubernetes settings"),
        ),
        _cap(
            "secrets",
            "secrets mounted into a step",
            metaflow=("exact", "@secrets(sources=[...])"),
            flyte=("approximate", "@task(secret_requests=[Secret(...)]) with different names"),
            kfp=("approximate", "kfp-kubernetes use_secret_as_env"),
        ),
        _cap(
            "schedule",
            "run the pipeline on a schedule",
            metaflow=("exact", "@schedule(cron=...|daily|hourly|weekly)"),
            flyte=("exact", "LaunchPlan with CronSchedule"),
            kfp=("approximate", "a recurring run created with the KFP client"),
        ),
        _cap(
            "schedule_timezone",
            "time zone of a schedule",
            metaflow=("exact", "@schedule(timezone=...)"),
            flyte=("none", "CronSchedule has no time zone"),
            kfp=("exact", "recurring run cron in UTC"),
        ),
        _cap(
            "project",
            "namespacing of deployments",
            metaflow=("exact", "@project(name=...)"),
            flyte=(
                "approximate",
                "a Flyte project is chosen at registration (pyflyte register -p)",
            ),
            kfp=("approximate", "a KFP experiment"),
        ),
        _cap(
            "trigger",
            "start the pipeline on an event or another pipeline's end",
            metaflow=("exact", "@trigger(event=...) / @trigger_on_finish(flow=...)"),
            flyte=(
                "none",
                "Flyte has no event triggers in flytekit (use Flyte reactive artifacts)",
            ),
            kfp=("none", "no event triggers in KFP"),
        ),
        _cap(
            "exit_hook",
            "code that runs when the pipeline ends",
            metaflow=("exact", "@exit_hook"),
            flyte=("approximate", "@workflow(on_failure=...)"),
            kfp=("exact", "dsl.ExitHandler"),
        ),
        _cap(
            "run_context",
            "run ids, task ids and similar run metadata inside a step",
            metaflow=("exact", "current.run_id, current.task_id, ..."),
            flyte=("approximate", "flytekit.current_context() carries other identifiers"),
            kfp=("approximate", "dsl.PIPELINE_JOB_ID_PLACEHOLDER and friends"),
        ),
        _cap(
            "tuple_results",
            "a tuple handed back to the caller of the pipeline",
            metaflow=("exact", "artifacts keep their Python type"),
            flyte=("approximate", "Flyte refuses tuple outputs: tuples travel as lists"),
            kfp=("approximate", "KFP parameters are JSON: tuples become lists"),
        ),
    )
}


def lookup(key: str) -> Capability:
    return CAPABILITIES[key]
