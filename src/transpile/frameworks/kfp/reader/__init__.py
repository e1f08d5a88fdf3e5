"""Reading kfp source into the pipeline model; ``read.py`` is the entry.

The package docstring one level up lists the modules."""
