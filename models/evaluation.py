"""Honest evaluation at the capacity inspectors have.

Three views of the same ranking:
- `inspected`: all consignments with an outcome. Biased: the old targeting chose most of them.
- `random`: the RANDOM control sample only. Unbiased: a uniform sample of the population,
  so its top-k share estimates what the model would find in a whole day's top k.
- `truth`: synthetic data only, every consignment against the drawn ground truth, with the
  oracle (ranking by the true probability) as the ceiling.

A view may lack what a metric needs (no RANDOM rows in the window, or only one outcome among
its rows): the metric is then None and `unavailable` says why, never NaN or an exception.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from sklearn.metrics import average_precision_score, brier_score_loss, precision_recall_curve, roc_auc_score


def at_capacity(labels: np.ndarray, scores: np.ndarray, share: float, values: np.ndarray | None = None) -> dict:
    """precision@k, recall@k and value captured@k for the top `share` of rows by score."""
    n = len(labels)
    if n == 0:
        return {"precision": None, "recall": None, "value_captured": None, "k": 0}
    k = max(1, int(np.ceil(share * n)))
    # Stable sort so ties break the same way every run.
    top = np.argsort(-scores, kind="stable")[:k]
    positives = labels.sum()
    result = {
        "k": int(k),
        "precision": float(labels[top].mean()),
        "recall": float(labels[top].sum() / positives) if positives else None,
        "value_captured": None,
    }
    if values is not None:
        total = np.nansum(values)
        result["value_captured"] = float(np.nansum(values[top]) / total) if total > 0 else None
    return result


def reliability_curve(labels: np.ndarray, scores: np.ndarray, bins: int = 10) -> list[dict]:
    """Mean predicted against observed rate in equal-width score bins (empty bins left out)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(scores, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            rows.append({"bin": b, "lower": float(edges[b]), "upper": float(edges[b + 1]), "n": int(mask.sum()),
                         "mean_score": float(scores[mask].mean()), "observed_rate": float(labels[mask].mean())})
    return rows


def labelled_metrics(frame: pd.DataFrame, capacities: list[float], bins: int = 10) -> dict:
    """Metrics over labelled rows: columns label (0/1), score, seized_value_hkd."""
    labels = frame["label"].to_numpy(dtype=int)
    scores = frame["score"].to_numpy(dtype=float)
    values = frame["seized_value_hkd"].fillna(0).to_numpy(dtype=float) if "seized_value_hkd" in frame else None
    both = len(np.unique(labels)) == 2
    out = {
        "n": int(len(labels)),
        "positives": int(labels.sum()),
        "roc_auc": float(roc_auc_score(labels, scores)) if both else None,
        "pr_auc": float(average_precision_score(labels, scores)) if both else None,
        "brier": float(brier_score_loss(labels, scores)) if len(labels) else None,
        "at_capacity": {f"{c:g}": at_capacity(labels, scores, c, values) for c in capacities},
        "reliability": reliability_curve(labels, scores, bins) if len(labels) else [],
        "pr_curve": pr_curve(labels, scores) if both else [],
        "unavailable": unavailable_metrics(len(labels), int(labels.sum()), values),
    }
    return out


_ALL_METRICS = ("roc_auc", "pr_auc", "brier", "precision", "recall", "value_captured", "reliability", "pr_curve")
_RANKING_METRICS = ("roc_auc", "pr_auc", "pr_curve")


def unavailable_metrics(n: int, positives: int, values: np.ndarray | None = None) -> dict[str, str]:
    """{metric: why it cannot be computed} for a view of n outcomes with `positives` seizures."""
    if n == 0:
        return dict.fromkeys(_ALL_METRICS, "no consignment in this view has an outcome")
    counted = f"{n} outcome" + ("s" if n != 1 else "")
    out = {}
    if positives == 0:
        out = dict.fromkeys(_RANKING_METRICS + ("recall",), f"no seizure among {counted}")
    elif positives == n:
        out = dict.fromkeys(_RANKING_METRICS, f"nothing but seizures among {counted}")
    if values is None:
        out["value_captured"] = "no seized value column"
    elif not np.nansum(values) > 0:
        out["value_captured"] = "no seized value recorded among these outcomes"
    return out


def pr_curve(labels: np.ndarray, scores: np.ndarray, points: int = 50) -> list[dict]:
    """Precision-recall curve thinned to about `points` points for plotting."""
    precision, recall, _ = precision_recall_curve(labels, scores)
    keep = np.unique(np.linspace(0, len(precision) - 1, min(points, len(precision))).astype(int))
    return [{"recall": float(recall[i]), "precision": float(precision[i])} for i in keep]


def daily_top_share(scored: DataFrame, score_col: str, share: float, flag: str) -> DataFrame:
    """Adds `flag`: the row is in its day's top `share` by `score_col` (ties broken by consignment_id)."""
    by_day = Window.partitionBy("lodged_date")
    ranked = Window.partitionBy("lodged_date").orderBy(F.col(score_col).desc(), F.col("consignment_id"))
    return (
        scored.withColumn("_n_day", F.count(F.lit(1)).over(by_day))
        .withColumn("_rank_day", F.row_number().over(ranked))
        .withColumn(flag, F.col("_rank_day") <= F.ceil(F.col("_n_day") * F.lit(share)))
        .drop("_n_day", "_rank_day")
    )


def truth_at_capacity(scored: DataFrame, capacities: list[float]) -> dict:
    """Against the ground truth, every day's top k by model and by oracle (p_counterfeit).

    `scored` has lodged_date, consignment_id, score, p_counterfeit, is_counterfeit. Only
    per-capacity totals come back to the driver.
    """
    frame = scored.select("lodged_date", "consignment_id", "score", "p_counterfeit",
                          F.col("is_counterfeit").cast("int").alias("truth"))
    results = {}
    for share in capacities:
        flagged = daily_top_share(daily_top_share(frame, "score", share, "model_top"), "p_counterfeit", share, "oracle_top")
        row = flagged.agg(
            F.sum(F.when(F.col("model_top"), F.col("truth"))).alias("model_hits"),
            F.sum(F.col("model_top").cast("int")).alias("k"),
            F.sum(F.when(F.col("oracle_top"), F.col("truth"))).alias("oracle_hits"),
            F.sum("truth").alias("positives"),
            F.count(F.lit(1)).alias("n"),
        ).first()
        k = row["k"] or 0
        results[f"{share:g}"] = {
            "k": int(k),
            "precision": (row["model_hits"] or 0) / k if k else None,
            "recall": (row["model_hits"] or 0) / row["positives"] if row["positives"] else None,
            "oracle_precision": (row["oracle_hits"] or 0) / k if k else None,
        }
    base = scored.agg(F.avg(F.col("is_counterfeit").cast("double")).alias("rate"), F.count(F.lit(1)).alias("n")).first()
    return {"n": int(base["n"]), "base_rate": base["rate"], "at_capacity": results}


def weekly_labelled(frame: pd.DataFrame, share: float) -> list[dict]:
    """precision@`share` of the labelled rows per week of lodging (weeks start on Monday), so a
    model that decays over its hold-out shows it; frame: lodged_date, label, score."""
    if frame.empty:
        return []
    days = pd.to_datetime(frame["lodged_date"])
    weeks = (days - pd.to_timedelta(days.dt.weekday, unit="D")).dt.date
    rows = []
    for week, part in frame.groupby(weeks.to_numpy(), sort=True):
        labels, scores = part["label"].to_numpy(dtype=int), part["score"].to_numpy(dtype=float)
        top = at_capacity(labels, scores, share)
        rows.append({"week": str(week), "n": int(len(part)), "positives": int(labels.sum()),
                     "k": top["k"], "precision": top["precision"]})
    return rows


def weekly_truth_at_capacity(scored: DataFrame, share: float) -> list[dict]:
    """Against the ground truth, each day's top `share` by model and by oracle, summed per week of
    lodging: model and oracle precision and their ratio. Only one row per week reaches the driver."""
    frame = scored.select("lodged_date", "consignment_id", "score", "p_counterfeit",
                          F.col("is_counterfeit").cast("int").alias("truth"))
    flagged = daily_top_share(daily_top_share(frame, "score", share, "model_top"), "p_counterfeit", share, "oracle_top")
    weekly = flagged.groupBy(F.date_trunc("week", F.col("lodged_date")).cast("date").alias("week")).agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(F.col("model_top").cast("int")).alias("k"),
        F.sum(F.when(F.col("model_top"), F.col("truth")).otherwise(0)).alias("model_hits"),
        F.sum(F.when(F.col("oracle_top"), F.col("truth")).otherwise(0)).alias("oracle_hits"),
    ).orderBy("week").collect()
    rows = []
    for r in weekly:
        precision = r["model_hits"] / r["k"] if r["k"] else None
        oracle = r["oracle_hits"] / r["k"] if r["k"] else None
        rows.append({"week": r["week"].isoformat(), "n": int(r["n"]), "k": int(r["k"]), "precision": precision,
                     "oracle_precision": oracle, "ratio_to_oracle": precision / oracle if oracle else None})
    return rows
