import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipelines.errors import LockedError, UserError
from pipelines.io.publish import publish_dir, workspace_lock, write_text_atomic
from pipelines.io.workspace import Workspace

ROOT = Path(__file__).resolve().parents[4]


def _publish(target, files):
    with publish_dir(target) as tmp:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")


def _contents(target):
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(target).iterdir())}


def test_publish_creates_then_replaces_whole_directory(tmp_path):
    target = tmp_path / "lists" / "date=2026-09-05"
    _publish(target, {"A.csv": "v1", "B.csv": "v1"})
    assert _contents(target) == {"A.csv": "v1", "B.csv": "v1"}
    _publish(target, {"A.csv": "v2"})  # a re-run replaces: B from the old run must not linger
    assert _contents(target) == {"A.csv": "v2"}
    assert [p.name for p in target.parent.iterdir()] == ["date=2026-09-05"]


def test_failure_inside_the_block_leaves_previous_outputs(tmp_path):
    target = tmp_path / "date=2026-09-05"
    _publish(target, {"A.csv": "good"})
    with pytest.raises(RuntimeError):
        with publish_dir(target) as tmp:
            (tmp / "A.csv").write_text("half", encoding="utf-8")
            raise RuntimeError("killed mid-write")
    assert _contents(target) == {"A.csv": "good"}
    assert [p.name for p in tmp_path.iterdir()] == ["date=2026-09-05"]


def _spawn(code, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, env=env, text=True)


def test_sigkill_mid_write_keeps_previous_outputs_readable(tmp_path):
    target = tmp_path / "date=2026-09-05"
    _publish(target, {"A.csv": "good"})
    child = _spawn(f"""
        import time
        from pipelines.io.publish import publish_dir
        with publish_dir({str(target)!r}) as tmp:
            (tmp / "A.csv").write_text("half", encoding="utf-8")
            print("writing", flush=True)
            time.sleep(60)
    """, tmp_path)
    assert child.stdout.readline().strip() == "writing"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert _contents(target) == {"A.csv": "good"}
    assert any(".tmp-" in p.name for p in tmp_path.iterdir())  # what the killed run left behind
    _publish(target, {"A.csv": "next"})  # the next run cleans it up
    assert _contents(target) == {"A.csv": "next"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["child.py", "date=2026-09-05"]


def test_kill_between_the_two_renames_is_undone(tmp_path):
    target = tmp_path / "date=2026-09-05"
    _publish(target, {"A.csv": "good"})
    target.rename(tmp_path / ".date=2026-09-05.old-123-abc")  # the old set moved aside, the new not yet in
    _publish(tmp_path / "date=2026-09-06", {"X": "other date"})  # another target is not touched
    with pytest.raises(RuntimeError):
        with publish_dir(target):
            raise RuntimeError("fails again")
    assert _contents(target) == {"A.csv": "good"}


def test_write_text_atomic(tmp_path):
    path = write_text_atomic(tmp_path / "runs" / "summary.json", '{"n": 1}')
    write_text_atomic(path, '{"n": 2}')
    assert path.read_text(encoding="utf-8") == '{"n": 2}' and len(list(path.parent.iterdir())) == 1


def test_second_writer_of_a_workspace_is_refused(tmp_path):
    workspace = Workspace(str(tmp_path))
    with workspace_lock(workspace, "nightly 2026-09-05") as path:
        with pytest.raises(LockedError) as err:
            with workspace_lock(workspace, "train 2026-06-01..2026-08-31"):
                pass
        message = str(err.value)
        assert f"another shiprisk run is writing to the workspace {tmp_path} (nightly 2026-09-05, pid {os.getpid()} on" in message
        assert str(path) in message and "remove" in message
        with workspace_lock(Workspace(str(tmp_path / "other")), "nightly 2026-09-05"):  # other workspaces run freely
            pass
    assert not path.exists()
    with workspace_lock(workspace, "nightly 2026-09-05"):  # released on exit
        pass


def test_lock_held_by_another_process_then_released_by_its_death(tmp_path):
    child = _spawn(f"""
        import time
        from pipelines.io.publish import workspace_lock
        from pipelines.io.workspace import Workspace
        with workspace_lock(Workspace({str(tmp_path)!r}), "nightly 2026-09-05"):
            print("locked", flush=True)
            time.sleep(60)
    """, tmp_path)
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(UserError, match=f"pid {child.pid} on"):
            with workspace_lock(Workspace(str(tmp_path)), "train"):
                pass
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert Workspace(str(tmp_path)).lock.exists()  # the stale file is still there...
    started = time.monotonic()
    with workspace_lock(Workspace(str(tmp_path)), "nightly 2026-09-05"):  # ...but a dead holder does not block
        assert time.monotonic() - started < 5
