import numpy as np
import pandas as pd
import pytest

from models.factory import make_model, to_model_frame

NUMERIC = ["x", "flag"]
CATEGORICAL = ["region"]


def _data(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    region = rng.choice(["EUROPE", "NORTH_AMERICA", "OTHER", None], n)
    x = rng.normal(size=n)
    flag = rng.integers(0, 2, n)
    logit = -3 + 1.5 * x + 1.0 * flag + np.where(region == "EUROPE", 1.0, 0.0)
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame({"region": region, "x": x, "flag": flag}), y.astype(int)


def test_pipeline_learns_and_gives_probabilities():
    X, y = _data()
    model = make_model(NUMERIC, CATEGORICAL, {"max_iter": 50, "seed": 1})
    model.fit(to_model_frame(X, NUMERIC, CATEGORICAL), y)
    p = model.predict_proba(to_model_frame(X, NUMERIC, CATEGORICAL))[:, 1]
    assert ((p >= 0) & (p <= 1)).all()
    # The top-scored tenth holds far more positives than the base rate.
    top = np.argsort(-p)[: len(p) // 10]
    assert y[top].mean() > 2.5 * y.mean()
    # Calibrated: the mean prediction is near the observed rate.
    assert abs(p.mean() - y.mean()) < 0.03


def test_same_data_and_seed_give_the_same_model():
    X, y = _data()
    frame = to_model_frame(X, NUMERIC, CATEGORICAL)
    p1 = make_model(NUMERIC, CATEGORICAL, {"max_iter": 30, "seed": 3}).fit(frame, y).predict_proba(frame)
    p2 = make_model(NUMERIC, CATEGORICAL, {"max_iter": 30, "seed": 3}).fit(frame, y).predict_proba(frame)
    np.testing.assert_array_equal(p1, p2)


def test_unknown_category_at_scoring_time_is_handled():
    X, y = _data()
    model = make_model(NUMERIC, CATEGORICAL, {"max_iter": 20}).fit(to_model_frame(X, NUMERIC, CATEGORICAL), y)
    new = pd.DataFrame({"region": ["MARS"], "x": [0.0], "flag": [1]})
    assert 0 <= model.predict_proba(to_model_frame(new, NUMERIC, CATEGORICAL))[0, 1] <= 1


def test_calibration_window_without_positives_is_a_clear_error():
    X, y = _data(1000)
    y = y.copy()
    y[-200:] = 0
    with pytest.raises(ValueError, match="calibration window"):
        make_model(NUMERIC, CATEGORICAL, {"max_iter": 10}).fit(to_model_frame(X, NUMERIC, CATEGORICAL), y)


def test_a_model_keeps_scoring_after_a_feature_is_added_and_refuses_when_one_is_gone():
    from models.factory import StaleModelError, fitted_inputs

    X, y = _data(1000)
    model = make_model(NUMERIC, CATEGORICAL, {"max_iter": 20, "seed": 1}).fit(to_model_frame(X, NUMERIC, CATEGORICAL), y)
    # The registry gained `new_flag` (numeric) and `new_cat` since: the model reads only its own columns.
    numeric, categorical = fitted_inputs(model, ["new_flag", "x", "flag"], ["new_cat", "region"])
    assert (numeric, categorical) == (["x", "flag"], ["region"])
    X2 = X.assign(new_flag=1, new_cat="A")
    expected = model.predict_proba(to_model_frame(X, NUMERIC, CATEGORICAL))[:, 1]
    assert np.array_equal(model.predict_proba(to_model_frame(X2, numeric, categorical))[:, 1], expected)
    with pytest.raises(StaleModelError, match="flag"):
        fitted_inputs(model, ["x"], ["region"])


def test_class_weight_reaches_the_trees_and_weights_the_seizures_up():
    X, y = _data(1000)
    frame = to_model_frame(X, NUMERIC, CATEGORICAL)
    balanced = make_model(NUMERIC, CATEGORICAL, {"max_iter": 10, "seed": 1, "class_weight": "balanced"}).fit(frame, y)
    plain = make_model(NUMERIC, CATEGORICAL, {"max_iter": 10, "seed": 1}).fit(frame, y)
    assert balanced.named_steps["classify"].estimator_.class_weight == "balanced"
    assert plain.named_steps["classify"].estimator_.class_weight is None
    # The trees' raw scores lean to seizures once they are weighted up to the clean rows' total.
    raw = [m.named_steps["classify"].estimator_.predict_proba(m[:-1].transform(frame))[:, 1].mean() for m in (balanced, plain)]
    assert raw[0] > raw[1] + 0.1
