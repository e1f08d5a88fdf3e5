"""Reading flyte source into the pipeline model: ``read.py`` is the entry (see the package docstring)."""
