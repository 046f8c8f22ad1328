"""Item-level signals: every item of a consignment is looked at, not only the highest-value one."""
import math
from pathlib import Path

from consignment_frames import D, consignments, contract_frame, hs_groups
from pyspark.testing import assertDataFrameEqual

from features.items import PRODUCT_TERMS_SCHEMA, build_item_features, item_signals

PARAMS = {
    "brand_min_term_length": 3, "brand_fuzzy_min_length": 5, "brand_fuzzy_long_length": 8,
    "brand_min_han_term_length": 2, "brand_max_han_term_length": 6, "item_undervalued_ratio": 1.0,
    "vague_words": ["goods", "gifts", "samples", "parts", "禮品"],
}
PRODUCT_TERMS = Path(__file__).resolve().parents[3] / "conf" / "reference" / "product_terms.csv"


def _rights_holders(spark, extra=()):
    return contract_frame(spark, "rights_holders", [
        {"brand": "Louis Vuitton", "aliases": "LV;Vuitton", "hs_prefixes": "4202", "min_genuine_unit_value_hkd": 5000.0,
         "recorded_on": D(2020, 1, 1)},
        {"brand": "Nike", "aliases": "耐克", "hs_prefixes": "64;61", "min_genuine_unit_value_hkd": 300.0,
         "recorded_on": D(2020, 1, 1)},
        # Recorded the day after the consignments below are lodged: not yet protected for them
        {"brand": "Hermès", "aliases": "Hermes;爱马仕", "hs_prefixes": "4202", "min_genuine_unit_value_hkd": 20000.0,
         "recorded_on": D(2026, 9, 6)},
        *extra,
    ])


def _product_terms(spark):
    return spark.read.option("header", True).schema(PRODUCT_TERMS_SCHEMA).csv(str(PRODUCT_TERMS))


def _item(no, hs, desc, value, qty, dim="COUNT", brand=None):
    return ("DEC1", no, hs, desc, brand, value, qty, dim)


def _rows():
    cheap = [_item(i, "392690", "plastic hangers", 100.0, 100.0) for i in range(1, 5)]
    return [
        # Four cheap unbranded lines and one Nike line in Chinese: 50 HKD for 50 pairs, 1 HKD a pair
        # against Nike's 300 (ratio 1/300). It is not the highest-value item.
        {"consignment_id": "PARCEL", "n_items": 5,
         "items": [*cheap, _item(5, "640411", "耐克运动鞋", 50.0, 50.0)]},
        # Mixed text naming Nike at exactly its genuine price (not under), declared under plastics
        # although it names sneakers (HS 64): suspicious by the mismatch. A misspelt declared brand
        # ('Louis Vuiton', one edit) on a 6000 HKD bag: branded, not under, not a mismatch.
        {"consignment_id": "MIXED", "n_items": 2,
         "items": [_item(1, "392690", "NIKE运动鞋 sneakers", 30000.0, 100.0),
                   _item(2, "420221", "handbag", 6000.0, 1.0, brand="Louis Vuiton")]},
        # A phone case under plastics names 'phone' (8517, ...) and 'phone case' (3926, ...): no mismatch.
        # 'gifts' on bags (counterfeit-prone) is vague there; 'samples' on machinery is not counted.
        {"consignment_id": "VAGUE", "n_items": 3,
         "items": [_item(1, "392690", "phone case", 10.0, 10.0), _item(2, "420221", "Gifts", 10.0, 1.0),
                   _item(3, "847130", "samples", 10.0, 1.0)]},
        # A costly sofa and a cheap line described only as 禮品 ("gifts") under plastics (not a prone
        # group): vague wherever it sits; "禮品盒" (gift box) is one word not in the vocabulary.
        {"consignment_id": "HIDDEN", "n_items": 3,
         "items": [_item(1, "940161", "sofa", 9000.0, 1.0), _item(2, "392690", "禮品", 5.0, 10.0),
                   _item(3, "481910", "禮品盒", 5.0, 10.0)]},
        # Hermès (and its Chinese name) is recorded after lodging; a bag in kilograms has no unit value
        {"consignment_id": "LATE", "n_items": 2,
         "items": [_item(1, "420221", "爱马仕 bag", 10.0, 1.0, brand="Hermes"),
                   _item(2, "420221", "vuitton bags", 10.0, 2.0, dim="MASS")]},
    ]


def _features(spark, rows=None, rights_holders=None):
    c = consignments(spark, rows or _rows())
    out = build_item_features(c, hs_groups(spark), rights_holders or _rights_holders(spark), _product_terms(spark),
                              PARAMS)
    return out


def test_a_branded_undervalued_line_among_cheap_items_is_seen(spark):
    out = {r["consignment_id"]: r.asDict() for r in _features(spark).collect()}
    parcel = out["PARCEL"]
    assert (parcel["n_items_brand_named"], parcel["n_item_brands"]) == (1, 1)
    assert math.isclose(parcel["items_min_value_to_genuine_ratio"], 1.0 / 300.0)
    assert (parcel["n_items_under_genuine"], parcel["n_suspicious_items"]) == (1, 1)
    assert math.isclose(parcel["share_suspicious_items"], 0.2)
    assert (parcel["n_items_hs_mismatch"], parcel["n_vague_items"], parcel["n_vague_prone_items"]) == (0, 0, 0)  # 运动鞋 fits 6404

    mixed = out["MIXED"]
    assert (mixed["n_items_brand_named"], mixed["n_item_brands"]) == (2, 2)
    assert math.isclose(mixed["items_min_value_to_genuine_ratio"], 1.0)  # 300 a pair; the bag 6000/5000
    assert (mixed["n_items_under_genuine"], mixed["n_items_hs_mismatch"], mixed["n_suspicious_items"]) == (0, 1, 1)
    assert math.isclose(mixed["share_suspicious_items"], 0.5)

    vague = out["VAGUE"]
    assert (vague["n_vague_prone_items"], vague["n_items_hs_mismatch"], vague["n_items_brand_named"]) == (1, 0, 0)
    assert vague["n_vague_items"] == 2  # the samples on machinery count here, not among the prone ones
    assert vague["items_min_value_to_genuine_ratio"] is None

    hidden = out["HIDDEN"]
    assert (hidden["n_vague_items"], hidden["n_vague_prone_items"], hidden["n_items_brand_named"]) == (1, 0, 0)

    late = out["LATE"]
    # Vuitton is named (item 2) but in kilograms: no ratio, so not under; Hermès not yet recorded
    assert (late["n_items_brand_named"], late["n_item_brands"], late["n_items_under_genuine"]) == (1, 1, 0)
    assert late["items_min_value_to_genuine_ratio"] is None and late["n_suspicious_items"] == 0


def test_each_item_names_its_own_brand(spark):
    c = consignments(spark, _rows())
    signals = item_signals(c, hs_groups(spark), _rights_holders(spark), _product_terms(spark), PARAMS)
    named = {(r["consignment_id"], r["item_no"]): r["item_brand"] for r in signals.collect()}
    assert named[("PARCEL", 5)] == "Nike" and named[("PARCEL", 1)] is None
    assert named[("MIXED", 1)] == "Nike" and named[("MIXED", 2)] == "Louis Vuitton"
    assert named[("LATE", 1)] is None and named[("LATE", 2)] == "Louis Vuitton"


def test_a_later_record_or_later_items_leave_the_day_unchanged(spark):
    before = _features(spark)
    # A brand recorded after lodging that the hangers would match, and items lodged the next day
    later_brand = {"brand": "Hangers Co", "aliases": "hangers;衣架", "hs_prefixes": "3926",
                   "min_genuine_unit_value_hkd": 1000.0, "recorded_on": D(2026, 9, 6)}
    later_rows = [{"consignment_id": "NEXT", "lodged_date": D(2026, 9, 6), "n_items": 1,
                   "items": [_item(1, "392690", "plastic hangers", 1.0, 10.0)]}]
    after = _features(spark, _rows() + later_rows, _rights_holders(spark, [later_brand]))
    assertDataFrameEqual(after.where("consignment_id != 'NEXT'"), before)
    # The next day's consignment does see it: the brand would have counted had it been known
    nxt = after.where("consignment_id = 'NEXT'").collect()[0]
    assert (nxt["n_items_brand_named"], nxt["n_items_under_genuine"]) == (1, 1)


def test_product_terms_file_is_well_formed(spark):
    rows = _product_terms(spark).collect()
    terms = [r["term"] for r in rows]
    assert len(terms) == len(set(terms)) and len(terms) > 100
    assert all(r["hs_prefixes"] and all(p.strip().isdigit() for p in r["hs_prefixes"].split(";")) for r in rows)
