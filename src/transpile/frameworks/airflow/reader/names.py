"""How a DAG file spells Airflow's names, in Airflow 2 and Airflow 3 modules, under any alias."""

from __future__ import annotations

import ast

KNOWN = {
    "TaskGroup",
    "DAG",
    "dag",
    "task",
    "Param",
    "asset",
    "multi_asset",
    "chain",
    "cross_downstream",
    "PythonOperator",
    "EmptyOperator",
    "DummyOperator",
}


class AirflowNames:
    """Local name → Airflow's name (``from airflow.sdk import task as t``: t → task)."""

    def __init__(self, tree: ast.Module) -> None:
        self.names: dict[str, str] = {}
        self.modules: set[str] = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "airflow":
                for alias in node.names:
                    self.names[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "airflow":
                        self.modules.add(alias.asname or alias.name)

    def resolve(self, node: ast.expr) -> str | None:
        """Airflow's name for ``node`` (a name, ``models.DAG``, or a call of either), else None."""
        if isinstance(node, ast.Call):
            node = node.func
        text = ast.unparse(node)
        if text in self.names:
            return self.names[text]
        for module in sorted(self.modules, key=len, reverse=True):
            if text.startswith(module + "."):
                return text.rsplit(".", 1)[-1]
        return None
