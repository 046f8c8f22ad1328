"""`shiprisk ablation`: what each feature family adds, measured on a time-ordered hold-out.

The window is loaded once; the model is fitted on the earlier days (outcomes known before the
hold-out began, as `shiprisk train` does) with every model input, then once per family with that
family's columns left out. Each fit is measured on the last evaluation.holdout_days with the same
measurement as training (pipelines.jobs.evaluate.evaluate_window): precision at the headline
capacity among the inspected (labelled) consignments and, when the root has a truth, against it.
A family whose removal costs nothing is a candidate for deletion.
"""
from __future__ import annotations

import datetime as dt
import json

from features.registry import FeatureDef, all_features, model_inputs
from models.model_card import render_ablation_table
from models.training import TrainingDataError, check_training_rows, fit
from pipelines.errors import UserError
from pipelines.io.context import RunContext
from pipelines.io.publish import put_text
from pipelines.io.workspace import days_between
from pipelines.jobs.evaluate import evaluate_window
from pipelines.jobs.train import split_days
from pipelines.jobs.windows import load_window, with_labels

_ROW_COLUMNS = ["consignment_id", "lodged_date", "label", "selection_reason", "seized_value_hkd"]


def family_columns(features: list[FeatureDef], numeric: list[str], categorical: list[str]) -> dict[str, list[str]]:
    """{family: its model-input columns}, families in registry order; columns not in the inputs are skipped."""
    inputs = set(numeric) | set(categorical)
    families: dict[str, list[str]] = {}
    for f in features:
        if f.name in inputs:
            families.setdefault(f.family, []).append(f.name)
    return families


def without(columns: list[str], left_out: list[str]) -> list[str]:
    dropped = set(left_out)
    return [c for c in columns if c not in dropped]


def _precision(report: dict, view: str, key: str, field: str = "precision"):
    return ((report.get(view) or {}).get("at_capacity") or {}).get(key, {}).get(field)


def summarise(report: dict, capacity: float) -> dict:
    """The figures the table compares, from one evaluate_window report."""
    key = f"{capacity:g}"
    return {"labelled": _precision(report, "inspected", key), "truth": _precision(report, "truth", key),
            "oracle": _precision(report, "truth", key, "oracle_precision")}


def ablation_rows(full: dict, left_out: dict[str, dict], families: dict[str, list[str]]) -> list[dict]:
    """One row per family: precision without it and the loss against the full model (positive = it helps)."""
    def loss(view, figures):
        return None if full[view] is None or figures[view] is None else full[view] - figures[view]

    return [{"family": family, "columns": len(families[family]), **{f"without_{v}": figures[v] for v in ("labelled", "truth")},
             "loss_labelled": loss("labelled", figures), "loss_truth": loss("truth", figures)}
            for family, figures in left_out.items()]


def ablation(ctx: RunContext, input_root: str, first: dt.date, last: dt.date, note: str | None = None) -> dict:
    """Fits the full model and one per family left out; writes ablation.json and ablation.md among the
    workspace's reports (Workspace.report).

    `note`: a line kept with the figures (e.g. which configuration they come from)."""
    with ctx.writer_lock(f"ablation {first}..{last}"):
        return _ablation(ctx, input_root, first, last, note)


def _ablation(ctx: RunContext, input_root: str, first: dt.date, last: dt.date, note: str | None) -> dict:
    cfg, progress = ctx.settings, ctx.progress
    eval_cfg, model_cfg = cfg["evaluation"], cfg["model"]
    capacity = float(eval_cfg["headline_capacity"])
    fit_days, holdout = split_days(days_between(first, last), int(eval_cfg["holdout_days"]))
    window = load_window(ctx, input_root, days_between(first, last))
    numeric, categorical = model_inputs()
    families = family_columns(all_features(), numeric, categorical)
    features = window.features.cache()
    with progress.stage("collect labelled rows"):
        labelled = with_labels(features.filter(features.lodged_date < holdout[0]), window.outcomes, known_before=holdout[0])
        rows = labelled.select(*_ROW_COLUMNS, *categorical, *numeric).toPandas()
    try:
        check_training_rows(rows["label"].to_numpy(), int(eval_cfg["min_labelled_rows"]),
                            int(eval_cfg["min_positives"]), f"training window {fit_days[0]}..{fit_days[-1]}")
    except TrainingDataError as exc:
        raise UserError(f"{exc}: choose a longer window with more inspected consignments") from None
    holdout_features = features.filter(features.lodged_date >= holdout[0])

    def measure(label: str, left_out: list[str]) -> dict:
        num, cat = without(numeric, left_out), without(categorical, left_out)
        with progress.stage(f"fit and evaluate {label}"):
            model = fit(rows, num, cat, model_cfg)
            report = evaluate_window(model, holdout_features, window.outcomes, window.truth, num, cat, eval_cfg)
        return summarise(report, capacity)

    full = measure(f"the full model ({len(numeric) + len(categorical)} columns)", [])
    left_out = {family: measure(f"without {family} ({i} of {len(families)}: {len(columns)} columns left out)", columns)
                for i, (family, columns) in enumerate(families.items(), start=1)}
    features.unpersist()
    result = {"window": [first.isoformat(), last.isoformat()], "fit": [fit_days[0], fit_days[-1]],
              "holdout": [holdout[0], holdout[-1]], "capacity": capacity, "input_root": input_root,
              "n_train_rows": len(rows), "n_columns": len(numeric) + len(categorical), "full": full,
              "families": ablation_rows(full, left_out, families), "note": note}
    table = render_ablation_table(result)
    put_text(ctx.spark, ctx.workspace.report("ablation.json"), json.dumps(result, indent=2, default=str))
    put_text(ctx.spark, ctx.workspace.report("ablation.md"), table)
    return {**result, "table": table, "report_json": ctx.workspace.report("ablation.json"),
            "report_md": ctx.workspace.report("ablation.md")}
