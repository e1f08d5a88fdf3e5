"""What the frameworks' readers share: libcst and position helpers (``cst``), type inference
(``inference``), series-parallel nesting (``series_parallel``) and model surgery (``rewire``)."""
