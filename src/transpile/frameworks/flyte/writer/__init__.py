"""Writing the pipeline model as flyte source; ``write.py`` is the entry.

The package docstring one level up lists the modules."""
