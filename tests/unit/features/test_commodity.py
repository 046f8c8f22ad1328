"""Commodity and brand features on hand-built consignments."""
import math

from consignment_frames import (
    DECLARATION_DEFAULTS,
    MANIFEST_DEFAULTS,
    D,
    consignments,
    contract_frame,
    hs_groups,
    rights_holders,
    units,
)
from pyspark.testing import assertDataFrameEqual

from features.commodity import build_commodity_features, build_hs6_daily, build_unit_value_history_features
from features.consignments import build_consignments

PARAMS = {
    "brand_min_term_length": 3, "brand_fuzzy_min_length": 5, "brand_fuzzy_long_length": 8,
    "brand_min_han_term_length": 2, "brand_max_han_term_length": 6, "item_undervalued_ratio": 1.0,
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
         "gross_weight_kg": 100.0, "package_count": 10, "total_quantity_base": 20.0, "net_weight_kg": 150.0},
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


def _from_declarations(spark, items: list[dict]):
    """Commodity features of consignments built from declaration items (one manifest row each)."""
    ids = sorted({i["consignment_id"] for i in items})
    manifests = contract_frame(spark, "manifests", [{"consignment_id": c} for c in ids], MANIFEST_DEFAULTS)
    declarations = contract_frame(spark, "declarations", items, DECLARATION_DEFAULTS)
    c = build_consignments(manifests, declarations, None, units=units(spark))
    out = build_commodity_features(c, hs_groups(spark), rights_holders(spark), spark.createDataFrame([], EMPTY_HS6),
                                   PARAMS)
    return {r["consignment_id"]: r for r in out.collect()}, c


def test_unit_value_is_per_unit_of_sale(spark):
    out, c = _from_declarations(spark, [
        # One dozen bags for 1200 HKD and twelve pieces for 1200 HKD: both 100 HKD a bag
        {"consignment_id": "DOZEN", "declaration_id": "A", "quantity": 1.0, "quantity_unit": "DZN",
         "declared_value": 1200.0},
        {"consignment_id": "PIECES", "declaration_id": "B", "quantity": 12.0, "quantity_unit": "PCE",
         "declared_value": 1200.0},
        {"consignment_id": "BLANKS", "declaration_id": "C", "quantity": 12.0, "quantity_unit": " pce ",
         "declared_value": 1200.0},
        # Kilograms, cartons and an unknown code: no unit value rather than a wrong one
        {"consignment_id": "KILOS", "declaration_id": "D", "quantity": 12.0, "quantity_unit": "KGM",
         "declared_value": 1200.0, "brand": "Louis Vuitton"},
        {"consignment_id": "CARTONS", "declaration_id": "E", "quantity": 2.0, "quantity_unit": "CT",
         "declared_value": 1200.0},
        {"consignment_id": "UNKNOWN", "declaration_id": "F", "quantity": 12.0, "quantity_unit": "XYZ",
         "declared_value": 1200.0},
    ])
    assert out["DOZEN"]["unit_value_hkd"] == out["PIECES"]["unit_value_hkd"] == out["BLANKS"]["unit_value_hkd"] == 100.0
    assert out["DOZEN"]["weight_per_unit_kg"] == 100.0 / 12  # gross 100 kg over 12 bags
    for name in ("KILOS", "CARTONS", "UNKNOWN"):
        assert out[name]["unit_value_hkd"] is None and out[name]["weight_per_unit_kg"] is None, name
    kilos = out["KILOS"]
    assert kilos["matched_brand"] == "Louis Vuitton"
    assert kilos["brand_unit_value_hkd"] is None and kilos["value_to_genuine_ratio"] is None
    # Only counted unit values enter the HS6 history
    daily = build_hs6_daily(c, 0.02).collect()
    assert sum(r["n_consignments"] for r in daily) == 3


def test_brand_is_compared_with_the_unit_value_of_the_item_bearing_it(spark):
    out, _ = _from_declarations(spark, [
        # Main item: 10 unbranded laptops at 2000 HKD each; item 2: 50 LV handbags at 40 HKD each
        {"consignment_id": "TWO", "declaration_id": "A", "item_no": 1, "hs_code": "847130",
         "goods_description": "laptop computers", "quantity": 10.0, "declared_value": 20000.0},
        {"consignment_id": "TWO", "declaration_id": "A", "item_no": 2, "brand": "Louis Vuitton",
         "quantity": 50.0, "declared_value": 2000.0},
        # The same brand on two items: the cheaper one per unit (2 dozen bags at 5 HKD each) is compared
        {"consignment_id": "SAME", "declaration_id": "B", "item_no": 1, "brand": "LV", "quantity": 1.0,
         "declared_value": 9000.0},
        {"consignment_id": "SAME", "declaration_id": "B", "item_no": 2, "brand": "Louis Vuitton",
         "quantity": 2.0, "quantity_unit": "DZN", "declared_value": 120.0},
        # A brand named in the main item's description: the main item's unit value
        {"consignment_id": "DESC", "declaration_id": "C", "goods_description": "Rolex wrist watch",
         "hs_code": "910211", "quantity": 4.0, "declared_value": 800.0},
    ])
    two = out["TWO"]
    assert (two["matched_brand"], two["brand_match_source"]) == ("Louis Vuitton", "DECLARED_EXACT")
    assert two["unit_value_hkd"] == 2000.0  # the main item's, as before
    assert two["brand_unit_value_hkd"] == 40.0
    assert math.isclose(two["value_to_genuine_ratio"], 40.0 / 5000.0)  # not 2000 / 5000
    same = out["SAME"]
    assert same["brand_unit_value_hkd"] == 5.0 and math.isclose(same["value_to_genuine_ratio"], 5.0 / 5000.0)
    desc = out["DESC"]
    assert (desc["matched_brand"], desc["brand_match_source"]) == ("Rolex", "DESCRIPTION_EXACT")
    assert desc["brand_unit_value_hkd"] == desc["unit_value_hkd"] == 200.0
    assert math.isclose(desc["value_to_genuine_ratio"], 200.0 / 40000.0)
