"""Promote a challenger over the champion when it is not worse; roll back; list the versions."""
from __future__ import annotations

import datetime as dt

from pipelines.errors import UserError
from pipelines.io import tracking
from pipelines.io.context import RunContext
from pipelines.jobs.evaluate import evaluate_versions


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


def promote(ctx: RunContext, force: bool = False, input_root: str | None = None, first: dt.date | None = None,
            last: dt.date | None = None) -> dict:
    cfg, workspace = ctx.settings, ctx.workspace
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
    results = evaluate_versions(ctx, root, first, last, [challenger, champion])
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


def rollback(ctx: RunContext) -> tuple[str, str]:
    """Point the champion alias back at the previous champion: (from version, to version)."""
    tracking.configure(ctx.settings, ctx.workspace)
    return tracking.rollback_champion(ctx.settings["mlflow"]["registered_model"])


def model_versions(ctx: RunContext) -> tuple[str, list[dict]]:
    """(tracking URI, registered versions with aliases, parameters and metrics)."""
    uri = tracking.configure(ctx.settings, ctx.workspace)
    return uri, tracking.list_versions(ctx.settings["mlflow"]["registered_model"])
