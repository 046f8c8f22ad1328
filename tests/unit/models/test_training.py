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
from models.training import (
    candidate_params,
    fit,
    fit_with_selection,
    permutation_importances,
    recency_weights,
    sample_weights,
    select_params,
    split_validation,
    training_weights,
    validation_score,
)
from pipelines.jobs.train import split_days
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


# ---- recency weighting and model selection (issue 17) ----

def _drifting_rows(days=40, per_day=150, seed=0) -> pd.DataFrame:
    """x raises the seizure odds in the first half of the days and lowers them in the second."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    day = np.repeat(np.arange(days), per_day)
    x = rng.normal(size=n)
    sign = np.where(day < days // 2, 1.0, -1.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-2.0 + 2.5 * sign * x)))).astype(int)
    lodged = pd.Timestamp("2026-01-01") + pd.to_timedelta(day, "D")
    return pd.DataFrame({"region": rng.choice(["EUROPE", "OTHER"], n), "x": x, "flag": rng.integers(0, 2, n),
                         "label": y, "selection_reason": "RISK", "lodged_date": lodged,
                         "inspected_on": lodged + pd.Timedelta(days=1), "consignment_id": [f"C{i:05d}" for i in range(n)]})


def _search(space, max_candidates=2, budget=600.0, validation_days=7) -> dict:
    return {"budget_seconds": budget, "max_candidates": max_candidates, "validation_days": validation_days,
            "space": space}


def test_recency_weights_halve_with_each_half_life_of_age():
    dates = pd.Series(pd.to_datetime(["2026-03-15", "2026-03-08", "2026-03-01", "2026-03-15"]))
    np.testing.assert_allclose(recency_weights(dates, 7), [1.0, 0.5, 0.25, 1.0])
    np.testing.assert_allclose(recency_weights(dates, 14), [1.0, 2 ** -0.5, 0.5, 1.0])
    assert recency_weights(dates, 0).tolist() == recency_weights(dates, None).tolist() == [1.0] * 4
    rows = pd.DataFrame({"lodged_date": dates, "selection_reason": ["RANDOM", "RANDOM", "RISK", "RISK"]})
    # RANDOM weight and recency multiply.
    np.testing.assert_allclose(training_weights(rows, {"random_sample_weight": 4.0, "recency_half_life_days": 7}),
                               [4.0, 2.0, 0.25, 1.0])


def test_recency_weighting_changes_the_fit_and_off_changes_nothing():
    rows = _drifting_rows(days=20, per_day=100)
    frame = to_model_frame(rows, NUMERIC, CATEGORICAL)
    plain = fit(rows, NUMERIC, CATEGORICAL, {"max_iter": 20, "seed": 1}).predict_proba(frame)
    off = fit(rows, NUMERIC, CATEGORICAL, {"max_iter": 20, "seed": 1, "recency_half_life_days": 0}).predict_proba(frame)
    recent = fit(rows, NUMERIC, CATEGORICAL, {"max_iter": 20, "seed": 1, "recency_half_life_days": 2}).predict_proba(frame)
    np.testing.assert_array_equal(plain, off)
    assert not np.allclose(plain, recent)


def test_validation_days_are_the_last_fit_days_and_only_outcomes_known_before_them_fit():
    rows = _drifting_rows(days=20, per_day=30)
    days = [str(d.date()) for d in sorted(rows["lodged_date"].unique())]
    fit_days, holdout = split_days(days, 5)
    fit_rows = rows[rows["lodged_date"] <= fit_days[-1]]
    earlier, validation = split_validation(fit_rows, 4)
    assert sorted({str(d.date()) for d in validation["lodged_date"]}) == fit_days[-4:]
    assert not set(holdout) & {str(d.date()) for d in validation["lodged_date"]}
    # Lodged the day before validation, inspected on its first day: unknown when the candidates were fitted.
    assert str(earlier["lodged_date"].max().date()) == fit_days[-6]
    assert (earlier["inspected_on"] < pd.Timestamp(fit_days[-4])).all()
    assert len(earlier) == 30 * (len(fit_days) - 5)
    _, info = select_params(fit_rows, NUMERIC, CATEGORICAL, {"max_iter": 10, "seed": 1,
                            "search": _search({}, max_candidates=1, validation_days=4)}, 0.1)
    assert info["validation_days"] == [fit_days[-4], fit_days[-1]]


def test_search_stops_when_the_budget_is_spent_and_always_tries_the_default():
    rows = _drifting_rows(days=20, per_day=60)
    space = {"learning_rate": [0.05, 0.2], "min_samples_leaf": [10, 20, 40], "recency_half_life_days": [0, 5]}
    ticks = iter(range(0, 1000, 10))  # every reading of the clock is 10 s later
    params = {"max_iter": 10, "seed": 1, "learning_rate": 0.1, "search": _search(space, max_candidates=6, budget=25)}
    _, info = select_params(rows, NUMERIC, CATEGORICAL, params, 0.1, clock=lambda: next(ticks))
    # Started at 0; the 2nd starts at 10, the 3rd at 20, none at 30 (the budget of 25 is spent).
    assert len(info["candidates"]) == 3 and info["budget_seconds"] == 25 and info["spent_seconds"] == 40
    assert info["candidates"][0]["params"]["learning_rate"] == 0.1  # the configured default, first
    ticks = iter(range(0, 1000, 10))
    params["search"]["budget_seconds"] = 0
    _, info = select_params(rows, NUMERIC, CATEGORICAL, params, 0.1, clock=lambda: next(ticks))
    assert [c["params"]["learning_rate"] for c in info["candidates"]] == [0.1]
    # Without a clock to fake, the cap on candidates bounds the search.
    _, info = select_params(rows, NUMERIC, CATEGORICAL, {**params, "search": _search(space, 4)}, 0.1)
    assert len(info["candidates"]) == 4 and len({str(c["params"]) for c in info["candidates"]}) == 4


def test_selection_chooses_recency_weighting_when_the_pattern_changes_and_refits_it_on_the_whole_window():
    rows = _drifting_rows()
    params = {"max_iter": 30, "seed": 1, "random_sample_weight": 5.0,
              "search": _search({"recency_half_life_days": [3]}, max_candidates=2)}
    model, info = fit_with_selection(rows, NUMERIC, CATEGORICAL, params, capacity=0.1)
    default, recent = info["candidates"]
    assert default["params"]["recency_half_life_days"] is None and recent["params"]["recency_half_life_days"] == 3
    # Validation follows the new pattern: the unweighted fit still ranks by the old one.
    assert recent["precision"] > default["precision"] + 0.2
    assert info["chosen"] == recent["params"] and info["chosen"]["random_sample_weight"] == 5.0
    assert recent["k"] == 7 * 15 and recent["n"] == 7 * 150
    # The chosen settings refitted on all the rows, not the model fitted for validation.
    frame = to_model_frame(rows, NUMERIC, CATEGORICAL)
    refit = fit(rows, NUMERIC, CATEGORICAL, {**params, "recency_half_life_days": 3})
    np.testing.assert_array_equal(model.predict_proba(frame), refit.predict_proba(frame))


def test_validation_score_takes_each_days_capacity_share_of_all_its_consignments():
    rows = pd.DataFrame({"lodged_date": pd.to_datetime(["2026-01-01"] * 4 + ["2026-01-02"] * 4),
                         "label": [1, 0, 0, 1, 0, 1, 0, 0], "x": [4.0, 3.0, 2.0, 1.0, 4.0, 3.0, 2.0, 1.0]})

    class ByX:  # scores by x, so the ranking is known
        def predict_proba(self, frame):
            return np.column_stack([1 - frame["x"] / 10, frame["x"] / 10])

    # 100 consignments lodged each day, 2 % capacity: top 2 labelled rows a day, 1 hit each day.
    score = validation_score(ByX(), rows, ["x"], [], 0.02, {"2026-01-01": 100, "2026-01-02": 100})
    assert score["precision"] == 0.5 and score["k"] == 4 and score["positives"] == 3
    # Without the day's consignment counts, the share of its labelled rows: top 1 a day.
    assert validation_score(ByX(), rows, ["x"], [], 0.02)["precision"] == 0.5
    assert validation_score(ByX(), rows, ["x"], [], 0.02, {"2026-01-01": 50, "2026-01-02": 50})["k"] == 2


def test_the_search_is_skipped_when_the_window_cannot_validate():
    rows = _drifting_rows(days=5, per_day=40)
    params = {"max_iter": 10, "seed": 1, "search": _search({"learning_rate": [0.2]}, validation_days=7)}
    chosen, info = select_params(rows, NUMERIC, CATEGORICAL, params, 0.1)
    assert chosen == {"max_iter": 10, "seed": 1} and info["candidates"] == []
    assert info["skipped"] == "no validation days with both outcomes in the fit window"


def test_the_search_is_skipped_when_the_validation_days_hold_too_few_seizures():
    rows = _drifting_rows(days=20, per_day=20)
    seizures = int(rows[rows["lodged_date"] >= rows["lodged_date"].max() - pd.Timedelta(days=6)]["label"].sum())
    params = {"max_iter": 10, "seed": 1, "search": {**_search({"learning_rate": [0.2]}),
                                                    "min_validation_positives": seizures + 1}}
    chosen, info = select_params(rows, NUMERIC, CATEGORICAL, params, 0.1)
    assert chosen == {"max_iter": 10, "seed": 1} and info["candidates"] == []
    assert info["skipped"] == f"{seizures} seizures on the validation days (need {seizures + 1})"
    params["search"]["min_validation_positives"] = seizures
    assert len(select_params(rows, NUMERIC, CATEGORICAL, params, 0.1)[1]["candidates"]) == 2


def test_candidates_are_the_default_then_distinct_seeded_draws():
    space = {"learning_rate": [0.03, 0.1], "class_weight": [None, "balanced"]}
    drawn = candidate_params(space, 6, seed=3)
    assert drawn[0] == {} and len(drawn) == 5  # only 4 distinct draws exist
    assert drawn == candidate_params(space, 6, seed=3)
    assert candidate_params(space, 1, seed=3) == [{}]
