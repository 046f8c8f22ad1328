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
def publish_dir(target: str | os.PathLike, spark=None) -> Iterator[Path | str]:
    """Yield a temporary directory; on success it replaces `target` (created if absent).

    Hold `workspace_lock` around this: two publishers of one target at
    once would each clean up the other's temporary directory. A Hadoop URI target needs
    `spark` and yields a staging URI (publish_remote).
    """
    if not is_local(target):
        with publish_remote(spark, str(target)) as staging:
            yield staging
        return
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
def workspace_lock(workspace: Workspace, job: str, spark=None) -> Iterator[Path | str]:
    """Run the block as the only writer of this workspace, or raise LockedError.

    Every job that writes shared folders (features, aggregates, quarantine, run records,
    nights) takes it, so two commands at once cannot corrupt them; a second one fails fast.
    A workspace on a Hadoop file system needs `spark` (see remote_lock)."""
    if not is_local(workspace.root):
        with remote_lock(spark, workspace, job) as uri:
            yield uri
        return
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


# ---- A workspace on a Hadoop file system (hdfs://, viewfs://, file://) --------------------
# The same promises through Hadoop's FileSystem API: a folder swapped in by renames (atomic
# on HDFS and the local file system), files the driver writes staged locally and copied in,
# and a lock taken by an exclusive create (no flock there: a killed run leaves its lock file,
# and the message says which run holds it and how to clear it).


def is_local(location: str | os.PathLike) -> bool:
    """A plain path (POSIX renames, flock) rather than a file system URI."""
    return "://" not in str(location) and not str(location).startswith("file:")


def _remote_siblings(spark, target: str, mark: str) -> list[str]:
    from pipelines.io.filesystem import list_names

    parent, name = target.rstrip("/").rsplit("/", 1)
    return [f"{parent}/{n}" for n in list_names(spark, parent) if n.startswith(f".{name}{mark}")]


@contextlib.contextmanager
def publish_remote(spark, target: str) -> Iterator[str]:
    """publish_dir on a Hadoop file system: yields a staging URI beside the target."""
    from pipelines.io.filesystem import delete_path, path_exists, rename

    target = target.rstrip("/")
    olds = _remote_siblings(spark, target, OLD_MARK)
    if olds and not path_exists(spark, target):  # a swap cut in half by a kill
        rename(spark, olds[-1], target)
    for leftover in _remote_siblings(spark, target, TMP_MARK) + _remote_siblings(spark, target, OLD_MARK):
        delete_path(spark, leftover)
    parent, name = target.rsplit("/", 1)
    staging = f"{parent}/.{name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        yield staging
    except BaseException:
        delete_path(spark, staging)
        raise
    old = f"{parent}/.{name}{OLD_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    if path_exists(spark, target):
        rename(spark, target, old)
    rename(spark, staging, target)
    delete_path(spark, old)


@contextlib.contextmanager
def staged_dir(spark, location: str) -> Iterator[Path]:
    """A local folder for files the driver writes (lists, reports): `location` itself when it
    is a local path, else a temporary folder copied into the Hadoop URI when the block ends."""
    if is_local(location):
        Path(location).mkdir(parents=True, exist_ok=True)
        yield Path(location)
        return
    import tempfile

    from pipelines.io.filesystem import copy_from_local

    with tempfile.TemporaryDirectory(prefix="shiprisk-") as tmp:
        yield Path(tmp)
        copy_from_local(spark, tmp, location)


def put_text(spark, location: str, text: str) -> str:
    """Write a text file at a local path (atomically) or a Hadoop URI; returns the location."""
    if is_local(location):
        write_text_atomic(location, text)
    else:
        from pipelines.io.filesystem import write_bytes

        write_bytes(spark, location, text.encode("utf-8"))
    return str(location)


@contextlib.contextmanager
def remote_lock(spark, workspace: Workspace, job: str) -> Iterator[str]:
    """workspace_lock on a Hadoop file system: the lock file is created exclusively."""
    from pipelines.io.filesystem import delete_path, read_bytes, write_bytes

    uri = workspace.uri("locks", "workspace.lock")
    info = {"job": job, "pid": os.getpid(), "host": socket.gethostname(),
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    try:
        write_bytes(spark, uri, json.dumps(info).encode("utf-8"), overwrite=False)
    except Exception as exc:  # py4j wraps FileAlreadyExistsException
        if "AlreadyExists" not in str(exc):
            raise
        try:
            held = json.loads(read_bytes(spark, uri) or b"{}")
        except Exception:  # the holder may be writing it: the message can do without details
            held = {}
        raise LockedError(f"another shiprisk run is writing to the workspace {workspace.root} ({held.get('job', 'a job')}, "
                          f"pid {held.get('pid', '?')} on {held.get('host', '?')}, started {held.get('started', '?')}); "
                          f"wait for it to finish, or delete {uri} if that process is gone") from None
    try:
        yield uri
    finally:
        delete_path(spark, uri)
