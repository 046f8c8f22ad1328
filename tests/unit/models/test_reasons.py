import pytest
import yaml
from pyspark.sql import types as T

from models.profiles import DETAIL_COLUMNS, parse_profiles, profile_columns
from models.reasons import add_reasons, check_templates
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
    got = {r.consignment_id: r.reasons for r in add_reasons(frame, profiles, TEMPLATES, MEANINGS).collect()}

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


def test_shipped_templates_only_use_known_columns():
    raw = yaml.safe_load((conf_root() / "base" / "reasons.yaml").read_text(encoding="utf-8"))
    check_templates(raw, [*profile_columns(), *DETAIL_COLUMNS, "score", "score_adjusted"])
    assert "value_to_genuine_ratio" in raw["features"] and raw["max_reasons"] == 3
