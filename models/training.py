"""Fitting on labelled consignments, with the selection bias of inspections handled on purpose.

Outcomes exist only for inspected consignments, and most were chosen by the old targeting,
which over-represents what it already looked for. The RANDOM control rows are the only
uniform sample of the population; we up-weight them (`random_sample_weight`) so that the
fitted scores lean towards the population's pattern rather than the old policy's. Rows are
ordered by lodging time so the calibrator is fitted on the most recent share (see
models.factory.TemporalCalibratedClassifier).

A source may have no RANDOM rows at all (no control sample, or every consignment inspected):
the weight then changes nothing, the fit says so in a warning, and the RANDOM-only evaluation
is marked unavailable (models.evaluation). Feature columns without signal in the training
rows are left out inside the Pipeline (models.factory.DropUninformativeColumns).

Patterns drift, so recent rows may be weighted up (`recency_half_life_days`: a row's weight
halves for each half-life of age before the last lodging day; 0 or null = off). Which
weighting and which hyper-parameters to use is chosen on time-ordered validation inside the
fit window (`select_params`, `fit_with_selection`), within a time budget.
"""
from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from models.factory import make_model, to_model_frame

logger = logging.getLogger("shiprisk.models.training")


class TrainingDataError(ValueError):
    """The window cannot give a model: too few rows or positives."""


def check_training_rows(labels: np.ndarray, min_rows: int, min_positives: int, what: str) -> None:
    n, positives = len(labels), int(np.sum(labels))
    if n == 0:
        raise TrainingDataError(f"{what} has no consignment with a known outcome")
    if n < min_rows:
        raise TrainingDataError(f"{what} has only {n} labelled consignments (need {min_rows})")
    if positives < min_positives:
        raise TrainingDataError(f"{what} has {positives} seizures among {n} outcomes (need {min_positives})")


def sample_weights(selection_reason: pd.Series, random_weight: float) -> np.ndarray:
    return np.where(selection_reason.to_numpy() == "RANDOM", float(random_weight), 1.0)


def recency_weights(lodged_date: pd.Series, half_life_days: float | None) -> np.ndarray:
    """0.5 ** (age / half-life), age in days before the latest lodging day of these rows;
    all 1.0 when the half-life is 0 or None (no recency weighting)."""
    if not half_life_days or float(half_life_days) <= 0:
        return np.ones(len(lodged_date))
    days = pd.to_datetime(lodged_date)
    age = (days.max() - days).dt.days.to_numpy(dtype=float)
    return np.power(0.5, age / float(half_life_days))


def training_weights(rows: pd.DataFrame, params: dict) -> np.ndarray:
    """RANDOM-sample weight times recency weight, row by row."""
    return (sample_weights(rows["selection_reason"], params.get("random_sample_weight", 1.0))
            * recency_weights(rows["lodged_date"], params.get("recency_half_life_days")))


def fit(rows: pd.DataFrame, numeric: list[str], categorical: list[str], params: dict):
    """Fits the Pipeline on rows with label, selection_reason, lodged_date and consignment_id.

    Columns left out for lack of signal: models.factory.left_out_features(model).
    """
    ordered = rows.sort_values(["lodged_date", "consignment_id"], kind="stable").reset_index(drop=True)
    model = make_model(numeric, categorical, params)
    X = to_model_frame(ordered, numeric, categorical)
    y = ordered["label"].to_numpy(dtype=int)
    random_weight = params.get("random_sample_weight", 1.0)
    weights = training_weights(ordered, params)
    if float(random_weight) != 1.0 and not (ordered["selection_reason"] == "RANDOM").any():
        logger.warning("No RANDOM control rows among the %d training rows: random_sample_weight (%s) changes nothing "
                       "and the fit follows whatever chose the inspections", len(ordered), random_weight)
    model.fit(X, y, classify__sample_weight=weights)
    return model


def permutation_importances(model, rows: pd.DataFrame, numeric: list[str], categorical: list[str],
                            seed: int, repeats: int = 3) -> list[dict]:
    """Drop in PR-AUC when each raw feature column is shuffled, largest first.

    Only the columns the model uses: those it left out (models.factory.left_out_features)
    change nothing when shuffled and are not listed.
    """
    from sklearn.inspection import permutation_importance

    labels = rows["label"].to_numpy(dtype=int)
    if len(np.unique(labels)) < 2:
        return []
    # The encoding is row by row, so shuffling an encoded column equals shuffling the raw one;
    # permuting after it skips re-encoding the frame for each of the ~600 predictions.
    prepare, classify = model[:-1], model[-1]
    encoded = prepare.transform(to_model_frame(rows, numeric, categorical))
    result = permutation_importance(classify, encoded, labels, scoring="average_precision",
                                    n_repeats=repeats, random_state=seed)
    names = list(prepare.get_feature_names_out())
    order = np.argsort(-result.importances_mean)
    return [{"feature": names[i], "importance": float(result.importances_mean[i]),
             "std": float(result.importances_std[i])} for i in order]


# What `select_params` tunes; every other key of `params` (seed, calibration) is kept as configured.
SEARCHED = ("learning_rate", "max_iter", "max_leaf_nodes", "min_samples_leaf", "l2_regularization",
            "class_weight", "random_sample_weight", "recency_half_life_days")

SELECTION_METRIC = ("precision at capacity among the labelled rows: each validation day's top "
                    "ceil(capacity x that day's consignments) labelled rows by score, seizures among them "
                    "pooled over the validation days; ties broken by PR-AUC over the labelled validation rows")


def split_validation(rows: pd.DataFrame, validation_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(earlier, validation): validation holds the rows of the last `validation_days` lodging days
    of `rows` (the fit window: the hold-out never reaches this function). The earlier rows keep
    only outcomes inspected before the first validation day when `inspected_on` is given, so a
    candidate is judged as if fitted on that day."""
    days = np.sort(pd.to_datetime(rows["lodged_date"]).unique())
    first = days[-validation_days] if 0 < validation_days < len(days) else None
    if first is None:
        return rows.iloc[:0], rows.iloc[:0]
    lodged = pd.to_datetime(rows["lodged_date"])
    earlier = lodged < first
    if "inspected_on" in rows:
        earlier &= pd.to_datetime(rows["inspected_on"]) < first
    return rows[earlier], rows[lodged >= first]


def candidate_params(space: dict, max_candidates: int, seed: int) -> list[dict]:
    """The default ({}: the configured settings) first, then up to max_candidates - 1 distinct
    draws from `space` ({key: [values]}), seeded so a rerun tries the same candidates."""
    rng = np.random.default_rng(seed)
    keys = [k for k in space if space[k]]
    candidates, seen = [{}], set()
    for _ in range(50 * max(max_candidates, 1)):
        if len(candidates) >= max_candidates:
            break
        draw = {k: space[k][int(rng.integers(len(space[k])))] for k in keys}
        key = tuple(sorted((k, str(v)) for k, v in draw.items()))
        if key not in seen:
            seen.add(key)
            candidates.append(draw)
    return candidates[:max(max_candidates, 1)]


def validation_score(model, validation: pd.DataFrame, numeric: list[str], categorical: list[str],
                     capacity: float, day_counts: dict | None = None) -> dict:
    """The selection metric (SELECTION_METRIC) on the labelled validation rows.

    Only inspected rows have outcomes, so a day's top k is taken among them, k being the
    capacity's share of all the day's consignments (`day_counts`: {lodging day: consignments};
    without it, of the day's labelled rows). Unlabelled consignments the model ranks high are
    neither rewarded nor punished: what the labels allow, not the truth view of models.evaluation.
    """
    scores = model.predict_proba(to_model_frame(validation, numeric, categorical))[:, 1]
    frame = pd.DataFrame({"day": pd.to_datetime(validation["lodged_date"]).dt.strftime("%Y-%m-%d").to_numpy(),
                          "label": validation["label"].to_numpy(dtype=int), "score": scores})
    counts = {str(day)[:10]: int(n) for day, n in (day_counts or {}).items()}
    hits = picks = 0
    for day, part in frame.groupby("day", sort=True):
        k = max(1, int(np.ceil(capacity * counts.get(day, len(part)))))
        top = part["label"].to_numpy()[np.argsort(-part["score"].to_numpy(), kind="stable")[:k]]
        hits, picks = hits + int(top.sum()), picks + min(k, len(part))
    labels = frame["label"].to_numpy()
    pr_auc = float(average_precision_score(labels, scores)) if len(np.unique(labels)) == 2 else None
    return {"precision": hits / picks if picks else None, "pr_auc": pr_auc, "k": picks,
            "n": int(len(frame)), "positives": int(labels.sum())}


def _rank(score: dict) -> tuple[float, float]:
    return (score["precision"] if score["precision"] is not None else -1.0,
            score["pr_auc"] if score["pr_auc"] is not None else -1.0)


def select_params(rows: pd.DataFrame, numeric: list[str], categorical: list[str], params: dict,
                  capacity: float, day_counts: dict | None = None, clock=time.monotonic) -> tuple[dict, dict]:
    """(chosen params, what was tried): candidates from `params["search"]` fitted on the earlier
    days of the fit window and ranked by `validation_score` on its last `validation_days`.

    The default candidate (params as configured) is always tried; the next one starts only
    while less than `budget_seconds` has been spent, and at most `max_candidates` are tried.
    If the window cannot validate (too few days, a class missing, fewer seizures than
    `min_validation_positives`), the configured params stand and `skipped` says why.
    """
    search = params.get("search") or {}
    base = {k: v for k, v in params.items() if k != "search"}
    budget, limit = float(search.get("budget_seconds", 0)), int(search.get("max_candidates", 1))
    info = {"metric": SELECTION_METRIC, "budget_seconds": budget, "spent_seconds": 0.0,
            "chosen": {k: base.get(k) for k in SEARCHED}, "candidates": []}
    earlier, validation = split_validation(rows, int(search.get("validation_days", 0)))
    seizures, needed = int(validation["label"].sum()), max(1, int(search.get("min_validation_positives", 1)))
    if limit < 1 or earlier.empty or validation["label"].nunique() < 2:
        info["skipped"] = "search off" if limit < 1 else "no validation days with both outcomes in the fit window"
        return base, info
    if seizures < needed:  # a ranking judged on a handful of seizures would pick by chance
        info["skipped"] = f"{seizures} seizures on the validation days (need {needed})"
        return base, info
    info["validation_days"] = [str(pd.to_datetime(validation["lodged_date"]).min().date()),
                               str(pd.to_datetime(validation["lodged_date"]).max().date())]
    start, best = clock(), None
    for overrides in candidate_params(search.get("space") or {}, limit, int(base.get("seed", 0))):
        if info["candidates"] and clock() - start >= budget:
            break
        candidate = {**base, **overrides}
        entry = {"params": {k: candidate.get(k) for k in SEARCHED}}
        try:
            entry.update(validation_score(fit(earlier, numeric, categorical, candidate), validation,
                                          numeric, categorical, capacity, day_counts))
        except ValueError as exc:  # e.g. a calibration window with one class: this candidate cannot be judged
            entry["error"] = str(exc)
        info["candidates"].append(entry)
        if "error" not in entry and (best is None or _rank(entry) > _rank(best[1])):
            best = (candidate, entry)
    info["spent_seconds"] = round(clock() - start, 3)
    if best is None:
        info["skipped"] = "no candidate could be fitted on the earlier days"
        return base, info
    info["chosen"] = best[1]["params"]
    return best[0], info


def fit_with_selection(rows: pd.DataFrame, numeric: list[str], categorical: list[str], params: dict,
                       capacity: float, day_counts: dict | None = None):
    """(model, selection): the settings chosen by `select_params`, refitted on all of `rows`."""
    chosen, selection = select_params(rows, numeric, categorical, params, capacity, day_counts)
    return fit(rows, numeric, categorical, chosen), selection
