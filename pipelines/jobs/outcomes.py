"""`shiprisk outcomes`: recorded results out as an outcomes feed (export), in from a filled-in XLSX
list (import), and the refresh of W/recorded that the jobs run before they read outcomes.

The results database is the source of truth. `refresh_recorded` rewrites W/recorded from it
(pipelines.workbench.recorded, the same code as `outcomes export`) and returns that root for
validate_inputs / read_valid_outcomes to read beside the input root; with no database (nothing
ever recorded) it returns None, creates nothing, and the jobs read the input root alone.
"""
from __future__ import annotations

import datetime as dt

from pipelines.errors import UserError
from pipelines.io.context import RunContext
from pipelines.io.workspace import days_between
from pipelines.workbench.recorded import DayWritten, outcome_rows, write_outcome_days
from pipelines.workbench.store import ResultStore
from pipelines.workbench.xlsx_import import XlsxRefused, check_sheet, read_sheet, render_problems

LISTED_LANES = ("RED", "AMBER")
# An AMBER (document check) row carries no list basis; it was picked by targeting's score.
AMBER_REASON = "RISK"


def open_store(ctx: RunContext) -> ResultStore | None:
    """The results database, or None when none was ever created (SQLite default, file absent)."""
    return ResultStore.existing(ctx.workspace, ctx.settings)


def _spark_for(ctx: RunContext, root: str):
    """Spark only for a Hadoop URI; local folders are written by the driver alone."""
    from pipelines.io.publish import is_local

    return None if is_local(root) else ctx.spark


def refresh_recorded(ctx: RunContext) -> str | None:
    """Rewrite W/recorded from the results database; the root to read beside the input root, or
    None when there is no recorded outcome (no database, or only NOT_INSPECTED results).

    Call it under the job's writer lock, before validation reads outcomes."""
    store = open_store(ctx)
    if store is None:
        return None
    with ctx.progress.stage("refresh recorded results"):
        by_day = outcome_rows(store.current())
        root = ctx.workspace.recorded
        write_outcome_days(root, by_day, None, _spark_for(ctx, root))
    return root if by_day else None


def export_outcomes(ctx: RunContext, out_root: str, first: dt.date | None = None,
                    last: dt.date | None = None) -> dict:
    """Write the current results (inspected first..last, or all) under out_root/outcomes/date=D/."""
    store = open_store(ctx)
    if store is None:
        return {"database": None, "days": [], "not_inspected": 0}
    results = store.current()
    days = days_between(first, last or first) if first else None
    wanted = set(days or [])
    by_day = outcome_rows(results)
    if days is not None:
        by_day = {d: rows for d, rows in by_day.items() if d in wanted}
    written = write_outcome_days(out_root, by_day, days, _spark_for(ctx, out_root))
    in_range = [r for r in results if days is None or r["list_date"] in wanted]
    return {"database": store.engine.url.render_as_string(hide_password=True), "days": written,
            "not_inspected": sum(r["result"] == "NOT_INSPECTED" for r in in_range)}


def listed_consignments(ctx: RunContext, day: str, office: str) -> dict[str, str]:
    """consignment_id -> selection_reason of the office's list (RED and AMBER) of night `day`: from
    the night's worklist, or else from its scores."""
    ws = ctx.workspace
    columns = ["customs_office", "consignment_id", "lane", "selection_reason"]
    rows = _read_rows(ctx, ws.worklist(day), columns, office)
    if rows is None:
        rows = _read_rows(ctx, ws.scores_day(day), columns, office)
    if rows is None:
        raise UserError(f"workspace {ws.root} has no list for night {day} (no worklist, no scores): check --date, "
                        "or run `shiprisk nightly` for that day first")
    listed = {r["consignment_id"]: r["selection_reason"] or AMBER_REASON
              for r in rows if r["lane"] in LISTED_LANES}
    if not listed:
        raise UserError(f"office {office} has no listed consignment on night {day}: check --office and --date")
    return listed


def _read_rows(ctx: RunContext, location: str, columns: list[str], office: str) -> list[dict] | None:
    """The office's rows of a Parquet file or folder (bounded by a night's consignments of one
    office), or None if it does not exist."""
    from pipelines.io.publish import is_local

    if is_local(location):
        from pathlib import Path

        import pyarrow.parquet as pq

        if not Path(location).exists():
            return None
        table = pq.read_table(location, columns=columns, filters=[("customs_office", "=", office)])
        return table.to_pylist()
    from pyspark.sql import functions as F

    from pipelines.io.filesystem import path_exists

    if not path_exists(ctx.spark, location):
        return None
    frame = ctx.spark.read.parquet(location).select(*columns).where(F.col("customs_office") == office)
    return [r.asDict() for r in frame.collect()]


def import_results(ctx: RunContext, path: str, office: str, day: dt.date, user: str) -> dict:
    """Record every worked row of a filled-in XLSX list in one transaction (channel xlsx), or
    nothing: any bad row raises XlsxRefused with the row-by-row report."""
    sheet = read_sheet(path)
    listed = listed_consignments(ctx, day.isoformat(), office)
    entries, problems = check_sheet(sheet, listed, office, day.isoformat())
    if problems:
        rows = len({p.row for p in problems})
        raise XlsxRefused(f"{path}: {rows} of {len(sheet.rows)} worked row(s) cannot be recorded, so nothing was "
                          f"loaded; correct them and import the file again:\n{render_problems(problems)}", problems)
    counts = {r: sum(e.result == r for e in entries) for r in ("SEIZED", "CLEAN", "NOT_INSPECTED")}
    if entries:
        store = ResultStore.for_workspace(ctx.workspace, ctx.settings)
        store.record(entries, user, "xlsx")
    return {"recorded": len(entries), "by_result": counts, "not_worked": sheet.not_worked,
            "listed": len(listed)}




def list_coverage(ctx: RunContext, nights: list[str]) -> list[dict] | None:
    """Coverage per night and office of the given nights' lists by the results recorded in the
    workbench; None when the workspace has no results database (nothing was ever recorded)."""
    from pipelines.workbench.coverage import coverage_rows
    from pipelines.workbench.worklist import Worklists

    store = open_store(ctx)
    if store is None or not ctx.workspace.is_local:
        return None
    worklists = Worklists(ctx.workspace)
    loaded = [(day, worklists.night(day)) for day in sorted(nights)]
    rows = [(day, [r for office_rows in night.by_office.values() for r in office_rows]) for day, night in loaded if night]
    # Only these nights' results: the database grows every night, the coverage window does not.
    return coverage_rows(rows, [r for day, _ in rows for r in store.current(list_date=day)])


def coverage_summary(ctx: RunContext, day: str) -> dict:
    """For the night's run record: how far the lists of the `workbench.coverage_nights` nights
    before `day` were worked (results recorded so far), per night and office, with totals."""
    nights = days_between(dt.date.fromisoformat(day) - dt.timedelta(days=int(ctx.settings["workbench"]["coverage_nights"])),
                          dt.date.fromisoformat(day) - dt.timedelta(days=1))
    rows = list_coverage(ctx, nights)
    if rows is None:
        return {"nights": nights, "status": "NO_RESULTS_DATABASE", "rows": []}
    keys = ("listed", "with_result", "inspected", "seized", "random_listed", "random_inspected", "random_pending")
    totals = {k: sum(r[k] for r in rows) for k in keys}
    totals["hit_rate"] = totals["seized"] / totals["inspected"] if totals["inspected"] else None
    skipped = [f"{r['night']} {r['office']}: {c}" for r in rows for c in r["skipped_controls"]]
    return {"nights": nights, "status": "CONTROL_SAMPLE_SKIPPED" if skipped else "OK", "totals": totals,
            "skipped_controls": skipped, "rows": rows}


__all__ = ["DayWritten", "XlsxRefused", "coverage_summary", "export_outcomes", "import_results", "list_coverage",
           "listed_consignments", "open_store", "refresh_recorded"]
