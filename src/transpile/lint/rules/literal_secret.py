"""A credential or secret written as a literal in pipeline code.

Why: pipeline source is shipped around: Metaflow stores it with every run, KFP compiles component
bodies into the pipeline YAML, Flyte packages it into the image. A password or token in the code
ends up in all of those places, readable by anyone who can see a run.

Instead: mount it at run time (Metaflow ``@secrets``, Flyte ``Secret`` requests, a Kubernetes
secret in KFP) and read it from the environment (``os.environ["API_TOKEN"]``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from ..unit import Hit, LintUnit, string_value

CODE = "TP514"
NAME = "literal-secret"
MESSAGE = "{what} is written in the source; mount it as a secret and read it at run time"
FRAMEWORKS = frozenset({"metaflow", "flyte", "kfp"})
SECRET_NAME = re.compile(
    r"(?:^|_)(passw(?:or)?d|pwd|secret|token|api_?key|access_?key|private_?key|credentials?)(?:$|_)"
)
# a name ending in one of these holds a reference to a secret, not the secret itself
REFERENCE_SUFFIXES = {"name", "names", "id", "env", "var", "variable", "path", "file", "group"}
REFERENCE_SUFFIXES |= {"arn", "uri", "url", "ref", "source", "sources", "type", "length"}
TOKEN_SHAPES = {
    "an AWS access key": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    "a Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "a private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
}
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")  # names a variable or secret, is not one

VALID = [
    """
import os
from metaflow import FlowSpec, secrets, step

class Flow(FlowSpec):
    @secrets(sources=["db-credentials"])
    @step
    def start(self):
        password = os.environ["DB_PASSWORD"]
        token_variable = "API_TOKEN"
        self.next(self.end)
""",
]
INVALID = [
    """
from kfp import dsl

API_TOKEN = "s3cr3t-value-123"  # error

@dsl.component(base_image="python:3.11")
def fetch() -> str:
    import requests

    auth = {"password": "hunter22!"}  # error
    return requests.get("https://x", headers={"k": "AKIAABCDEFGHIJKLMNOP"}).text  # error
""",
]


def check(unit: LintUnit) -> Iterator[Hit]:
    flagged: set[int] = set()
    for node in ast.walk(unit.tree):
        for name, value in _named_values(node):
            if _names_secret(name) and _looks_secret(value):
                flagged.add(id(value))
                yield unit.hit(value, MESSAGE.format(what=f"a credential ('{name}')"))
    for node in ast.walk(unit.tree):
        text = string_value(node)
        shape = next((w for w, p in TOKEN_SHAPES.items() if text and p.search(text)), None)
        if shape and id(node) not in flagged:
            yield unit.hit(node, MESSAGE.format(what=shape))


def _names_secret(name: str) -> bool:
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return bool(SECRET_NAME.search(snake)) and snake.split("_")[-1] not in REFERENCE_SUFFIXES


def _named_values(node: ast.AST) -> Iterator[tuple[str, ast.expr]]:
    """(name, value) pairs: assignments, keyword arguments and literal dict keys."""
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", None)
            if name:
                yield name, node.value
    elif isinstance(node, ast.keyword) and node.arg:
        yield node.arg, node.value
    elif isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values):
            if string_value(key):
                yield string_value(key), value  # type: ignore[misc]


def _looks_secret(value: ast.expr) -> bool:
    text = string_value(value)
    return bool(text) and len(text) >= 6 and not ENV_NAME.match(text) and " " not in text  # type: ignore[arg-type]
