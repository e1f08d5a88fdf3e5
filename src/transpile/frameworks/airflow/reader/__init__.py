"""Read an Airflow DAG file into the pipeline model, statically."""
