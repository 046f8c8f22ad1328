"""Recorded results as an outcomes feed: the results database's current results written in the
contract's outcomes layout (DATA_CONTRACT.md), so every job reads them like any input root.

    ROOT/outcomes/date=D/recorded_results.csv   D = inspected_on (as the generator partitions
                                                outcomes, and as the nights and label_days read them)

What is written, per result (the newest version of each listed consignment and night):
- only SEIZED and CLEAN: a NOT_INSPECTED consignment has no outcome row (the contract);
- the contract's columns (required and optional), `selection_reason` as recorded (RISK,
  EXPLORATION and RANDOM kept apart), plus two extra columns a reader may ignore:
  `brands_found` and `note`;
- CSV, UTF-8, RFC 4180 quoting. Free text (brands found, note) that a spreadsheet would run as a
  formula gets a leading apostrophe (pipelines.outputs.lists.neutralise); identifiers and codes
  are written as they are, because the jobs join on them.

Each day folder is replaced as a whole (written beside it, then renamed in), so a reader sees
the old day or the new one. A day folder holding files this module did not write is refused,
never overwritten: export into a root of its own, not into a feed.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import UserError
from pipelines.io.publish import is_local, publish_dir, put_text
from pipelines.io.workspace import day_folder, stored_days
from pipelines.outputs.lists import neutralise
from pipelines.validation.contract import DATASETS

FILE_NAME = "recorded_results.csv"
OUTCOME_RESULTS = ("SEIZED", "CLEAN")
CONTRACT_COLUMNS = tuple(DATASETS["outcomes"].column_names)
EXTRA_TEXT = ("brands_found", "note")  # extra columns (the contract allows and ignores them)
COLUMNS = (*CONTRACT_COLUMNS, *EXTRA_TEXT)


@dataclass(frozen=True)
class DayWritten:
    day: str
    folder: str
    rows: int  # 0: the day had no result left and its folder was removed
    seized: int
    clean: int


def outcome_rows(results: list[dict]) -> dict[str, list[dict]]:
    """Current results (ResultStore.current) as outcome rows by inspection day; NOT_INSPECTED left out."""
    by_day: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        if r["result"] not in OUTCOME_RESULTS:
            continue
        by_day[r["inspected_on"]].append({c: r.get(c) for c in COLUMNS})
    return {day: sorted(rows, key=lambda row: row["consignment_id"]) for day, rows in by_day.items()}


def _cell(name: str, value) -> str:
    if value is None:
        return ""
    if name in EXTRA_TEXT:
        # One line per record: line breaks inside a note become "\n" only (the reader joins a
        # quoted record over lines), and a formula-like start gets its apostrophe.
        return neutralise(str(value).replace("\r\n", "\n").replace("\r", "\n"))
    if name == "seized_value_hkd":
        return repr(float(value))
    return str(value)


def render_csv(rows: list[dict]) -> str:
    """One day's rows as CSV text (header first, CRLF line ends, minimal RFC 4180 quoting)."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(COLUMNS)
    for row in rows:
        out.writerow([_cell(c, row.get(c)) for c in COLUMNS])
    return buffer.getvalue()


def outcomes_folder(root: str) -> str:
    return f"{root.rstrip('/')}/{DATASETS['outcomes'].name}"


def _existing_days(folder: str, spark) -> list[str]:
    if not is_local(folder):
        return stored_days(spark, folder)
    path = Path(folder)
    if not path.is_dir():
        return []
    return sorted(p.name.split("=", 1)[1] for p in path.iterdir() if p.is_dir() and p.name.startswith("date="))


def _check_ours(target: str, spark) -> None:
    """Refuse to replace a day folder holding files this module did not write."""
    if is_local(target):
        names = [p.name for p in Path(target).iterdir()] if Path(target).is_dir() else []
    else:
        from pipelines.io.filesystem import list_names, path_exists

        names = list_names(spark, target) if path_exists(spark, target) else []
    foreign = sorted(n for n in names if n != FILE_NAME and not n.startswith((".", "_")))
    if foreign:
        raise UserError(f"{target} holds {', '.join(foreign[:3])}, which the export did not write; nothing was "
                        "replaced there. Export recorded results into a folder of their own (not an input feed)")


def _remove(target: str, spark) -> None:
    if is_local(target):
        shutil.rmtree(target, ignore_errors=True)
    else:
        from pipelines.io.filesystem import delete_path

        delete_path(spark, target)


def write_outcome_days(root: str, by_day: dict[str, list[dict]], days: list[str] | None = None,
                       spark=None) -> list[DayWritten]:
    """Make ROOT/outcomes/date=D hold exactly `by_day[D]` for each D in `days` (None: every day with
    rows or with a folder already), each day swapped in whole; a day left without rows loses its
    folder. `spark` is needed only when ROOT is a Hadoop URI."""
    folder = outcomes_folder(root)
    if days is None:
        days = sorted(set(by_day) | set(_existing_days(folder, spark)))
    for day in days:
        _check_ours(day_folder(folder, day), spark)
    written, existing = [], set(_existing_days(folder, spark))
    for day in sorted(days):
        target, rows = day_folder(folder, day), by_day.get(day, [])
        if not rows:
            if day in existing:
                _remove(target, spark)
                written.append(DayWritten(day, target, 0, 0, 0))
            continue
        with publish_dir(target, spark) as staging:
            put_text(spark, os.path.join(str(staging), FILE_NAME) if is_local(target) else f"{staging}/{FILE_NAME}",
                     render_csv(rows))
        seized = sum(r["result"] == "SEIZED" for r in rows)
        written.append(DayWritten(day, target, len(rows), seized, len(rows) - seized))
    return written
