"""`shiprisk evaluate`: score a window with a registered version and measure it three ways (see
models.evaluation); `evaluate_window` is the measurement training and promotion share."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from models.evaluation import labelled_metrics, truth_at_capacity, weekly_labelled, weekly_truth_at_capacity
from pipelines.io import tracking
from pipelines.io.context import RunContext
from pipelines.io.publish import staged_dir
from pipelines.io.scoring import score_consignments, stored_model_inputs
from pipelines.io.workspace import days_between
from pipelines.jobs.windows import load_window
from pipelines.outputs.evaluation_report import write_report

# Columns brought to the driver for the labelled views: inspected rows only, which the
# inspection capacity bounds to a small share of the data.
_LABELLED_COLUMNS = ["consignment_id", "lodged_date", "score", "label", "selection_reason", "seized_value_hkd"]


def evaluate_window(model, features: DataFrame, outcomes: DataFrame, truth: DataFrame | None,
                    numeric: list[str], categorical: list[str], eval_cfg: dict, drift_reference: bool = False) -> dict:
    """Metrics of `model` on the window; with drift_reference, also the window's feature profile."""
    capacities = [float(c) for c in eval_cfg["capacities"]]
    bins = int(eval_cfg.get("reliability_bins", 10))
    headline_share = float(eval_cfg["headline_capacity"])
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
            # Decay over the hold-out shows week by week (headline capacity).
            "by_week": {"inspected": weekly_labelled(labelled, headline_share)},
        }
        if truth is not None:
            with_truth = scored.join(
                truth.select("consignment_id", "p_counterfeit", "is_counterfeit"), on="consignment_id", how="inner"
            )
            report["truth"] = truth_at_capacity(with_truth, capacities)
            report["by_week"]["truth"] = weekly_truth_at_capacity(with_truth, headline_share)
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


def _label_days(last: dt.date, lag: int) -> list[str]:
    return days_between(last + dt.timedelta(days=1), last + dt.timedelta(days=lag)) if lag > 0 else []


def evaluate_versions(ctx: RunContext, input_root: str, first: dt.date, last: dt.date,
                      refs: list[str]) -> dict[str, dict]:
    """{version: {"report", "headline"}} for each version or alias in `refs`, on one window."""
    with ctx.writer_lock(f"evaluate {first}..{last}"):
        return _evaluate_versions(ctx, input_root, first, last, refs)


def _evaluate_versions(ctx: RunContext, input_root: str, first: dt.date, last: dt.date, refs: list[str]) -> dict:
    cfg, workspace, progress = ctx.settings, ctx.workspace, ctx.progress
    name = cfg["mlflow"]["registered_model"]
    tracking.configure(cfg, workspace)
    models = {}
    for ref in refs:
        model, version = tracking.load_model(name, ref)
        models[version] = model
    eval_cfg = cfg["evaluation"]
    window = load_window(ctx, input_root, days_between(first, last),
                         label_days=_label_days(last, int(eval_cfg["label_lag_days"])))
    features = window.features.cache()
    results = {}
    for version, model in models.items():
        numeric, categorical = stored_model_inputs(model, version)
        with progress.stage(f"evaluate version {version} on {first}..{last}"):
            report = evaluate_window(model, features, window.outcomes, window.truth, numeric, categorical, eval_cfg)
        results[version] = {"report": report, "headline": headline(report, float(eval_cfg["headline_capacity"]))}
    features.unpersist()
    return results


def evaluate(ctx: RunContext, input_root: str, first: dt.date, last: dt.date, ref: str) -> dict:
    """Evaluate one version or alias on a window; the report is written and logged to MLflow."""
    cfg, workspace = ctx.settings, ctx.workspace
    version, result = next(iter(evaluate_versions(ctx, input_root, first, last, [ref]).items()))
    out_dir = workspace.report(f"evaluate-v{version}-{first}-{last}")
    with staged_dir(ctx.spark, out_dir) as local_dir:  # copied into W when W is a Hadoop URI
        local_json, local_html = write_report(result["report"], result["headline"], str(local_dir),
                                              f"Evaluation of version {version}", f"consignments lodged {first}..{last}")
        with tracking.run(cfg["mlflow"]["experiment_training"], workspace, f"evaluate v{version} {first}..{last}",
                          tags={"kind": "evaluation", "model_version": version}):
            tracking.log_params({"model_version": version, "from": str(first), "to": str(last)})
            tracking.log_metrics(result["headline"])
            tracking.log_artifact(local_json, "evaluation")
            tracking.log_artifact(local_html, "evaluation")
    json_path, html_path = f"{out_dir}/evaluation.json", f"{out_dir}/evaluation.html"
    return {"version": version, **result, "report_json": json_path, "report_html": html_path}
