"""The model: one scikit-learn Pipeline from raw feature columns to a calibrated probability.

MLflow logs this whole object, so what scores at night is exactly what was evaluated. Its
first step leaves out the feature columns that carry no signal in the training rows (missing
in every row, or one value throughout): a source that lacks a whole signal (no transit ports,
no recorded brands) still trains, and scoring ignores those columns the same way.
"""
from __future__ import annotations

import logging

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from sklearn.utils.validation import check_is_fitted, validate_data

# HistGradientBoosting keys its native categorical handling on at most this many codes.
MAX_CATEGORIES = 250

MISSING_THROUGHOUT = "missing in every training row"

logger = logging.getLogger("shiprisk.models.factory")


def split_point(n_rows: int, calibration_share: float) -> int:
    """Rows before this index fit the trees; the rest (the later window) fit the calibrator."""
    return n_rows - int(round(n_rows * calibration_share))


class DropUninformativeColumns(TransformerMixin, BaseEstimator):
    """Leaves out the columns that are missing in every fit row or hold a single value.

    Such a column cannot inform a split, and HistGradientBoosting cannot even bin a numeric
    column that is missing throughout. Columns are judged on the rows before the trailing
    `calibration_share` (the rows the trees are fitted on, see TemporalCalibratedClassifier).
    `dropped_features_` maps each column left out to the reason; `transform` ignores those
    columns at scoring time whatever they hold. Takes and returns a pandas DataFrame.
    """

    def __init__(self, calibration_share: float = 0.0):
        self.calibration_share = calibration_share

    def fit(self, X, y=None):
        if not hasattr(X, "columns"):
            raise TypeError("DropUninformativeColumns needs a pandas DataFrame with named feature columns")
        validate_data(self, X, skip_check_array=True)
        split = split_point(len(X), self.calibration_share)
        judged = X.iloc[:split] if split > 0 else X
        self.dropped_features_ = {name: reason for name in X.columns
                                  if (reason := _uninformative(judged[name])) is not None}
        self.kept_features_ = [name for name in X.columns if name not in self.dropped_features_]
        if self.dropped_features_:
            logger.warning("Features left out of this fit: %s", describe_left_out(self.dropped_features_))
        if not self.kept_features_:
            raise ValueError(f"every feature column is missing or constant in the {len(judged)} training rows; "
                             "nothing to fit on: check the input data or widen the training window")
        return self

    def transform(self, X):
        check_is_fitted(self, "dropped_features_")
        validate_data(self, X, reset=False, skip_check_array=True)
        return X[self.kept_features_]

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "dropped_features_")
        names = self.feature_names_in_ if input_features is None else np.asarray(input_features, dtype=object)
        if list(names) != list(self.feature_names_in_):
            raise ValueError("input_features differ from the feature names seen in fit")
        return np.asarray(self.kept_features_, dtype=object)


def _uninformative(column) -> str | None:
    """Why a column cannot inform the fit, or None if it can."""
    if column.isna().all():
        return MISSING_THROUGHOUT
    if column.nunique(dropna=False) == 1:
        value = column.iloc[0]
        return f"constant {value:g}" if isinstance(value, (float, np.floating)) else f"constant {value}"
    return None


def describe_left_out(left_out: dict[str, str]) -> str:
    """'x (missing in every training row), y (constant 0)'."""
    return ", ".join(f"{name} ({reason})" for name, reason in left_out.items())


def left_out_features(model) -> dict[str, str]:
    """{feature: reason} of the columns a fitted model left out; {} for models made before the step existed."""
    prepare = model.named_steps["prepare"]
    steps = getattr(prepare, "named_steps", {})
    return dict(steps["leave_out"].dropped_features_) if "leave_out" in steps else {}


class KeptColumns:
    """The named columns that X holds, in the given order: a ColumnTransformer selection that
    follows what DropUninformativeColumns kept (a class, not a lambda, so the model pickles)."""

    def __init__(self, names: list[str]):
        self.names = list(names)

    def __call__(self, X) -> list[str]:
        present = set(X.columns)
        return [name for name in self.names if name in present]

    def __repr__(self) -> str:
        return f"KeptColumns({self.names!r})"


class TemporalCalibratedClassifier(ClassifierMixin, BaseEstimator):
    """Fits `estimator` on the earlier rows and a calibrator on the later rows.

    Rows must arrive in lodging order: the last `calibration_share` of them (a later
    window) calibrates the probabilities, so calibration is judged on data the
    classifier has not seen and that lies after it in time, as scoring will. Categorical
    features the estimator names but X lacks (an earlier step left them out) are not asked for.
    """

    def __init__(self, estimator=None, calibration_share: float = 0.2, method: str = "isotonic"):
        self.estimator = estimator
        self.calibration_share = calibration_share
        self.method = method

    def fit(self, X, y, sample_weight=None):
        y = np.asarray(y).astype(int)
        split = split_point(len(y), self.calibration_share)
        n_cal = len(y) - split
        if n_cal == 0 or len(np.unique(y[-n_cal:])) < 2 or len(np.unique(y[:-n_cal])) < 2:
            raise ValueError(
                "the calibration window needs both classes in the training and the later calibration rows; "
                "widen the training window or lower model.calibration_share"
            )
        fit_weight = None if sample_weight is None else np.asarray(sample_weight)[:split]
        cal_weight = None if sample_weight is None else np.asarray(sample_weight)[split:]
        estimator = _for_columns(clone(self.estimator), X)
        self.estimator_ = estimator.fit(_rows(X, slice(0, split)), y[:split], sample_weight=fit_weight)
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


def _for_columns(estimator, X):
    """The estimator, no longer asking for named categorical features that X lacks (an earlier
    step left them out): HistGradientBoosting rejects a categorical name it cannot find."""
    named = getattr(estimator, "categorical_features", None)
    if hasattr(X, "columns") and isinstance(named, (list, tuple)) and all(isinstance(n, str) for n in named):
        present = [n for n in named if n in set(X.columns)]
        if len(present) < len(named):
            estimator.set_params(categorical_features=present or None)
    return estimator


def _rows(X, index):
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def make_model(numeric: list[str], categorical: list[str], params: dict) -> Pipeline:
    """An unfitted Pipeline: raw feature columns (a DataFrame) in, calibrated P(counterfeit) out.

    Steps: prepare (leave_out: DropUninformativeColumns, then encode: ordinal codes for the
    categories, numbers passed through, as a DataFrame so the trees know the columns by name)
    and classify (TemporalCalibratedClassifier around HistGradientBoosting).
    """
    calibration_share = params.get("calibration_share", 0.2)
    encode = ColumnTransformer(
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
                KeptColumns(categorical),
            ),
            ("numeric", "passthrough", KeptColumns(numeric)),
        ],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    prepare = Pipeline([("leave_out", DropUninformativeColumns(calibration_share=calibration_share)),
                        ("encode", encode)])
    classifier = HistGradientBoostingClassifier(
        learning_rate=params.get("learning_rate", 0.06),
        max_iter=params.get("max_iter", 300),
        max_leaf_nodes=params.get("max_leaf_nodes", 31),
        min_samples_leaf=params.get("min_samples_leaf", 40),
        l2_regularization=params.get("l2_regularization", 1.0),
        early_stopping=params.get("early_stopping", False),
        # None or "balanced" (seizures weighted up to the clean rows' total): chosen on validation.
        class_weight=params.get("class_weight"),
        # By name: the encoded frame holds only the columns left in (see _for_columns).
        categorical_features=list(categorical) or None,
        random_state=params.get("seed", 42),
    )
    calibrated = TemporalCalibratedClassifier(
        estimator=classifier,
        calibration_share=calibration_share,
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


class StaleModelError(ValueError):
    """A stored model that needs a feature this code no longer defines."""


def fitted_inputs(model, numeric: list[str], categorical: list[str]) -> tuple[list[str], list[str]]:
    """(numeric, categorical) columns `model` was fitted on, in its own order, split by the kinds
    of the current registry (`numeric`, `categorical`). A model trained before a feature was added
    keeps scoring without it (until a retrained model is promoted); one that needs a feature the
    registry no longer defines cannot score, and StaleModelError names it."""
    fitted = [str(c) for c in getattr(model, "feature_names_in_", [])]
    if not fitted:  # fitted on an array: the registry's columns are all it can have seen
        return numeric, categorical
    gone = [c for c in fitted if c not in set(numeric) | set(categorical)]
    if gone:
        raise StaleModelError(f"the model was trained on feature(s) this code no longer defines: {', '.join(gone)}")
    # to_model_frame puts categorical columns first, then numeric: the order of `fitted`.
    return [c for c in fitted if c in set(numeric)], [c for c in fitted if c in set(categorical)]
