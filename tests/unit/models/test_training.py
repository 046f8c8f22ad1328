import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from models.factory import to_model_frame
from models.training import fit, permutation_importances
from tests.unit.models.test_factory import CATEGORICAL, NUMERIC, _data


def _rows(n=3000, seed=0) -> pd.DataFrame:
    X, y = _data(n, seed)
    return X.assign(label=y, selection_reason="RISK", lodged_date=pd.Timestamp("2026-01-01"),
                    consignment_id=[f"C{i}" for i in range(n)])


def test_permutation_importance_ranks_the_driving_feature_first_and_matches_the_whole_pipeline():
    rows = _rows()
    model = fit(rows, NUMERIC, CATEGORICAL, {"max_iter": 40, "seed": 1})
    found = permutation_importances(model, rows, NUMERIC, CATEGORICAL, seed=5, repeats=2)
    assert found[0]["feature"] == "x"  # the label's strongest driver
    # Permuting after the encoding gives what permuting the raw frame through the whole Pipeline gives.
    direct = permutation_importance(model, to_model_frame(rows, NUMERIC, CATEGORICAL), rows["label"].to_numpy(),
                                    scoring="average_precision", n_repeats=2, random_state=5)
    expected = dict(zip(CATEGORICAL + NUMERIC, direct.importances_mean))
    for item in found:
        assert np.isclose(item["importance"], expected[item["feature"]])


def test_no_importance_without_both_classes():
    rows = _rows()
    model = fit(rows, NUMERIC, CATEGORICAL, {"max_iter": 5, "seed": 1})
    assert permutation_importances(model, rows.assign(label=0), NUMERIC, CATEGORICAL, seed=0) == []
