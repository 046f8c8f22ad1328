"""`shiprisk train`: fit on an earlier part of the window, evaluate on its later days, register."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

from features.registry import all_features, model_inputs, registry_version
from models.factory import describe_left_out, left_out_features, to_model_frame
from models.model_card import render_model_card
from models.training import TrainingDataError, check_training_rows, fit_with_selection, permutation_importances
from pipelines.errors import UserError
from pipelines.io import tracking
from pipelines.io.context import RunContext
from pipelines.io.publish import put_text, staged_dir
from pipelines.io.workspace import days_between
from pipelines.jobs.evaluate import evaluate_window, headline
from pipelines.jobs.windows import load_window, with_labels
from pipelines.outputs.evaluation_report import write_report

# Columns brought to the driver to fit: the labelled rows (inspected consignments only).
# inspected_on lets model selection keep only the outcomes known before its validation days.
_ROW_COLUMNS = ["consignment_id", "lodged_date", "inspected_on", "label", "selection_reason", "seized_value_hkd"]


def input_digest(summary: dict) -> str:
    """A digest of what was read: files and row counts per dataset."""
    return hashlib.sha256(json.dumps(summary, sort_keys=True, default=str).encode()).hexdigest()[:16]


def split_days(days: list[str], holdout_days: int) -> tuple[list[str], list[str]]:
    if len(days) <= holdout_days:
        raise UserError(
            f"the window has {len(days)} days but evaluation.holdout_days is {holdout_days}: "
            "widen --from/--to or lower holdout_days in conf/local/shiprisk.yaml"
        )
    return days[:-holdout_days], days[-holdout_days:]


def train(ctx: RunContext, input_root: str, first: dt.date, last: dt.date) -> dict:
    """Fit on [first, last - holdout_days], evaluate on the hold-out, register in MLflow."""
    with ctx.writer_lock(f"train {first}..{last}"):
        return _train(ctx, input_root, first, last)


def _train(ctx: RunContext, input_root: str, first: dt.date, last: dt.date) -> dict:
    cfg, progress, workspace = ctx.settings, ctx.progress, ctx.workspace
    eval_cfg, model_cfg = cfg["evaluation"], cfg["model"]
    days = days_between(first, last)
    fit_days, holdout = split_days(days, int(eval_cfg["holdout_days"]))
    window = load_window(ctx, input_root, days)
    numeric, categorical = model_inputs()
    features = window.features.cache()

    with progress.stage("collect labelled rows"):
        # Only outcomes inspected before the hold-out began: what was known when fitting.
        fit_rows = with_labels(features.filter(features.lodged_date < holdout[0]), window.outcomes, known_before=holdout[0])
        rows = fit_rows.select(*_ROW_COLUMNS, *categorical, *numeric).toPandas()
        day_counts = consignments_per_day(features.filter(features.lodged_date < holdout[0]))
    try:
        check_training_rows(rows["label"].to_numpy(), int(eval_cfg["min_labelled_rows"]),
                            int(eval_cfg["min_positives"]), f"training window {fit_days[0]}..{fit_days[-1]}")
    except TrainingDataError as exc:
        raise UserError(f"{exc}: choose a longer window with more inspected consignments") from None

    with progress.stage(f"choose settings and fit on {len(rows)} labelled consignments"):
        try:
            model, selection = fit_with_selection(rows, numeric, categorical, model_cfg,
                                                  float(eval_cfg["headline_capacity"]), day_counts)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    if "skipped" in selection:
        progress.warn(f"model selection skipped ({selection['skipped']}): the configured settings are used")
    left_out = left_out_features(model)
    if left_out:
        progress.warn(f"features left out of this fit: {describe_left_out(left_out)}")

    with progress.stage(f"evaluate on hold-out {holdout[0]}..{holdout[-1]}"):
        holdout_features = features.filter(features.lodged_date >= holdout[0])
        report = evaluate_window(model, holdout_features, window.outcomes, window.truth, numeric, categorical, eval_cfg,
                                 drift_reference=True)
        drift_reference = report.pop("drift_reference")
    with progress.stage("permutation importance on the hold-out"):
        hold_rows = with_labels(holdout_features, window.outcomes).select(*_ROW_COLUMNS, *categorical, *numeric).toPandas()
        report["permutation_importance"] = permutation_importances(model, hold_rows, numeric, categorical,
                                                                   int(model_cfg.get("seed", 0)))
        flat = headline(report, float(eval_cfg["headline_capacity"]))

    name = cfg["mlflow"]["registered_model"]
    tracking.configure(cfg, workspace)
    run_name = f"train {fit_days[0]}..{fit_days[-1]}"
    with progress.stage("log to MLflow and register"), tracking.run(cfg["mlflow"]["experiment_training"], workspace, run_name) as run:
        tracking.log_params({
            **{f"model.{k}": v for k, v in model_cfg.items() if k != "search"},
            **{f"model.search.{k}": v for k, v in model_cfg.get("search", {}).items()},
            **{f"chosen.{k}": v for k, v in selection["chosen"].items()},
            "selection_candidates": len(selection["candidates"]),
            "selection_spent_seconds": selection["spent_seconds"],
            "train_from": fit_days[0], "train_to": fit_days[-1],
            "holdout_from": holdout[0], "holdout_to": holdout[-1],
            "n_train_rows": len(rows), "n_train_positives": int(rows["label"].sum()),
            "n_random_rows": int((rows["selection_reason"] == "RANDOM").sum()),
            "feature_registry_version": registry_version(),
            "numeric_features": ",".join(numeric), "categorical_features": ",".join(categorical),
            "input_digest": input_digest(window.validation_summary), "input_root": input_root,
            # The workspace's recorded results read beside the input root (docs/operations.md), if any.
            "recorded_root": window.validation_summary.get("recorded_root") or "none",
            "left_out_features": describe_left_out(left_out) or "none",
        })
        tracking.log_metrics(flat)
        for step, candidate in enumerate(selection["candidates"]):  # one step per candidate, in the order tried
            tracking.log_metrics({f"validation_{m}": candidate.get(m) for m in ("precision", "pr_auc")}, step=step)
        out_dir = workspace.report(f"train-{run.info.run_id}")
        # Written locally, logged, and copied into W when W is on a Hadoop file system.
        with staged_dir(ctx.spark, out_dir) as local_dir:
            write_report(report, flat, str(local_dir), f"Training evaluation, run {run.info.run_id}",
                         f"fitted on {fit_days[0]}..{fit_days[-1]}, evaluated on {holdout[0]}..{holdout[-1]}")
            for path in sorted(local_dir.iterdir()):  # report, JSON, precision@k, PR, reliability, importance plots
                tracking.log_artifact(str(path), "evaluation")
            tracking.log_dict(window.validation_summary, "validation_summary.json")
            tracking.log_dict(drift_reference, "drift_reference.json")
            example = to_model_frame(rows.head(5), numeric, categorical)
            version = tracking.log_and_register_model(model, example, name)
            alias = tracking.CHALLENGER if tracking.alias_version(name, tracking.CHAMPION) else tracking.CHAMPION
            if alias == tracking.CHAMPION:
                tracking.set_champion(name, version)
            else:
                tracking.set_alias(name, alias, version)
            run_id = run.info.run_id
            tracking.log_dict(left_out, "left_out_features.json")
            tracking.log_dict(selection, "model_selection.json")
            card = _model_card(name, version, run, rows, (report, left_out, selection))
            card_path = local_dir / "model_card.md"
            card_path.write_text(card, encoding="utf-8")
            tracking.log_artifact(str(card_path))
        put_text(ctx.spark, workspace.model_card, card)
        json_path, html_path = f"{out_dir}/evaluation.json", f"{out_dir}/evaluation.html"
    features.unpersist()
    return {"version": version, "alias": alias, "run_id": run_id, "headline": flat, "report_json": json_path,
            "report_html": html_path, "train_rows": len(rows), "fit_days": [fit_days[0], fit_days[-1]],
            "holdout_days": [holdout[0], holdout[-1]]}


def consignments_per_day(features) -> dict[str, int]:
    """{lodging day: consignments lodged}: one row per day reaches the driver."""
    counts = features.groupBy("lodged_date").count().collect()
    return {str(row["lodged_date"]): int(row["count"]) for row in counts}


def _model_card(name, version, run, rows, evaluation: tuple[dict, dict, dict]) -> str:
    report, left_out, selection = evaluation
    params = tracking.client().get_run(run.info.run_id).data.params
    info = {
        "name": name, "version": version, "run_id": run.info.run_id, "git_commit": tracking.git_commit(),
        "train_from": params["train_from"], "train_to": params["train_to"],
        "holdout_from": params["holdout_from"], "holdout_to": params["holdout_to"],
        "n_train_rows": len(rows), "n_train_positives": int(rows["label"].sum()),
        "n_random_rows": int((rows["selection_reason"] == "RANDOM").sum()),
        # The weight the registered model was fitted with: chosen on validation, not the configured default.
        "random_sample_weight": selection["chosen"].get("random_sample_weight"),
        "calibration_method": params.get("model.calibration_method"),
        "feature_registry_version": params["feature_registry_version"], "input_digest": params["input_digest"],
        "selection": selection,
    }
    return render_model_card(info, report, all_features(), left_out=left_out)
