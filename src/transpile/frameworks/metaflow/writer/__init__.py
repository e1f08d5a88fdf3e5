"""Writing the pipeline model as metaflow source; ``write.py`` is the entry.

The package docstring one level up lists the modules."""
