"""Inspection results recorded by inspectors: one table of versions, never updated in place.

Each save (from the web form or an imported XLSX row) adds a version of the result of one
listed consignment (consignment_id, list_date), with who saved it, when and through which
channel. The newest version is the result; the older ones are the audit trail. A correction
is a new version; nothing is overwritten or deleted.

The database is SQLite in the workspace by default (W/workbench.db), any SQLAlchemy URL
otherwise (settings `workbench.database_url`).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import sqlalchemy as sa

from pipelines.errors import UserError
from pipelines.io.workspace import Workspace

RESULTS = ("SEIZED", "CLEAN", "NOT_INSPECTED")
INFRINGEMENT_TYPES = ("TRADEMARK", "COPYRIGHT", "DESIGN", "PATENT")
# How the consignment came to be inspected, as the contract's outcomes name it: the list's
# basis (RISK, EXPLORATION, RANDOM) or, for one that was not on a list, INTEL / OTHER.
SELECTION_REASONS = ("RISK", "EXPLORATION", "RANDOM", "INTEL", "OTHER")
CHANNELS = ("web", "xlsx")
TEXT_LIMIT = 2000

_metadata = sa.MetaData()
results_table = sa.Table(
    "inspection_results", _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("consignment_id", sa.String(200), nullable=False),
    sa.Column("list_date", sa.String(10), nullable=False),  # the night whose list carried it
    sa.Column("office", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("selection_reason", sa.String(16), nullable=False),
    sa.Column("result", sa.String(16), nullable=False),
    sa.Column("inspected_on", sa.String(10)),
    sa.Column("not_inspected_reason", sa.String(TEXT_LIMIT)),
    sa.Column("seized_items", sa.Integer),
    sa.Column("seized_value_hkd", sa.Float),
    sa.Column("infringement_type", sa.String(16)),
    sa.Column("brands_found", sa.String(TEXT_LIMIT)),
    sa.Column("note", sa.String(TEXT_LIMIT)),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.Column("recorded_at", sa.String(32), nullable=False),  # UTC, ISO 8601
    sa.Column("channel", sa.String(16), nullable=False),
    sa.UniqueConstraint("consignment_id", "list_date", "version", name="one_row_per_version"),
)


class ResultError(UserError):
    """A result that cannot be recorded; the message says which field and why."""


@dataclass(frozen=True)
class ResultEntry:
    """What an inspector records for one listed consignment."""
    consignment_id: str
    list_date: str
    office: str
    selection_reason: str
    result: str
    inspected_on: str | None = None
    not_inspected_reason: str | None = None
    seized_items: int | None = None
    seized_value_hkd: float | None = None
    infringement_type: str | None = None
    brands_found: str | None = None
    note: str | None = None


def check_entry(entry: ResultEntry, today: dt.date | None = None) -> list[str]:
    """Why `entry` cannot be recorded (empty: it can). The rules follow the contract's outcomes:
    an inspected result has an inspection day between the list's night and today; only a
    seizure carries seized items, value and infringement type; NOT_INSPECTED says why."""
    today = today or dt.date.today()
    problems = []
    if not entry.consignment_id or not entry.office:
        problems.append("consignment and office are required")
    if entry.selection_reason not in SELECTION_REASONS:
        problems.append(f"selection reason {entry.selection_reason!r} is not one of {', '.join(SELECTION_REASONS)}")
    if entry.result not in RESULTS:
        problems.append(f"result {entry.result!r} is not one of {', '.join(RESULTS)}")
    try:
        list_day = dt.date.fromisoformat(entry.list_date)
    except (TypeError, ValueError):
        problems.append(f"list date {entry.list_date!r} is not a date (YYYY-MM-DD)")
        list_day = None
    if entry.result in ("SEIZED", "CLEAN"):
        try:
            inspected = dt.date.fromisoformat(entry.inspected_on or "")
        except ValueError:
            problems.append(f"inspected on {entry.inspected_on!r}: give the day of the inspection (YYYY-MM-DD)")
        else:
            if list_day and inspected < list_day:
                problems.append(f"inspected on {inspected} is before the list of {list_day}")
            if inspected > today:
                problems.append(f"inspected on {inspected} is in the future")
    if entry.result == "NOT_INSPECTED":
        if not (entry.not_inspected_reason or "").strip():
            problems.append("NOT_INSPECTED needs a reason (for example: already departed)")
        if entry.inspected_on:
            problems.append("NOT_INSPECTED has no inspection day")
    if entry.result != "SEIZED" and any(v not in (None, "") for v in
                                        (entry.seized_items, entry.seized_value_hkd, entry.infringement_type)):
        problems.append("seized items, value and infringement type belong to a SEIZED result only")
    if entry.seized_items is not None and (not isinstance(entry.seized_items, int) or entry.seized_items < 0):
        problems.append(f"seized items {entry.seized_items!r} must be a whole number >= 0")
    if entry.seized_value_hkd is not None and (not math.isfinite(entry.seized_value_hkd) or entry.seized_value_hkd < 0):
        problems.append(f"seized value {entry.seized_value_hkd!r} must be a number >= 0")
    if entry.infringement_type not in (None, "") and entry.infringement_type not in INFRINGEMENT_TYPES:
        problems.append(f"infringement type {entry.infringement_type!r} is not one of {', '.join(INFRINGEMENT_TYPES)}")
    for name in ("not_inspected_reason", "brands_found", "note"):
        if len(getattr(entry, name) or "") > TEXT_LIMIT:
            problems.append(f"{name.replace('_', ' ')} is longer than {TEXT_LIMIT} characters")
    return problems


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class ResultStore:
    def __init__(self, url: str):
        self.url = url
        self.engine = sa.create_engine(url)
        try:
            _metadata.create_all(self.engine)
        except sa.exc.SQLAlchemyError as exc:
            raise UserError(f"results database {url}: {exc.__class__.__name__}: {exc.orig if hasattr(exc, 'orig') else exc}; "
                            "check settings workbench.database_url and that the database is reachable") from exc

    @classmethod
    def for_workspace(cls, workspace: Workspace, settings: dict) -> ResultStore:
        url = settings["workbench"]["database_url"]
        if not url:
            if not workspace.is_local:
                raise UserError(f"workspace {workspace.root} is not a local folder, so it cannot hold the SQLite results "
                                "database: set workbench.database_url to a server database")
            Path(workspace.root).mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{workspace.workbench_db}"
        return cls(url)

    @classmethod
    def existing(cls, workspace: Workspace, settings: dict) -> ResultStore | None:
        """The workspace's results database, or None when none was ever created (no database URL
        configured and no SQLite file in the workspace): nothing was recorded, nothing is created."""
        configured = (settings.get("workbench") or {}).get("database_url")
        if not configured and not (workspace.is_local and workspace.workbench_db.exists()):
            return None
        return cls.for_workspace(workspace, settings)

    def record(self, entries: list[ResultEntry], user: str, channel: str, today: dt.date | None = None) -> list[int]:
        """Add one version per entry, all or none; the versions given, in order."""
        if channel not in CHANNELS:
            raise ValueError(f"channel {channel!r}")
        problems = [f"{e.consignment_id}: {p}" for e in entries for p in check_entry(e, today)]
        if problems:
            raise ResultError("; ".join(problems))
        versions = []
        with self.engine.begin() as conn:  # one transaction: a batch is recorded whole or not at all
            for entry in entries:
                latest = conn.execute(
                    sa.select(sa.func.max(results_table.c.version)).where(
                        results_table.c.consignment_id == entry.consignment_id,
                        results_table.c.list_date == entry.list_date)).scalar()
                version = (latest or 0) + 1
                conn.execute(results_table.insert().values(
                    **asdict(entry), version=version, recorded_by=user, recorded_at=_now(), channel=channel))
                versions.append(version)
        return versions

    def _select(self, where, latest_only: bool) -> list[dict]:
        t = results_table
        query = sa.select(t).where(*where)
        if latest_only:
            newest = (sa.select(t.c.consignment_id, t.c.list_date, sa.func.max(t.c.version).label("v"))
                      .group_by(t.c.consignment_id, t.c.list_date).subquery())
            query = query.join(newest, (t.c.consignment_id == newest.c.consignment_id)
                               & (t.c.list_date == newest.c.list_date) & (t.c.version == newest.c.v))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.c.list_date, t.c.consignment_id, t.c.version)).mappings().all()
        return [dict(r) for r in rows]

    def current(self, office: str | None = None, list_date: str | None = None) -> list[dict]:
        """The newest version of every result, optionally of one office and list night."""
        where = []
        if office is not None:
            where.append(results_table.c.office == office)
        if list_date is not None:
            where.append(results_table.c.list_date == list_date)
        return self._select(where, latest_only=True)

    def history(self, consignment_id: str, list_date: str | None = None) -> list[dict]:
        """Every version recorded for a consignment, oldest first: the audit trail."""
        where = [results_table.c.consignment_id == consignment_id]
        if list_date is not None:
            where.append(results_table.c.list_date == list_date)
        return self._select(where, latest_only=False)


ENTRY_FIELDS = tuple(f.name for f in fields(ResultEntry))
