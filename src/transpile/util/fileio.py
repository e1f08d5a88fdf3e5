"""Files in and out: source read as Python reads it, atomic writes that never clobber by accident,
and batch input discovery."""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import tempfile
import tokenize
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

# Directory names never searched for pipelines (hidden directories are skipped as well).
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "__pypackages__"})
# A directory holding one of these is a virtual environment or a conda environment.
ENVIRONMENT_MARKERS = ("pyvenv.cfg", "conda-meta")
# The largest source file read (convert, inspect, report, diff, lint). libcst's tree of a module
# takes about 0.7 GB per MB of plain statements and 2.3 GB per MB of dense literals (a 256 KiB list
# of zeros peaks at 0.62 GB in convert), so this keeps every command's peak memory under 1 GB; the
# largest pipeline file of the corpus is 52 KB.
MAX_SOURCE_BYTES = 256 * 1024


class SourceError(Exception):
    """Why a file cannot be read as Python source: a TP00x code, a message, where."""

    def __init__(self, code: str, message: str, line: int | None = None, column: int = 0):
        super().__init__(message)
        self.code, self.message, self.line, self.column = code, message, line, column


def read_source(path: str | os.PathLike, max_bytes: int) -> str:
    """The text of the Python source file ``path``, or raise SourceError.

    Only a regular file is read (a FIFO, a device or a symlink loop is refused without blocking),
    and never more than ``max_bytes`` + 1 bytes of it. The bytes are decoded as Python does: a
    UTF-8 byte-order mark or a PEP 263 coding line names the encoding, UTF-8 otherwise.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        missing = exc.errno == errno.ENOENT
        raise SourceError("TP001", "no such file" if missing else _cannot_read(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SourceError("TP001", "not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise SourceError("TP001", _cannot_read(exc)) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # only the cap + 1 bytes were read: the file's size says more
        raise too_large(max(info.st_size, len(data)), max_bytes)
    return source_text(data, max_bytes)


def source_text(data: bytes, max_bytes: int) -> str:
    """Bytes read from a file or standard input as source text, or raise SourceError: more
    than ``max_bytes``, binary, or not decodable as Python decodes source."""
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes)
    if b"\x00" in data:
        raise SourceError("TP002", "not Python source (binary content)")
    return decode_source(data)


def too_large(size: int, max_bytes: int) -> SourceError:
    """The refusal of a file of ``size`` bytes, over the cap (the message names both)."""
    return SourceError("TP001", f"file is larger than {max_bytes} bytes ({size} bytes)")


def _cannot_read(exc: OSError) -> str:
    return f"cannot read file: {exc.strerror or exc}"


def decode_source(data: bytes) -> str:
    """Source bytes as Python decodes them (BOM, PEP 263 coding line, else UTF-8), without the
    BOM; or raise SourceError naming the line of the first byte that does not decode."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if "invalid or missing encoding" not in str(exc):  # an unknown coding name
            raise SourceError("TP002", str(exc.msg or exc), exc.lineno or 1) from None
        encoding = "utf-8"  # no coding line, and the first lines are not UTF-8: say where
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1)
        name = "UTF-8" if encoding in ("utf-8", "utf-8-sig") else encoding
        message = f"not {name} text (byte 0x{data[exc.start]:02x})"
        raise SourceError("TP002", message, line, column) from None
    return text.removeprefix("\ufeff")


class RefusedOverwrite(FileExistsError):
    """The target exists and overwriting was not asked for; nothing was written."""


def write_atomic(path: str | os.PathLike, text: str, force: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``path`` all at once: readers see the old file or the new one.

    Without ``force`` an existing ``path`` raises ``RefusedOverwrite`` and stays untouched, even if
    it appears between the check and the write. Missing parent directories are created.
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a directory")
    if not force and os.path.lexists(target):
        raise RefusedOverwrite(f"{target} exists (use --force to overwrite)")
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_dead_temps(target.parent)
    prefix = f".{target.name}.{_TEMP_MARK}{os.getpid()}-"
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(target))
        _publish(tmp, target, force)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


# A temporary file of write_atomic is named ``.NAME.tp-PID-XXXXXXXX.tmp``: the pid of its writer
# is recoverable, so a leftover of a killed writer (SIGKILL skips every clean-up) can be found.
_TEMP_MARK = "tp-"
_TEMP_NAME = re.compile(r"\..+\.tp-([0-9]+)-[a-z0-9_]{8}\.tmp")
_swept: set[str] = set()  # directories already swept by this process


def _remove_dead_temps(directory: Path) -> None:
    """Remove, once per process and directory, the temporary files of writers no longer alive:
    only regular files of this user named exactly like write_atomic's, never any other file."""
    key = os.path.realpath(directory)
    if key in _swept:
        return
    _swept.add(key)
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match is None or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid():
                os.unlink(entry.path)
        except OSError:
            pass  # gone meanwhile, or not ours to remove


def _alive(pid: int) -> bool:
    if pid <= 0:
        return True  # not a pid a writer has: leave it alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists (another user's), or not a pid this system knows: keep the file
    return True


def _publish(tmp: str, target: Path, force: bool) -> None:
    if force:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # fails if the target appeared meanwhile: no clobbering race
    except FileExistsError:
        raise RefusedOverwrite(f"{target} exists (use --force to overwrite)") from None
    except OSError:  # file system without hard links
        if os.path.lexists(target):
            raise RefusedOverwrite(f"{target} exists (use --force to overwrite)") from None
        os.replace(tmp, target)


def _mode_for(target: Path) -> int:
    """Keep an overwritten file's permissions; give a new one the usual umask-derived mode."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@dataclass(frozen=True)
class Source:
    """An input file found for batch mode, and where its output goes relative to ``-o DIR``."""

    path: str  # as the user would name it: the argument, or the argument joined with relative
    relative: str  # POSIX relative path, mirrored under the output directory


@dataclass(frozen=True)
class Unvisited:
    """A path discovery saw and did not use, and why."""

    path: str
    reason: str


def discover(
    paths: list[str],
    exclude: str | None = None,
    skip: Callable[[str, bool], bool] | None = None,
) -> tuple[list[Source], list[Unvisited]]:
    """The ``.py`` files under ``paths`` (files or directories), in a stable order.

    A file argument is taken as it is, mirrored by its name. A directory is walked in sorted
    order, mirrored relative to itself, skipping hidden entries, ``__pycache__`` and virtual
    environments, the directory ``exclude`` (the output directory), and symbolic links that
    resolve outside the directory given or back into a directory being walked, and the files and
    directories for which ``skip(path, is_dir)`` is true. The same file reached twice under the
    same relative path is listed once.
    """
    sources: list[Source] = []
    unvisited: list[Unvisited] = []
    seen: set[tuple[str, str]] = set()
    excluded = os.path.realpath(exclude) if exclude else None
    for arg in paths:
        if os.path.isdir(arg):
            found = _walk(arg, excluded, unvisited, skip)
        else:
            found = [Source(arg, Path(arg).name)]
        for source in found:
            key = (os.path.realpath(source.path), source.relative)
            if key not in seen:
                seen.add(key)
                sources.append(source)
    return sources, unvisited


def _walk(
    root: str,
    excluded: str | None,
    unvisited: list[Unvisited],
    skip: Callable[[str, bool], bool] | None = None,
) -> list[Source]:
    real_root = os.path.realpath(root)
    found: list[Source] = []
    stack = [("", (real_root,))]  # (relative directory, real paths of it and its ancestors)
    while stack:
        relative_dir, ancestors = stack.pop()
        directory = os.path.join(root, relative_dir) if relative_dir else root
        for entry in _sorted_entries(directory, unvisited):
            relative = f"{relative_dir}/{entry.name}" if relative_dir else entry.name
            kind, real = _classify(entry, real_root, unvisited)
            if kind is not None and skip is not None and skip(_join(root, relative), kind == "dir"):
                continue
            if kind == "file":
                found.append(Source(_join(root, relative), relative))
            elif kind == "dir" and real != excluded and real not in ancestors:
                stack.append((relative, (*ancestors, real)))
    return sorted(found, key=lambda s: s.relative)


def _join(root: str, relative: str) -> str:
    return relative if os.path.normpath(root) == "." else os.path.join(root, relative)


def _sorted_entries(directory: str, unvisited: list[Unvisited]) -> list[os.DirEntry]:
    try:
        with os.scandir(directory) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError as exc:
        unvisited.append(Unvisited(directory, f"cannot read directory: {exc.strerror or exc}"))
        return []


def _classify(
    entry: os.DirEntry, real_root: str, unvisited: list[Unvisited]
) -> tuple[str | None, str]:
    """``"dir"`` to descend into, ``"file"`` to convert, or None to pass over; and the real path."""
    if entry.name.startswith(".") or entry.name in SKIPPED_DIRS:
        return None, ""
    try:
        is_dir = entry.is_dir()  # follows symbolic links
    except OSError as exc:  # a symbolic link loop
        unvisited.append(Unvisited(entry.path, f"cannot follow: {exc.strerror or exc}"))
        return None, ""
    if not is_dir and not entry.name.endswith(".py"):
        return None, ""
    real = os.path.realpath(entry.path)
    if entry.is_symlink() and not _inside(real, real_root):
        unvisited.append(Unvisited(entry.path, "symbolic link leads outside the input directory"))
        return None, real
    if not is_dir:
        return ("file" if entry.is_file() else None), real
    return (None if _is_environment(entry.path) else "dir"), real


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _is_environment(directory: str) -> bool:
    return any(os.path.exists(os.path.join(directory, m)) for m in ENVIRONMENT_MARKERS)


def write_output(
    destination: str, text: str, force: bool, inputs: Iterable[str] = ()
) -> str | None:
    """Write one output file; a sentence saying why not, or None when written. An output is never
    written over one of ``inputs`` (the files read), ``--force`` or not."""
    for source in inputs:
        if _same_file(destination, source):
            return f"refused to write over the input {source} (choose another -o)"
    try:
        write_atomic(destination, text, force=force)
    except RefusedOverwrite:
        return overwrite_refusal(destination)
    except OSError as exc:
        return f"cannot write {destination}: {exc.strerror or exc}"
    return None


def write_outputs(
    outputs: list[tuple[str, str]], force: bool, inputs: Iterable[str] = ()
) -> str | None:
    """Write the modules one source converts to, (destination, text) each: none of them when
    one may not be written over (without ``force``); a sentence saying why not, or None."""
    if not force and len(outputs) > 1:
        for destination, _ in outputs:
            if os.path.lexists(destination):
                return overwrite_refusal(destination)
    for destination, text in outputs:
        problem = write_output(destination, text, force, inputs)
        if problem:
            return problem
    return None


def entry_destination(destination: str, entry: str) -> str:
    """Where the conversion of a file's pipeline ``entry`` goes, beside ``destination`` (the
    file's default pipeline): ``out.py`` → ``out_<entry>.py``, the name made a Python module
    name (an Airflow DAG id may hold dots and dashes)."""
    folder, name = os.path.split(destination)
    stem, suffix = os.path.splitext(name)
    safe = re.sub(r"\W", "_", entry, flags=re.ASCII)
    return os.path.join(folder, f"{stem}_{safe}{suffix or '.py'}")


def overwrite_refusal(destination: str) -> str:
    return f"refused to overwrite {destination} (use --force)"


def _same_file(first: str, second: str) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:  # either does not exist (yet)
        return False
