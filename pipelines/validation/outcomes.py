"""Outcomes: the superseded rule, the workspace's recorded results read beside the input root's,
and outcomes read outside a validated window (labels that arrive after it, a report's period)
through the same row checks as any feed.

The superseded rule (docs/operations.md, "Recorded results"), one place for every reader:
1. a later outcome for the same consignment replaces an earlier one: the latest
   `inspected_on` wins;
2. when the input root and the workspace's recorded results (W/recorded, exported from the
   results database) both hold a result for the same inspection (same consignment and
   `inspected_on`), the recorded one wins: it is the inspector's own, possibly corrected, record;
3. then the later date= folder, the later file and the later row (as for any feed).
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from pipelines.io.readers import PARTITION_DATE, SOURCE_FILE, read_raw, typed_column
from pipelines.io.settings import conf_root
from pipelines.validation import quarantine as q
from pipelines.validation.contract import DATASETS
from pipelines.validation.expectations import failure_condition, load_suites

# True on an outcome row read from the workspace's recorded results (rule 2 above).
RECORDED = "_recorded"


def read_raw_outcomes(spark: SparkSession, input_root: str, days: list[str], timezone: str,
                      recorded: str | None = None) -> tuple[DataFrame, list[str]]:
    """Raw outcome rows of `days` from the input root and, if given, the recorded root (one frame,
    so the check frame's row ids stay unique), and the recorded files as the rows name them."""
    raw = read_raw(spark, input_root, "outcomes", days, timezone=timezone)
    if not recorded:
        return raw, []
    mine = read_raw(spark, recorded, "outcomes", days, timezone=timezone)
    # One name per file (one file per day): small, and spelled exactly as the rows spell it.
    files = [r[SOURCE_FILE] for r in mine.select(F.col(SOURCE_FILE)).distinct().collect()]
    return raw.unionByName(mine), files


def mark_recorded(check: DataFrame, recorded_files: list[str]) -> DataFrame:
    """The check frame with RECORDED: whether each row comes from the recorded results."""
    is_recorded = F.col(SOURCE_FILE).isin(recorded_files) if recorded_files else F.lit(False)
    return check.select(*[F.col(c) for c in check.columns], is_recorded.alias(RECORDED))


def _latest_first(*tie_breaks) -> Window:
    recorded_first = F.col(RECORDED).desc()
    return Window.partitionBy(q.CONSIGNMENT).orderBy(F.col("inspected_on").desc_nulls_last(), recorded_first,
                                                     *tie_breaks)


def flag_superseded(outcomes: DataFrame) -> DataFrame:
    """Flag (q.SUPERSEDED) every valid row that the superseded rule replaces (module docstring);
    quarantined rows are never the winner. `outcomes` carries RECORDED (mark_recorded)."""
    latest_first = _latest_first(F.col(PARTITION_DATE).desc(), F.col(SOURCE_FILE).desc(), F.col(q.ROW_ID).desc())
    is_valid = F.size(F.col(q.REASONS)) == 0
    valid = outcomes.where(is_valid).select(
        F.col(q.ROW_ID).alias("_vid"), (F.row_number().over(latest_first) > 1).alias(q.SUPERSEDED))
    joined = outcomes.join(valid, outcomes[q.ROW_ID] == valid["_vid"], how="left")
    return joined.select(*outcomes.columns, F.coalesce(F.col(q.SUPERSEDED), F.lit(False)).alias(q.SUPERSEDED))


def latest_outcomes(outcomes: DataFrame) -> DataFrame:
    """The superseded rule on typed outcomes: one row per consignment. A RECORDED column, if
    present, decides ties on inspected_on (and is dropped); without it every row is the feed's."""
    columns = [c for c in outcomes.columns if c != RECORDED]
    if RECORDED not in outcomes.columns:
        outcomes = outcomes.select(*[F.col(c) for c in columns], F.lit(False).alias(RECORDED))
    return (
        outcomes.withColumn("_order", F.row_number().over(_latest_first()))
        .filter(F.col("_order") == 1)
        .select(*[F.col(c) for c in columns])
    )


def read_valid_outcomes(spark: SparkSession, input_root: str, days: list[str], vcfg: dict,
                        known_by: dt.date | None = None, recorded: str | None = None) -> DataFrame:
    """Typed outcome rows of `days` that pass the outcomes suite (a `seized` or `MAYBE` result,
    a missing inspection day... are left out, as validation would quarantine them), from the
    input root and the recorded results root if given, one per consignment by the superseded
    rule, optionally only those inspected on or before `known_by`. Nothing is written."""
    suite = load_suites(conf_root() / vcfg["suites_dir"], ["outcomes"])["outcomes"]
    conditions = [(failure_condition(e), e["meta"]["reason"]) for e in suite]
    raw, recorded_files = read_raw_outcomes(spark, input_root, days, vcfg["feed_timezone"], recorded)
    checked = mark_recorded(q.build_check_frame(raw, DATASETS["outcomes"]), recorded_files)
    passing = checked.where(F.size(q.own_reasons(conditions, DATASETS["outcomes"])) == 0)
    valid = passing.select(*[typed_column(c.name, c.spark_type) for c in DATASETS["outcomes"].columns],
                           F.col(RECORDED))
    if known_by is not None:
        valid = valid.where(F.col("inspected_on") <= F.lit(known_by))
    return latest_outcomes(valid)
