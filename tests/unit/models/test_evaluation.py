import datetime as dt

import numpy as np
import pandas as pd

from models.evaluation import at_capacity, labelled_metrics, reliability_curve, truth_at_capacity


def test_at_capacity_by_hand():
    labels = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
    scores = np.array([.9, .8, .7, .6, .5, .4, .3, .2, .1, .05])
    values = np.array([100.0, 0, 50, 0, 0, 0, 0, 0, 0, 850])
    r = at_capacity(labels, scores, 0.3, values)
    # top 3 = rows 0,1,2 -> 2 hits of 3; 2 of 3 positives; 150 of 1000 HKD.
    assert r["k"] == 3 and r["precision"] == 2 / 3 and r["recall"] == 2 / 3
    assert r["value_captured"] == 0.15


def test_reliability_bins():
    rows = reliability_curve(np.array([0, 1, 1, 0]), np.array([0.05, 0.95, 0.91, 0.12]), bins=10)
    assert [(r["bin"], r["n"]) for r in rows] == [(0, 1), (1, 1), (9, 2)]
    assert rows[-1]["observed_rate"] == 1.0


def test_labelled_metrics_has_all_views():
    frame = pd.DataFrame({"label": [1, 0, 0, 1], "score": [0.9, 0.2, 0.1, 0.6], "seized_value_hkd": [5, None, None, 5]})
    m = labelled_metrics(frame, [0.5])
    assert m["roc_auc"] == 1.0 and m["at_capacity"]["0.5"]["precision"] == 1.0
    assert m["at_capacity"]["0.5"]["value_captured"] == 1.0


def test_truth_at_capacity_ranks_within_each_day(spark):
    d1, d2 = dt.date(2026, 9, 1), dt.date(2026, 9, 2)
    rows = []
    # Day 1: model puts a negative on top; oracle finds the positive.
    rows += [("a", d1, 0.9, 0.1, False), ("b", d1, 0.5, 0.9, True), ("c", d1, 0.1, 0.05, False), ("d", d1, 0.0, 0.0, False)]
    # Day 2: model finds the positive.
    rows += [("e", d2, 0.8, 0.7, True), ("f", d2, 0.3, 0.2, False), ("g", d2, 0.2, 0.1, False), ("h", d2, 0.1, 0.1, False)]
    df = spark.createDataFrame(rows, "consignment_id string, lodged_date date, score double, p_counterfeit double, is_counterfeit boolean")
    r = truth_at_capacity(df, [0.25])
    # top 25% of 4 rows = 1 a day: model hits day 2 only, oracle both days.
    assert r["at_capacity"]["0.25"] == {"k": 2, "precision": 0.5, "recall": 0.5, "oracle_precision": 1.0}
    assert r["base_rate"] == 0.25


def test_a_view_without_rows_is_marked_unavailable_not_nan():
    frame = pd.DataFrame({"label": [1, 0, 0, 1], "score": [0.9, 0.2, 0.1, 0.6], "seized_value_hkd": [5, None, None, 5],
                          "selection_reason": ["RISK"] * 4})
    m = labelled_metrics(frame[frame["selection_reason"] == "RANDOM"], [0.5])
    assert m["n"] == 0 and m["roc_auc"] is None and m["pr_auc"] is None and m["brier"] is None
    assert m["at_capacity"]["0.5"] == {"k": 0, "precision": None, "recall": None, "value_captured": None}
    assert m["reliability"] == [] and m["pr_curve"] == []
    assert set(m["unavailable"]) == {"roc_auc", "pr_auc", "brier", "precision", "recall", "value_captured",
                                     "reliability", "pr_curve"}
    assert set(m["unavailable"].values()) == {"no consignment in this view has an outcome"}


def test_a_view_with_one_outcome_says_which_metrics_it_cannot_give():
    clean = pd.DataFrame({"label": [0, 0, 0], "score": [0.9, 0.2, 0.1], "seized_value_hkd": [None] * 3})
    m = labelled_metrics(clean, [0.5])
    assert m["roc_auc"] is None and m["at_capacity"]["0.5"]["recall"] is None
    assert m["at_capacity"]["0.5"]["precision"] == 0.0 and np.isfinite(m["brier"])
    assert m["unavailable"] == {"roc_auc": "no seizure among 3 outcomes", "pr_auc": "no seizure among 3 outcomes",
                                "pr_curve": "no seizure among 3 outcomes", "recall": "no seizure among 3 outcomes",
                                "value_captured": "no seized value recorded among these outcomes"}
    seized = labelled_metrics(pd.DataFrame({"label": [1], "score": [0.4], "seized_value_hkd": [10.0]}), [0.5])
    assert seized["unavailable"] == {"roc_auc": "nothing but seizures among 1 outcome",
                                     "pr_auc": "nothing but seizures among 1 outcome",
                                     "pr_curve": "nothing but seizures among 1 outcome"}
    full = labelled_metrics(pd.DataFrame({"label": [1, 0], "score": [0.9, 0.1], "seized_value_hkd": [5.0, None]}), [0.5])
    assert full["unavailable"] == {}


def test_weekly_views_split_the_hold_out_by_week_of_lodging(spark):
    from models.evaluation import weekly_labelled, weekly_truth_at_capacity

    # 2026-09-06 is a Sunday (week of Monday 08-31), 09-07 a Monday (week of 09-07).
    sun, mon = dt.date(2026, 9, 6), dt.date(2026, 9, 7)
    rows = [("a", sun, 0.9, 0.9, True), ("b", sun, 0.1, 0.2, False),
            ("c", mon, 0.9, 0.1, False), ("d", mon, 0.1, 0.8, True)]
    df = spark.createDataFrame(rows, "consignment_id string, lodged_date date, score double, p_counterfeit double, "
                                     "is_counterfeit boolean")
    truth = weekly_truth_at_capacity(df, 0.5)
    assert [(w["week"], w["k"], w["precision"], w["oracle_precision"], w["ratio_to_oracle"]) for w in truth] == [
        ("2026-08-31", 1, 1.0, 1.0, 1.0), ("2026-09-07", 1, 0.0, 1.0, 0.0)]
    labelled = pd.DataFrame({"lodged_date": [sun, sun, mon, mon], "label": [1, 0, 0, 1], "score": [0.9, 0.1, 0.9, 0.1]})
    assert [(w["week"], w["n"], w["positives"], w["precision"]) for w in weekly_labelled(labelled, 0.5)] == [
        ("2026-08-31", 2, 1, 1.0), ("2026-09-07", 2, 1, 0.0)]
    assert weekly_labelled(labelled.iloc[0:0], 0.5) == []
