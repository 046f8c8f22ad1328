"""Row-level checks in Spark, the ones expectation suites cannot express, and the quarantine.

Every dataset becomes a *check frame*: its contract columns as the original strings (a
blank value counts as missing; blanks around a customs office code are trimmed, so that
"HKAIR " is no second office), derived columns the suites test (`<col>__num` the value as a
number, null if it is not finite; `<col>__finite` whether a decimal is a finite number;
`<col>__parses` whether a date or timestamp parses strictly), lineage and a row id.
Reasons are an array per row; a row is quarantined when the array is not empty.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from pipelines.io.filesystem import delete_path, replace_path
from pipelines.io.readers import CORRUPT_RECORD, PARTITION_DATE, SOURCE_FILE
from pipelines.io.workspace import Workspace
from pipelines.validation.contract import Dataset

ROW_ID = "_row_id"
REASONS = "_reasons"
SUPERSEDED = "_superseded"
RAW_LINE = "_raw_line"
CONSIGNMENT = "consignment_id"

_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# ISO 8601 with an offset, as the contract says: 2026-09-05T14:03:00+08:00 (or Z).
_ISO_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:?[0-9]{2})$"
# Codes whose surrounding blanks (spaces, tabs, no-break and ideographic spaces) would make a
# phantom code: an office "HKAIR " with its own list. Trimmed before any check.
TRIMMED = ("customs_office",)
_EDGE_BLANKS = r"^[\s\p{Z}]+|[\s\p{Z}]+$"
# Spellings of a non-finite number (Spark parses them; a Parquet double renders as one).
_NON_FINITE_TEXT = r"^\s*[+-]?(?i:inf|infinity|nan)\s*$"


def _blank_to_null(name: str) -> Column:
    col = F.regexp_replace(F.col(name), _EDGE_BLANKS, "") if name in TRIMMED else F.col(name)
    return F.when(F.trim(col) == "", F.lit(None).cast("string")).otherwise(col)


def _derived(name: str, kind: str) -> list[Column]:
    col = F.col(name)
    if kind in ("decimal", "double"):
        # 1e309 parses as +Infinity: a value no arithmetic or cast downstream survives.
        number = F.trim(col).try_cast("double")
        finite = ~F.isnan(number) & (F.abs(number) != F.lit(float("inf")))
        spelled = col.rlike(_NON_FINITE_TEXT)
        return [F.when(finite, number).alias(f"{name}__num"),
                F.when(spelled, F.lit(False)).when(number.isNotNull(), finite).alias(f"{name}__finite")]
    if kind == "integer":
        return [F.trim(col).try_cast("double").alias(f"{name}__num")]
    if kind in ("date", "timestamp"):
        pattern, spark_type = (_ISO_DATE, "date") if kind == "date" else (_ISO_TIMESTAMP, "timestamp")
        parses = col.rlike(pattern) & col.try_cast(spark_type).isNotNull()
        return [F.when(col.isNotNull(), parses).alias(f"{name}__parses")]
    return []


def build_check_frame(raw: DataFrame, dataset: Dataset) -> DataFrame:
    """The frame the suites and the cross-row checks run on; one row per row read."""
    cleaned = raw.select(
        *[_blank_to_null(c).alias(c) for c in dataset.column_names],
        F.col(CORRUPT_RECORD), F.col(SOURCE_FILE), F.col(PARTITION_DATE),
    )
    derived = [d for c in dataset.columns for d in _derived(c.name, c.type)]
    return cleaned.select(
        F.monotonically_increasing_id().alias(ROW_ID),
        *[F.col(c) for c in dataset.column_names], *derived,
        F.col(CORRUPT_RECORD), F.col(SOURCE_FILE), F.col(PARTITION_DATE),
    )


def own_reasons(conditions: list[tuple[Column, str]], dataset: Dataset) -> Column:
    """Reasons a row earns on its own: the suite's conditions, a malformed line, and a
    lodging time whose local date is not the date= folder it was filed under."""
    checks = list(conditions) + [(F.col(CORRUPT_RECORD).isNotNull(), "MALFORMED_LINE")]
    if "lodged_at" in dataset.column_names:
        # The first ten characters are the local date the declarant wrote; the folder is
        # the local lodging day, so no time-zone conversion may come between them.
        wrong_day = F.col("lodged_at__parses") & (F.substring(F.col("lodged_at"), 1, 10) != F.col(PARTITION_DATE))
        checks.append((wrong_day, "PARTITION_DATE_MISMATCH"))
    flagged = F.array(*[F.when(cond, F.lit(code)) for cond, code in checks])
    return F.array_distinct(F.array_compact(flagged))


def add_reason(cond: Column, code: str) -> Column:
    extra = F.array_compact(F.array(F.when(cond, F.lit(code))))
    return F.array_sort(F.array_distinct(F.concat(F.col(REASONS), extra)))


def flag_duplicates(frame: DataFrame, key: tuple[str, ...]) -> DataFrame:
    """Every copy of a repeated key is quarantined: nothing says which copy is right."""
    whole_key = Window.partitionBy(*key).rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    has_key = F.lit(True)
    for name in key:
        has_key = has_key & F.col(name).isNotNull()
    repeated = has_key & (F.count(F.lit(1)).over(whole_key) > 1)
    return frame.select(*[c for c in frame.columns if c != REASONS], add_reason(repeated, "DUPLICATE_KEY").alias(REASONS))


def flag_unmatched(frame: DataFrame, partner_ids: DataFrame, code: str) -> DataFrame:
    """Rows whose consignment_id is absent from partner_ids (a one-column frame of ids)."""
    partners = partner_ids.select(F.col(CONSIGNMENT).alias("_partner_id")).where(F.col("_partner_id").isNotNull()).distinct()
    joined = frame.join(partners, frame[CONSIGNMENT] == partners["_partner_id"], how="left")
    unmatched = F.col(CONSIGNMENT).isNotNull() & F.col("_partner_id").isNull()
    return joined.select(*[c for c in frame.columns if c != REASONS], add_reason(unmatched, code).alias(REASONS))


def propagate_consignments(manifests: DataFrame, declarations: DataFrame) -> tuple[DataFrame, DataFrame]:
    """A consignment is scored whole or not at all: every row of a consignment with a
    quarantined row elsewhere (manifest or any declaration item) is quarantined too."""
    def bad_rows(frame: DataFrame) -> DataFrame:
        is_bad = (F.size(F.col(REASONS)) > 0).cast("int")
        return frame.select(F.col(CONSIGNMENT), is_bad.alias("_bad"))

    per_consignment = (
        bad_rows(manifests).unionByName(bad_rows(declarations))
        .where(F.col(CONSIGNMENT).isNotNull())
        .groupBy(F.col(CONSIGNMENT).alias("_cid")).agg(F.sum("_bad").alias("_bad_rows"))
    )

    def apply(frame: DataFrame) -> DataFrame:
        joined = frame.join(per_consignment, frame[CONSIGNMENT] == per_consignment["_cid"], how="left")
        own = (F.size(F.col(REASONS)) > 0).cast("int")
        elsewhere = F.coalesce(F.col("_bad_rows"), F.lit(0)) - own > 0
        return joined.select(*[c for c in frame.columns if c != REASONS], add_reason(elsewhere, "CONSIGNMENT_QUARANTINED").alias(REASONS))

    return apply(manifests), apply(declarations)


def flag_superseded(outcomes: DataFrame) -> DataFrame:
    """A later outcome replaces an earlier one for the same consignment: latest
    inspected_on wins, then the later date= folder, then the later file and row."""
    latest_first = Window.partitionBy(CONSIGNMENT).orderBy(
        F.col("inspected_on").desc(), F.col(PARTITION_DATE).desc(), F.col(SOURCE_FILE).desc(), F.col(ROW_ID).desc()
    ).rowsBetween(Window.unboundedPreceding, Window.currentRow)
    is_valid = F.size(F.col(REASONS)) == 0
    valid = outcomes.where(is_valid).select(
        F.col(ROW_ID).alias("_vid"), (F.row_number().over(latest_first) > 1).alias(SUPERSEDED)
    )
    joined = outcomes.join(valid, outcomes[ROW_ID] == valid["_vid"], how="left")
    return joined.select(*outcomes.columns, F.coalesce(F.col(SUPERSEDED), F.lit(False)).alias(SUPERSEDED))


def quarantined_rows(flagged: DataFrame, dataset: Dataset) -> DataFrame:
    """What the quarantine keeps: original values, source file, every reason, the raw line."""
    return flagged.where(F.size(F.col(REASONS)) > 0).select(
        *[F.col(c) for c in dataset.column_names],
        F.col(SOURCE_FILE), F.col(PARTITION_DATE), F.col(REASONS).alias("reasons"), F.col(CORRUPT_RECORD).alias(RAW_LINE),
    )


def write_quarantine(spark: SparkSession, flagged: DataFrame, dataset: Dataset, workspace: Workspace,
                     days: list[str], quarantined: int | None = None) -> list[str]:
    """Quarantined rows to the workspace's quarantine of each day and dataset (overwriting a re-run's).

    One Spark write per dataset into a staging folder partitioned by day, then a rename
    per day: a training window of many days costs one job, not one per day. Snapshots
    have no day of their own and are filed under the run's day (the last one).
    quarantined: the dataset's quarantined rows if already counted; 0 writes nothing (no Spark
    job for a clean dataset) and still removes what an earlier run of those days left."""
    if quarantined == 0:
        for d in (days if dataset.partitioned else days[-1:]):
            delete_path(spark, workspace.quarantine_day(d, dataset.name))
        return []
    staging = workspace.quarantine_staging(dataset.name)
    day = F.col(PARTITION_DATE) if dataset.partitioned else F.lit(days[-1])
    quarantined_rows(flagged, dataset).withColumn("date", day).write.mode("overwrite").partitionBy("date").parquet(staging)
    written = []
    for d in (days if dataset.partitioned else days[-1:]):
        target = workspace.quarantine_day(d, dataset.name)
        if replace_path(spark, f"{staging}/date={d}", target):
            written.append(target)
    delete_path(spark, staging)
    return written


def gx_row_reasons(spark: SparkSession, outcomes: dict) -> dict[str, DataFrame]:
    reasons = {}
    for name, results in outcomes.items():
        pairs = [(row_id, o.reason) for o in results for row_id in (o.failing_ids or [])]
        frame = spark.createDataFrame(pairs, f"{ROW_ID} long, reason string")
        reasons[name] = frame.groupBy(ROW_ID).agg(F.collect_set("reason").alias("_gx"))
    return reasons


def reason_counts_of(flagged: dict[str, DataFrame]) -> dict[str, dict]:
    """Per dataset, one pass: rows, quarantined, superseded, per reason and quarantined per day.

    All datasets in one query: a small night's cost is mostly the number of Spark queries it
    runs, not their size, and the grouped rows are few (days x reason sets)."""
    def grouped(name: str, frame: DataFrame) -> DataFrame:
        superseded = F.col(SUPERSEDED) if SUPERSEDED in frame.columns else F.lit(False)
        return frame.groupBy(F.lit(name).alias("_dataset"), F.col(PARTITION_DATE), F.col(REASONS),
                             superseded.alias("sup")).count()

    parts = [grouped(name, frame) for name, frame in flagged.items()]
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    out = {name: {"rows": 0, "quarantined": 0, "superseded": 0, "by_reason": {}, "quarantined_by_date": {}}
           for name in flagged}
    for r in union.collect():
        counts = out[r["_dataset"]]
        counts["rows"] += r["count"]
        if r[REASONS]:
            counts["quarantined"] += r["count"]
            by_date = counts["quarantined_by_date"]
            by_date[r[PARTITION_DATE]] = by_date.get(r[PARTITION_DATE], 0) + r["count"]
            for code in r[REASONS]:
                counts["by_reason"][code] = counts["by_reason"].get(code, 0) + r["count"]
        elif r["sup"]:
            counts["superseded"] += r["count"]
    return out


def consignment_counts(flagged: dict[str, DataFrame]) -> dict:
    def ids(frame: DataFrame) -> DataFrame:
        return frame.select(F.col(CONSIGNMENT), (F.size(F.col(REASONS)) > 0).cast("int").alias("bad"))

    per = (ids(flagged["manifests"]).unionByName(ids(flagged["declarations"]))
           .where(F.col(CONSIGNMENT).isNotNull()).groupBy(CONSIGNMENT).agg(F.max("bad").alias("bad")))
    counts = {r["bad"]: r["count"] for r in per.groupBy("bad").count().collect()}
    return {"consignments_read": sum(counts.values()), "consignments_valid": counts.get(0, 0),
            "consignments_quarantined": counts.get(1, 0)}
