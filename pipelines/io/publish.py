"""Outputs that are either the previous complete set or the new complete set, never half of one.

`publish_dir(target)` gives a fresh directory beside the target; when the block ends without
error it is swapped in with renames, so readers see the old outputs or the new ones. If the
block raises, or the process is killed, the target is untouched and the leftover temporary
directory is removed by the next run for that target.

`workspace_lock(workspace, job)` keeps two writers of one workspace apart. It holds an
exclusive `flock` on a lock file, so a killed run's lock is released by the kernel (a stale
file never blocks); the file also records job, pid, host and start time for the message.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

from pipelines.errors import LockedError
from pipelines.io.workspace import Workspace

TMP_MARK = ".tmp-"
OLD_MARK = ".old-"


def _siblings(target: Path, mark: str) -> list[Path]:
    prefix = f".{target.name}{mark}"
    return sorted(p for p in target.parent.glob(f".{target.name}*") if p.name.startswith(prefix))


def _recover(target: Path) -> None:
    """Undo what a killed run left: restore the old outputs if the swap was cut in half, drop temp dirs."""
    olds = _siblings(target, OLD_MARK)
    if not target.exists() and olds:
        os.rename(olds[-1], target)
        olds = olds[:-1]
    for leftover in _siblings(target, TMP_MARK) + olds:
        shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def publish_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary directory; on success it replaces `target` (created if absent).

    Hold `workspace_lock` around this: two publishers of one target at
    once would each clean up the other's temporary directory.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _recover(target)
    tmp = target.parent / f".{target.name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        _fsync_tree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = target.parent / f".{target.name}{OLD_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    if target.exists():
        os.rename(target, old)  # a directory cannot be renamed over a non-empty one
    os.rename(tmp, target)  # a kill between the two renames is undone by _recover
    _fsync_dir(target.parent)
    shutil.rmtree(old, ignore_errors=True)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write a single file so readers see the old or the new content (e.g. summary.json)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _fsync_tree(root: Path) -> None:
    """Data on disk before the rename makes it visible, so a power cut cannot publish empty files."""
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    return (f"{info.get('job', 'a job')}, pid {info.get('pid', '?')} on {info.get('host', '?')}, "
            f"started {info.get('started', '?')}")


def _acquire(path: Path) -> int | None:
    """An fd holding the lock on the file now at `path`, or None if another process holds it."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                return None
            raise
        # The holder before us may have removed the file after we opened it: our lock would
        # then be on a file nobody else sees. Only a lock on the file at `path` counts.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


@contextlib.contextmanager
def workspace_lock(workspace: Workspace, job: str) -> Iterator[Path]:
    """Run the block as the only writer of this workspace, or raise LockedError.

    Every job that writes shared folders (features, aggregates, quarantine, run records,
    nights) takes it, so two commands at once cannot corrupt them; a second one fails fast."""
    path = workspace.lock
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _acquire(path)
    if fd is None:
        raise LockedError(f"another shiprisk run is writing to the workspace {workspace.root} ({_holder(path)}); "
                          f"wait for it to finish, or remove {path} if that process is gone")
    try:
        info = {"job": job, "pid": os.getpid(), "host": socket.gethostname(),
                "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        yield path
    finally:
        # Remove while still holding the lock, so nobody can lock the file we are deleting
        # and believe they own the workspace (see the inode check in _acquire).
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)
