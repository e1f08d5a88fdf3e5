"""Writing the pipeline model as kfp source: ``write.py`` is the entry (see the package docstring)."""
