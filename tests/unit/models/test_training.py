import logging
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.inspection import permutation_importance

from models.evaluation import labelled_metrics
from models.factory import DropUninformativeColumns, left_out_features, to_model_frame
from models.training import fit, permutation_importances, sample_weights
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


# A source that lacks whole signals: no transit ports declared (a numeric missing in every
# row), no recorded brand ever matched (a flag constant 0, a category missing throughout).
LACKING_NUMERIC = NUMERIC + ["detour_ratio", "is_brand_recorded"]
LACKING_CATEGORICAL = CATEGORICAL + ["brand_match_source"]


def _rows_lacking_signals(n=3000, seed=0) -> pd.DataFrame:
    return _rows(n, seed).assign(detour_ratio=np.nan, is_brand_recorded=0.0, brand_match_source=None)


def test_fit_leaves_out_columns_missing_or_constant_in_every_training_row(caplog):
    # scikit-learn 1.9.1 cannot bin a numeric column missing in every row: before the fix this
    # raised "window shape cannot be larger than input array shape" from inside HistGradientBoosting.
    rows = _rows_lacking_signals()
    with caplog.at_level(logging.WARNING, logger="shiprisk"):
        model = fit(rows, LACKING_NUMERIC, LACKING_CATEGORICAL, {"max_iter": 20, "seed": 1})
    assert left_out_features(model) == {"detour_ratio": "missing in every training row",
                                        "is_brand_recorded": "constant 0",
                                        "brand_match_source": "missing in every training row"}
    warned = [r for r in caplog.records if r.name.startswith("shiprisk.") and r.levelno == logging.WARNING]
    assert any("Features left out of this fit: brand_match_source (missing in every training row), detour_ratio "
               "(missing in every training row), is_brand_recorded (constant 0)" in r.getMessage() for r in warned)
    assert list(model[:-1].get_feature_names_out()) == ["region", "x", "flag"]
    assert list(model.named_steps["classify"].estimator_.feature_names_in_) == ["region", "x", "flag"]
    # At scoring time the same Pipeline ignores those columns, whatever they hold.
    frame = to_model_frame(rows.head(200), LACKING_NUMERIC, LACKING_CATEGORICAL)
    filled = frame.assign(detour_ratio=3.0, is_brand_recorded=1.0, brand_match_source="DECLARED_EXACT")
    np.testing.assert_array_equal(model.predict_proba(frame), model.predict_proba(filled))
    # And it survives the pickling that MLflow and Spark's broadcast apply to it.
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict_proba(frame), model.predict_proba(frame))


def test_a_category_left_out_is_no_longer_asked_for_as_categorical():
    rows = _rows().assign(brand_match_source="NONE", hs_group=lambda f: np.where(f["x"] > 0, "APPAREL", "TOYS"))
    model = fit(rows, NUMERIC, ["brand_match_source", "region", "hs_group"], {"max_iter": 10, "seed": 1})
    assert left_out_features(model) == {"brand_match_source": "constant NONE"}
    trees = model.named_steps["classify"].estimator_
    assert list(trees.feature_names_in_) == ["region", "hs_group", "x", "flag"]
    assert list(trees.is_categorical_) == [True, True, False, False]


def test_a_column_seen_only_in_the_calibration_window_is_left_out():
    # The trees are fitted on the earlier rows only: a signal recorded only lately is missing in all of them.
    rows = _rows().assign(lodged_date=lambda f: pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(len(f)) // 100, "D"))
    late = rows["lodged_date"] >= rows["lodged_date"].iloc[int(len(rows) * 0.9)]
    rows["detour_ratio"] = np.where(late, 1.2, np.nan)
    model = fit(rows, NUMERIC + ["detour_ratio"], CATEGORICAL, {"max_iter": 10, "seed": 1, "calibration_share": 0.2})
    assert left_out_features(model) == {"detour_ratio": "missing in every training row"}


def test_no_column_with_signal_is_a_clear_error():
    rows = _rows().assign(x=np.nan, flag=1.0, region="EUROPE")
    with pytest.raises(ValueError, match="every feature column is missing or constant"):
        fit(rows, NUMERIC, CATEGORICAL, {"max_iter": 10})


def test_drop_step_follows_the_estimator_api():
    step = DropUninformativeColumns(calibration_share=0.5)
    assert step.get_params() == {"calibration_share": 0.5} and not hasattr(step, "dropped_features_")
    with pytest.raises(NotFittedError):
        step.transform(pd.DataFrame({"a": [1.0]}))
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.0, 0.0, 5.0, 6.0], "c": [None, None, "X", "Y"]})
    # Judged on the first half (the rows the trees would see): b is constant there, c missing.
    fitted = clone(step).fit(frame)
    assert fitted.dropped_features_ == {"b": "constant 0", "c": "missing in every training row"}
    assert list(fitted.get_feature_names_out()) == ["a"] and list(fitted.transform(frame).columns) == ["a"]
    assert list(DropUninformativeColumns().fit(frame).get_feature_names_out()) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="feature names"):
        fitted.transform(frame[["b", "a", "c"]])


def test_permutation_importance_lists_the_columns_used_when_some_are_left_out():
    rows = _rows_lacking_signals()
    model = fit(rows, LACKING_NUMERIC, LACKING_CATEGORICAL, {"max_iter": 40, "seed": 1})
    found = permutation_importances(model, rows, LACKING_NUMERIC, LACKING_CATEGORICAL, seed=5, repeats=2)
    assert sorted(item["feature"] for item in found) == ["flag", "region", "x"]
    assert found[0]["feature"] == "x"
    # Same figures as permuting the raw columns through the whole Pipeline; the left-out ones count for nothing.
    direct = permutation_importance(model, to_model_frame(rows, LACKING_NUMERIC, LACKING_CATEGORICAL),
                                    rows["label"].to_numpy(), scoring="average_precision", n_repeats=2, random_state=5)
    expected = dict(zip(LACKING_CATEGORICAL + LACKING_NUMERIC, direct.importances_mean))
    for item in found:
        assert np.isclose(item["importance"], expected[item["feature"]])
    assert expected["detour_ratio"] == expected["is_brand_recorded"] == expected["brand_match_source"] == 0.0


def test_training_without_random_rows_warns_and_fits(caplog):
    rows = _rows()  # every row selected by RISK: no control sample
    with caplog.at_level(logging.WARNING, logger="shiprisk"):
        model = fit(rows, NUMERIC, CATEGORICAL, {"max_iter": 10, "seed": 1, "random_sample_weight": 5.0})
    assert any("No RANDOM control rows among the 3000 training rows" in r.getMessage() for r in caplog.records)
    assert 0 <= model.predict_proba(to_model_frame(rows.head(3), NUMERIC, CATEGORICAL))[:, 1].min()
    # Weighting nothing changes nothing: the same model as without the weight.
    plain = fit(rows, NUMERIC, CATEGORICAL, {"max_iter": 10, "seed": 1})
    frame = to_model_frame(rows, NUMERIC, CATEGORICAL)
    np.testing.assert_array_equal(model.predict_proba(frame), plain.predict_proba(frame))


def test_every_consignment_inspected_and_none_random_trains_and_evaluates(caplog):
    # Another source inspects everything: one selection reason, no RANDOM rows, outcomes for all.
    rows = _rows().assign(selection_reason="OTHER")
    model = fit(rows, NUMERIC, CATEGORICAL, {"max_iter": 20, "seed": 1, "random_sample_weight": 5.0})
    hold = _rows(1000, seed=3).assign(selection_reason="OTHER")
    scored = hold.assign(score=model.predict_proba(to_model_frame(hold, NUMERIC, CATEGORICAL))[:, 1], seized_value_hkd=0.0)
    random_view = labelled_metrics(scored[scored["selection_reason"] == "RANDOM"], [0.01, 0.05])
    assert random_view["n"] == 0 and random_view["roc_auc"] is None and random_view["brier"] is None
    assert random_view["unavailable"]["pr_auc"] == "no consignment in this view has an outcome"
    inspected = labelled_metrics(scored, [0.01, 0.05])
    assert inspected["roc_auc"] > 0.7 and inspected["unavailable"] == {
        "value_captured": "no seized value recorded among these outcomes"}
    assert sample_weights(rows["selection_reason"], 5.0).tolist() == [1.0] * len(rows)
