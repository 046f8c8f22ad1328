"""Failures are reported as what they are, each with its exit code, and leave the night's
previous outputs as they were. (A consignment lost between features and publishing:
test_hadoop_workspace.py, on a Hadoop URI workspace; the local publishing unit's own failure
cases are tests/unit/pipelines/io/test_publish.py's.)"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.io.publish import workspace_lock
from pipelines.io.workspace import Workspace
from tests.integration.conftest import LAST_DAY

pytestmark = pytest.mark.slow
NIGHT = LAST_DAY.isoformat()


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under the night's folder (and its siblings) with its digest."""
    return {str(p.relative_to(folder.parent)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.parent.rglob("*")) if p.is_file()}


def _nightly(workspace: str, input_root: str) -> int:
    return main(["nightly", "--input", input_root, "--workspace", workspace, "--date", NIGHT])


def test_an_unreachable_mlflow_store_is_not_called_a_missing_model(trained, input_root, monkeypatch, capsys):
    night = Path(Workspace(trained).night(NIGHT))
    before = _snapshot(night)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    assert _nightly(trained, input_root) == 6
    err = capsys.readouterr().err
    assert "MLflow store" in err and "127.0.0.1:9" in err and "train one" not in err
    assert _snapshot(night) == before


def test_no_champion_and_a_held_lock_have_their_own_codes(input_root, tmp_path, capsys):
    empty = str(tmp_path / "empty")
    assert _nightly(empty, input_root) == 5
    assert "has no version with alias 'champion'" in capsys.readouterr().err
    with workspace_lock(Workspace(empty), "train 2026-06-01..2026-06-28"):
        assert main(["features", "--input", input_root, "--workspace", empty, "--from", NIGHT, "--to", NIGHT]) == 4
    assert "another shiprisk run is writing to the workspace" in capsys.readouterr().err


def test_a_feed_that_is_not_utf8_stops_the_night_before_anything_is_published(trained, input_root, tmp_path, capsys):
    root = tmp_path / "input"
    shutil.copytree(input_root, root)
    folder = root / "declarations" / f"date={NIGHT}"
    victim = sorted(folder.glob("*.csv"))[0]
    lines = victim.read_bytes().splitlines(keepends=True)
    # One declaration re-encoded as Big5, as a regional export tool might write it.
    victim.write_bytes(b"".join(lines[:2]) + lines[2].replace(b",", "，手袋,".encode("big5"), 1) + b"".join(lines[3:]))
    night = Path(Workspace(trained).night(NIGHT))
    before = _snapshot(night)
    assert _nightly(trained, str(root)) == 3
    err = capsys.readouterr().err
    assert victim.name in err and "UTF-8" in err
    assert _snapshot(night) == before
