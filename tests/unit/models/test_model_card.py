from types import SimpleNamespace

import pandas as pd

from models.evaluation import labelled_metrics
from models.model_card import render_model_card

FEATURES = [SimpleNamespace(name=name, family="route", meaning="m", window="day of lodging", model_input=True)
            for name in ("n_transit_ports", "detour_ratio", "is_brand_recorded")]


def _info(n_random_rows=120) -> dict:
    return {"name": "shiprisk", "version": "3", "run_id": "r1", "git_commit": "abc", "train_from": "2026-01-01",
            "train_to": "2026-02-01", "holdout_from": "2026-02-02", "holdout_to": "2026-02-15", "n_train_rows": 900,
            "n_train_positives": 40, "n_random_rows": n_random_rows, "random_sample_weight": "5.0",
            "calibration_method": "sigmoid", "feature_registry_version": "v", "input_digest": "d"}


def _report(selection_reason: str, n_consignments: int) -> dict:
    labelled = pd.DataFrame({"label": [1, 0, 0, 1, 0], "score": [0.9, 0.2, 0.1, 0.6, 0.3],
                             "seized_value_hkd": [5.0, None, None, 5.0, None], "selection_reason": selection_reason})
    return {"n_consignments": n_consignments, "inspected": labelled_metrics(labelled, [0.2]),
            "random": labelled_metrics(labelled[labelled["selection_reason"] == "RANDOM"], [0.2]),
            "baselines": {"random_inspections": 0}}


def test_card_lists_the_features_left_out_and_the_missing_random_view():
    left_out = {"detour_ratio": "missing in every training row", "is_brand_recorded": "constant 0"}
    card = render_model_card(_info(n_random_rows=0), _report("OTHER", 5), FEATURES, left_out=left_out)
    assert ("Features left out of this fit: detour_ratio (missing in every training row), "
            "is_brand_recorded (constant 0).") in card
    assert "| `detour_ratio` (left out) |" in card and "| `n_transit_ports` |" in card
    assert "no RANDOM control rows, so their weight (5.0x) changed nothing" in card
    assert ("- RANDOM-only view: roc_auc, pr_auc, brier, precision, recall, value_captured, reliability, pr_curve "
            "unavailable (no consignment in this view has an outcome).") in card
    assert "Every one of the 5 hold-out consignments was inspected" in card
    assert "nan" not in card.split()


def test_card_with_a_control_sample_and_nothing_left_out():
    card = render_model_card(_info(), _report("RANDOM", 500), FEATURES, left_out={})
    assert "Features left out of this fit: none." in card and "(left out)" not in card
    assert "RANDOM control rows are weighted 5.0x" in card
    assert "unavailable" not in card and "Every one of" not in card
    # Without the list (a caller not passing it yet) the card says nothing about left-out features.
    assert "left out of this fit" not in render_model_card(_info(), _report("RANDOM", 500), FEATURES)


def test_card_tables_the_hold_out_week_by_week():
    report = _report("RANDOM", 500)
    report["by_week"] = {"truth": [{"week": "2026-05-18", "n": 3500, "k": 35, "precision": 0.6, "oracle_precision": 0.75,
                                    "ratio_to_oracle": 0.8}]}
    card = render_model_card(_info(), report, FEATURES)
    assert "| truth | 2026-05-18 | 3500 | 35 | 0.600 | 0.750 | 0.800 |" in card
    assert "Hold-out by week" not in render_model_card(_info(), _report("RANDOM", 500), FEATURES)
