"""Loading a window of days: validated inputs, the feature table, labels and (synthetic) truth."""
from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.io.context import RunContext
from pipelines.io.feature_store import read_features
from pipelines.io.readers import list_source_files, read_dataset
from pipelines.jobs.feature_reuse import record_built, sources_key, stored_is_current
from pipelines.jobs.features import build_features
from pipelines.jobs.outcomes import refresh_recorded
from pipelines.validation.contract import DATASETS
from pipelines.validation.inputs import validate_inputs
from pipelines.validation.outcomes import latest_outcomes, read_valid_outcomes


@dataclass
class WindowData:
    days: list[str]
    features: DataFrame  # one row per valid consignment lodged in the window
    outcomes: DataFrame  # latest outcome per consignment, inspected by the cut-off
    truth: DataFrame | None
    validation_summary: dict


def load_window(ctx: RunContext, input_root: str, days: list[str], label_days: list[str] | None = None) -> WindowData:
    """Validated inputs and features for `days`; outcomes also from `label_days` (later partitions).

    Outcomes are the input root's and the workspace's recorded results (refreshed from the
    results database first), under the superseded rule of pipelines.validation.outcomes."""
    recorded = refresh_recorded(ctx)
    sources = sources_key(ctx, input_root, days, recorded)  # before validation reads them
    with ctx.progress.stage(f"validate {days[0]}..{days[-1]}"):
        validated = validate_inputs(ctx, input_root, days, recorded=recorded)
    if stored_is_current(ctx, sources, days):
        ctx.progress.say(f"features of {days[0]}..{days[-1]} reused: built before from the same inputs, history, "
                         "code and settings")
        features = read_features(ctx.spark, ctx.workspace, days)
    else:
        with ctx.progress.stage("build features"):
            features = build_features(ctx, validated.valid, days)
        record_built(ctx, sources, days, input_root)
    outcomes = validated.valid["outcomes"]
    if label_days:
        # Outcomes that arrive after the window: the same row checks as the window's (a bad
        # result never counts as CLEAN), the latest per consignment winning; consignments of
        # later days are simply not joined, so they are not mistaken for orphans.
        later = read_valid_outcomes(ctx.spark, input_root, label_days, ctx.settings["validation"], recorded=recorded)
        outcomes = latest_outcomes(outcomes.select(*later.columns).unionByName(later))
    return WindowData(days, features, outcomes, _truth(ctx.spark, input_root, days), validated.summary)


def _truth(spark: SparkSession, input_root: str, days: list[str]) -> DataFrame | None:
    """The generator's answer key for `days`, if the root has one (real feeds do not)."""
    if not list_source_files(spark, input_root, DATASETS["truth"], days):
        return None
    return read_dataset(spark, input_root, "truth", days)


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
