"""Scoring a window with a fitted model and measuring it three ways (see models.evaluation)."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from models.evaluation import labelled_metrics, truth_at_capacity
from pipelines.jobs.scoring import score_consignments

# Columns brought to the driver for the labelled views: inspected rows only, which the
# inspection capacity bounds to a small share of the data.
_LABELLED_COLUMNS = ["consignment_id", "lodged_date", "score", "label", "selection_reason", "seized_value_hkd"]


def evaluate_window(model, features: DataFrame, outcomes: DataFrame, truth: DataFrame | None,
                    numeric: list[str], categorical: list[str], eval_cfg: dict, drift_reference: bool = False) -> dict:
    """Metrics of `model` on the window; with drift_reference, also the window's feature profile."""
    capacities = [float(c) for c in eval_cfg["capacities"]]
    bins = int(eval_cfg.get("reliability_bins", 10))
    scored_features = score_consignments(
        features.select("consignment_id", "lodged_date", *categorical, *numeric), model, numeric, categorical
    ).cache()
    scored = scored_features.select("consignment_id", "lodged_date", "score")
    try:
        labels = outcomes.select(
            "consignment_id", "selection_reason", "seized_value_hkd",
            (F.col("result") == "SEIZED").cast("int").alias("label"),
        )
        labelled = scored.join(labels, on="consignment_id", how="inner").select(*_LABELLED_COLUMNS).toPandas()
        report = {
            "n_consignments": scored.count(),
            "inspected": labelled_metrics(labelled, capacities, bins),
            "random": labelled_metrics(labelled[labelled["selection_reason"] == "RANDOM"], capacities, bins),
            "baselines": _baselines(labelled),
        }
        if truth is not None:
            with_truth = scored.join(
                truth.select("consignment_id", "p_counterfeit", "is_counterfeit"), on="consignment_id", how="inner"
            )
            report["truth"] = truth_at_capacity(with_truth, capacities)
            report["baselines"].update(_truth_baselines(labelled, truth))
        if drift_reference:
            from models.drift import profile_reference

            report["drift_reference"] = profile_reference(scored_features, numeric + ["score"], categorical)
    finally:
        scored_features.unpersist()
    return report


def _baselines(labelled) -> dict:
    """The old targeting (RISK selections) and random selection, as hit rates on outcomes."""
    risk = labelled[labelled["selection_reason"] == "RISK"]
    random = labelled[labelled["selection_reason"] == "RANDOM"]
    return {
        "legacy_rules_hit_rate": float(risk["label"].mean()) if len(risk) else None,
        "legacy_rules_inspections": int(len(risk)),
        "random_hit_rate": float(random["label"].mean()) if len(random) else None,
        "random_inspections": int(len(random)),
    }


def _truth_baselines(labelled, truth: DataFrame) -> dict:
    """Against the truth: precision of the old targeting's picks and of a random pick (the base rate)."""
    risk_ids = labelled.loc[labelled["selection_reason"] == "RISK", ["consignment_id"]]
    spark = truth.sparkSession
    if len(risk_ids) == 0:
        return {"legacy_rules_truth_precision": None}
    picked = spark.createDataFrame(risk_ids)
    row = truth.join(picked, on="consignment_id", how="inner").agg(
        F.avg(F.col("is_counterfeit").cast("double")).alias("precision")
    ).first()
    return {"legacy_rules_truth_precision": row["precision"]}


def headline(report: dict, capacity: float) -> dict:
    """The few figures people compare: flat metric names for MLflow and `shiprisk models`."""
    key = f"{capacity:g}"
    flat = {}
    for view in ("inspected", "random"):
        m = report.get(view) or {}
        cap = (m.get("at_capacity") or {}).get(key, {})
        flat[f"{view}_precision_at_headline"] = cap.get("precision")
        flat[f"{view}_recall_at_headline"] = cap.get("recall")
        flat[f"{view}_value_captured_at_headline"] = cap.get("value_captured")
        flat[f"{view}_roc_auc"] = m.get("roc_auc")
        flat[f"{view}_pr_auc"] = m.get("pr_auc")
        flat[f"{view}_brier"] = m.get("brier")
    if "truth" in report:
        cap = report["truth"]["at_capacity"].get(key, {})
        flat["truth_precision_at_headline"] = cap.get("precision")
        flat["truth_oracle_precision_at_headline"] = cap.get("oracle_precision")
        flat["truth_base_rate"] = report["truth"].get("base_rate")
    flat["legacy_rules_hit_rate"] = report["baselines"].get("legacy_rules_hit_rate")
    flat["legacy_rules_truth_precision"] = report["baselines"].get("legacy_rules_truth_precision")
    return {k: v for k, v in flat.items() if v is not None}
