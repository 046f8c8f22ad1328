import numpy as np
import pandas as pd

from models.explain import top_contributions
from models.factory import left_out_features, make_model, to_model_frame

NUMERIC = ["undervaluation", "noise"]
CATEGORICAL = ["region"]


def _fitted():
    rng = np.random.default_rng(0)
    n = 5000
    X = pd.DataFrame({
        "region": rng.choice(["EUROPE", "OTHER"], n),
        "undervaluation": rng.random(n),
        "noise": rng.normal(size=n),
    })
    logit = -4 + 5 * X["undervaluation"] + 2.0 * (X["region"] == "EUROPE")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    model = make_model(NUMERIC, CATEGORICAL, {"max_iter": 60, "seed": 0})
    return model.fit(to_model_frame(X, NUMERIC, CATEGORICAL), y)


def test_top_reason_follows_the_feature_behind_it():
    model = _fitted()
    rows = pd.DataFrame({"region": ["OTHER", "EUROPE"], "undervaluation": [0.99, 0.0], "noise": [0.0, 0.0]})
    contributions = top_contributions(model, to_model_frame(rows, NUMERIC, CATEGORICAL))
    assert contributions[0][0]["feature"] == "undervaluation"
    assert contributions[0][0]["value"] == "0.99"
    assert contributions[1][0]["feature"] == "region"
    assert contributions[1][0]["value"] == "EUROPE"
    assert all(c["contribution"] > 0 for row in contributions for c in row)


def test_reasons_name_the_right_columns_when_some_are_left_out():
    # A source without transit ports or recorded brands: those columns are left out of the fit,
    # so the trees see fewer columns than the frame holds; names must still map to raw values.
    numeric = ["detour_ratio", "undervaluation", "is_brand_recorded", "noise"]
    categorical = ["brand_match_source", "region"]
    rng = np.random.default_rng(0)
    n = 5000
    X = pd.DataFrame({
        "brand_match_source": None, "region": rng.choice(["EUROPE", "OTHER"], n),
        "detour_ratio": np.nan, "undervaluation": rng.random(n), "is_brand_recorded": 0.0, "noise": rng.normal(size=n),
    })
    logit = -4 + 5 * X["undervaluation"] + 2.0 * (X["region"] == "EUROPE")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    model = make_model(numeric, categorical, {"max_iter": 60, "seed": 0}).fit(to_model_frame(X, numeric, categorical), y)
    assert set(left_out_features(model)) == {"brand_match_source", "detour_ratio", "is_brand_recorded"}
    rows = pd.DataFrame({"brand_match_source": ["DECLARED_EXACT", None], "region": ["OTHER", "EUROPE"],
                         "detour_ratio": [4.0, None], "undervaluation": [0.99, 0.0], "is_brand_recorded": [1.0, 0.0],
                         "noise": [0.0, 0.0]})
    contributions = top_contributions(model, to_model_frame(rows, numeric, categorical))
    assert contributions[0][0] == {"feature": "undervaluation", "value": "0.99",
                                   "contribution": contributions[0][0]["contribution"]}
    assert contributions[1][0]["feature"] == "region" and contributions[1][0]["value"] == "EUROPE"
    named = {c["feature"] for row in contributions for c in row}
    assert not named & set(left_out_features(model))
