"""Writing the pipeline model as flyte source: ``write.py`` is the entry (see the package docstring)."""
