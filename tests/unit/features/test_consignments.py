"""build_consignments: items aggregated up, fx point in time, safe manifest join."""
import datetime as dt

from consignment_frames import DECLARATION_DEFAULTS, MANIFEST_DEFAULTS, D, contract_frame, units

from features.consignments import build_consignments


def _inputs(spark):
    manifests = contract_frame(spark, "manifests", [
        {"consignment_id": "C1", "route_ports": " SGSIN;lkcmb ;", "consignee_country": "de"},
        {"consignment_id": "C2"},
        {"consignment_id": "C_NO_ITEMS"},
    ], MANIFEST_DEFAULTS)
    declarations = contract_frame(spark, "declarations", [
        # C1 item 1: USD 100 at the 2026-09-01 rate 7.8 (the 09-10 rate is later than lodging) = 780 HKD
        {"consignment_id": "C1", "declaration_id": "A", "item_no": 1, "currency": "usd", "declared_value": 100.0,
         "brand": " Gucci ", "customs_office": "LMC", "lodged_at": dt.datetime(2026, 9, 5, 3, 0)},
        # C1 item 2: HKD 2000, the highest value, so it gives main_hs_code and the description
        {"consignment_id": "C1", "declaration_id": "A", "item_no": 2, "hs_code": "910211", "declared_value": 2000.0,
         "goods_description": "watch", "declaration_type": "REEXPORT", "customs_office": "KTT", "quantity": 4.0,
         "net_weight_kg": 3.0, "lodged_at": dt.datetime(2026, 9, 5, 1, 0), "brand": ""},
        # C2: EUR 10 with no fx row -> configured fallback 8.5 -> 85 HKD
        {"consignment_id": "C2", "declaration_id": "B", "currency": "EUR", "declared_value": 10.0},
        {"consignment_id": "C_ORPHAN", "declaration_id": "Z"},
    ], DECLARATION_DEFAULTS)
    fx = contract_frame(spark, "fx_rates", [
        {"currency": "USD", "rate_date": D(2026, 9, 1), "hkd_per_unit": 7.8},
        {"currency": "USD", "rate_date": D(2026, 9, 10), "hkd_per_unit": 9.9},
    ])
    return manifests, declarations, fx


def test_one_row_per_consignment_with_items_aggregated(spark):
    manifests, declarations, fx = _inputs(spark)
    consignments = build_consignments(manifests, declarations, fx, {"EUR": 8.5}, units=units(spark))
    out = {r["consignment_id"]: r for r in consignments.collect()}
    assert sorted(out) == ["C1", "C2"]  # no manifest-only or declaration-only consignment
    c1 = out["C1"]
    assert c1["n_items"] == 2
    assert c1["total_value_hkd"] == 780.0 + 2000.0
    assert c1["main_hs_code"] == "910211" and c1["main_goods_description"] == "watch"
    assert c1["main_value_hkd"] == 2000.0 and c1["main_quantity"] == 4.0
    assert (c1["main_quantity_unit"], c1["main_quantity_base"], c1["main_quantity_dimension"]) == ("PCE", 4.0, "COUNT")
    assert c1["total_quantity_base"] == 10.0 + 4.0 and c1["net_weight_kg"] == 3.0
    assert c1["hs_codes"] == ["420221", "910211"]
    assert c1["brands"] == ["Gucci"]
    # Gucci is declared on item 1 (780 HKD for 10 pieces), not on the main item
    assert [tuple(b) for b in c1["branded_items"]] == [("A", 1, "Gucci", 780.0, 10.0, "COUNT")]
    assert out["C2"]["branded_items"] == []
    # Every item is kept (sorted by declaration and item number), for the item-level family
    assert [tuple(i) for i in c1["items"]] == [
        ("A", 1, "420221", "leather handbag", "Gucci", 780.0, 10.0, "COUNT"),
        ("A", 2, "910211", "watch", None, 2000.0, 4.0, "COUNT")]
    assert c1["customs_office"] == "LMC"  # of item 1
    assert c1["lodged_at"] == dt.datetime(2026, 9, 5, 1, 0)  # earliest item
    assert c1["lodged_date"] == D(2026, 9, 5)
    assert c1["declaration_type"] == "REEXPORT"
    assert c1["route_ports"] == ["SGSIN", "LKCMB"]
    assert c1["consignee_country"] == "DE"
    assert out["C2"]["total_value_hkd"] == 85.0
    assert out["C2"]["declaration_type"] == "EXPORT" and out["C2"]["route_ports"] == []


def test_unknown_currency_without_fallback_gives_null_value(spark):
    manifests, declarations, fx = _inputs(spark)
    out = {r["consignment_id"]: r for r in build_consignments(manifests, declarations, fx, units=units(spark)).collect()}
    assert out["C2"]["total_value_hkd"] is None
    assert out["C1"]["total_value_hkd"] == 2780.0


def test_quantities_in_units_of_sale(spark):
    manifests = contract_frame(spark, "manifests", [{"consignment_id": c} for c in ("DOZ", "MIXED", "BOXES")],
                               MANIFEST_DEFAULTS)
    declarations = contract_frame(spark, "declarations", [
        # 2 dozen and 6 pairs, declared in lower case with blanks: 24 + 6 units of sale
        {"consignment_id": "DOZ", "declaration_id": "D", "item_no": 1, "quantity": 2.0, "quantity_unit": " dzn "},
        {"consignment_id": "DOZ", "declaration_id": "D", "item_no": 2, "quantity": 6.0, "quantity_unit": "PR",
         "declared_value": 10.0},
        # pieces and kilograms do not add up: no total
        {"consignment_id": "MIXED", "declaration_id": "M", "item_no": 1, "quantity": 3.0},
        {"consignment_id": "MIXED", "declaration_id": "M", "item_no": 2, "quantity": 50.0, "quantity_unit": "KGM",
         "declared_value": 5000.0},
        {"consignment_id": "BOXES", "declaration_id": "B", "quantity": 5.0, "quantity_unit": "CT"},
    ], DECLARATION_DEFAULTS)
    out = {r["consignment_id"]: r for r in build_consignments(manifests, declarations, None, units=units(spark)).collect()}
    doz, mixed, boxes = out["DOZ"], out["MIXED"], out["BOXES"]
    assert (doz["main_quantity"], doz["main_quantity_unit"], doz["main_quantity_base"]) == (2.0, "DZN", 24.0)
    assert doz["total_quantity_base"] == 30.0
    assert (mixed["main_quantity_unit"], mixed["main_quantity_base"], mixed["main_quantity_dimension"]) == (
        "KGM", 50.0, "MASS")
    assert mixed["total_quantity_base"] is None
    assert (boxes["main_quantity_base"], boxes["main_quantity_dimension"], boxes["total_quantity_base"]) == (
        None, "PACKAGE", None)
