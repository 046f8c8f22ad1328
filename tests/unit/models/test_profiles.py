import datetime as dt

import pytest
import yaml
from pyspark.sql import types as T

from models.profiles import active_profiles, apply_profiles, parse_profiles, profile_columns
from pipelines.errors import UserError
from pipelines.io.settings import conf_root

COLUMNS = {"hs_chapter": "string", "dest_region": "string", "n_transit_hubs": "integer",
           "unit_value_hkd": "double", "route_ports": "string", "exporter_id": "string"}


def _profile(**overrides):
    base = {
        "name": "JOINT_OP", "reason": "Joint operation: bags & watches to NA/EU via hub",
        "conditions": [{"feature": "hs_chapter", "in": [42, "91"]},
                       {"feature": "dest_region", "in": ["NORTH_AMERICA", "EUROPE"]},
                       {"feature": "n_transit_hubs", "gte": 1}],
        "action": "force_red", "valid_from": dt.date(2026, 9, 1), "valid_to": "2026-09-12", "owner": "ops desk",
    }
    base.update(overrides)
    return base


def test_parses_into_typed_profile_with_codes_as_text():
    (profile,) = parse_profiles([_profile()], COLUMNS)
    assert profile.valid_from == dt.date(2026, 9, 1) and profile.valid_to == dt.date(2026, 9, 12)
    assert profile.conditions[0].value == ("42", "91")  # YAML's 42 compared as the code "42"
    assert profile.conditions[2].op == "gte" and profile.conditions[2].value == 1
    assert [p.name for p in active_profiles([profile], "2026-09-12")] == ["JOINT_OP"]
    assert active_profiles([profile], "2026-09-13") == [] and active_profiles([profile], "2026-08-31") == []


@pytest.mark.parametrize("overrides, expected", [
    ({"conditions": [{"feature": "hs_chaptr", "in": ["42"]}]}, "field 'conditions[0].feature': unknown feature 'hs_chaptr'"),
    ({"conditions": [{"feature": "hs_chapter", "like": "4%"}]}, "field 'conditions[0].like': unknown operator 'like'"),
    ({"conditions": [{"feature": "hs_chapter", "gt": 40}]}, "compares numbers but the feature is text"),
    ({"conditions": [{"feature": "n_transit_hubs", "gte": "one"}]}, "the feature is numeric"),
    ({"conditions": [{"feature": "hs_chapter", "in": []}]}, "takes a non-empty list"),
    ({"conditions": [{"feature": "hs_chapter"}]}, "has no operator"),
    ({"valid_from": "2026-09-31"}, "field 'valid_from': '2026-09-31' is not a date"),
    ({"valid_from": "2026-09-13"}, "field 'valid_to': 2026-09-12 is before valid_from 2026-09-13"),
    ({"owner": ""}, "field 'owner': is missing or empty"),
    ({"owner": None}, "field 'owner': is missing or empty"),
    ({"action": "block"}, "field 'action': 'block' is not one of"),
    ({"action": "raise_score"}, "field 'amount': raise_score needs an amount"),
    ({"action": "raise_score", "amount": 1.5}, "field 'amount'"),
    ({"amount": 0.2}, "only raise_score takes an amount"),
    ({"valid_until": "2026-09-30"}, "field 'valid_until': is not a profile field"),
])
def test_invalid_profile_names_profile_and_field(overrides, expected):
    with pytest.raises(UserError) as err:
        parse_profiles([_profile(**overrides)], COLUMNS)
    assert "profile 'JOINT_OP'" in str(err.value) and expected in str(err.value)


def test_duplicate_names_refused():
    with pytest.raises(UserError, match="named twice"):
        parse_profiles([_profile(), _profile()], COLUMNS)


def test_shipped_profiles_are_valid_against_the_registry():
    raw = yaml.safe_load((conf_root() / "base" / "profiles.yaml").read_text(encoding="utf-8"))
    profiles = parse_profiles(raw["profiles"], profile_columns())
    joint = next(p for p in profiles if p.action == "force_red")
    assert (joint.valid_to - joint.valid_from).days + 1 == 12 and joint.owner


def test_apply_profiles_only_inside_validity(spark):
    schema = T.StructType([T.StructField("consignment_id", T.StringType()), T.StructField("score", T.DoubleType()),
                           T.StructField("hs_chapter", T.StringType()), T.StructField("dest_region", T.StringType()),
                           T.StructField("n_transit_hubs", T.IntegerType()), T.StructField("route_ports", T.StringType())])
    frame = spark.createDataFrame([
        ("HIT", 0.10, "42", "EUROPE", 1, "AEJEA;GRPIR"),
        ("NO_HUB", 0.10, "42", "EUROPE", 0, None),
        ("NULL_HUB", 0.95, "91", "EUROPE", None, None),
        ("ASIA", 0.10, "91", "OTHER", 2, "SGSIN"),
    ], schema)
    profiles = parse_profiles([
        _profile(),
        _profile(name="VIA_JEBEL_ALI", action="raise_score", amount=0.2, valid_to="2026-12-31",
                 conditions=[{"feature": "route_ports", "contains": "AEJEA"}]),
        _profile(name="BOOST_ALL", action="raise_score", amount=0.9, valid_to="2026-12-31",
                 conditions=[{"feature": "n_transit_hubs", "gte": 0}]),
    ], COLUMNS)

    inside = {r.consignment_id: r for r in apply_profiles(frame, profiles, "2026-09-12").collect()}
    assert {k for k, r in inside.items() if r.forced_red} == {"HIT"}
    assert inside["HIT"].profile_hits == ["JOINT_OP", "VIA_JEBEL_ALI", "BOOST_ALL"]
    assert inside["HIT"].score_adjusted == 1.0  # 0.1 + 0.2 + 0.9, capped at 1
    assert inside["NO_HUB"].score_adjusted == pytest.approx(1.0) and inside["NO_HUB"].profile_hits == ["BOOST_ALL"]
    # A null value never satisfies a condition.
    assert inside["NULL_HUB"].profile_hits == [] and inside["NULL_HUB"].score_adjusted == 0.95
    assert not any(r.excluded for r in inside.values())

    after = {r.consignment_id: r for r in apply_profiles(frame, profiles, "2026-09-13").collect()}
    assert not any(r.forced_red for r in after.values())
    assert after["HIT"].profile_hits == ["VIA_JEBEL_ALI", "BOOST_ALL"]


def test_profile_on_a_column_missing_from_the_frame_fails_clearly(spark):
    frame = spark.createDataFrame([("C1", 0.5)], "consignment_id string, score double")
    profiles = parse_profiles([_profile()], COLUMNS)
    with pytest.raises(UserError, match="JOINT_OP"):
        apply_profiles(frame, profiles, "2026-09-05")
