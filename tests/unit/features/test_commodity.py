"""Commodity and brand features on hand-built consignments."""
import math

from consignment_frames import D, consignments, hs_groups, rights_holders
from pyspark.testing import assertDataFrameEqual

from features.commodity import build_commodity_features, build_hs6_daily, build_unit_value_history_features

PARAMS = {
    "brand_min_term_length": 3, "brand_fuzzy_min_length": 5, "brand_fuzzy_long_length": 8,
    "vague_words": ["goods", "gifts", "samples", "parts"], "min_kg_per_package": 0.01,
    "unit_value_lookback_days": 5, "unit_value_min_history": 5, "unit_value_bucket_width": 0.02,
}
EMPTY_HS6 = "date date, hs6 string, log_value_bucket int, n_consignments long"


def _features(spark, rows, hs6_daily=None):
    c = consignments(spark, rows)
    daily = hs6_daily if hs6_daily is not None else spark.createDataFrame([], EMPTY_HS6)
    out = build_commodity_features(c, hs_groups(spark), rights_holders(spark), daily, PARAMS)
    return {r["consignment_id"]: r for r in out.collect()}


def test_hs_codes_groups_and_brands(spark):
    out = _features(spark, [
        # 'louisvuiton' is 1 edit from the 12-letter 'louisvuitton' (2 allowed from 8 letters)
        {"consignment_id": "LV", "brands": ["Louis  Vuiton"], "main_hs_code": "420221", "hs_codes": ["420221"]},
        {"consignment_id": "ROLEX", "main_goods_description": "ROLEX wrist-watch", "main_hs_code": "847130",
         "hs_codes": ["847130"]},
        # Hermès is recorded on 09-06, the day after lodging: not yet protected
        {"consignment_id": "HERMES", "brands": ["HERMÈS"], "main_hs_code": "999999", "hs_codes": ["999999"]},
        {"consignment_id": "ALIAS", "main_goods_description": "genuine vuitton bag"},
        {"consignment_id": "SHORT", "brands": ["LV"], "main_goods_description": "bag"},  # 2 letters: too short
        {"consignment_id": "WATCH", "main_hs_code": "910211", "hs_codes": ["910211"]},
    ])
    lv = out["LV"]
    assert (lv["hs_chapter"], lv["hs_heading"], lv["hs_group"], lv["is_counterfeit_prone"]) == ("42", "4202", "BAGS", 1)
    assert (lv["matched_brand"], lv["brand_match_source"], lv["is_brand_recorded"]) == ("Louis Vuitton", "DECLARED_FUZZY", 1)
    assert lv["brand_protected_for_hs"] == 1  # LV is recorded for 4202
    rolex = out["ROLEX"]
    assert (rolex["hs_group"], rolex["is_counterfeit_prone"]) == ("MACHINERY", 0)
    assert (rolex["matched_brand"], rolex["brand_match_source"]) == ("Rolex", "DESCRIPTION_EXACT")
    assert rolex["brand_protected_for_hs"] == 0  # Rolex is recorded for 9101/9102, not 8471
    hermes = out["HERMES"]
    assert (hermes["matched_brand"], hermes["brand_match_source"], hermes["is_brand_recorded"]) == ("NONE", "NONE", 0)
    assert (hermes["hs_group"], hermes["is_counterfeit_prone"]) == ("UNGROUPED", 0)
    assert (out["ALIAS"]["matched_brand"], out["ALIAS"]["brand_match_source"]) == ("Louis Vuitton", "DESCRIPTION_EXACT")
    assert out["SHORT"]["matched_brand"] == "NONE"
    assert (out["WATCH"]["hs_group"], out["WATCH"]["matched_brand"]) == ("WATCHES", "NONE")


def test_unit_value_description_and_weight(spark):
    out = _features(spark, [
        # 1000 HKD / 10 = 100 HKD a unit; LV's cheapest genuine item is 5000: ratio 0.02
        {"consignment_id": "A", "brands": ["LV Louis Vuitton"], "main_goods_description": "Gifts & SAMPLES",
         "gross_weight_kg": 100.0, "package_count": 10, "total_quantity": 20.0, "net_weight_kg": 150.0},
        {"consignment_id": "B", "main_value_hkd": None, "main_goods_description": "leather goods",
         "gross_weight_kg": 0.05, "package_count": 10, "net_weight_kg": 0.04},
    ])
    a, b = out["A"], out["B"]
    assert a["unit_value_hkd"] == 100.0 and math.isclose(a["value_to_genuine_ratio"], 0.02)
    assert b["unit_value_hkd"] is None and b["value_to_genuine_ratio"] is None
    assert (a["is_vague_description"], b["is_vague_description"]) == (1, 0)  # 'leather' is specific
    assert a["weight_per_package_kg"] == 10.0 and a["weight_per_unit_kg"] == 5.0  # 100/10, 100/20
    assert a["is_weight_inconsistent"] == 1  # net 150 > gross 100
    assert math.isclose(b["weight_per_package_kg"], 0.005) and b["is_weight_inconsistent"] == 1  # < 0.01 kg


def _history_rows(spark, extra=()):
    # Five earlier unit values of HS6 420221: 10, 20, 40, 80, 160 HKD (value 10x over quantity 10)
    rows = [{"consignment_id": f"H{i}", "lodged_date": D(2026, 9, 5 + i), "main_value_hkd": 10.0 * uv}
            for i, uv in enumerate([10, 20, 40, 80, 160])]
    return consignments(spark, rows + list(extra))


def _target(spark):
    return consignments(spark, [{"consignment_id": "T", "lodged_date": D(2026, 9, 10), "main_value_hkd": 100.0}])


def test_unit_value_robust_deviation_from_trailing_hs6_median(spark):
    daily = build_hs6_daily(_history_rows(spark), 0.02)
    out = build_unit_value_history_features(_target(spark), daily, PARAMS).collect()[0]
    # ln values: median ln 40, quartiles ln 20 and ln 80, so sigma = ln 4 / 1.349;
    # the target's 10 HKD: (ln 10 - ln 40) / (ln 4 / 1.349) = -1.349. Quantiles are bucket
    # centres of a 0.02-wide histogram of ln values, so each is within 0.01 of the exact one.
    assert out["hs6_count_90d"] == 5
    assert math.isclose(out["unit_value_robust_z_90d"], -1.349, abs_tol=0.03)


def test_unit_value_history_needs_enough_values_and_ignores_later_days(spark):
    daily = build_hs6_daily(_history_rows(spark), 0.02)
    later = [{"consignment_id": "L1", "lodged_date": D(2026, 9, 10), "main_value_hkd": 1.0},
             {"consignment_id": "L2", "lodged_date": D(2026, 9, 12), "main_value_hkd": 99999.0}]
    with_later = build_hs6_daily(_history_rows(spark, later), 0.02)
    before = build_unit_value_history_features(_target(spark), daily, PARAMS)
    after = build_unit_value_history_features(_target(spark), with_later, PARAMS)
    assertDataFrameEqual(after, before)
    fewer = build_hs6_daily(_history_rows(spark).where("consignment_id != 'H0'"), 0.02)
    out = build_unit_value_history_features(_target(spark), fewer, PARAMS).collect()[0]
    assert out["hs6_count_90d"] == 4 and out["unit_value_robust_z_90d"] is None  # 4 < 5 values
