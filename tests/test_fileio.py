"""Atomic writes and batch discovery."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys

import pytest

from transpile.util import fileio
from transpile.util.fileio import RefusedOverwrite, discover, write_atomic


def test_write_creates_file_and_parents_without_leftovers(tmp_path):
    target = tmp_path / "deep" / "er" / "out.py"
    write_atomic(target, "x = 'é'\n")
    assert target.read_bytes() == "x = 'é'\n".encode()
    assert os.listdir(target.parent) == ["out.py"]


def test_existing_file_is_refused_and_untouched(tmp_path):
    target = tmp_path / "out.py"
    target.write_bytes(b"precious\r\n")
    with pytest.raises(RefusedOverwrite):
        write_atomic(target, "new\n")
    assert target.read_bytes() == b"precious\r\n"
    assert os.listdir(tmp_path) == ["out.py"]


def test_force_overwrites_and_keeps_permissions(tmp_path):
    target = tmp_path / "out.py"
    target.write_text("old\n")
    target.chmod(0o640)
    write_atomic(target, "new\n", force=True)
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_new_file_gets_the_umask_mode_not_the_temp_files(tmp_path):
    target = tmp_path / "out.py"
    write_atomic(target, "x\n")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_failure_while_publishing_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "out.py"
    target.write_text("old\n")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, "new\n", force=True)
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.py"]


def test_a_symlink_target_counts_as_existing(tmp_path):
    (tmp_path / "real.py").write_text("real\n")
    (tmp_path / "link.py").symlink_to(tmp_path / "real.py")
    with pytest.raises(RefusedOverwrite):
        write_atomic(tmp_path / "link.py", "new\n")
    assert (tmp_path / "real.py").read_text() == "real\n"


def test_directory_target_is_an_error(tmp_path):
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path, "x\n", force=True)


def _tree(root, files):
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# x\n")


def _relatives(paths, **kw):
    found, _ = discover([str(p) for p in paths], **kw)
    return [s.relative for s in found]


def test_discovery_sorts_and_skips_hidden_caches_and_environments(tmp_path):
    _tree(
        tmp_path,
        [
            "b.py",
            "a/z.py",
            "a/c.py",
            "notes.txt",
            ".hidden/x.py",
            ".dot.py",
            "__pycache__/m.py",
            "venv/lib/site.py",
            "venv/pyvenv.cfg",
            "env2/conda-meta/x.py",
            "pkg/node_modules/y.py",
        ],
    )
    assert _relatives([tmp_path]) == ["a/c.py", "a/z.py", "b.py"]


def test_file_arguments_are_kept_by_name_and_order(tmp_path):
    _tree(tmp_path, ["one/flow.py", "two/other.py", "three/.hidden.py"])
    paths = [tmp_path / "two/other.py", tmp_path / "one/flow.py", tmp_path / "three/.hidden.py"]
    found, _ = discover([str(p) for p in paths])
    assert [(s.path, s.relative) for s in found] == [
        (str(paths[0]), "other.py"),
        (str(paths[1]), "flow.py"),
        (str(paths[2]), ".hidden.py"),
    ]


def test_output_directory_inside_the_input_is_not_searched(tmp_path):
    _tree(tmp_path, ["flow.py", "out/flow.py", "out/sub/more.py"])
    assert _relatives([tmp_path], exclude=str(tmp_path / "out")) == ["flow.py"]


def test_symlinks_outside_are_reported_and_inside_followed(tmp_path):
    outside = tmp_path / "outside"
    root = tmp_path / "root"
    _tree(outside, ["secret.py", "lib/leak.py"])
    _tree(root, ["real/flow.py"])
    (root / "secret.py").symlink_to(outside / "secret.py")
    (root / "lib").symlink_to(outside / "lib")
    (root / "alias").symlink_to(root / "real")
    (root / "real" / "loop").symlink_to(root)  # a cycle back to the root
    found, unvisited = discover([str(root)])
    assert [s.relative for s in found] == ["alias/flow.py", "real/flow.py"]
    reasons = {os.path.basename(u.path): u.reason for u in unvisited}
    assert set(reasons) == {"secret.py", "lib"}
    assert all("outside" in r for r in reasons.values())


def test_the_current_directory_gives_clean_paths(tmp_path, monkeypatch):
    _tree(tmp_path, ["pipelines/flow.py"])
    monkeypatch.chdir(tmp_path)
    found, _ = discover(["."])
    assert [s.path for s in found] == [os.path.join("pipelines", "flow.py")]


_HANGING_WRITER = """
import os, sys, time
from transpile.util import fileio
def hang(*args, **kwargs):
    print("ready", flush=True)
    time.sleep(60)
fileio._publish = hang
fileio.write_atomic(sys.argv[1], "half\\n")
"""


def _killed_writer_leftover(target):
    """Run a writer in a subprocess, SIGKILL it once its temporary file is written; its pid."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    args = [sys.executable, "-c", _HANGING_WRITER, str(target)]
    with subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env) as writer:
        assert writer.stdout.readline() == "ready\n"
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    return writer.pid


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "out.py"
    pid = _killed_writer_leftover(target)
    leftovers = [name for name in os.listdir(tmp_path) if name != "out.py"]
    assert len(leftovers) == 1 and f".out.py.tp-{pid}-" in leftovers[0]
    write_atomic(tmp_path / "other.py", "x\n")
    assert sorted(os.listdir(tmp_path)) == ["other.py"]


def test_only_dead_writers_temporary_files_are_removed(tmp_path):
    target = tmp_path / "out.py"
    dead = _killed_writer_leftover(target)
    (leftover,) = os.listdir(tmp_path)
    kept = {
        ".out.py.tmp": "user",
        ".out.py.abcd1234.tmp": "user",
        f"out.py.tp-{dead}-abcdefgh.tmp": "user",  # not hidden
        f".out.py.tp-{dead}-abcdefgh.tmp.bak": "user",
        f".out.py.tp-{dead}-abcdefghi.tmp": "user",  # not mkstemp's eight characters
        f".out.py.tp-{os.getppid()}-abcdefgh.tmp": "a live writer's",
    }
    for name, text in kept.items():
        (tmp_path / name).write_text(text)
    (tmp_path / f".dir.tp-{dead}-abcdefgh.tmp").mkdir()
    (tmp_path / f".link.tp-{dead}-abcdefgh.tmp").symlink_to(tmp_path / ".out.py.tmp")
    write_atomic(target, "new\n")
    names = set(os.listdir(tmp_path))
    assert leftover not in names
    assert names == {
        "out.py",
        *kept,
        f".dir.tp-{dead}-abcdefgh.tmp",
        f".link.tp-{dead}-abcdefgh.tmp",
    }
    assert all((tmp_path / name).read_text() == text for name, text in kept.items())
