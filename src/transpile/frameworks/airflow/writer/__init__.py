"""Writing the pipeline model as Airflow 3 source; ``write.py`` is the entry.

The package docstring one level up lists the modules."""
