"""`shiprisk nightly`: validate the day, build its features, score, select, explain, publish.

Outputs for a date are built in a temporary folder and swapped in at the end, under a lock,
so a failed or killed run leaves the previous outputs intact and two runs cannot collide.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipelines.io import tracking
from pipelines.io.progress import Progress

SCORE_COLUMNS = ["consignment_id", "customs_office", "lodged_date", "score", "score_adjusted", "rank",
                 "rank_in_office", "lane", "selected", "selection_basis", "selection_reason",
                 "model_version", "run_id", "run_date"]


def _details(validated, cfg: dict) -> DataFrame:
    """Shipment details for the lists, built the same way as the features' consignments."""
    from features.consignments import build_consignments
    from pipelines.jobs.features import feature_conf

    v = validated.valid
    fallback = feature_conf(cfg)["features"]["fx_fallback_hkd_per_unit"]
    return build_consignments(v["manifests"], v["declarations"], v.get("fx_rates"), fallback)


def _rank(selected: DataFrame) -> DataFrame:
    """Day-wide rank by adjusted score; ties broken by id so re-runs give the same order."""
    from pyspark.sql import Window

    order = Window.orderBy(F.col("score_adjusted").desc(), F.col("consignment_id"))
    return selected.withColumn("rank", F.row_number().over(order))


def nightly(spark, cfg: dict, input_root: str, workspace: str, run_date: dt.date, progress: Progress) -> dict:
    from features.registry import model_inputs
    from pipelines.jobs.features import build_features
    from pipelines.outputs.lists import load_targeting
    from pipelines.io.publish import date_lock
    from pipelines.validation.inputs import validate_inputs

    day = run_date.isoformat()
    with progress.stage("check profiles and selection policy"):
        profiles, policy, templates = load_targeting()
    name = cfg["mlflow"]["registered_model"]
    tracking.configure(cfg, workspace)
    with progress.stage("load champion model"):
        model, version = tracking.load_model(name, tracking.CHAMPION)
        model_run_id = tracking.client().get_model_version(name, version).run_id
    with date_lock(workspace, "nightly", day):
        started = time.time()
        with progress.stage(f"validate {day}"):
            validated = validate_inputs(spark, cfg, input_root, [day], workspace, progress=progress)
        with progress.stage("build features"):
            features = build_features(spark, cfg, validated.valid, [day], workspace, progress=progress)
        numeric, categorical = model_inputs()
        return _score_select_publish(spark, cfg, workspace, day, validated, features, model, version, model_run_id,
                                     profiles, policy, templates, numeric, categorical, progress, started)


def _score_select_publish(spark, cfg, workspace, day, validated, features, model, version, model_run_id,
                          profiles, policy, templates, numeric, categorical, progress, started) -> dict:
    from models.reasons import add_reasons
    from models.selection import select_for_inspection
    from pipelines.outputs.lists import write_inspection_lists
    from pipelines.io.publish import publish_dir
    from pipelines.jobs.scoring import explain_consignments, score_consignments

    details = _details(validated, cfg)
    detail_cols = [c for c in details.columns if c not in features.columns or c == "consignment_id"]
    table = features.join(details.select(*detail_cols), on="consignment_id", how="left")
    with tracking.run(cfg["mlflow"]["experiment_nightly"], workspace, f"nightly {day}",
                      tags={"kind": "nightly", "run_date": day, "model_version": version}) as run:
        scored = score_consignments(table, model, numeric, categorical).select(
            "*", F.lit(version).alias("model_version"), F.lit(run.info.run_id).alias("run_id"),
            F.to_date(F.lit(day)).alias("run_date"))
        with progress.stage("score and select"):
            selected = _rank(select_for_inspection(scored, profiles, policy, day, templates)).cache()
            counts = _selection_counts(selected)
        with progress.stage(f"explain {counts['selected']} selected consignments"):
            listed = selected.filter(F.col("selected"))
            reasons_input = listed.drop("reasons").join(
                explain_consignments(listed, model, numeric, categorical), on="consignment_id", how="left")
            listed = add_reasons(reasons_input, profiles, templates).cache()
        with progress.stage("write scores and lists"):
            outputs = _publish(workspace, day, selected, listed, publish_dir, write_inspection_lists)
        # From the cached selection: `scored` itself would run the model over the day again.
        drift = _drift(model_run_id, selected.select(*numeric, *categorical, "score"), cfg, progress)
        summary = _summary(day, validated, counts, drift, version, run.info.run_id, outputs, progress, started, cfg)
        tracking.log_metrics({k: v for k, v in summary["counts"].items() if isinstance(v, (int, float))})
        tracking.log_metrics({f"psi_{k}": v for k, v in drift.items()})
        tracking.log_metrics({f"score_{k}": v for k, v in summary["score_distribution"].items()})
        tracking.log_dict(summary, "summary.json")
        _write_summary(workspace, day, summary)
    selected.unpersist()
    listed.unpersist()
    validated.release()
    return summary


def _selection_counts(selected: DataFrame) -> dict:
    """One aggregation: rows, selected, and counts by basis and lane."""
    rows = selected.groupBy("selected", "selection_basis", "lane").count().collect()
    by_basis, by_lane = {}, {}
    for r in rows:
        by_lane[r["lane"]] = by_lane.get(r["lane"], 0) + r["count"]
        if r["selected"]:
            by_basis[r["selection_basis"]] = by_basis.get(r["selection_basis"], 0) + r["count"]
    return {"scored": sum(r["count"] for r in rows), "selected": sum(by_basis.values()),
            "by_basis": by_basis, "by_lane": by_lane, "score_distribution": _score_distribution(selected)}


def _score_distribution(scored: DataFrame) -> dict:
    """Mean, max and upper quantiles of the day's scores: where the lists' cut-offs fall."""
    row = scored.agg(F.avg("score").alias("mean"), F.max("score").alias("max"),
                     F.percentile_approx("score", [0.5, 0.9, 0.99, 0.999], 1000).alias("q")).first()
    if row["mean"] is None:
        return {}
    return {"mean": row["mean"], "max": row["max"],
            **{f"p{k}": v for k, v in zip(("50", "90", "99", "99.9"), row["q"])}}


def _publish(workspace, day, selected, listed, publish_dir, write_inspection_lists) -> dict:
    scores_target = Path(workspace) / "scores" / f"date={day}"
    lists_target = Path(workspace) / "lists" / f"date={day}"
    with publish_dir(str(scores_target)) as tmp:
        selected.select(*SCORE_COLUMNS).orderBy("rank").coalesce(1).write.mode("overwrite").parquet(str(tmp))
    # The listed rows are bounded by the offices' capacities: small enough for the driver.
    listed_pdf = listed.orderBy("customs_office", "rank_in_office").toPandas()
    with publish_dir(str(lists_target)) as tmp:
        files = write_inspection_lists(listed_pdf, str(tmp), day)
    return {"scores": str(scores_target), "lists": str(lists_target), "list_files": len(files)}


def _drift(model_run_id: str, scored: DataFrame, cfg: dict, progress: Progress) -> dict:
    from models.drift import drift_against

    try:
        reference = tracking.load_dict(model_run_id, "drift_reference.json")
    except Exception as exc:  # an older model without a profile still scores; say so
        progress.say(f"warning: no drift reference stored with the model ({exc}); drift not measured")
        return {}
    with progress.stage("measure drift"):
        psi = drift_against(reference, scored)
    threshold = float(cfg.get("monitoring", {}).get("psi_warning", 0.25))
    drifted = {k: round(v, 4) for k, v in psi.items() if v > threshold}
    if drifted:
        progress.say(f"WARNING: drift above PSI {threshold} against the training data: {drifted}")
    return {k: round(v, 6) for k, v in psi.items()}


def _summary(day, validated, counts, drift, version, run_id, outputs, progress, started, cfg) -> dict:
    v = validated.summary
    read, quarantined = v["consignments_read"], v["consignments_quarantined"]
    if counts["scored"] + quarantined != read:
        raise RuntimeError(
            f"reconciliation failed for {day}: {read} consignments read, {counts['scored']} scored, "
            f"{quarantined} quarantined; nothing was published as complete. Report this as a bug."
        )
    threshold = float(cfg.get("monitoring", {}).get("psi_warning", 0.25))
    return {
        "run_date": day, "model_version": version, "mlflow_run_id": run_id,
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(time.time() - started, 1),
        "counts": {"consignments_read": read, "consignments_scored": counts["scored"],
                   "consignments_quarantined": quarantined, "selected": counts["selected"]},
        "selection_by_basis": counts["by_basis"], "lanes": counts["by_lane"],
        "score_distribution": counts["score_distribution"],
        "validation": v, "timings_seconds": progress.timings,
        "drift_psi": drift, "drift_warnings": sorted(k for k, x in drift.items() if x > threshold),
        "outputs": outputs,
    }


def _write_summary(workspace: str, day: str, summary: dict) -> None:
    from pipelines.io.publish import write_text_atomic

    write_text_atomic(Path(workspace) / "runs" / f"date={day}" / "summary.json",
                      json.dumps(summary, indent=2, default=str))
