"""The model: one scikit-learn Pipeline from raw feature columns to a calibrated probability.

MLflow logs this whole object, so what scores at night is exactly what was evaluated.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from sklearn.utils.validation import check_is_fitted

# HistGradientBoosting keys its native categorical handling on at most this many codes.
MAX_CATEGORIES = 250


class TemporalCalibratedClassifier(ClassifierMixin, BaseEstimator):
    """Fits `estimator` on the earlier rows and a calibrator on the later rows.

    Rows must arrive in lodging order: the last `calibration_share` of them (a later
    window) calibrates the probabilities, so calibration is judged on data the
    classifier has not seen and that lies after it in time, as scoring will.
    """

    def __init__(self, estimator=None, calibration_share: float = 0.2, method: str = "isotonic"):
        self.estimator = estimator
        self.calibration_share = calibration_share
        self.method = method

    def fit(self, X, y, sample_weight=None):
        y = np.asarray(y).astype(int)
        n_cal = int(round(len(y) * self.calibration_share))
        if n_cal == 0 or len(np.unique(y[-n_cal:])) < 2 or len(np.unique(y[:-n_cal])) < 2:
            raise ValueError(
                "the calibration window needs both classes in the training and the later calibration rows; "
                "widen the training window or lower model.calibration_share"
            )
        split = len(y) - n_cal
        fit_weight = None if sample_weight is None else np.asarray(sample_weight)[:split]
        cal_weight = None if sample_weight is None else np.asarray(sample_weight)[split:]
        self.estimator_ = clone(self.estimator).fit(_rows(X, slice(0, split)), y[:split], sample_weight=fit_weight)
        raw = self.estimator_.predict_proba(_rows(X, slice(split, None)))[:, 1]
        if self.method == "isotonic":
            self.calibrator_ = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
            self.calibrator_.fit(raw, y[split:], sample_weight=cal_weight)
        elif self.method == "sigmoid":
            self.calibrator_ = LogisticRegression(C=1e6).fit(_logit(raw)[:, None], y[split:], sample_weight=cal_weight)
        else:
            raise ValueError(f"calibration method {self.method!r} is not isotonic or sigmoid")
        self.classes_ = np.array([0, 1])
        self.n_train_rows_ = split
        self.n_calibration_rows_ = n_cal
        return self

    def predict_proba(self, X):
        check_is_fitted(self, "calibrator_")
        raw = self.estimator_.predict_proba(X)[:, 1]
        if self.method == "isotonic":
            p = self.calibrator_.predict(raw)
        else:
            p = self.calibrator_.predict_proba(_logit(raw)[:, None])[:, 1]
        p = np.clip(p, 0.0, 1.0)
        return np.column_stack([1.0 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _rows(X, index):
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def make_model(numeric: list[str], categorical: list[str], params: dict) -> Pipeline:
    """An unfitted Pipeline: raw feature columns in, calibrated P(counterfeit) out."""
    prepare = ColumnTransformer(
        [
            (
                "categorical",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=np.nan,
                    encoded_missing_value=np.nan,
                    max_categories=MAX_CATEGORIES,
                    dtype=np.float64,
                ),
                categorical,
            ),
            ("numeric", "passthrough", numeric),
        ],
        verbose_feature_names_out=False,
    )
    classifier = HistGradientBoostingClassifier(
        learning_rate=params.get("learning_rate", 0.06),
        max_iter=params.get("max_iter", 300),
        max_leaf_nodes=params.get("max_leaf_nodes", 31),
        min_samples_leaf=params.get("min_samples_leaf", 40),
        l2_regularization=params.get("l2_regularization", 1.0),
        early_stopping=params.get("early_stopping", False),
        # Encoded categoricals come first in the ColumnTransformer's output.
        categorical_features=list(range(len(categorical))) or None,
        random_state=params.get("seed", 42),
    )
    calibrated = TemporalCalibratedClassifier(
        estimator=classifier,
        calibration_share=params.get("calibration_share", 0.2),
        method=params.get("calibration_method", "sigmoid"),
    )
    return Pipeline([("prepare", prepare), ("classify", calibrated)])


def to_model_frame(pdf, numeric: list[str], categorical: list[str]):
    """Feature columns typed as the model expects: strings for categories, floats for the rest."""
    frame = pdf[categorical + numeric].copy()
    for name in categorical:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    for name in numeric:
        frame[name] = frame[name].astype("float64")
    return frame
