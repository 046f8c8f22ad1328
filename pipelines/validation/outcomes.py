"""Outcomes read outside a validated window (labels that arrive after it, a report's period):
the same row checks as any feed, and the contract's rule that a later outcome for the same
consignment replaces an earlier one."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from pipelines.io.readers import read_raw, to_typed
from pipelines.io.settings import conf_root
from pipelines.validation import quarantine as q
from pipelines.validation.contract import DATASETS
from pipelines.validation.expectations import failure_condition, load_suites


def latest_outcomes(outcomes: DataFrame) -> DataFrame:
    """A later outcome for the same consignment replaces an earlier one."""
    latest_first = Window.partitionBy("consignment_id").orderBy(F.col("inspected_on").desc_nulls_last())
    return (
        outcomes.withColumn("_order", F.row_number().over(latest_first))
        .filter(F.col("_order") == 1)
        .drop("_order")
    )


def read_valid_outcomes(spark: SparkSession, input_root: str, days: list[str], vcfg: dict,
                        known_by: dt.date | None = None) -> DataFrame:
    """Typed outcome rows of `days` that pass the outcomes suite (a `seized` or `MAYBE` result,
    a missing inspection day... are left out, as validation would quarantine them), latest per
    consignment, optionally only those inspected on or before `known_by`. Nothing is written."""
    suite = load_suites(conf_root() / vcfg["suites_dir"], ["outcomes"])["outcomes"]
    conditions = [(failure_condition(e), e["meta"]["reason"]) for e in suite]
    raw = read_raw(spark, input_root, "outcomes", days, timezone=vcfg["feed_timezone"])
    checked = q.build_check_frame(raw, DATASETS["outcomes"])
    valid = to_typed(checked.where(F.size(q.own_reasons(conditions, DATASETS["outcomes"])) == 0), "outcomes")
    if known_by is not None:
        valid = valid.where(F.col("inspected_on") <= F.lit(known_by))
    return latest_outcomes(valid)
