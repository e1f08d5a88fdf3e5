"""Compiling code without printing Python's warnings about it.

Python warns while compiling (``"is" with a literal``; from 3.12 invalid escapes such as ``"\\d"``).
Those warnings are about the user's code, at lines of a file it may never have seen: not ours to print.
"""

from __future__ import annotations

import ast
import io
import tokenize
import unicodedata
import warnings
from types import CodeType


def quiet_tree(text: str, path: str = "<unknown>") -> ast.Module:
    """``ast.parse``, silently: compiles to a tree, runs nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compile(text, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)


def quiet_compile(text: str | ast.Module, path: str = "<unknown>") -> CodeType:
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


def nfkc_identifiers(text: str) -> str:
    """``text`` with every identifier in the NFKC form Python gives it when it parses the file
    (``self.ﬁle`` and ``self.file`` are one attribute to Python; libcst keeps them apart). The
    text is returned as it is when no identifier changes, or when it does not tokenize."""
    if text.isascii():
        return text
    lines = text.splitlines(keepends=True)
    changes: list[tuple[int, int, int, str]] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NAME and not token.string.isascii():
                normal = unicodedata.normalize("NFKC", token.string)
                if normal != token.string:
                    (row, start), (_, end) = token.start, token.end
                    changes.append((row, start, end, normal))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return text
    for row, start, end, normal in reversed(changes):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + normal + line[end:]
    return "".join(lines)
