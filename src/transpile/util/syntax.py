"""Compiling code without printing Python's warnings about it.

Python warns while compiling (``"is" with a literal``; from 3.12 invalid escapes such as ``"\\d"``).
Those warnings are about the user's code, at lines of a file it may never have seen: not ours to print.
"""

from __future__ import annotations

import ast
import warnings
from types import CodeType


def quiet_tree(text: str, path: str = "<unknown>") -> ast.Module:
    """``ast.parse``, silently: compiles to a tree, runs nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compile(text, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)


def quiet_compile(text: str, path: str = "<unknown>") -> CodeType:
    """A full compile (it also checks what the parser lets through), silently; nothing runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compile(text, path, "exec", dont_inherit=True)


def silence_code_warnings() -> None:
    """For this whole process (the CLI and its pool workers): writers also parse the user's code."""
    warnings.filterwarnings("ignore", category=SyntaxWarning)
    warnings.filterwarnings("ignore", "invalid escape sequence", DeprecationWarning)


def is_literal(source: str) -> bool:
    """Whether ``source`` is a Python literal (what ``ast.literal_eval`` reads)."""
    try:
        ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return False
    return True
