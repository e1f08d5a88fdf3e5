"""transpile: move ML pipelines between Metaflow, Flyte and Kubeflow Pipelines, statically."""

__version__ = "0.1.0"
