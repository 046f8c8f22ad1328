"""`shiprisk nightly`: validate the day, build its features, score, select, explain, publish.

The night's scores, lists, worklist and run record are built in one staging folder, checked
there (counts reconcile, staged rows match), and swapped in as one unit at the end, under a
lock: a failed or killed run leaves the previous outputs of that date intact and two runs
cannot collide.

Listed (and explained): the RED list (every selected row) and each office's AMBER queue
(models.selection.queue_for_office). Reasons compare a row's values with their typical range
over the day's scored consignments (models.reasons.typical_ranges).
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from models.drift import drift_against
from models.reasons import (
    DEFAULT_TEMPLATES,
    add_reasons,
    category_columns,
    category_scores,
    reason_columns,
    typical_columns,
    typical_ranges,
)
from models.selection import queue_for_office, select_for_inspection
from pipelines.errors import ReconciliationError
from pipelines.io import tracking
from pipelines.io.context import RunContext
from pipelines.io.publish import publish_dir, put_text, staged_dir
from pipelines.io.scoring import explain_consignments, score_consignments, stored_model_inputs
from pipelines.io.spark import cut_lineage, jobs_started, session_facts
from pipelines.jobs.features import build_features_and_consignments
from pipelines.jobs.outcomes import coverage_summary, refresh_recorded
from pipelines.outputs.lists import COLUMNS as LIST_COLUMNS
from pipelines.outputs.lists import Targeting, load_targeting, write_inspection_lists
from pipelines.outputs.worklist import add_worklist_details, detail_inputs, worklist_columns, worklist_table, write_worklist
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
    numeric, categorical = stored_model_inputs(model, version)
    return Champion(model, version, run_id, numeric, categorical)


def _rank(selected: DataFrame) -> DataFrame:
    """Day-wide rank by adjusted score; ties broken by id so re-runs give the same order."""
    order = Window.orderBy(F.col("score_adjusted").desc(), F.col("consignment_id"))
    return selected.withColumn("rank", F.row_number().over(order))


def nightly(ctx: RunContext, input_root: str, run_date: dt.date) -> dict:
    day = run_date.isoformat()
    # Reads the session without starting it: starting Spark opens a stage, which would call the counter again.
    ctx.progress.count_jobs_with(lambda: jobs_started(ctx.session) if ctx.session is not None else 0)
    with ctx.progress.stage("check profiles and selection policy"):
        targeting = load_targeting(ctx.settings)
    champion = load_champion(ctx)
    with ctx.writer_lock(f"nightly {day}"):
        started = time.time()
        recorded = refresh_recorded(ctx)  # results recorded in the workbench count like the feed's outcomes
        with ctx.progress.stage(f"validate {day}"):
            validated = validate_inputs(ctx, input_root, [day], recorded=recorded)
        with ctx.progress.stage("build features"):
            built = build_features_and_consignments(ctx, validated.valid, [day])
        return _score_select_publish(ctx, day, validated, built, champion, targeting, started)


def _score_select_publish(ctx: RunContext, day: str, validated: ValidationResult, built: tuple[DataFrame, DataFrame],
                          champion: Champion, targeting: Targeting, started: float) -> dict:
    # Shipment details for the lists: the consignments the features were built from (one build).
    features, details = built
    detail_cols = [c for c in details.columns if c not in features.columns or c == "consignment_id"]
    # details: one row per consignment (grouped in features.consignments).
    table = features.join(details.select(*detail_cols), on="consignment_id", how="left")
    mlflow = ctx.settings["mlflow"]
    with tracking.run(mlflow["experiment_nightly"], ctx.workspace, f"nightly {day}",
                      tags={"kind": "nightly", "run_date": day, "model_version": champion.version}) as run:
        scored = score_consignments(table, champion.model, champion.numeric, champion.categorical).select(
            "*", F.lit(champion.version).alias("model_version"), F.lit(run.info.run_id).alias("run_id"),
            F.to_date(F.lit(day)).alias("run_date"))
        with ctx.progress.stage("score and select"):
            # Kept with its lineage cut: the counts, reasons, lists and drift all start from it.
            selected = cut_lineage(_rank(select_for_inspection(scored, targeting.profiles, targeting.policy, day)))
            counts = _selection_counts(selected)
            comparisons = _comparisons(selected, targeting)
        with ctx.progress.stage(f"explain {counts['selected']} selected consignments and the AMBER queue"):
            listed = _explain_listed(ctx, selected, champion, targeting, comparisons, validated)
            counts["amber_queued"] = int((~listed["selected"].astype(bool)).sum())
        # From the kept selection: `scored` itself would run the model over the day again.
        drift = _drift(ctx, champion, selected.select(*champion.numeric, *champion.categorical, "score"))
        ids = {"model": champion.version, "run": run.info.run_id}
        summary = _publish(ctx, day, (selected, listed), (validated, counts, drift, ids), started)
        tracking.log_metrics({k: v for k, v in summary["counts"].items() if isinstance(v, (int, float))})
        tracking.log_metrics({f"psi_{k}": v for k, v in drift["psi"].items()})
        tracking.log_metrics({f"score_{k}": v for k, v in summary["score_distribution"].items()})
        tracking.log_dict(summary, "summary.json")
    return summary


def _comparisons(selected: DataFrame, targeting: Targeting) -> dict:
    """What the reasons compare a row with, over the day's scored rows: the typical range of every
    column the templates name, and the mean score per value of their categories."""
    quantiles = targeting.templates.get("typical_quantiles", DEFAULT_TEMPLATES["typical_quantiles"])
    return {"typical": typical_ranges(selected, typical_columns(targeting.templates), quantiles),
            "category_scores": category_scores(selected, category_columns(targeting.templates))}


def _explain_listed(ctx: RunContext, selected: DataFrame, champion: Champion, targeting: Targeting,
                    comparisons: dict, validated: ValidationResult):
    """The RED list and the AMBER queue with their worklist details and reasons, as pandas."""
    queued = queue_for_office(selected, targeting.policy)
    k = 2 * int(targeting.templates.get("max_reasons", DEFAULT_TEMPLATES["max_reasons"]))  # some may not be told
    contributions = explain_consignments(queued, champion.model, champion.numeric, champion.categorical, k=k)
    listed_columns = [*worklist_columns(), *LIST_COLUMNS, "profile_hits"]
    reading = reason_columns(targeting.templates, targeting.profiles)
    # Only what the lists, the worklist and the reasons read: the scored frame has every feature.
    narrow = [c for c in dict.fromkeys([*listed_columns, *detail_inputs(), *reading]) if c in queued.columns]
    # contributions: one row per consignment of `queued`.
    explained = queued.select(*narrow).join(contributions, on="consignment_id", how="left")
    detailed = add_worklist_details(explained, validated.valid, ctx.settings["features"]["fx_fallback_hkd_per_unit"],
                                    targeting.source_names)
    fetched = [c for c in dict.fromkeys([*listed_columns, *reading]) if c in detailed.columns]
    # Bounded by the offices' capacities and AMBER queues: small enough for the driver, where the
    # reasons are rendered.
    rows = detailed.select(*fetched).orderBy("customs_office", "rank_in_office").toPandas()
    context = {**comparisons, "source_names": targeting.source_names}
    listed = add_reasons(rows, targeting.profiles, targeting.templates, context=context)
    return listed[[c for c in dict.fromkeys([*listed_columns, "reasons"]) if c in listed.columns]]


def _publish(ctx: RunContext, day: str, frames: tuple, facts: tuple, started: float) -> dict:
    """Scores, lists, worklist and the run record built in one staging folder, checked there, then
    swapped in as one unit: a failure at any step leaves the night's previous outputs as they were."""
    (selected, listed), (validated, counts, drift, ids) = frames, facts
    ws = ctx.workspace
    target = ws.night(day)

    def staged(final: str) -> str:  # the same file or folder inside the staging folder
        return f"{staging}{final[len(target):]}"

    with ctx.progress.stage("write and check scores, lists and run record"), publish_dir(target, ctx.spark) as staging:
        selected.select(*SCORE_COLUMNS).orderBy("rank").coalesce(1).write.mode("overwrite").parquet(
            staged(ws.scores_day(day)))
        with staged_dir(ctx.spark, staged(ws.lists_day(day))) as lists:
            files = write_inspection_lists(listed, str(lists), day, offices=counts["offices"])
        write_worklist(ctx.spark, worklist_table(listed, day), staged(ws.worklist(day)))
        outputs = {"scores": ws.scores_day(day), "lists": ws.lists_day(day), "list_files": len(files),
                   "worklist": ws.worklist(day)}
        summary = _summary(ctx, day, validated, counts, drift, ids, outputs, started)
        _check_staged(ctx, staged(ws.scores_day(day)), listed, summary)
        _check_worklist(ctx, staged(ws.worklist(day)), listed)
        put_text(ctx.spark, staged(ws.summary(day)), json.dumps(summary, indent=2, default=str))
    return summary


def _check_staged(ctx: RunContext, scores, listed, summary: dict) -> None:
    """What is about to be published says what the summary says, or nothing is published."""
    c = summary["counts"]
    staged = ctx.spark.read.parquet(str(scores)).agg(
        F.count(F.lit(1)).alias("rows"), F.countDistinct("consignment_id").alias("ids")).first()  # scores: a URI
    if not staged["rows"] == staged["ids"] == c["consignments_scored"]:
        raise ReconciliationError(f"the staged scores hold {staged['rows']} rows ({staged['ids']} consignments) but "
                                  f"{c['consignments_scored']} were scored; nothing was published")
    red = int(listed["selected"].astype(bool).sum())
    if red != c["selected"]:
        raise ReconciliationError(f"the staged lists hold {red} RED consignments but {c['selected']} were "
                                  "selected; nothing was published")


def _check_worklist(ctx: RunContext, worklist: str, listed) -> None:
    """The staged worklist holds exactly the listed RED rows and the AMBER queue, once each."""
    rows = ctx.spark.read.parquet(str(worklist)).select("consignment_id", "lane").collect()  # bounded: the lists
    staged = sorted((r["consignment_id"], r["lane"]) for r in rows)
    lanes = ["RED" if s else "AMBER" for s in listed["selected"].astype(bool)]
    expected = sorted(zip(listed["consignment_id"], lanes))
    if staged != expected:
        raise ReconciliationError(f"the staged worklist holds {len(staged)} rows but {len(expected)} consignments "
                                  f"were listed (RED {lanes.count('RED')}, AMBER {lanes.count('AMBER')}), or not the "
                                  "same ones; nothing was published")


def _selection_counts(selected: DataFrame) -> dict:
    """One aggregation: rows, selected, and counts by basis and lane."""
    rows = selected.groupBy("customs_office", "selected", "selection_basis", "lane").count().collect()
    by_basis, by_lane = {}, {}
    for r in rows:
        by_lane[r["lane"]] = by_lane.get(r["lane"], 0) + r["count"]
        if r["selected"]:
            by_basis[r["selection_basis"]] = by_basis.get(r["selection_basis"], 0) + r["count"]
    return {"scored": sum(r["count"] for r in rows), "selected": sum(by_basis.values()),
            "offices": sorted({str(r["customs_office"]) for r in rows if r["customs_office"] is not None}),
            "by_basis": by_basis, "by_lane": by_lane, "score_distribution": _score_distribution(selected)}


def _score_distribution(scored: DataFrame) -> dict:
    """Mean, max and upper quantiles of the day's scores: where the lists' cut-offs fall."""
    row = scored.agg(F.avg("score").alias("mean"), F.max("score").alias("max"),
                     F.percentile_approx("score", [0.5, 0.9, 0.99, 0.999], 1000).alias("q")).first()
    if row["mean"] is None:
        return {}
    return {"mean": row["mean"], "max": row["max"],
            **{f"p{k}": v for k, v in zip(("50", "90", "99", "99.9"), row["q"])}}


def _drift(ctx: RunContext, champion: Champion, scored: DataFrame) -> dict:
    """PSI of every model input and the score against the champion's training profile.

    A model trained before profiles were stored has none: recorded as not measured, with the
    reason. Any other failure (the store, the computation) stops the night as what it is."""
    reference = tracking.load_dict_if_logged(champion.run_id, "drift_reference.json")
    threshold = float(ctx.settings["monitoring"]["psi_warning"])
    if reference is None:
        why = f"model version {champion.version} has no stored drift reference (retrain to get one)"
        ctx.progress.warn(f"drift not measured: {why}")
        return {"status": "NOT_MEASURED", "reason": why, "psi": {}, "warnings": [], "threshold": threshold}
    with ctx.progress.stage("measure drift"):
        psi = {k: round(v, 6) for k, v in drift_against(reference, scored).items()}
    drifted = sorted(k for k, v in psi.items() if v > threshold)
    if drifted:
        ctx.progress.warn(f"drift above PSI {threshold} against the training data: "
                          + ", ".join(f"{k} {psi[k]:.4f}" for k in drifted))
    return {"status": "MEASURED", "reason": None, "psi": psi, "warnings": drifted, "threshold": threshold}


def _summary(ctx: RunContext, day: str, validated: ValidationResult, counts: dict, drift: dict, ids: dict,
             outputs: dict, started: float) -> dict:
    v = validated.summary
    read, quarantined = v["consignments_read"], v["consignments_quarantined"]
    if counts["scored"] + quarantined != read:
        raise ReconciliationError(
            f"reconciliation failed for {day}: {read} consignments read, {counts['scored']} scored, "
            f"{quarantined} quarantined; nothing was published, the night's previous outputs stand"
        )
    return {
        "run_date": day, "model_version": ids["model"], "mlflow_run_id": ids["run"],
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(time.time() - started, 1),
        "counts": {"consignments_read": read, "consignments_scored": counts["scored"],
                   "consignments_quarantined": quarantined, "selected": counts["selected"],
                   "amber_queued": counts["amber_queued"]},
        "selection_by_basis": counts["by_basis"], "lanes": counts["by_lane"],
        "score_distribution": counts["score_distribution"],
        "validation": v, "timings_seconds": ctx.progress.timings,
        "spark_jobs_by_stage": ctx.progress.jobs, "spark": session_facts(ctx.spark),
        "drift_status": drift["status"], "drift_not_measured_because": drift["reason"],
        "drift_psi": drift["psi"], "drift_warnings": drift["warnings"], "drift_threshold": drift["threshold"],
        "outputs": outputs, "list_coverage": coverage_summary(ctx, day),
        "warnings": list(ctx.progress.warnings),
    }
