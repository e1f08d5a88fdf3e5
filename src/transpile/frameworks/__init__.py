"""The frameworks transpile reads and writes: one package each, found by walking this package.

Each package (``metaflow/``, ``flyte/``, ``kfp/``) declares itself in its ``__init__.py`` with
``FRAMEWORK = Framework(...)`` (``transpile.model.framework``): its name, the imports that identify
its files, its reader and writer modules, and its column of the capability table. Everything else
(the CLI's choices, ``detect_framework``, lint's targets, diff and the report) asks this module, so
a new framework is a new package here and nothing more. A package under ``transpile/frameworks/``
in another directory on ``sys.path`` counts too (one without a ``transpile/__init__.py``, so not
another copy of transpile, and not the working directory): a framework can live outside this
tree. Packages whose names start with ``_`` are not frameworks.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from functools import cache
from types import ModuleType

from transpile.model.capabilities import Capability, table
from transpile.model.framework import Framework


def _elsewhere() -> list[str]:
    """``transpile/frameworks`` folders on ``sys.path`` that belong to no copy of transpile. The
    working directory is not searched: running transpile inside a repository must not run code
    that repository keeps under ``transpile/frameworks``."""
    found = []
    here = os.path.realpath(os.curdir)
    for entry in sys.path:
        if not entry or os.path.realpath(entry) == here:
            continue
        root = os.path.join(entry, "transpile")
        folder = os.path.join(root, "frameworks")
        if os.path.isdir(folder) and not os.path.exists(os.path.join(root, "__init__.py")):
            found.append(folder)
    return found


__path__ = [*__path__, *(f for f in _elsewhere() if f not in __path__)]


@cache
def registry() -> dict[str, Framework]:
    """Name → declaration of every framework package, in rank order."""
    found: dict[str, Framework] = {}
    for info in pkgutil.iter_modules(__path__):
        if not info.ispkg or info.name.startswith("_") or info.name in found:
            continue
        declared = getattr(importlib.import_module(f"{__name__}.{info.name}"), "FRAMEWORK", None)
        if isinstance(declared, Framework):
            found[declared.name] = declared
    return dict(sorted(found.items(), key=lambda item: (item[1].rank, item[0])))


def names() -> tuple[str, ...]:
    return tuple(registry())


def get(name: str) -> Framework | None:
    return registry().get(name)


def readable() -> tuple[str, ...]:
    """The frameworks transpile can read."""
    return tuple(n for n, f in registry().items() if f.reader)


def writable() -> tuple[str, ...]:
    """The frameworks transpile writes in full (the default targets of lint; the writers every
    valid model must pass); an early writer is left out."""
    return tuple(n for n, f in registry().items() if f.writer and not f.early_writer)


def targets() -> tuple[str, ...]:
    """Every framework ``--to`` accepts: the writable ones and the early writers."""
    return tuple(n for n, f in registry().items() if f.writer)


def by_import_root(root: str) -> str | None:
    """The framework whose source files import the top-level package ``root``."""
    return next((n for n, f in registry().items() if root in f.import_roots), None)


def import_roots() -> tuple[str, ...]:
    return tuple(r for f in registry().values() for r in f.import_roots)


@cache
def capabilities() -> dict[str, Capability]:
    """The capability table: every framework's column, joined."""
    return table((n, f.capabilities) for n, f in registry().items())


def reader(name: str) -> ModuleType:
    return importlib.import_module(registry()[name].reader or "")


def writer(name: str) -> ModuleType:
    return importlib.import_module(registry()[name].writer or "")


def upgrader(name: str) -> ModuleType | None:
    """The module that upgrades ``name``'s files from an older version, if it has one."""
    module = registry()[name].upgrader
    return importlib.import_module(module) if module else None
