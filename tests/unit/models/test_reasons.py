import pytest
import yaml
from pyspark.sql import types as T

from models.profiles import DETAIL_COLUMNS, parse_profiles, profile_columns
from models.reasons import (
    add_reasons,
    category_key,
    category_scores,
    check_templates,
    feature_templates,
    fixed,
    range_text,
    reason_columns,
    text,
    typical_ranges,
)
from pipelines.errors import UserError
from pipelines.io.settings import conf_root

CONTRIBUTIONS = T.ArrayType(T.StructType([T.StructField("feature", T.StringType()), T.StructField("value", T.StringType()),
                                          T.StructField("contribution", T.DoubleType())]))
SCHEMA = T.StructType([
    T.StructField("consignment_id", T.StringType()), T.StructField("selection_basis", T.StringType()),
    T.StructField("profile_hits", T.ArrayType(T.StringType())), T.StructField("score_adjusted", T.DoubleType()),
    T.StructField("matched_brand", T.StringType()), T.StructField("unit_value_hkd", T.DoubleType()),
    T.StructField("min_genuine_unit_value_hkd", T.DoubleType()), T.StructField("route_ports", T.StringType()),
    T.StructField("destination_country", T.StringType()), T.StructField("watchlist_top_role", T.StringType()),
    T.StructField("watchlist_top_source", T.StringType()), T.StructField("watchlist_top_listed_on", T.StringType()),
    T.StructField("top_contributions", CONTRIBUTIONS),
])
TEMPLATES = {
    "basis": {"RANDOM": "chosen at random for the control sample", "MODEL": "risk score {score_adjusted:.2f}"},
    "features": {
        "value_to_genuine_ratio": "brand {matched_brand} declared at HK${unit_value_hkd:,.0f} a unit; "
                                  "genuine from HK${min_genuine_unit_value_hkd:,.0f}",
        "n_transit_hubs": "routed via {route_ports|list} to {destination_country}",
        "watchlist_any": "{watchlist_top_role|lower} on the {watchlist_top_source} watch-list since {watchlist_top_listed_on}",
    },
}
MEANINGS = {"n_transit_hubs": "transit hubs on the route", "package_count": "packages"}
PROFILE = {"name": "VIA_JEBEL_ALI", "reason": "Joint operation on Jebel Ali transshipment",
           "conditions": [{"feature": "route_ports", "contains": "AEJEA"}], "action": "raise_score", "amount": 0.1,
           "valid_from": "2026-09-01", "valid_to": "2026-09-30", "owner": "ops"}


def _row(cid, contributions, basis="MODEL", hits=(), route="AEJEA;GRPIR", role="CONSIGNEE"):
    return (cid, basis, list(hits), 0.42, "LUMORA", 12.0, 1250.0, route, "DE", role, "GD", "2026-08-01", contributions)


def _reasons(rows):
    """consignment_id -> reasons, from add_reasons' output."""
    return dict(zip(rows["consignment_id"], rows["reasons"], strict=True))


def test_reasons_from_templates_contributions_and_profiles(spark):
    brand_first = [("value_to_genuine_ratio", "0.0096", 0.8), ("package_count", "3", -0.4), ("n_transit_hubs", "2", 0.3)]
    hubs_first = [("value_to_genuine_ratio", "0.0096", 0.1), ("package_count", "3", -0.4), ("n_transit_hubs", "2", 0.9)]
    frame = spark.createDataFrame([
        _row("BRAND", brand_first),
        _row("HUBS", hubs_first),  # same consignment, the contribution behind the hubs grew
        _row("WATCH", [("watchlist_any", "1", 0.5)]),
        _row("NO_ROUTE", [("n_transit_hubs", "2", 0.5), ("package_count", "9", 0.2)], route=None),
        _row("THREE_PORTS", [("n_transit_hubs", "3", 0.5)], route="SGSIN;AEJEA;GRPIR"),
        _row("RANDOM", brand_first, basis="RANDOM", hits=["VIA_JEBEL_ALI"]),
        _row("NONE", None),
    ], SCHEMA)
    profiles = parse_profiles([PROFILE], {"route_ports": "string"})
    got = _reasons(add_reasons(frame.toPandas(), profiles, TEMPLATES, MEANINGS))

    assert got["BRAND"] == ["brand LUMORA declared at HK$12 a unit; genuine from HK$1,250",
                            "routed via AEJEA and GRPIR to DE", "risk score 0.42"]
    assert got["HUBS"][0] == "routed via AEJEA and GRPIR to DE"  # the top reason follows the attribution
    assert got["WATCH"][0] == "consignee on the GD watch-list since 2026-08-01"
    # A value the template needs is missing: the generic "<meaning>: <value>" instead of a blank.
    assert got["NO_ROUTE"][:2] == ["transit hubs on the route: 2", "packages: 9"]
    assert got["THREE_PORTS"][0] == "routed via SGSIN, AEJEA and GRPIR to DE"
    assert got["RANDOM"] == ["chosen at random for the control sample",
                             "Joint operation on Jebel Ali transshipment (route_ports AEJEA;GRPIR)",
                             "brand LUMORA declared at HK$12 a unit; genuine from HK$1,250"]
    assert got["NONE"] == ["risk score 0.42"]


@pytest.mark.parametrize("templates, expected", [
    ({"features": {"x": "{nope}"}}, "unknown placeholder(s) ['nope']"),
    ({"features": {"x": "{unit_value_hkd:>10}"}}, "placeholder {unit_value_hkd} is not allowed"),
    ({"features": {"x": "{unit_value_hkd!r}"}}, "is not allowed"),
    ({"features": {"x": "{route_ports|eval}"}}, "is not allowed"),
    ({"basis": {"RANDOM": "{value}"}}, "unknown placeholder(s) ['value']"),
    ({"generic": "{meaning: {value}"}, "reason template generic"),
    ({"max_reasons": 0}, "max_reasons"),
])
def test_bad_templates_fail_at_start_up(templates, expected):
    with pytest.raises(UserError) as err:
        check_templates(templates, ["unit_value_hkd", "route_ports", "score_adjusted"])
    assert expected in str(err.value)


def _shipped():
    return yaml.safe_load((conf_root() / "base" / "reasons.yaml").read_text(encoding="utf-8"))


def test_shipped_templates_only_use_known_columns_and_cover_every_model_input():
    from features.registry import model_inputs

    raw = _shipped()
    check_templates(raw, [*profile_columns(), *DETAIL_COLUMNS, "score", "score_adjusted", "total_value_hkd",
                          "consignee_country", "declarant_id"])
    assert "value_to_genuine_ratio" in raw["features"] and raw["max_reasons"] == 3
    numeric, categorical = model_inputs()
    # Every feature the model may name has its own sentence: no "<meaning>: <value>" on a real list.
    assert sorted(set(numeric + categorical) - set(feature_templates(raw))) == []
    assert feature_templates(raw)["consignee_distinct_destinations_365d"]["text"].startswith("consignee {consignee_id} ships")


@pytest.mark.parametrize("low, high, text", [(1.0, 2.0, "1-2"), (0.0, 0.0, "0"), (350.0, 2877.0, "350-2,877"),
                                             (0.126, 1.5, "0.13-1.5"), (-1.5, 0.5, "-1.5 to 0.50"),
                                             (24.97, 1578.2, "25-1,578")])
def test_range_text_prints_whole_numbers_as_whole(low, high, text):
    assert range_text(low, high) == text


SHIPPED_EXTRA = {"total_value_hkd": T.DoubleType(), "consignee_country": T.StringType(), "declarant_id": T.StringType(),
                 "selection_basis": T.StringType(), "profile_hits": T.ArrayType(T.StringType()),
                 "score_adjusted": T.DoubleType(), "top_contributions": CONTRIBUTIONS}
DETAILS = ["exporter_id", "consignee_id", "consignor_id", "forwarder_id", "port_of_loading", "port_of_discharge",
           "main_hs_code", "main_goods_description"]


def _shipped_frame(spark, rows):
    """A frame shaped like the night's explained rows: feature table + details (route_ports an array)."""
    from features.table import table_schema

    fields = [T.StructField(f.name, f.dataType) for f in table_schema().fields]
    names = {f.name for f in fields}
    fields += [T.StructField(c, T.StringType()) for c in DETAILS if c not in names]
    fields += [T.StructField("route_ports", T.ArrayType(T.StringType()))]
    fields += [T.StructField(c, t) for c, t in SHIPPED_EXTRA.items() if c not in names]
    base = {f.name: None for f in fields} | {"customs_office": "HKAIR", "selection_basis": "MODEL",
                                             "profile_hits": [], "score_adjusted": 0.61, "route_ports": []}
    return spark.createDataFrame([tuple((base | r).get(f.name) for f in fields) for r in rows], T.StructType(fields))


def test_shipped_templates_read_as_sentences_with_the_comparison(spark):
    """The demo's bad reasons ("via []", "8.0", a route used 2,877 times called rare) on the shipped templates."""
    rows = [
        {"consignment_id": "COMMON_ROUTE", "port_of_loading": "HKHKG", "port_of_discharge": "USLAX",
         "route_count_90d": 2877, "consignee_id": "Q1", "consignee_distinct_destinations_365d": 8,
         "top_contributions": [("route_rarity_90d", "0.0003", 0.9), ("consignee_distinct_destinations_365d", "8.0", 0.5),
                               ("package_count", "3.0", -0.7)]},
        {"consignment_id": "RARE_ROUTE", "port_of_loading": "HKHKG", "port_of_discharge": "NLRTM",
         "route_ports": ["AEJEA", "GRPIR"], "route_count_90d": 3, "exporter_id": "E7", "exporter_seizures_365d": 2,
         "exporter_inspections_365d": 5, "exporter_seizure_rate_365d": 0.4,
         "top_contributions": [("exporter_seizure_rate_365d", "0.4", 0.8), ("route_rarity_90d", "6.1", 0.6)]},
        {"consignment_id": "DIRECT_RARE", "port_of_loading": "HKHKG", "port_of_discharge": "USLAX", "route_count_90d": 0,
         "top_contributions": [("route_count_90d", "0.0", 0.4)]},
        {"consignment_id": "WATCHED", "watchlist_any": 1, "watchlist_top_source": "MO", "watchlist_top_role": "EXPORTER",
         "watchlist_days_since_listed": 3, "watchlist_sources": 1,
         "top_contributions": [("watchlist_any", "1.0", 0.9), ("watchlist_sources", "1.0", 0.2)]},
        {"consignment_id": "UNKNOWN_SOURCE", "watchlist_any": 1, "watchlist_top_source": "XX",
         "watchlist_top_role": "CONSIGNEE", "watchlist_days_since_listed": 0,
         "top_contributions": [("watchlist_any", "1.0", 0.9)]},
        {"consignment_id": "DIRECT_PATH", "dest_region": "NORTH_AMERICA", "last_hub": "NONE", "hub_region_count_90d": 12,
         "gross_weight_kg": 13.0, "top_contributions": [("hub_region_rarity_90d", "7.5", 0.3), ("gross_weight_kg", "13.0", 0.2)]},
        {"consignment_id": "BY_AIR", "transport_mode": "AIR", "top_contributions": [("transport_mode", "AIR", 0.3)]},
        {"consignment_id": "BY_SEA", "transport_mode": "SEA", "top_contributions": [("transport_mode", "SEA", 0.3)]},
        {"consignment_id": "FLAG_OFF", "is_vague_description": 0, "main_goods_description": "bags",
         "top_contributions": [("is_vague_description", "0.0", 0.9)]},
    ]
    context = {"typical": {"route_count_90d": (350.0, 2877.0), "consignee_distinct_destinations_365d": (1.0, 2.0),
                           "exporter_seizure_rate_365d": (0.05, 0.05), "exporter_seizures_365d": (0.0, 0.0),
                           "hub_region_count_90d": (2568.0, 4871.0), "gross_weight_kg": (24.97, 1578.2)},
               "source_names": {"MO": "Macao customs", "GD": "Guangdong customs"},
               "category_scores": {"overall": 0.012, "by": {"transport_mode": {"AIR": 0.041, "SEA": 0.005}}}}
    frame = _shipped_frame(spark, rows).toPandas()
    got = _reasons(add_reasons(frame, [], _shipped(), context=context))
    # The night brings only the columns the reasons read to the driver: the same sentences from them.
    narrow = frame[[c for c in frame.columns if c in reason_columns(_shipped(), []) | {"consignment_id"}]]
    assert "customs_office" not in narrow and "lodged_date" not in narrow
    assert _reasons(add_reasons(narrow, [], _shipped(), context=context)) == got

    # A route used 2,877 times is not rare (not below the typical range): no reason from it.
    assert got["COMMON_ROUTE"] == ["consignee Q1 ships to 8 countries; typical consignees ship to 1-2",
                                   "risk score 0.61"]
    assert got["RARE_ROUTE"] == [
        "exporter E7 had 2 seizure(s) in 5 inspection(s) over the last year; typical exporters 0",
        "rare route: HKHKG to NLRTM via AEJEA and GRPIR, used 3 times in 90 days; typical routes 350-2,877 times",
        "risk score 0.61"]
    assert got["DIRECT_RARE"][0] == ("rare route: HKHKG to USLAX direct, used 0 times in 90 days; "
                                     "typical routes 350-2,877 times")
    assert got["WATCHED"] == ["exporter listed by Macao customs 3 days ago",
                              "exporter listed by Macao customs 3 days ago (1 source(s) list a party)",
                              "risk score 0.61"]
    assert got["UNKNOWN_SOURCE"][0] == "consignee listed by XX today"  # an unnamed source keeps its code
    assert got["DIRECT_PATH"][:2] == [
        "uncommon path to region north america (direct): 12 consignments in 90 days; typical paths 2,568-4,871",
        "13 kg gross; typical consignments weigh 25-1,578 kg"]
    assert got["BY_AIR"][0] == "sent by air; such consignments average a score of 0.041 tonight against 0.012 overall"
    assert got["BY_SEA"] == ["risk score 0.61"]  # sea consignments score lower than most: no reason in "sea"
    assert got["FLAG_OFF"] == ["risk score 0.61"]  # a flag that is off is no reason, whatever SHAP says
    for reasons in got.values():
        assert not any("[]" in r or ".0 " in r or r.endswith(".0") for r in reasons), reasons


def test_typical_ranges_are_quantiles_of_the_frame(spark):
    frame = spark.createDataFrame([(float(i), None) for i in range(1, 101)], "x double, empty double")
    got = typical_ranges(frame, ["x", "empty", "absent"], [0.25, 0.75])
    assert got == {"x": (25.0, 75.0)}


def test_category_scores_are_mean_scores_per_value(spark):
    frame = spark.createDataFrame([("AIR", 0.3), ("AIR", 0.1), ("SEA", 0.02), (None, 0.06)],
                                  "transport_mode string, score_adjusted double")
    got = category_scores(frame, ["transport_mode", "absent"])
    assert got["overall"] == pytest.approx(0.12)
    assert got["by"]["transport_mode"] == pytest.approx({"AIR": 0.2, "SEA": 0.02})


def test_array_lists_profiles_and_numbers_print_plainly(spark):
    schema = T.StructType([T.StructField("consignment_id", T.StringType()),
                           T.StructField("selection_basis", T.StringType()),
                           T.StructField("profile_hits", T.ArrayType(T.StringType())),
                           T.StructField("score_adjusted", T.DoubleType()),
                           T.StructField("route_ports", T.ArrayType(T.StringType())),
                           T.StructField("n_transit_ports", T.DoubleType()),
                           T.StructField("top_contributions", CONTRIBUTIONS)])
    templates = {"features": {"n_transit_ports": "{n_transit_ports|num} port(s) {route_ports|via}"}}
    profile = parse_profiles([PROFILE | {"conditions": [{"feature": "n_transit_ports", "gte": 2}]}],
                             {"n_transit_ports": "double"})
    frame = spark.createDataFrame([
        ("DIRECT", "MODEL", [], 0.3, [], 0.0, [("n_transit_ports", "0.0", 0.2)]),
        ("TWO", "PROFILE", ["VIA_JEBEL_ALI"], 0.5, ["AEJEA", "GRPIR"], 2.0, [("n_transit_ports", "2.0", 0.2)]),
    ], schema)
    got = _reasons(add_reasons(frame.toPandas(), profile, templates, MEANINGS))
    assert got["DIRECT"] == ["0 port(s) direct", "risk score 0.30"]
    assert got["TWO"] == ["Joint operation on Jebel Ali transshipment (n_transit_ports 2)", "2 port(s) via AEJEA and GRPIR",
                          "risk score 0.50"]


@pytest.mark.parametrize("entry, expected", [
    ({"text": "x", "unusual": {"column": "nope", "side": "high"}}, "unusual must be"),
    ({"text": "x", "unusual": {"column": "unit_value_hkd", "side": "up"}}, "unusual must be"),
    ({"text": "x", "present": "nope"}, "present names unknown column"),
    ({"text": "x", "riskier": "nope"}, "riskier names unknown column"),
    ({"text": "x", "riskier": "route_ports", "present": "route_ports"}, "at most one of"),
    ({"text": "x", "when": "y"}, "unexpected: ['when']"),
    ({"text": "{unit_value_hkd|typical"}, "reason template features.x"),
])
def test_bad_conditions_fail_at_start_up(entry, expected):
    with pytest.raises(UserError) as err:
        check_templates({"features": {"x": entry}}, ["unit_value_hkd", "route_ports", "score_adjusted"])
    assert expected in str(err.value)


@pytest.mark.parametrize("x, decimals, grouping, expected", [
    (0.125, 2, False, "0.13"), (0.015, 2, False, "0.02"), (2.5, 0, False, "3"), (1249.5, 0, True, "1,250"),
    (-0.125, 2, False, "-0.13"), (1234567.891, 2, True, "1,234,567.89"), (0.0, 2, False, "0.00"),
])
def test_fixed_rounds_half_up_from_the_shortest_decimal(x, decimals, grouping, expected):
    """As Spark's format_string did ({x:.2f} on 0.015 is "0.02", where Python's own format says "0.01")."""
    assert fixed(x, decimals, grouping) == expected


def test_cells_print_as_an_inspector_reads_them():
    import datetime as dt

    import numpy as np

    assert [text(v) for v in (None, float("nan"), 8.0, 0.0096, 3, True, "SEA", dt.date(2026, 8, 1))] == [
        None, None, "8", "0.0096", "3", "true", "SEA", "2026-08-01"]
    assert text(np.array(["AEJEA", None, "GRPIR"], dtype=object)) == "AEJEA;GRPIR" and text([]) == ""
    # A count pandas holds as a float (the column had nulls) and Spark's text of a double meet.
    assert category_key(text(1.0)) == category_key("1.0") == "1" and category_key("AIR") == "AIR"
