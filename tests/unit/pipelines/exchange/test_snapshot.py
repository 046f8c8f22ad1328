"""The receiving side on disk: a held snapshot of any files read as text, replaced by one file."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines.errors import UserError
from pipelines.exchange import snapshot as sn


def test_held_rows_from_csv_and_parquet_then_one_file(tmp_path):
    root = sn.IntelligenceRoot(str(tmp_path))
    root.snapshot_dir.mkdir()
    pd.DataFrame({"entity_type": ["EXPORTER"], "entity_id": ["E1"], "source": ["HK"],
                  "listed_on": [dt.date(2026, 6, 1)], "expires_on": [pd.NaT], "received_on": [pd.NaT],
                  "note": [None]}).astype({"listed_on": "datetime64[ns]"}).to_parquet(root.snapshot_dir / "part-0.parquet")
    (root.snapshot_dir / "extra.csv").write_text("entity_type,entity_id,source,listed_on,analyst\n"
                                                 "CONSIGNEE,C1,GD,2026-06-02,lee\n", encoding="utf-8")
    (root.snapshot_dir / ".hidden.csv").write_text("junk")
    rows, columns, files = sn.read_held(root)
    assert columns == [*sn.CONTRACT, "analyst", sn.PROVENANCE]
    assert sorted((r["entity_id"], r["listed_on"], r["expires_on"], r["analyst"]) for r in rows) == [
        ("C1", "2026-06-02", "", "lee"), ("E1", "2026-06-01", "", "")]
    written = sn.write_snapshot(root, rows, columns, files)
    assert sorted(p.name for p in root.snapshot_dir.iterdir()) == [".hidden.csv", "watchlist.csv"]
    assert written.read_text(encoding="utf-8").splitlines()[0] == \
        "entity_type,entity_id,source,listed_on,expires_on,received_on,note,analyst,provenance"


def test_a_stray_file_or_a_remote_root_is_refused(tmp_path):
    root = sn.IntelligenceRoot(str(tmp_path))
    root.snapshot_dir.mkdir()
    (root.snapshot_dir / "notes.txt").write_text("x")
    with pytest.raises(UserError, match="notes.txt"):
        sn.read_held(root)
    with pytest.raises(UserError, match="local or shared-disk"):
        sn.IntelligenceRoot("s3a://bucket/root")
