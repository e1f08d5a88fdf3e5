"""transpile: move ML pipelines between Metaflow, Flyte and Kubeflow Pipelines, statically.

The package is in layers; imports only point down (the contract in pyproject.toml):

- ``cli``: the command line.
- ``api`` (and ``batch`` for many files), ``inspect_render``, ``report/``, ``diff/``, ``lint/``: the
  commands.
- ``frameworks/``: one package per framework (``metaflow/``, ``flyte/``, ``kfp/``), each with a
  ``reader/`` and a ``writer/``, declaring itself in its ``__init__.py``; found by walking.
- ``reading/``, ``writing/``: what readers, and what writers, share.
- ``model/``: the pipeline model, diagnostics, the capability table's rows, a framework's
  declaration.
- ``util/``: parsing, files, the process pool, names, and how input text becomes a comment.
"""

__version__ = "0.1.0"
