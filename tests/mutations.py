"""Deterministic mutations of fixture sources: the broken files a real repository holds."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

Mutation = Callable[[list[str], random.Random], bytes]


def _text(lines: list[str]) -> bytes:
    return "".join(lines).encode("utf-8")


def delete_line(lines: list[str], rng: random.Random) -> bytes:
    i = rng.randrange(len(lines))
    return _text(lines[:i] + lines[i + 1 :])


def duplicate_line(lines: list[str], rng: random.Random) -> bytes:
    i = rng.randrange(len(lines))
    return _text(lines[: i + 1] + lines[i:])


def swap_lines(lines: list[str], rng: random.Random) -> bytes:
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    swapped = list(lines)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    return _text(swapped)


def truncate(lines: list[str], rng: random.Random) -> bytes:
    data = _text(lines)
    return data[: rng.randrange(len(data))]


def break_indentation(lines: list[str], rng: random.Random) -> bytes:
    indented = [i for i, line in enumerate(lines) if line.startswith(" ")] or [0]
    i = rng.choice(indented)
    broken = list(lines)
    broken[i] = rng.choice(["", " ", "\t", "   "]) + broken[i].lstrip(" ")
    return _text(broken)


def binary_bytes(lines: list[str], rng: random.Random) -> bytes:
    data = bytearray(_text(lines))
    for _ in range(rng.randint(1, 8)):
        data.insert(rng.randrange(len(data) + 1), rng.choice([0, 0xFF, 0xC3, 0x80, 0x1B]))
    return bytes(data)


def huge(lines: list[str], rng: random.Random) -> bytes:
    filler = f"# {'x' * 98}\n" * rng.choice([10_000, 60_000])  # ~1 MB, or past the 5 MB cap
    return _text(lines) + filler.encode()


def swap_tokens(lines: list[str], rng: random.Random) -> bytes:
    """Swap two words: keeps the file parseable more often, so the readers see odd code."""
    text = "".join(lines)
    words = sorted({w for w in text.split() if w.isidentifier()})
    if len(words) < 2:
        return text.encode()
    a, b = rng.sample(words, 2)
    hole = "\uffff"  # a placeholder no source holds
    return text.replace(a, hole).replace(b, a).replace(hole, b).encode()


MUTATIONS: tuple[Mutation, ...] = (
    delete_line,
    duplicate_line,
    swap_lines,
    truncate,
    break_indentation,
    binary_bytes,
    huge,
    swap_tokens,
)


def mutated_sources(sources: list[Path], count: int, seed: int = 0) -> list[tuple[str, bytes]]:
    """``count`` (name, content) pairs, each one source changed by one or two mutations."""
    rng = random.Random(seed)
    found = []
    for n in range(count):
        source = sources[n % len(sources)]
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        data = b""
        for mutation in rng.sample(MUTATIONS, rng.choice([1, 1, 2])):
            data = mutation(lines, rng)
            lines = data.decode("utf-8", errors="replace").splitlines(keepends=True) or [""]
        found.append((f"m{n:03d}_{mutation.__name__}_{source.parent.name}.py", data))
    return found
