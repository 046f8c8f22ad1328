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
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

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


def fit(rows: pd.DataFrame, numeric: list[str], categorical: list[str], params: dict):
    """Fits the Pipeline on rows with label, selection_reason, lodged_date and consignment_id.

    Columns left out for lack of signal: models.factory.left_out_features(model).
    """
    ordered = rows.sort_values(["lodged_date", "consignment_id"], kind="stable").reset_index(drop=True)
    model = make_model(numeric, categorical, params)
    X = to_model_frame(ordered, numeric, categorical)
    y = ordered["label"].to_numpy(dtype=int)
    random_weight = params.get("random_sample_weight", 1.0)
    weights = sample_weights(ordered["selection_reason"], random_weight)
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
