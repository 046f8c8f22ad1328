"""`shiprisk nightly`: validate the day, build its features, score, select, explain, publish.

Outputs for a date are built in a temporary folder and swapped in at the end, under a lock,
so a failed or killed run leaves the previous outputs intact and two runs cannot collide.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from features.registry import model_inputs
from models.drift import drift_against
from models.reasons import add_reasons
from models.selection import select_for_inspection
from pipelines.io import tracking
from pipelines.io.context import RunContext
from pipelines.io.publish import date_lock, publish_dir, write_text_atomic
from pipelines.io.scoring import explain_consignments, score_consignments
from pipelines.jobs.features import build_features, consignments_of
from pipelines.outputs.lists import Targeting, load_targeting, write_inspection_lists
from pipelines.validation.inputs import ValidationResult, validate_inputs

SCORE_COLUMNS = ["consignment_id", "customs_office", "lodged_date", "score", "score_adjusted", "rank",
                 "rank_in_office", "lane", "selected", "selection_basis", "selection_reason",
                 "model_version", "run_id", "run_date"]


@dataclass(frozen=True)
class Champion:
    """The model a night scores with, and the columns it reads."""
    model: object
    version: str
    run_id: str
    numeric: list[str]
    categorical: list[str]


def load_champion(ctx: RunContext) -> Champion:
    name = ctx.settings["mlflow"]["registered_model"]
    tracking.configure(ctx.settings, ctx.workspace)
    with ctx.progress.stage("load champion model"):
        model, version = tracking.load_model(name, tracking.CHAMPION)
        run_id = tracking.client().get_model_version(name, version).run_id
    numeric, categorical = model_inputs()
    return Champion(model, version, run_id, numeric, categorical)


def _rank(selected: DataFrame) -> DataFrame:
    """Day-wide rank by adjusted score; ties broken by id so re-runs give the same order."""
    order = Window.orderBy(F.col("score_adjusted").desc(), F.col("consignment_id"))
    return selected.withColumn("rank", F.row_number().over(order))


def nightly(ctx: RunContext, input_root: str, run_date: dt.date) -> dict:
    day = run_date.isoformat()
    with ctx.progress.stage("check profiles and selection policy"):
        targeting = load_targeting(ctx.settings)
    champion = load_champion(ctx)
    with date_lock(ctx.workspace, "nightly", day):
        started = time.time()
        with ctx.progress.stage(f"validate {day}"):
            validated = validate_inputs(ctx, input_root, [day])
        with ctx.progress.stage("build features"):
            features = build_features(ctx, validated.valid, [day])
        return _score_select_publish(ctx, day, validated, features, champion, targeting, started)


def _score_select_publish(ctx: RunContext, day: str, validated: ValidationResult, features: DataFrame,
                          champion: Champion, targeting: Targeting, started: float) -> dict:
    # Shipment details for the lists, built the same way as the features' consignments.
    details = consignments_of(ctx, validated.valid)
    detail_cols = [c for c in details.columns if c not in features.columns or c == "consignment_id"]
    table = features.join(details.select(*detail_cols), on="consignment_id", how="left")
    mlflow = ctx.settings["mlflow"]
    with tracking.run(mlflow["experiment_nightly"], ctx.workspace, f"nightly {day}",
                      tags={"kind": "nightly", "run_date": day, "model_version": champion.version}) as run:
        scored = score_consignments(table, champion.model, champion.numeric, champion.categorical).select(
            "*", F.lit(champion.version).alias("model_version"), F.lit(run.info.run_id).alias("run_id"),
            F.to_date(F.lit(day)).alias("run_date"))
        with ctx.progress.stage("score and select"):
            selected = _rank(select_for_inspection(scored, targeting.profiles, targeting.policy, day,
                                                   targeting.templates)).cache()
            counts = _selection_counts(selected)
        with ctx.progress.stage(f"explain {counts['selected']} selected consignments"):
            listed = selected.filter(F.col("selected"))
            contributions = explain_consignments(listed, champion.model, champion.numeric, champion.categorical)
            reasons_input = listed.drop("reasons").join(contributions, on="consignment_id", how="left")
            listed = add_reasons(reasons_input, targeting.profiles, targeting.templates).cache()
        with ctx.progress.stage("write scores and lists"):
            outputs = _publish(ctx, day, selected, listed)
        # From the cached selection: `scored` itself would run the model over the day again.
        drift = _drift(ctx, champion, selected.select(*champion.numeric, *champion.categorical, "score"))
        summary = _summary(ctx, day, validated, counts, drift, {"model": champion.version, "run": run.info.run_id},
                           outputs, started)
        tracking.log_metrics({k: v for k, v in summary["counts"].items() if isinstance(v, (int, float))})
        tracking.log_metrics({f"psi_{k}": v for k, v in drift.items()})
        tracking.log_metrics({f"score_{k}": v for k, v in summary["score_distribution"].items()})
        tracking.log_dict(summary, "summary.json")
        write_text_atomic(ctx.workspace.summary(day), json.dumps(summary, indent=2, default=str))
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


def _publish(ctx: RunContext, day: str, selected: DataFrame, listed: DataFrame) -> dict:
    scores_target, lists_target = ctx.workspace.scores_day(day), ctx.workspace.lists_day(day)
    with publish_dir(scores_target) as tmp:
        selected.select(*SCORE_COLUMNS).orderBy("rank").coalesce(1).write.mode("overwrite").parquet(str(tmp))
    # The listed rows are bounded by the offices' capacities: small enough for the driver.
    listed_pdf = listed.orderBy("customs_office", "rank_in_office").toPandas()
    with publish_dir(lists_target) as tmp:
        files = write_inspection_lists(listed_pdf, str(tmp), day)
    return {"scores": str(scores_target), "lists": str(lists_target), "list_files": len(files)}


def _drift(ctx: RunContext, champion: Champion, scored: DataFrame) -> dict:
    try:
        reference = tracking.load_dict(champion.run_id, "drift_reference.json")
    except Exception as exc:  # an older model without a profile still scores; say so
        ctx.progress.say(f"warning: no drift reference stored with the model ({exc}); drift not measured")
        return {}
    with ctx.progress.stage("measure drift"):
        psi = drift_against(reference, scored)
    threshold = float(ctx.settings["monitoring"]["psi_warning"])
    drifted = {k: round(v, 4) for k, v in psi.items() if v > threshold}
    if drifted:
        ctx.progress.say(f"WARNING: drift above PSI {threshold} against the training data: {drifted}")
    return {k: round(v, 6) for k, v in psi.items()}


def _summary(ctx: RunContext, day: str, validated: ValidationResult, counts: dict, drift: dict, ids: dict,
             outputs: dict, started: float) -> dict:
    v = validated.summary
    read, quarantined = v["consignments_read"], v["consignments_quarantined"]
    if counts["scored"] + quarantined != read:
        raise RuntimeError(
            f"reconciliation failed for {day}: {read} consignments read, {counts['scored']} scored, "
            f"{quarantined} quarantined; nothing was published as complete. Report this as a bug."
        )
    threshold = float(ctx.settings["monitoring"]["psi_warning"])
    return {
        "run_date": day, "model_version": ids["model"], "mlflow_run_id": ids["run"],
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(time.time() - started, 1),
        "counts": {"consignments_read": read, "consignments_scored": counts["scored"],
                   "consignments_quarantined": quarantined, "selected": counts["selected"]},
        "selection_by_basis": counts["by_basis"], "lanes": counts["by_lane"],
        "score_distribution": counts["score_distribution"],
        "validation": v, "timings_seconds": ctx.progress.timings,
        "drift_psi": drift, "drift_warnings": sorted(k for k, x in drift.items() if x > threshold),
        "outputs": outputs,
    }
