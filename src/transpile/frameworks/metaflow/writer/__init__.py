"""Writing the pipeline model as metaflow source: ``write.py`` is the entry (see the package docstring)."""
