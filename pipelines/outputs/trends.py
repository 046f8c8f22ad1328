"""Trend analysis shared by `shiprisk report` and the notebooks.

Every function here is a Spark aggregation whose result is small by construction (a row per
time bucket x group, or a capped top list) and comes back as a pandas frame for plotting.

A period is read as it was known at its end: the stored feature table of the consignments
lodged in it, the latest valid outcome of each inspected on or before the last day (a later
finding replaces an earlier one only once it is made), and the nightly scores of its days as
they were produced those nights.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.errors import UserError
from pipelines.io import tracking
from pipelines.io.feature_store import read_features
from pipelines.io.readers import read_dataset
from pipelines.io.scoring import explain_consignments, stored_model_inputs
from pipelines.io.workspace import Workspace, days_between, stored_days
from pipelines.validation.outcomes import read_valid_outcomes

REGIONS = ("NORTH_AMERICA", "EUROPE", "BELT_AND_ROAD", "OTHER")
LUMPED = "(others)"  # the groups not shown one by one
_SCORE_COLUMNS = ["consignment_id", "run_date", "score", "rank", "selected", "selection_basis"]


@dataclass
class Period:
    first: dt.date
    last: dt.date
    features: DataFrame  # one row per valid consignment lodged in the period
    outcomes: DataFrame  # consignment_id, inspected_on, selection_reason, label: latest known by `last`
    scores: DataFrame  # the nightly scores of the period's nights (empty if none ran)
    feature_days: list[str]
    nights: list[str]


def load_period(spark: SparkSession, workspace: Workspace, input_root: str, first: dt.date, last: dt.date,
                settings: dict, recorded: str | None = None) -> Period:
    """The period's features, outcomes known at its end (the input root's and, given `recorded`,
    the results recorded in the workbench), and nightly scores."""
    days = days_between(first, last)
    feature_days = sorted(set(days) & set(stored_days(spark, workspace.features)))
    if not feature_days:
        raise UserError(f"the workspace {workspace.root} holds no features for {first}..{last}: build them with "
                        "`shiprisk features` (or `shiprisk train`) for this period, or choose another --from/--to")
    lag = int(settings["report"]["outcome_partition_lag_days"])
    outcome_days = days_between(first, last + dt.timedelta(days=lag))
    nights = sorted(set(days) & set(stored_days(spark, workspace.nights)))
    outcomes = read_known_outcomes(spark, input_root, outcome_days, last, settings["validation"], recorded)
    return Period(first, last, read_features(spark, workspace, feature_days), outcomes,
                  _read_scores(spark, workspace, nights), feature_days, nights)


def read_known_outcomes(spark: SparkSession, input_root: str, days: list[str], known_by: dt.date,
                        vcfg: dict, recorded: str | None = None) -> DataFrame:
    """consignment_id, inspected_on, selection_reason, label: the latest valid outcome of each
    consignment among those inspected on or before `known_by`."""
    known = read_valid_outcomes(spark, input_root, days, vcfg, known_by, recorded)
    return known.select("consignment_id", "inspected_on", "selection_reason",
                        (F.col("result") == "SEIZED").cast("int").alias("label"))


def _read_scores(spark: SparkSession, workspace: Workspace, nights: list[str]) -> DataFrame:
    if not nights:
        schema = "consignment_id string, run_date date, score double, rank int, selected boolean, selection_basis string"
        return spark.createDataFrame([], schema)
    frame = spark.read.parquet(*[str(workspace.scores_day(d)) for d in nights])
    return frame.select(*_SCORE_COLUMNS)


def bucket_start(day: Column, bucket: str) -> Column:
    """The first day of the bucket a day falls in: the day itself, or its week's Monday."""
    if bucket == "day":
        return day
    if bucket == "week":
        return F.to_date(F.date_trunc("week", day))
    raise ValueError(f"bucket must be 'day' or 'week', not {bucket!r}")


def split_day(first: dt.date, last: dt.date, recent_days: int) -> dt.date:
    """First day of the period's recent part: the last `recent_days`, or the later half of a short period."""
    span = (last - first).days + 1
    recent = recent_days if 0 < recent_days < span else max(1, span // 2)
    return last - dt.timedelta(days=recent - 1)


def top_values(features: DataFrame, column: str, n: int) -> list[str]:
    """The n most frequent values of a column (ties by value), for lumping the rest."""
    rows = features.groupBy(column).count().orderBy(F.desc("count"), F.col(column)).limit(n).collect()
    return [r[column] for r in rows]


def with_inspection_flags(features: DataFrame, outcomes: DataFrame, columns: list[str]) -> DataFrame:
    """Feature columns + inspected (0/1) and seized (0/1); an uninspected consignment is unknown, not clean."""
    labels = outcomes.select("consignment_id", "label")
    return features.select("consignment_id", "lodged_date", *columns).join(labels, on="consignment_id", how="left").select(
        "consignment_id", "lodged_date", *columns,
        F.col("label").isNotNull().cast("int").alias("inspected"), F.coalesce(F.col("label"), F.lit(0)).alias("seized"))


def rates_over_time(features: DataFrame, outcomes: DataFrame, by: list[str], bucket: str | None,
                    keep: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """[bucket,] *by, consignments, inspected, seized, hit_rate (seized / inspected; NaN if none inspected).

    bucket None: the whole period. keep: per column, the values shown; others become LUMPED.
    """
    lumped = [F.when(F.col(c).isin(keep[c]), F.col(c)).otherwise(F.lit(LUMPED)).alias(c) if keep and c in keep
              else F.col(c) for c in by]
    rows = with_inspection_flags(features, outcomes, by).select("lodged_date", *lumped, "inspected", "seized")
    groups = ([bucket_start(F.col("lodged_date"), bucket).alias("bucket")] if bucket else []) + [F.col(c) for c in by]
    counts = rows.groupBy(*groups).agg(F.count(F.lit(1)).alias("consignments"), F.sum("inspected").alias("inspected"),
                                       F.sum("seized").alias("seized"))
    order = (["bucket"] if bucket else []) + by
    pdf = (counts.orderBy(*order) if order else counts).toPandas()
    if bucket:
        pdf["bucket"] = pd.to_datetime(pdf["bucket"])
    pdf["hit_rate"] = (pdf["seized"] / pdf["inspected"].where(pdf["inspected"] > 0)).astype(float)
    return pdf


def emerging(frame: DataFrame, keys: list[str], recent_from: dt.date, min_recent: int, top: int | None,
             within: list[str] | None = None) -> pd.DataFrame:
    """Keys whose share of consignments grew in the recent part (lodged on or after recent_from).

    frame: lodged_date, *keys, inspected, seized. Returns *keys, earlier, recent, earlier_share,
    recent_share, lift (recent_share / earlier_share; NaN for a key new in the recent part),
    inspected, seized; keys with fewer than min_recent recent consignments are left out.
    New keys come first, then by lift. within: key columns whose groups are the share's
    denominator (a party's share among the rows of its role), else all rows of the part.
    """
    within = within or []
    is_recent = F.col("lodged_date") >= F.lit(recent_from)
    totals = frame.groupBy(*within).agg(F.sum((~is_recent).cast("int")).alias("_earlier_total"),
                                        F.sum(is_recent.cast("int")).alias("_recent_total"))
    per_key = frame.groupBy(*keys).agg(
        F.sum((~is_recent).cast("int")).alias("earlier"), F.sum(is_recent.cast("int")).alias("recent"),
        F.sum("inspected").alias("inspected"), F.sum("seized").alias("seized"))
    # totals has one row per `within` group (one row without): a small right side.
    joined = per_key.join(totals, on=within, how="inner") if within else per_key.crossJoin(totals)
    earlier_share = F.col("earlier") / F.greatest(F.col("_earlier_total"), F.lit(1))
    recent_share = F.col("recent") / F.greatest(F.col("_recent_total"), F.lit(1))
    lift = F.when(F.col("earlier") > 0, recent_share / earlier_share)
    ranked = joined.where(F.col("recent") >= F.lit(min_recent)).select(
        *keys, "earlier", "recent", earlier_share.alias("earlier_share"), recent_share.alias("recent_share"),
        lift.alias("lift"), "inspected", "seized",
    ).orderBy(F.col("lift").desc_nulls_first(), F.desc("recent"), *keys)
    pdf = (ranked.limit(top) if top else ranked).toPandas()
    pdf["lift"] = pdf["lift"].astype(float)
    return pdf


def party_frame(spark: SparkSession, input_root: str, features: DataFrame, outcomes: DataFrame,
                roles: list[str], days: list[str]) -> DataFrame:
    """lodged_date, role, party_id, inspected, seized: one row per (valid consignment, named party)."""
    manifests = read_dataset(spark, input_root, "manifests", days).select("consignment_id", *roles)
    # A repeated consignment_id was quarantined by validation; the inner join to the feature
    # table keeps only valid consignments, and `single` keeps the join one-to-one.
    single = manifests.groupBy("consignment_id").agg(F.count(F.lit(1)).alias("_n"), *[F.first(r).alias(r) for r in roles])
    parties = single.where(F.col("_n") == 1).select(
        "consignment_id", F.explode(F.array(*[F.struct(F.lit(r).alias("role"), F.col(r).alias("party_id")) for r in roles])).alias("p"))
    labelled = with_inspection_flags(features, outcomes, [])
    return labelled.join(parties, on="consignment_id", how="inner").select(
        "lodged_date", F.col("p.role").alias("role"), F.col("p.party_id").alias("party_id"), "inspected", "seized",
    ).where(F.col("party_id").isNotNull())


def _via_hub(features: DataFrame) -> DataFrame:
    """Consignments with a transit hub: direct traffic would dwarf the moves between hubs."""
    from features.route import NO_HUB

    return features.where(F.col("last_hub") != F.lit(NO_HUB))


def hub_shares(features: DataFrame, outcomes: DataFrame, bucket: str, hubs: list[str]) -> pd.DataFrame:
    """bucket, dest_region, last_hub, consignments, inspected, seized, hit_rate, share_of_region:
    how each region's transshipped traffic splits over its last transit hubs, bucket by bucket."""
    pdf = rates_over_time(_via_hub(features), outcomes, ["dest_region", "last_hub"], bucket, keep={"last_hub": hubs})
    region_total = pdf.groupby(["bucket", "dest_region"])["consignments"].transform("sum")
    pdf["share_of_region"] = pdf["consignments"] / region_total
    return pdf


def hub_shares_before_after(features: DataFrame, outcomes: DataFrame, change_day: dt.date, hubs: list[str]) -> pd.DataFrame:
    """dest_region, last_hub, share_before, share_after, share_change, seized_before, seized_after:
    each hub's share of its region's transshipped traffic lodged before `change_day` and from it on."""
    part = F.when(F.col("lodged_date") < F.lit(change_day), F.lit("before")).otherwise(F.lit("after"))
    pdf = rates_over_time(_via_hub(features).withColumn("part", part), outcomes, ["part", "dest_region", "last_hub"], None,
                          keep={"last_hub": hubs})
    pdf["share"] = pdf["consignments"] / pdf.groupby(["part", "dest_region"])["consignments"].transform("sum")
    wide = pdf.pivot_table(index=["dest_region", "last_hub"], columns="part", values=["share", "seized"], fill_value=0)
    out = pd.DataFrame({f"{value}_{part}": wide[(value, part)] if (value, part) in wide.columns else 0.0
                        for value in ("share", "seized") for part in ("before", "after")}).reset_index()
    out["share_change"] = out["share_after"] - out["share_before"]
    out[["seized_before", "seized_after"]] = out[["seized_before", "seized_after"]].astype(int)
    columns = ["dest_region", "last_hub", "share_before", "share_after", "share_change", "seized_before", "seized_after"]
    return out[columns].sort_values(["share_change", "dest_region", "last_hub"], ignore_index=True)


def random_sample_performance(scores: DataFrame, outcomes: DataFrame, capacity: float) -> pd.DataFrame:
    """The nightly scores against the RANDOM control sample, night by night and overall.

    night, scored, random_labelled, seized, observed_rate, mean_score, roc_auc, pr_auc, brier,
    k, precision_at_capacity (among the night's RANDOM rows, the top `capacity` share by score).
    Only a uniform sample estimates what a ranking finds in the whole population.
    """
    from models.evaluation import labelled_metrics

    scored = scores.groupBy("run_date").count().toPandas()
    randoms = outcomes.where(F.col("selection_reason") == "RANDOM").select("consignment_id", "label")
    # RANDOM inspections are a small fixed share of a night: small enough for the driver.
    rows = scores.join(randoms, on="consignment_id", how="inner").select(
        "run_date", "score", "label", F.lit(None).cast("double").alias("seized_value_hkd")).toPandas()
    out = []
    groups = [(str(d), rows[rows["run_date"] == d], int(n)) for d, n in zip(scored["run_date"], scored["count"])]
    groups = sorted(groups) + [("all nights", rows, int(scored["count"].sum()))]
    for night, frame, n in groups:
        m = labelled_metrics(frame, [capacity]) if len(frame) else {}
        top = (m.get("at_capacity") or {}).get(f"{capacity:g}") or {}
        out.append({"night": night, "scored": n, "random_labelled": len(frame), "seized": int(frame["label"].sum()),
                    "observed_rate": frame["label"].mean() if len(frame) else None,
                    "mean_score": frame["score"].mean() if len(frame) else None,
                    "roc_auc": m.get("roc_auc"), "pr_auc": m.get("pr_auc"), "brier": m.get("brier"),
                    "k": top.get("k", 0), "precision_at_capacity": top.get("precision")})
    return pd.DataFrame(out, columns=["night", "scored", "random_labelled", "seized", "observed_rate", "mean_score",
                                      "roc_auc", "pr_auc", "brier", "k", "precision_at_capacity"])


def feature_drift(features: DataFrame, recent_from: dt.date, numeric: list[str], categorical: list[str], bins: int,
                  reference: dict | None = None) -> pd.DataFrame:
    """feature, kind, psi_recent_vs_earlier[, psi_vs_training]: PSI (models.drift) of the recent part
    against the earlier part of the period, and against the model's training profile if given."""
    from models.drift import drift_against, profile_reference

    is_recent = F.col("lodged_date") >= F.lit(recent_from)
    earlier, recent = features.where(~is_recent), features.where(is_recent)
    # A part without rows has no distribution to compare: its PSI stays blank.
    has_earlier, has_recent = earlier.limit(1).count() > 0, recent.limit(1).count() > 0
    within = drift_against(profile_reference(earlier, numeric, categorical, bins=bins), recent) \
        if has_earlier and has_recent else {}
    against = drift_against(reference, recent) if reference and has_recent else {}
    rows = [{"feature": c, "kind": kind, "psi_recent_vs_earlier": within.get(c), "psi_vs_training": against.get(c)}
            for kind, cols in (("numeric", numeric), ("categorical", categorical)) for c in cols]
    return pd.DataFrame(rows, columns=["feature", "kind", "psi_recent_vs_earlier", "psi_vs_training"])


def selection_mix(scores: DataFrame) -> pd.DataFrame:
    """night, selection_basis, selected: what each night's lists were made of (PROFILE, MODEL, RANDOM, EXPLORATION)."""
    counts = scores.where(F.col("selected")).groupBy(F.date_format("run_date", "yyyy-MM-dd").alias("night"),
                                                     "selection_basis").agg(F.count(F.lit(1)).alias("selected"))
    return counts.orderBy("night", "selection_basis").toPandas()


def model_run(cfg: dict, workspace: Workspace, ref: str = "champion") -> tuple[str, str] | None:
    """(version, training run id) of a registered version or alias, or None if there is none."""
    tracking.configure(cfg, workspace)
    name = cfg["mlflow"]["registered_model"]
    version = tracking.alias_version(name, ref) if not ref.isdigit() else ref
    if version is None:
        return None
    return version, tracking.client().get_model_version(name, version).run_id


def model_evaluation(cfg: dict, workspace: Workspace, ref: str = "champion") -> dict:
    """The evaluation `shiprisk train` stored with a version (evaluation/evaluation.json of its run)."""
    found = model_run(cfg, workspace, ref)
    if found is None:
        raise UserError(f"no model version {ref!r} in {workspace.root}: train one with `shiprisk train`")
    version, run_id = found
    return {"version": version, "run_id": run_id, **tracking.load_dict(run_id, "evaluation/evaluation.json")}


def score_drivers(spark: SparkSession, cfg: dict, workspace: Workspace, days: list[str], sample_rows: int,
                  ref: str = "champion", k: int = 3) -> pd.DataFrame:
    """feature, times_in_top, mean_contribution: how often each feature is among a consignment's
    k largest SHAP contributions (models.explain), over a fixed pseudo-random sample of `days`."""
    tracking.configure(cfg, workspace)
    model, version = tracking.load_model(cfg["mlflow"]["registered_model"], ref)
    numeric, categorical = stored_model_inputs(model, version)
    sample = read_features(spark, workspace, days).orderBy(F.xxhash64("consignment_id"), "consignment_id").limit(sample_rows)
    parts = explain_consignments(sample, model, numeric, categorical, k=k).select(F.explode("top_contributions").alias("c"))
    drivers = parts.groupBy(F.col("c.feature").alias("feature")).agg(
        F.count(F.lit(1)).alias("times_in_top"), F.avg("c.contribution").alias("mean_contribution"))
    return drivers.orderBy(F.desc("times_in_top"), "feature").toPandas()
