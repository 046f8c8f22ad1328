"""Evaluate any registered version on any window; promote a challenger; roll back a champion."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipelines.io import tracking
from pipelines.errors import UserError
from pipelines.jobs.evaluate import evaluate_window, headline
from pipelines.outputs.evaluation_report import write_report
from pipelines.io.progress import Progress
from pipelines.jobs.windows import days_between, load_window


def _label_days(last: dt.date, lag: int) -> list[str]:
    return days_between(last + dt.timedelta(days=1), last + dt.timedelta(days=lag)) if lag > 0 else []


def evaluate_versions(spark, cfg: dict, input_root: str, workspace: str, first: dt.date, last: dt.date,
                      refs: list[str], progress: Progress) -> dict[str, dict]:
    """{version: {"report", "headline"}} for each version or alias in `refs`, on one window."""
    from features.registry import model_inputs

    name = cfg["mlflow"]["registered_model"]
    tracking.configure(cfg, workspace)
    models = {}
    for ref in refs:
        model, version = tracking.load_model(name, ref)
        models[version] = model
    eval_cfg = cfg["evaluation"]
    window = load_window(spark, cfg, input_root, workspace, days_between(first, last), progress,
                         label_days=_label_days(last, int(eval_cfg["label_lag_days"])))
    numeric, categorical = model_inputs()
    features = window.features.cache()
    results = {}
    for version, model in models.items():
        with progress.stage(f"evaluate version {version} on {first}..{last}"):
            report = evaluate_window(model, features, window.outcomes, window.truth, numeric, categorical, eval_cfg)
        results[version] = {"report": report, "headline": headline(report, float(eval_cfg["headline_capacity"]))}
    features.unpersist()
    return results


def evaluate(spark, cfg, input_root, workspace, first, last, ref, progress) -> dict:
    version, result = next(iter(evaluate_versions(spark, cfg, input_root, workspace, first, last, [ref], progress).items()))
    out_dir = Path(workspace) / "reports" / f"evaluate-v{version}-{first}-{last}"
    json_path, html_path = write_report(result["report"], result["headline"], str(out_dir),
                                        f"Evaluation of version {version}", f"consignments lodged {first}..{last}")
    with tracking.run(cfg["mlflow"]["experiment_training"], workspace, f"evaluate v{version} {first}..{last}",
                      tags={"kind": "evaluation", "model_version": version}):
        tracking.log_params({"model_version": version, "from": str(first), "to": str(last)})
        tracking.log_metrics(result["headline"])
        tracking.log_artifact(json_path, "evaluation")
        tracking.log_artifact(html_path, "evaluation")
    return {"version": version, **result, "report_json": json_path, "report_html": html_path}


def promotion_window(cfg: dict, challenger_run_params: dict) -> tuple[str, dt.date, dt.date]:
    """The challenger's hold-out window and input root: recent data neither model was fitted on."""
    try:
        return (challenger_run_params["input_root"], dt.date.fromisoformat(challenger_run_params["holdout_from"]),
                dt.date.fromisoformat(challenger_run_params["holdout_to"]))
    except KeyError:
        raise UserError("the challenger's training run does not record its window; pass --input, --from and --to") from None


def decide(challenger: dict, champion: dict, metric: str, margin: float) -> tuple[bool, str]:
    """Promote when the challenger is not worse than the champion by more than `margin`."""
    c, p = challenger.get(metric), champion.get(metric)
    if c is None:
        return False, f"the challenger has no {metric} on this window"
    if p is None:
        return True, f"the champion has no {metric} on this window"
    if c >= p - margin:
        return True, f"challenger {metric}={c:.4f} >= champion {p:.4f} - margin {margin}"
    return False, f"challenger {metric}={c:.4f} < champion {p:.4f} - margin {margin}"


def promote(spark, cfg, workspace, progress, force=False, input_root=None, first=None, last=None) -> dict:
    name = cfg["mlflow"]["registered_model"]
    tracking.configure(cfg, workspace)
    challenger = tracking.alias_version(name, tracking.CHALLENGER)
    champion = tracking.alias_version(name, tracking.CHAMPION)
    if challenger is None:
        raise UserError(f"model {name} has no challenger; `shiprisk train` registers one")
    if champion is None or champion == challenger:
        tracking.set_champion(name, challenger)
        tracking.delete_alias(name, tracking.CHALLENGER)
        return {"promoted": True, "reason": "no other champion", "champion": challenger}
    params = tracking.client().get_run(tracking.client().get_model_version(name, challenger).run_id).data.params
    root, w_first, w_last = promotion_window(cfg, params)
    root, first, last = input_root or root, first or w_first, last or w_last
    results = evaluate_versions(spark, cfg, root, workspace, first, last, [challenger, champion], progress)
    metric, margin = cfg["promotion"]["metric"], float(cfg["promotion"]["margin"])
    ok, why = decide(results[challenger]["headline"], results[champion]["headline"], metric, margin)
    promoted = ok or force
    if promoted:
        tracking.set_champion(name, challenger)
        tracking.delete_alias(name, tracking.CHALLENGER)
    decision = {"promoted": promoted, "forced": force and not ok, "reason": why, "metric": metric, "margin": margin,
                "window": [str(first), str(last)], "challenger": challenger, "previous_champion": champion,
                "champion": challenger if promoted else champion,
                "challenger_metrics": results[challenger]["headline"], "champion_metrics": results[champion]["headline"]}
    with tracking.run(cfg["mlflow"]["experiment_training"], workspace, f"promote v{challenger} over v{champion}",
                      tags={"kind": "promotion", "decision": "promoted" if promoted else "refused"}):
        tracking.log_params({k: decision[k] for k in ("metric", "margin", "challenger", "previous_champion", "forced")})
        tracking.log_metrics({f"challenger_{k}": v for k, v in decision["challenger_metrics"].items()})
        tracking.log_metrics({f"champion_{k}": v for k, v in decision["champion_metrics"].items()})
        tracking.log_dict(decision, "promotion_decision.json")
    return decision
