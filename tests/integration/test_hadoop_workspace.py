"""A workspace given as a file system URI goes through Hadoop's FileSystem API for every write
(as it would on HDFS): the night is still published as one unit, a failure leaves it as it
was, and the lock is an exclusive create."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.io.publish import remote_lock
from pipelines.io.workspace import Workspace
from tests.integration.conftest import LAST_DAY

pytestmark = pytest.mark.slow
NIGHT = LAST_DAY.isoformat()


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(".crc")}


def test_night_on_a_hadoop_uri_workspace(trained, input_root, spark, tmp_path, monkeypatch, capsys):
    import pipelines.jobs.nightly as job

    local = tmp_path / "hdfs-like"
    uri = local.as_uri()
    # The champion comes from the trained workspace's registry; a URI workspace holds no SQLite store.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{Path(trained).resolve() / 'mlflow.db'}")
    nightly = ["nightly", "--input", input_root, "--workspace", uri, "--date", NIGHT]
    assert main(nightly) == 0
    night = local / "nights" / f"date={NIGHT}"
    summary = json.loads((night / "summary.json").read_text())
    counts = summary["counts"]
    assert counts["consignments_read"] == counts["consignments_scored"] + counts["consignments_quarantined"] > 0
    assert summary["outputs"]["lists"] == f"{uri}/nights/date={NIGHT}/lists"
    assert len(list((night / "lists").glob("*.csv"))) == summary["outputs"]["list_files"] // 3 > 0
    assert (local / "runs" / f"date={NIGHT}" / "validation.html").is_file()
    assert [p.name for p in (local / "nights").iterdir() if not p.name.endswith(".crc")] == [f"date={NIGHT}"]
    before = _digests(night)

    real = job.score_consignments
    monkeypatch.setattr(job, "score_consignments", lambda table, *a: real(table, *a).limit(1))  # rows lost
    assert main(nightly) == 70
    err = capsys.readouterr().err
    assert f"reconciliation failed for {NIGHT}" in err and "nothing was published" in err
    assert _digests(night) == before  # the previous night's unit, untouched
    monkeypatch.setattr(job, "score_consignments", real)

    with remote_lock(spark, Workspace(uri), "train 2026-06-01..2026-06-28"):
        assert main(nightly) == 4
    err = capsys.readouterr().err
    assert "train 2026-06-01..2026-06-28" in err and "workspace.lock" in err
    assert not (local / "locks" / "workspace.lock").exists()


def test_a_workspace_on_an_object_store_is_refused_before_any_work(input_root, capsys):
    assert main(["nightly", "--input", input_root, "--workspace", "s3a://bucket/shiprisk", "--date", NIGHT]) == 2
    assert "s3a:// has no atomic folder rename" in capsys.readouterr().err
