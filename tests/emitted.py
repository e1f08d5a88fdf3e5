"""An invariant over the whole suite: no file any test makes transpile emit uses a name it never
defines (ruff F821/F822/F823).

``install`` wraps every writer's ``write`` so each emitted module is kept (once per content) in a
folder all xdist workers share; ``check`` runs ruff over that folder when the session ends, and
the session fails on any finding, naming the file that holds the emitted code.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from transpile import frameworks

ENV = "TRANSPILE_EMITTED_DIR"
RULES = "F821,F822,F823"


def install(folder: Path) -> None:
    os.environ.setdefault(ENV, str(folder))
    for name in frameworks.targets():  # the early writers too
        module = frameworks.writer(name)
        if getattr(module.write, "records_emitted", False):
            continue
        module.write = _recording(module.write, name)


def _recording(write, target: str):
    def recording(pipeline, *args, **kwargs):
        code, diagnostics = write(pipeline, *args, **kwargs)
        digest = hashlib.sha256(code.encode()).hexdigest()[:20]
        path = Path(os.environ[ENV]) / f"{target}_{digest}.py"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(code, encoding="utf-8")
            temporary.replace(path)
        return code, diagnostics

    recording.records_emitted = True  # type: ignore[attr-defined]
    return recording


def check(folder: Path) -> list[str]:
    """ruff's findings over every kept module, one line each (empty: the invariant holds)."""
    if not folder.is_dir() or not any(folder.glob("*.py")):
        return []
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--select",
            RULES,
            "--no-cache",
            "--isolated",
            "--output-format",
            "concise",
            str(folder),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return [line for line in result.stdout.splitlines() if f"{folder}" in line]
