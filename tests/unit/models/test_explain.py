import numpy as np
import pandas as pd

from models.explain import top_contributions
from models.factory import make_model, to_model_frame

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
