"""Faithful per-consignment attributions of the model's score.

Method: SHAP TreeExplainer on the gradient-boosted trees inside the Pipeline, on the
prepared features. The attributions add up exactly to the trees' log-odds for that row;
the calibrator after the trees is monotonic, so the features that push the log-odds up
are the ones that push the calibrated score up. Only the largest positive contributions
are kept: they are the reasons a consignment was ranked high.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _trees_and_prepare(model):
    prepare = model.named_steps["prepare"]
    trees = model.named_steps["classify"].estimator_
    return prepare, trees


def make_explainer(model):
    import shap

    _, trees = _trees_and_prepare(model)
    return shap.TreeExplainer(trees)


def top_contributions(model, frame: pd.DataFrame, k: int = 3, explainer=None) -> list[list[dict]]:
    """Per row, up to k dicts {feature, value, contribution} with the largest positive contributions."""
    prepare, _ = _trees_and_prepare(model)
    explainer = explainer or make_explainer(model)
    prepared = prepare.transform(frame)
    names = list(prepare.get_feature_names_out())
    values = explainer.shap_values(np.asarray(prepared, dtype=np.float64), check_additivity=False)
    values = values[1] if isinstance(values, list) else values
    if values.ndim == 3:  # (rows, features, classes)
        values = values[:, :, -1]
    order = np.argsort(-values, axis=1)[:, :k]
    result = []
    for i in range(len(frame)):
        row = []
        for j in order[i]:
            contribution = float(values[i, j])
            if contribution <= 0:
                break
            raw = frame.iloc[i][names[j]]
            row.append({"feature": names[j], "value": None if _is_missing(raw) else str(raw), "contribution": contribution})
        result.append(row)
    return result


def _is_missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
