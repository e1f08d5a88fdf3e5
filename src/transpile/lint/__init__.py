"""The portability lint: rules that flag pipeline code which will not port, or will port wrongly.

``engine`` parses each file once (Python's ``ast``) and runs every rule of ``rules/`` that applies;
``config`` reads ``[tool.transpile]``; ``formats`` renders text, JSON, SARIF and GitHub annotations.
"""
