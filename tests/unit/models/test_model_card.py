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


def test_card_shows_the_model_selection_when_the_run_made_one():
    selection = {"chosen": {"learning_rate": 0.1, "max_leaf_nodes": 15}, "metric": "precision_at_1pct",
                 "budget_seconds": 120, "spent_seconds": 64.5,
                 "candidates": [{"learning_rate": 0.06, "max_leaf_nodes": 31, "score": 0.41},
                                {"learning_rate": 0.1, "max_leaf_nodes": 15, "score": 0.52}]}
    card = render_model_card({**_info(), "selection": selection}, _report("RANDOM", 500), FEATURES)
    section = card[card.index("## Model selection"):card.index("## Features")]
    assert "by precision_at_1pct: learning_rate=0.1, max_leaf_nodes=15." in section
    assert "2 candidates tried in 64.500 s of a 120 s budget." in section
    # Best first.
    assert section.index("| learning_rate=0.1, max_leaf_nodes=15 | 0.520 |") < section.index("| learning_rate=0.06, max_leaf_nodes=31 | 0.410 |")
    assert "## Model selection" not in render_model_card(_info(), _report("RANDOM", 500), FEATURES)


WORLDS = {"sizes": {"per_day": 400, "train_days": 30, "nights": 2, "seed": 17}, "note": "small configuration",
          "worlds": {"displaced_hubs": {
              "nights": {"2026-03-31": {}, "2026-04-01": {}}, "commands": ["shiprisk train --from 2026-03-01 --to 2026-03-30"],
              "all_nights": {"n": 800, "legacy_precision": 0.04, "legacy_share": 0.05, "at_capacity": {
                  "0.01": {"precision": 0.5, "oracle_precision": 0.625, "ratio_to_oracle": 0.8, "ratio_to_legacy": 12.5},
                  "0.05": {"precision": 0.2, "oracle_precision": 0.25, "ratio_to_oracle": 0.8, "ratio_to_legacy": 5.0}}}}}}
ABLATION = {"fit": ["2026-03-01", "2026-03-23"], "holdout": ["2026-03-24", "2026-03-30"], "capacity": 0.01,
            "n_columns": 3, "full": {"labelled": 0.6, "truth": 0.5, "oracle": 0.7}, "note": None,
            "families": [{"family": "route", "columns": 2, "without_labelled": 0.45, "loss_labelled": 0.15,
                          "without_truth": 0.5, "loss_truth": 0.0}]}


def test_measured_sections_survive_regeneration_and_replace_only_their_block():
    from models.model_card import MEASURED_BEGIN, MEASURED_END, measured_sections, with_measured_sections

    card = render_model_card(_info(), _report("RANDOM", 500), FEATURES, measured={"worlds": WORLDS, "ablation": ABLATION})
    assert card.count(MEASURED_BEGIN) == 1 and card.index(MEASURED_BEGIN) > card.index("## Known limits")
    assert "| displaced_hubs | 2 | 800 | 0.500 | 0.625 | 0.80 | 0.200 | 0.250 | 0.80 | 0.040 (5.0 %) | 12.5 |" in card
    assert "_small configuration_" in card and "shiprisk train --from 2026-03-01 --to 2026-03-30" in card
    assert "| route | 2 | 0.450 | +0.150 | 0.500 | 0.000 |" in card
    # Re-rendering with only the worlds: the ablation section says how to measure it; the rest is untouched.
    updated = with_measured_sections(card, measured_sections(worlds=WORLDS))
    assert updated[:updated.index(MEASURED_BEGIN)] == card[:card.index(MEASURED_BEGIN)]
    assert "Not measured yet: `shiprisk ablation" in updated and "| route | 2 |" not in updated
    assert updated.count(MEASURED_END) == 1 and updated.endswith(MEASURED_END + "\n")
    # A hand-kept card without a block gets one appended.
    plain = "# Model card\n\nText.\n"
    assert with_measured_sections(plain, measured_sections()).startswith(plain + "\n" + MEASURED_BEGIN)
