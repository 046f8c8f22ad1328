"""The nights' worklists as the workbench reads them: W/nights/date=D/worklist.parquet, one row
per listed consignment (RED list and AMBER queue), written by `shiprisk nightly`.

A worklist is small (bounded by office capacity), so it is read whole with pyarrow and kept in
memory until the file changes (a re-run swaps the night folder in whole: new inode, new mtime).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.errors import UserError
from pipelines.io.workspace import Workspace
from pipelines.outputs.worklist import SCHEMA

# The worklist's schema as the nightly job writes it (one definition, in pipelines.outputs.worklist).
WORKLIST_SCHEMA = SCHEMA
REQUIRED = ("list_date", "customs_office", "lane", "rank_in_office", "selection_basis", "selection_reason",
            "consignment_id", "reasons")
LANES = ("RED", "AMBER")
_NIGHT = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")


def parse_day(text: str) -> str | None:
    """`text` if it is a calendar day YYYY-MM-DD, else None (URLs carry days: never trust them)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text or ""):
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


@dataclass(frozen=True)
class Night:
    """One night's worklist, indexed: rows per office in rank order (RED first, then AMBER)."""
    day: str
    by_office: dict[str, list[dict]]
    by_key: dict[tuple[str, str], dict]  # (office, consignment_id) -> row

    def rows(self, office: str) -> list[dict]:
        return self.by_office.get(office, [])

    def row(self, office: str, consignment_id: str) -> dict | None:
        return self.by_key.get((office, consignment_id))


def index_rows(day: str, rows: list[dict]) -> Night:
    """Group rows by office, in the order an inspector works them: RED by rank, then AMBER by rank."""
    lane_order = {lane: i for i, lane in enumerate(LANES)}
    ordered = sorted(rows, key=lambda r: (str(r.get("customs_office")), lane_order.get(r.get("lane"), len(LANES)),
                                          r.get("rank_in_office") if r.get("rank_in_office") is not None else 1 << 30,
                                          str(r.get("consignment_id"))))
    by_office: dict[str, list[dict]] = {}
    by_key: dict[tuple[str, str], dict] = {}
    for row in ordered:
        for name in WORKLIST_SCHEMA.names:  # an older file may lack a detail column: shown empty
            row.setdefault(name, None)
        office = str(row.get("customs_office"))
        row["route_ports_list"] = [p for p in (row.get("route_ports") or "").split(";") if p]
        by_office.setdefault(office, []).append(row)
        by_key[(office, str(row.get("consignment_id")))] = row
    return Night(day, by_office, by_key)


class Worklists:
    """The worklists of a local workspace, read on demand and cached per file version."""

    def __init__(self, workspace: Workspace):
        if not workspace.is_local:
            raise UserError(f"workspace {workspace.root}: the workbench reads worklists from a local (or mounted) "
                            "folder; mount the workspace or run the workbench where it is local")
        self.workspace = workspace
        self._cache: dict[str, tuple[tuple, Night]] = {}
        self._lock = threading.Lock()

    def nights(self) -> list[str]:
        """Days whose night folder holds a worklist, newest first."""
        root = Path(self.workspace.nights)
        if not root.is_dir():
            return []
        days = []
        for child in root.iterdir():
            match = _NIGHT.match(child.name)
            if match and parse_day(match.group(1)) and Path(self.workspace.worklist(match.group(1))).exists():
                days.append(match.group(1))
        return sorted(days, reverse=True)

    def night(self, day: str) -> Night | None:
        """The indexed worklist of `day`, or None if that night has none."""
        if parse_day(day) != day:
            return None
        path = self.workspace.worklist(day)
        try:
            stat = os.stat(path)
        except OSError:
            return None
        version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._cache.get(day)
            if cached and cached[0] == version:
                return cached[1]
        night = index_rows(day, read_worklist(path))
        with self._lock:
            self._cache[day] = (version, night)
        return night


def read_worklist(path: str) -> list[dict]:
    """The rows of one worklist file (or folder of parts) as dicts; a missing column is named."""
    table = pq.read_table(path)
    missing = [c for c in REQUIRED if c not in table.column_names]
    if missing:
        raise UserError(f"worklist {path} lacks column(s) {', '.join(missing)}; re-run `shiprisk nightly` for that night")
    return table.to_pylist()
