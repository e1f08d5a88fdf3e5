"""Resource amounts, one definition for every reader, writer and the diff.

The model counts memory and disk in **megabytes** (10**6 bytes), as Metaflow does: its
``@resources(memory=4096)`` is an int in MB, and its Kubernetes plugin asks for ``"4096M"``.
Flyte's ``Resources(mem=...)`` and KFP's ``set_memory_limit(...)`` take Kubernetes quantities,
where ``M`` is 10**6 bytes and ``Mi`` is 2**20 bytes: ``"500Mi"`` is 524.288 MB, not 500.
CPU is counted in cores (``"500m"`` is 0.5).
"""

from __future__ import annotations

import math
import re

# bytes per unit of a Kubernetes quantity; a lower-case "m" on memory is taken as mega, the way
# people write it in Flyte (Kubernetes would read milli-bytes, which nobody means)
BYTES = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "m": 10**6, "G": 10**9, "T": 10**12}
BYTES |= {"P": 10**15, "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
BYTES |= {"Pi": 2**50, "Ei": 2**60}
_QUANTITY = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([A-Za-z]*)\s*")


def memory_mb(value: object) -> float | None:
    """A number (already MB) or a Kubernetes quantity string → megabytes; None if unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    match = _QUANTITY.fullmatch(str(value))
    if match is None or match.group(2) not in BYTES:
        return None
    return float(match.group(1)) * BYTES[match.group(2)] / 10**6


def cpu_cores(value: object) -> float | None:
    """``"500m"`` → 0.5, ``"2"`` / ``2`` → 2.0; None if unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    match = _QUANTITY.fullmatch(str(value))
    if match is None or match.group(2) not in ("", "m"):
        return None
    number = float(match.group(1))
    return number / 1000 if match.group(2) == "m" else number


def number_text(value: float) -> str:
    """A model amount as option text: ``4096``, ``0.5``, ``524.288`` (exact to the byte)."""
    value = round(float(value), 6)
    return str(int(value)) if value.is_integer() else repr(value)


def whole_mb(megabytes: object) -> int:
    """Megabytes as the int Metaflow takes, rounded up so a step never gets less."""
    return math.ceil(float(megabytes) - 1e-9)  # type: ignore[arg-type]


def kubernetes_memory(megabytes: object) -> str:
    """Megabytes as a Kubernetes quantity, exact where a unit fits: 4096 → ``"4096M"``,
    2147.483648 → ``"2Gi"``, 524.288 → ``"500Mi"``; otherwise whole megabytes, rounded up."""
    total = round(float(megabytes) * 10**6)  # type: ignore[arg-type]
    if total > 0:
        for unit in ("Ti", "Gi", "Mi"):
            if total % BYTES[unit] == 0 and total % 10**6 != 0:
                return f"{total // BYTES[unit]}{unit}"
    return f"{whole_mb(megabytes)}M"
