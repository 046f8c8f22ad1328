"""The receiving side on disk: the intelligence root's watch-list snapshot, and the import's own
records beside it. The root is an input root (DATA_CONTRACT.md) on a local or shared disk:

    R/intelligence/watchlist.csv            the snapshot `share import` writes (temp file + rename)
    R/exchange/ledger.json                  the packages imported so far, by digest (idempotence)
    R/exchange/quarantined/<digest>.csv     rows of a package refused by validation, with reasons
    R/exchange/import.lock                  one import at a time (flock; released if killed)

The first import consolidates whatever files the snapshot held (CSV or Parquet, any names)
into watchlist.csv: it renames the new file in, then removes the others. A reader between the
two steps sees every old row twice (once merged): harmless, since a listing counts once per
source. Later imports replace the one file by a rename: readers see the old or the new snapshot.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from pipelines.errors import UserError
from pipelines.exchange.merge import CONTRACT, PROVENANCE
from pipelines.exchange.package import csv_bytes
from pipelines.io.publish import write_text_atomic
from pipelines.io.readers import file_format

SNAPSHOT_FILE = "watchlist.csv"




class IntelligenceRoot:
    """The folders and files of an intelligence root that the import reads and writes."""

    def __init__(self, root: str):
        if "://" in root or root.startswith("file:"):
            raise UserError(f"--intelligence-root {root}: give a local or shared-disk folder; the snapshot is "
                            "replaced by a file rename, which object stores cannot do atomically")
        self.root = Path(root)
        self.snapshot_dir = self.root / "intelligence"
        self.records = self.root / "exchange"

    @property
    def snapshot(self) -> Path:
        return self.snapshot_dir / SNAPSHOT_FILE

    @property
    def ledger(self) -> Path:
        return self.records / "ledger.json"

    def quarantined(self, digest: str) -> Path:
        return self.records / "quarantined" / f"{digest[:16]}.csv"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """One import at a time into this root; a second one waits for the first."""
        self.records.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.records / "import.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            out[column.lower()] = values.dt.strftime("%Y-%m-%d").fillna("")
        else:
            out[column.lower()] = values.map(lambda v: "" if v is None or (isinstance(v, float) and v != v)
                                             else (v.isoformat() if hasattr(v, "isoformat") else str(v)))
    return pd.DataFrame(out, index=frame.index)


def snapshot_files(root: IntelligenceRoot) -> list[Path]:
    """The data files of the snapshot (hidden files skipped, like the readers do)."""
    if not root.snapshot_dir.is_dir():
        return []
    files = []
    for path in sorted(root.snapshot_dir.iterdir()):
        if path.name.startswith((".", "_")) or not path.is_file():
            continue
        if file_format(path.name) is None:
            raise UserError(f"{path} is not a data file of the snapshot (.csv, .csv.gz or .parquet); move it out "
                            "of the folder before importing")
        files.append(path)
    return files


def read_held(root: IntelligenceRoot) -> tuple[list[dict], list[str], list[Path]]:
    """(the held rows as text, their columns: the contract's, extras, provenance; the files read)."""
    files = snapshot_files(root)
    frames = []
    for path in files:
        if file_format(path.name) == "parquet":
            frames.append(_as_text(pd.read_parquet(path)))
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            frames.append(frame.rename(columns=str.lower))
    extras = [c for f in frames for c in f.columns if c not in CONTRACT and c != PROVENANCE]
    columns = [*CONTRACT, *dict.fromkeys(extras), PROVENANCE]
    rows = [] if not frames else pd.concat(frames, ignore_index=True).reindex(columns=columns).fillna("") \
        .to_dict("records")
    return rows, columns, files


def write_snapshot(root: IntelligenceRoot, rows: list[dict], columns: list[str], replaced: list[Path]) -> Path:
    """The new snapshot as one CSV file, renamed into place; then the other files it replaces go."""
    data = csv_bytes(columns, [[row.get(c, "") for c in columns] for row in rows]).decode("utf-8")
    root.snapshot_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(root.snapshot, data)
    for path in replaced:
        if path != root.snapshot:
            path.unlink(missing_ok=True)
    return root.snapshot


def read_ledger(root: IntelligenceRoot) -> dict[str, dict]:
    if not root.ledger.exists():
        return {}
    return json.loads(root.ledger.read_text(encoding="utf-8"))


def write_ledger(root: IntelligenceRoot, ledger: dict[str, dict]) -> None:
    write_text_atomic(root.ledger, json.dumps(ledger, indent=2, sort_keys=True) + "\n")


def write_quarantined(root: IntelligenceRoot, digest: str, rows: list[dict], columns: list[str]) -> Path:
    target = root.quarantined(digest)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target, csv_bytes(columns, [[r.get(c, "") for c in columns] for r in rows]).decode("utf-8"))
    return target
