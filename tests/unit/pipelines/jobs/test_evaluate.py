"""The three views of an evaluation, on a real Spark frame and a fitted Pipeline."""
import datetime as dt

import numpy as np
import pandas as pd

from models.factory import make_model, to_model_frame
from pipelines.jobs.evaluate import evaluate_window


def test_random_view_uses_only_random_rows_and_truth_has_an_oracle(spark):
    rng = np.random.default_rng(0)
    n = 600
    x = rng.random(n)
    train = pd.DataFrame({"x": x})
    y = (rng.random(n) < x * 0.3).astype(int)
    model = make_model(["x"], [], {"max_iter": 20}).fit(to_model_frame(train, ["x"], []), y)
    day = dt.date(2026, 9, 1)
    ids = [f"C{i}" for i in range(n)]
    features = spark.createDataFrame(pd.DataFrame({"consignment_id": ids, "lodged_date": [day] * n, "x": x}))
    # 40 RISK inspections, all seized; 20 RANDOM inspections, all clean.
    risk = [(ids[i], day, "RISK", "SEIZED", 100.0) for i in range(40)]
    random = [(ids[i], day, "RANDOM", "CLEAN", None) for i in range(40, 60)]
    outcomes = spark.createDataFrame(risk + random, "consignment_id string, inspected_on date, selection_reason string, "
                                                    "result string, seized_value_hkd double")
    truth = spark.createDataFrame([(c, float(v), bool(v > 0.9)) for c, v in zip(ids, x)],
                                  "consignment_id string, p_counterfeit double, is_counterfeit boolean")
    report = evaluate_window(model, features, outcomes, truth, ["x"], [],
                             {"capacities": [0.1], "reliability_bins": 5, "headline_capacity": 0.1})
    assert report["inspected"]["n"] == 60 and report["inspected"]["positives"] == 40
    assert report["random"]["n"] == 20 and report["random"]["positives"] == 0
    assert report["random"]["at_capacity"]["0.1"]["precision"] == 0.0
    assert report["baselines"]["legacy_rules_hit_rate"] == 1.0 and report["baselines"]["random_hit_rate"] == 0.0
    # The oracle ranks by the true probability: its top 10% are exactly the x > 0.9 rows.
    truth_view = report["truth"]["at_capacity"]["0.1"]
    assert truth_view["k"] == 60 and truth_view["oracle_precision"] == min((x > 0.9).sum(), 60) / 60
    # One lodging day, so one week, with the same figures as the whole window.
    (week,) = report["by_week"]["truth"]
    assert (week["k"], week["precision"], week["oracle_precision"]) == (60, truth_view["precision"], truth_view["oracle_precision"])
    (inspected_week,) = report["by_week"]["inspected"]
    assert (inspected_week["n"], inspected_week["positives"]) == (60, 40)
