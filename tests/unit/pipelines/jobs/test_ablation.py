"""The pure parts of `shiprisk ablation`: the family split of the model inputs and the table."""
from types import SimpleNamespace

from features.registry import all_features, model_inputs
from models.model_card import render_ablation_table as render_table
from pipelines.jobs.ablation import ablation_rows, family_columns, summarise, without


def _feature(name, family):
    return SimpleNamespace(name=name, family=family)


def test_family_columns_groups_inputs_in_registry_order_and_skips_non_inputs():
    feats = [_feature("detour_ratio", "route"), _feature("hs_chapter", "commodity"),
             _feature("first_hub", "route"), _feature("not_an_input", "route")]
    families = family_columns(feats, numeric=["detour_ratio"], categorical=["hs_chapter", "first_hub"])
    assert families == {"route": ["detour_ratio", "first_hub"], "commodity": ["hs_chapter"]}
    assert list(families) == ["route", "commodity"]


def test_the_registry_families_cover_every_model_input_once():
    numeric, categorical = model_inputs()
    families = family_columns(all_features(), numeric, categorical)
    columns = [c for cols in families.values() for c in cols]
    assert sorted(columns) == sorted(numeric + categorical)
    assert {"route", "party", "commodity"} <= set(families)


def test_without_keeps_order_and_drops_only_the_family():
    assert without(["a", "b", "c", "d"], ["c", "a", "z"]) == ["b", "d"]


def test_summarise_reads_the_headline_capacity_of_each_view():
    report = {"inspected": {"at_capacity": {"0.01": {"precision": 0.5}, "0.05": {"precision": 0.2}}},
              "truth": {"at_capacity": {"0.01": {"precision": 0.4, "oracle_precision": 0.6}}}}
    assert summarise(report, 0.01) == {"labelled": 0.5, "truth": 0.4, "oracle": 0.6}
    assert summarise({"inspected": {"at_capacity": {}}}, 0.01) == {"labelled": None, "truth": None, "oracle": None}


def test_rows_and_table_give_the_loss_of_each_family():
    full = {"labelled": 0.60, "truth": 0.50, "oracle": 0.70}
    left_out = {"route": {"labelled": 0.45, "truth": 0.50, "oracle": 0.70},
                "party": {"labelled": 0.62, "truth": None, "oracle": None}}
    rows = ablation_rows(full, left_out, {"route": ["a", "b"], "party": ["c"]})
    assert [r["family"] for r in rows] == ["route", "party"]
    assert abs(rows[0]["loss_labelled"] - 0.15) < 1e-12 and rows[0]["loss_truth"] == 0.0
    assert abs(rows[1]["loss_labelled"] + 0.02) < 1e-12 and rows[1]["loss_truth"] is None
    result = {"fit": ["2026-01-01", "2026-01-20"], "holdout": ["2026-01-21", "2026-01-27"], "capacity": 0.01,
              "n_columns": 3, "full": full, "families": rows}
    table = render_table(result)
    assert "| (none: full model) | 3 | 0.600 | | 0.500 | |" in table
    assert "| route | 2 | 0.450 | +0.150 | 0.500 | 0.000 |" in table
    assert "| party | 1 | 0.620 | -0.020 | n/a | n/a |" in table
    assert "hold-out 2026-01-21..2026-01-27 at 1 % capacity" in table
    assert "Oracle precision at 1 % on the hold-out (ranking by the true probability): 0.700." in table
