"""Loading a window of days: validated inputs, the feature table, labels and (synthetic) truth."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.errors import UserError
from pipelines.io.progress import Progress


def parse_day(text: str, flag: str = "date") -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--{flag} {text!r} is not a date: write it as YYYY-MM-DD") from None


def days_between(first: dt.date, last: dt.date) -> list[str]:
    if last < first:
        raise UserError(f"the window {first} to {last} is empty: --to must not be before --from")
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


@dataclass
class WindowData:
    days: list[str]
    features: DataFrame  # one row per valid consignment lodged in the window
    outcomes: DataFrame  # latest outcome per consignment, inspected by the cut-off
    truth: DataFrame | None
    validation_summary: dict


def load_window(spark: SparkSession, cfg: dict, input_root: str, workspace: str, days: list[str],
                progress: Progress, label_days: list[str] | None = None) -> WindowData:
    """Validated inputs and features for `days`; outcomes also from `label_days` (later partitions)."""
    from pipelines.jobs.features import build_features
    from pipelines.validation.inputs import validate_inputs

    with progress.stage(f"validate {days[0]}..{days[-1]}"):
        validated = validate_inputs(spark, cfg, input_root, days, workspace, progress=progress)
    with progress.stage("build features"):
        features = build_features(spark, cfg, validated.valid, days, workspace, progress=progress)
    outcomes = validated.valid["outcomes"]
    if label_days:
        from pipelines.io.readers import read_dataset

        # Outcomes that arrive after the window: read as typed rows and kept only for
        # consignments of the window, so later consignments are not mistaken for orphans.
        later = read_dataset(spark, input_root, "outcomes", label_days)
        outcomes = latest_outcomes(outcomes.select(*later.columns).unionByName(later))
    return WindowData(days, features, outcomes, _truth(spark, input_root, days), validated.summary)


def _truth(spark: SparkSession, input_root: str, days: list[str]) -> DataFrame | None:
    """The generator's answer key for `days`, if the root has one (real feeds do not)."""
    from pipelines.validation.contract import DATASETS
    from pipelines.io.readers import list_source_files, read_dataset

    if not list_source_files(spark, input_root, DATASETS["truth"], days):
        return None
    return read_dataset(spark, input_root, "truth", days)


def latest_outcomes(outcomes: DataFrame) -> DataFrame:
    """A later outcome for the same consignment replaces an earlier one."""
    from pyspark.sql import Window

    latest_first = Window.partitionBy("consignment_id").orderBy(F.col("inspected_on").desc_nulls_last())
    return (
        outcomes.withColumn("_order", F.row_number().over(latest_first))
        .filter(F.col("_order") == 1)
        .drop("_order")
    )


def with_labels(features: DataFrame, outcomes: DataFrame, known_before: str | None = None) -> DataFrame:
    """Feature rows that have an outcome, with label = 1 for SEIZED, 0 for CLEAN.

    `known_before`: keep only outcomes inspected before that day, so a model fitted as of
    that day learns only from what was known then.
    """
    labels = outcomes.select(
        "consignment_id",
        "inspected_on",
        "selection_reason",
        (F.col("result") == "SEIZED").cast("int").alias("label"),
        F.col("seized_value_hkd"),
    )
    if known_before is not None:
        labels = labels.filter(F.col("inspected_on") < F.to_date(F.lit(known_before)))
    return features.join(labels, on="consignment_id", how="inner")
