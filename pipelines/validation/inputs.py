"""Validate an input root's days: expectation suites, cross-row checks, quarantine, reconciliation.

`validate_inputs` is what the nightly and training jobs call. Bad rows go to
<workspace>/quarantine/date=D/<dataset>/ with every reason that applies; the good rows come
back as typed contract frames. A feed broken as a whole raises FeedError and writes
nothing but a report marked FAILED.

`truth` (synthetic roots only) is not a feed: it is not validated here, and the nightly run
never reads it; evaluation reads it as typed rows (pipelines.jobs.windows).

Which manifests make an outcome "known": the manifests of the days read, plus those of
earlier days present in the root within `outcome_lookback_days` of the last day read
(an outcome arrives days after lodging, so a nightly run must look back).

Recorded results: given `recorded` (the workspace's W/recorded, refreshed from the results
database by pipelines.jobs.outcomes.refresh_recorded), its outcomes of the same days are read
with the input root's as one dataset: the same suite, quarantine and counts, then the
superseded rule of pipelines.validation.outcomes (a recorded result wins a tie).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.errors import FeedError, ReconciliationError
from pipelines.io.context import RunContext
from pipelines.io.publish import put_text
from pipelines.io.readers import PARTITION_DATE, InputError, file_columns, list_source_files, read_raw, to_typed
from pipelines.io.settings import conf_root
from pipelines.io.spark import cut_lineage
from pipelines.validation import quarantine as q
from pipelines.validation.contract import DATASETS
from pipelines.validation.expectations import failure_condition, load_suites, render_report, run_suites
from pipelines.validation.outcomes import flag_superseded, mark_recorded, read_raw_outcomes

PARTITIONED = ("manifests", "declarations", "outcomes")
SNAPSHOTS = ("intelligence", "rights_holders", "fx_rates")


@dataclass
class ValidationResult:
    valid: dict[str, DataFrame]  # kept apart from the files: the flagged rows' cache is already released
    summary: dict


def _datasets_present(spark: SparkSession, root: str, dates: list[str], vcfg: dict,
                      recorded: str | None = None) -> dict[str, list]:
    """Source files per dataset (outcomes: the recorded root's too); a missing required snapshot
    or day of manifests is fatal."""
    files = {name: list_source_files(spark, root, DATASETS[name], dates if DATASETS[name].partitioned else None)
             for name in (*PARTITIONED, *SNAPSHOTS)}
    if recorded:
        files["outcomes"] += list_source_files(spark, recorded, DATASETS["outcomes"], dates)
    for day in dates:
        if not any(f.partition_date == day for f in files["manifests"]):
            raise FeedError(f"manifests: no files for {day} under {root.rstrip('/')}/manifests/date={day}/ "
                            "(empty partition); check the day's export arrived, or choose another --date")
    for name in vcfg["required_snapshots"]:
        if not files[name]:
            raise FeedError(f"{name}: no files under {root.rstrip('/')}/{name}/; the snapshot is required "
                            "(see DATA_CONTRACT.md), restore it before running")
    return {name: found for name, found in files.items() if found or name in PARTITIONED}


def _check_columns(spark: SparkSession, files: dict[str, list]) -> None:
    for name, sources in files.items():
        required = DATASETS[name].required_columns
        for source in sources:
            present = set(file_columns(spark, source))
            missing = [c for c in required if c not in present]
            if missing:
                raise FeedError(f"{name}: file {source.path} lacks required column(s) {', '.join(missing)} "
                                f"(MISSING_COLUMN); fix the export or remove the file, then run again")


def _history_ids(spark: SparkSession, root: str, dates: list[str], lookback_days: int) -> DataFrame:
    """consignment_id of manifests of earlier days present in the root, within the lookback."""
    last = dt.date.fromisoformat(dates[-1])
    first = (last - dt.timedelta(days=lookback_days)).isoformat()
    earlier = sorted({f.partition_date for f in list_source_files(spark, root, DATASETS["manifests"])
                      if f.partition_date and first <= f.partition_date <= dates[-1] and f.partition_date not in dates})
    return read_raw(spark, root, "manifests", earlier).select(F.col(q.CONSIGNMENT)) if earlier else None


def _check_counts(check: DataFrame, suite: list[dict], conditions: list) -> DataFrame:
    """Rows read per day, and per expectation the failing rows and one example, as arrays (the
    same columns for every dataset, so that all datasets are counted by one query)."""
    failing = [F.sum(F.when(cond, 1).otherwise(0)) for cond, _ in conditions]
    examples = [F.max(F.when(cond, F.coalesce(F.col(exp["kwargs"]["column"]).cast("string"), F.lit("(empty)"))))
                for exp, (cond, _) in zip(suite, conditions)]
    return check.groupBy(F.col(PARTITION_DATE)).agg(
        F.count(F.lit(1)).alias("n"),
        (F.array(*failing) if failing else F.array().cast("array<bigint>")).alias("failing"),
        (F.array(*examples) if examples else F.array().cast("array<string>")).alias("examples"))


def _count_all(checks: dict[str, DataFrame], suites: dict, conditions: dict) -> dict[str, dict]:
    """One pass over every dataset's check frame (which it also materialises in the cache)."""
    parts = {name: _check_counts(check, suites[name], conditions[name]) for name, check in checks.items()}
    union = None
    for name, part in parts.items():
        part = part.select(F.lit(name).alias("_dataset"), *part.columns)
        union = part if union is None else union.unionByName(part)
    try:
        rows = union.collect()
    except Exception as exc:  # Spark surfaces a corrupt or unreadable file only when it reads it
        broken = next((name for name, part in parts.items() if not _reads(part)), "an input")
        raise FeedError(f"{broken}: a file could not be read: {str(exc).splitlines()[0][:400]}; "
                        "replace the broken file and run again") from exc
    counted = {}
    for name, conds in conditions.items():
        mine = [r for r in rows if r["_dataset"] == name]
        counted[name] = {
            "by_date": {r[PARTITION_DATE]: r["n"] for r in mine},
            "per_expectation": [sum(r["failing"][i] for r in mine) for i in range(len(conds))],
            "examples": [next((r["examples"][i] for r in mine if r["examples"][i] is not None), None)
                         for i in range(len(conds))]}
    return counted


def _reads(part: DataFrame) -> bool:
    """Whether one dataset's counts can be computed (only asked to name the broken dataset)."""
    try:
        part.collect()
        return True
    except Exception:  # noqa: BLE001 - any failure names this dataset as the broken one
        return False


def _flag(checks: dict, conditions: dict, gx_reasons: dict, known_extra: DataFrame | None) -> dict[str, DataFrame]:
    """Own reasons, then the cross-row checks, then consignment propagation."""
    flagged = {}
    for name, check in checks.items():
        own = q.own_reasons(conditions[name], DATASETS[name])
        if name in gx_reasons:  # row_flags "gx": the suite's reasons come from GX's row ids
            own = F.array_distinct(F.concat(q.own_reasons([], DATASETS[name]), F.coalesce(F.col("_gx"), F.array())))
            check = check.join(gx_reasons[name], on=q.ROW_ID, how="left")
        flagged[name] = check.select(*checks[name].columns, F.array_sort(own).alias(q.REASONS))
    m, d = flagged["manifests"], flagged["declarations"]
    m = q.flag_duplicates(m, DATASETS["manifests"].key)
    d = q.flag_duplicates(d, DATASETS["declarations"].key)
    m_ids, d_ids = checks["manifests"].select(q.CONSIGNMENT), checks["declarations"].select(q.CONSIGNMENT)
    d = q.flag_unmatched(d, m_ids, "ORPHAN_DECLARATION")
    m = q.flag_unmatched(m, d_ids, "MANIFEST_WITHOUT_DECLARATION")
    flagged["manifests"], flagged["declarations"] = q.propagate_consignments(m, d)
    known = m_ids if known_extra is None else m_ids.unionByName(known_extra)
    flagged["outcomes"] = flag_superseded(q.flag_unmatched(flagged["outcomes"], known, "ORPHAN_OUTCOME"))
    return flagged


def validate_inputs(ctx: RunContext, input_root: str, dates: list[str], record: bool = True,
                    recorded: str | None = None) -> ValidationResult:
    """Validate the given days of an input root (plus its snapshots); see the module docstring.

    record: write the report and the quarantined rows to the workspace (False: check only).
    recorded: a root of recorded results whose outcomes of `dates` are read with the input root's."""
    spark, vcfg, progress = ctx.spark, ctx.settings["validation"], ctx.progress
    workspace = ctx.workspace if record else None
    dates = sorted(set(dates))
    if not dates:
        raise FeedError("no day to validate: give at least one date (YYYY-MM-DD)")
    with progress.stage("validation: list files and check columns"):
        try:
            files = _datasets_present(spark, input_root, dates, vcfg, recorded)
            _check_columns(spark, files)
        except InputError as exc:
            raise FeedError(str(exc)) from exc
    suites = load_suites(conf_root() / vcfg["suites_dir"], list(files))
    conditions = {n: [(failure_condition(e), e["meta"]["reason"]) for e in suites[n]] for n in files}
    checks = {}
    with progress.stage("validation: read and count"):
        for name in files:
            days = dates if DATASETS[name].partitioned else None
            if name == "outcomes":  # the input root's and the recorded results, one dataset
                raw, recorded_files = read_raw_outcomes(spark, input_root, dates, vcfg["feed_timezone"], recorded)
                check = mark_recorded(q.build_check_frame(raw, DATASETS[name]), recorded_files)
            else:
                check = q.build_check_frame(read_raw(spark, input_root, name, days, timezone=vcfg["feed_timezone"]),
                                            DATASETS[name])
            checks[name] = check.persist(StorageLevel.MEMORY_AND_DISK)
        counted = _count_all(checks, suites, conditions)
    _check_days_have_rows(counted["manifests"]["by_date"], dates, input_root)
    by_gx_ids = vcfg["row_flags"] == "gx"
    gx = {}
    if vcfg.get("gx_enabled", True) or by_gx_ids:
        with progress.stage("validation: great expectations"):
            gx = run_suites(checks, suites, vcfg["gx_result_format"], index_column=q.ROW_ID if by_gx_ids else None)
        _cross_check(gx, counted)
    with progress.stage("validation: cross-row checks and reconciliation"):
        gx_reasons = q.gx_row_reasons(spark, gx) if by_gx_ids else {}
        known = _history_ids(spark, input_root, dates, int(vcfg["outcome_lookback_days"]))
        flagged = {n: f.persist(StorageLevel.MEMORY_AND_DISK) for n, f in _flag(checks, conditions, gx_reasons, known).items()}
        summary = _summary(input_root, dates, files, counted, q.reason_counts_of(flagged),
                           q.consignment_counts(flagged), vcfg)
        summary["recorded_root"] = recorded
        for check in checks.values():
            check.unpersist()
    min_rows = int(vcfg["threshold_min_rows"])
    failures = [n for n, s in summary["datasets"].items()
                if s["quarantined_share"] > s["threshold"] and s["rows_quarantined"] >= min_rows]
    summary["status"] = "FAILED" if failures else "OK"
    if workspace:
        summary["data_docs"] = _write_report(ctx, dates[-1], summary, gx)
    if failures:
        for frame in flagged.values():
            frame.unpersist()
        raise FeedError(_threshold_message(summary, failures))
    if workspace:
        with progress.stage("validation: write quarantine"):
            summary["quarantine_paths"] = [
                p for n, f in flagged.items()
                for p in q.write_quarantine(spark, f, DATASETS[n], workspace, dates,
                                            quarantined=summary["datasets"][n]["rows_quarantined"])]
    # Every later query builds on the valid rows: cut there, the validation's joins and windows
    # are not analysed again at each step (which cost more than a small night's data).
    with progress.stage("validation: keep the valid rows"):
        valid = {n: cut_lineage(_valid_frame(n, f)) for n, f in flagged.items()}
    for frame in flagged.values():
        frame.unpersist()
    return ValidationResult(valid, summary)


def _check_days_have_rows(manifest_rows: dict, dates: list[str], root: str) -> None:
    for day in dates:
        if not manifest_rows.get(day):
            raise FeedError(f"manifests: the files under {root.rstrip('/')}/manifests/date={day}/ hold no rows "
                            "(empty partition); check the day's export, or choose another --date")


def _cross_check(gx: dict, counted: dict) -> None:
    """GX's unexpected counts must equal the row flags' counts, expectation by expectation."""
    for name, outcomes in gx.items():
        for o in outcomes:
            if o.error:
                raise ReconciliationError(f"{name}: GX could not evaluate {o.type} on {o.column}: {o.error}")
            ours = counted[name]["per_expectation"][o.index]
            # BOOLEAN_ONLY results carry no count: then at least pass/fail must agree.
            theirs = o.unexpected_count if o.unexpected_count is not None else (0 if o.success else None)
            if (theirs is None and ours == 0) or (theirs is not None and theirs != ours):
                raise ReconciliationError(f"{name}: {o.type} on {o.column}: GX found {o.unexpected_count} "
                                          f"failing rows (passed: {o.success}), the row flags {ours}; report this as a bug")
            o.unexpected_count, o.example = ours, counted[name]["examples"][o.index]


def _summary(root: str, dates: list[str], files: dict, counted: dict, counts: dict, consignments: dict, vcfg: dict) -> dict:
    datasets = {}
    for name, c in counts.items():
        read = sum(counted[name]["by_date"].values())
        if c["rows"] != read:
            raise ReconciliationError(f"{name}: {read} rows read but {c['rows']} rows flagged; report this as a bug")
        threshold = float(vcfg["thresholds"].get(name, vcfg["quarantine_threshold"]))
        datasets[name] = {
            "files": len(files[name]), "rows_read": read, "rows_valid": read - c["quarantined"],
            "rows_quarantined": c["quarantined"], "rows_superseded": c["superseded"],
            "rows_kept": read - c["quarantined"] - c["superseded"],
            "quarantined_share": round(c["quarantined"] / read, 6) if read else 0.0, "threshold": threshold,
            "by_reason": dict(sorted(c["by_reason"].items())), "rows_read_by_date": counted[name]["by_date"],
            "quarantined_by_date": c["quarantined_by_date"],
        }
    if consignments["consignments_valid"] != datasets["manifests"]["rows_valid"] or (
            consignments["consignments_read"] != consignments["consignments_valid"] + consignments["consignments_quarantined"]):
        raise ReconciliationError(f"consignments do not reconcile: {consignments} against "
                                  f"{datasets['manifests']['rows_valid']} valid manifest rows; report this as a bug")
    return {"status": None, "input_root": root, "dates": dates, "datasets": datasets, **consignments,
            "files_read": [f.path for found in files.values() for f in found], "data_docs": None, "quarantine_paths": []}


def _threshold_message(summary: dict, failures: list[str]) -> str:
    parts = []
    for name in failures:
        s = summary["datasets"][name]
        top = sorted(s["by_reason"].items(), key=lambda kv: -kv[1])[:3]
        parts.append(f"{name}: {s['rows_quarantined']} of {s['rows_read']} rows quarantined "
                     f"({s['quarantined_share']:.1%}, threshold {s['threshold']:.1%}; mostly "
                     + ", ".join(f"{k} {v}" for k, v in top) + ")")
    where = f"; details in {summary['data_docs']}" if summary.get("data_docs") else ""
    return ("feed rejected, nothing was scored: " + "; ".join(parts) + where
            + ". Fix the feed, or raise validation.quarantine_threshold if this share is expected.")


def _write_report(ctx: RunContext, day: str, summary: dict, gx: dict) -> str:
    target = ctx.workspace.run_record(day)
    page = summary["data_docs"] = f"{target}/validation.html"
    put_text(ctx.spark, page, render_report(summary, gx, int(ctx.settings["validation"]["report_sample_values"])))
    put_text(ctx.spark, f"{target}/validation.json", json.dumps(summary, indent=2, sort_keys=True))
    return page


def _valid_frame(name: str, flagged: DataFrame) -> DataFrame:
    """Typed contract columns of the rows that passed; partitioned data keeps its day."""
    rows = flagged.where(F.size(F.col(q.REASONS)) == 0)
    if q.SUPERSEDED in flagged.columns:
        rows = rows.where(~F.col(q.SUPERSEDED))
    typed = to_typed(rows, name, keep_lineage=True)
    day = [F.col(PARTITION_DATE).cast("date").alias("partition_date")] if DATASETS[name].partitioned else []
    return typed.select(*DATASETS[name].column_names, *day)
