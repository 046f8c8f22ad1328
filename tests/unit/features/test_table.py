"""The assembled feature table: one row per consignment, every registered feature, defaults filled."""
from consignment_frames import consignments, contract_frame, countries, hs_groups, ports, rights_holders

from features.items import PRODUCT_TERMS_SCHEMA
from features.registry import all_features
from features.table import KEY_COLUMNS, build_daily_aggregates, build_feature_table, table_schema

PARAMS = {
    "route_lookback_days": 90, "route_recent_days": 7, "unit_value_lookback_days": 90, "unit_value_min_history": 5,
    "unit_value_bucket_width": 0.02,
    "small_parcel_modes": ["POST", "EXPRESS"], "small_parcel_max_packages": 3, "brand_min_term_length": 3,
    "brand_fuzzy_min_length": 5, "brand_fuzzy_long_length": 8,
    "brand_min_han_term_length": 2, "brand_max_han_term_length": 6, "item_undervalued_ratio": 1.0, "vague_words": ["goods"], "min_kg_per_package": 0.01,
}


def test_feature_table_has_every_feature_once_per_consignment(spark, settings):
    from features.parties import PartyParams, build_party_daily

    c = consignments(spark, [
        {"consignment_id": "A", "route_ports": ["SGSIN"], "destination_country": "ZZ"},  # unknown country
        {"consignment_id": "B", "transport_mode": None, "port_of_loading": "XXQQQ"},  # unknown mode and port
        # Two items: an LV bag at 100 HKD a piece (LV's genuine minimum is 5000) and sneakers under bags
        {"consignment_id": "C", "n_items": 2, "items": [
            ("DEC1", 1, "420221", "leather handbag", "LV", 1000.0, 10.0, "COUNT"),
            ("DEC1", 2, "420221", "Vuitton sneakers", None, 50.0, 1.0, "COUNT")]},
    ])
    terms = spark.createDataFrame([("sneakers", "64", "en")], PRODUCT_TERMS_SCHEMA)
    reference = {"countries": countries(spark), "ports": ports(spark), "hs_groups": hs_groups(spark),
                 "product_terms": terms}
    history = build_daily_aggregates(c, reference, PARAMS)
    history["party_daily"] = build_party_daily(c, contract_frame(spark, "outcomes", []))
    inputs = {"rights_holders": rights_holders(spark), "intelligence": contract_frame(spark, "intelligence", [])}
    table = build_feature_table(c, inputs, reference, history, PARAMS, PartyParams.from_conf(settings["parties"]))
    names = [f.name for f in all_features()]
    assert table.columns == [*KEY_COLUMNS, *names]
    assert table.schema == table_schema() or [f.dataType for f in table.schema] == [f.dataType for f in table_schema()]
    collected = table.collect()
    rows = {r["consignment_id"]: r for r in collected}
    assert sorted(rows) == ["A", "B", "C"]
    for feature in all_features():
        if not feature.nullable:
            assert all(r[feature.name] is not None for r in rows.values()), feature.name
    assert rows["A"]["dest_region"] == "OTHER" and rows["A"]["first_hub"] == "SGSIN"
    assert rows["B"]["transport_mode"] == "UNKNOWN" and rows["B"]["detour_ratio"] is None
    # The item family: C's second item names Vuitton in its description, under-valued, declared as bags
    c = rows["C"]
    assert (c["n_items_brand_named"], c["n_items_under_genuine"], c["n_items_hs_mismatch"]) == (1, 1, 1)
    assert c["n_suspicious_items"] == 1 and c["share_suspicious_items"] == 0.5
    assert rows["A"]["n_items_brand_named"] == 0 and rows["A"]["items_min_value_to_genuine_ratio"] is None
    # history includes the lodging day itself, which a consignment must not see
    assert rows["A"]["route_count_90d"] == 0 and rows["A"]["hs6_count_90d"] == 0
    # The registry-derived expectation suite passes on a well-formed table
    from features.table import expectation_suite
    from pipelines.validation.expectations import run_suites

    # On the collected rows: each expectation is a Spark job, and over the lazy table each would
    # rebuild every feature family.
    materialised = table.sparkSession.createDataFrame(collected, table.schema)
    outcomes = run_suites({"features": materialised}, {"features": expectation_suite()}, "SUMMARY")["features"]
    assert outcomes and all(o.success for o in outcomes), [o for o in outcomes if not o.success]


def test_expectation_suite_covers_every_non_nullable_feature():
    from features.table import expectation_suite

    not_null = {e["kwargs"]["column"] for e in expectation_suite() if e["type"].endswith("not_be_null")}
    assert {f.name for f in all_features() if not f.nullable} | set(KEY_COLUMNS) == not_null
    flags = {e["kwargs"]["column"] for e in expectation_suite() if e["kwargs"].get("value_set") == [0, 1]}
    assert flags == {f.name for f in all_features() if f.kind == "flag"}


def test_assembly_is_a_chain_of_left_joins(spark):
    from features.table import assemble_by_consignment

    keys = spark.createDataFrame([("A", "HKHKG"), ("B", "HKHKG"), ("C", "MOMFM")], "consignment_id string, customs_office string")
    route = spark.createDataFrame([("A", 2, "SGSIN"), ("C", 0, None), ("Z", 9, "AEJEA")],
                                  "consignment_id string, n_transit_hubs long, first_hub string")
    party = spark.createDataFrame([("B", 1.5), ("C", None)], "consignment_id string, exporter_seizure_rate double")
    joined = keys.join(route, "consignment_id", "left").join(party, "consignment_id", "left")
    assembled = assemble_by_consignment(keys, [route, party])
    assert assembled.columns == joined.columns
    assert assembled.schema == joined.schema
    assert sorted(assembled.collect()) == sorted(joined.collect())  # Z is in no key: not kept


def test_assembly_refuses_a_column_two_families_define(spark):
    import pytest

    from features.table import assemble_by_consignment

    keys = spark.createDataFrame([("A",)], "consignment_id string")
    one = spark.createDataFrame([("A", 1)], "consignment_id string, n long")
    with pytest.raises(ValueError, match=r"repeats column\(s\) \['n'\]"):
        assemble_by_consignment(keys, [one, one])
