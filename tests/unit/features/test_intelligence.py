"""Watch-list features on a hand-built watch-list; lodging day D = 2026-09-01."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import functions as F
from pyspark.sql import types as T

from features.intelligence import FEATURES, build_watchlist_features
from features.parties import PARTY_ROLES

D = dt.date(2026, 9, 1)

TARGET_SCHEMA = T.StructType(
    [T.StructField("consignment_id", T.StringType()), T.StructField("lodged_date", T.DateType())]
    + [T.StructField(c, T.StringType()) for c in PARTY_ROLES.values()]
)
WATCHLIST_SCHEMA = T.StructType([
    T.StructField("entity_type", T.StringType()), T.StructField("entity_id", T.StringType()),
    T.StructField("source", T.StringType()), T.StructField("listed_on", T.DateType()),
    T.StructField("expires_on", T.DateType()), T.StructField("note", T.StringType()),
])


def day(offset: int | None) -> dt.date | None:
    return None if offset is None else D + dt.timedelta(days=offset)


# (id, exporter, consignor, consignee, forwarder, declarant), all lodged on D.
TARGETS = [
    ("T1", "E1", "S1", "C1", "F1", None),
    ("T2", "E2", "S2", "C2", None, None),
    ("T3", "E3", "S3", "C3", "F3", "B3"),
]
# (entity_type, entity_id, source, listed_on offset, expires_on offset)
WATCHLIST = [
    ("CONSIGNEE", "C1", "GD", -31, None),  # open-ended: active
    ("CONSIGNEE", "C1", "GD", -5, 30),  # a second GD entry for C1: the same source, counted once
    ("CONSIGNEE", "C1", "HK", -10, 0),  # expires on D: still active on D
    ("FORWARDER", "F1", "INDUSTRY", 0, None),  # listed on D: active on D
    ("EXPORTER", "E1", "MO", -100, -1),  # expired the day before: inactive
    ("EXPORTER", "E2", "HK", 1, None),  # listed after D: invisible
    ("CONSIGNOR", "C1", "HK", -50, None),  # C1 listed as consignor, but T1's consignor is S1: no hit
    ("DECLARANT", "B3", "HK", -7, None),
    ("EXPORTER", "E3", "GD", -7, None),  # same listed_on as B3: the tie goes to the exporter role
]


def run(spark, watchlist=WATCHLIST):
    targets = spark.createDataFrame([(cid, D, *ids) for cid, *ids in TARGETS], TARGET_SCHEMA)
    listings = spark.createDataFrame(
        [(et, eid, src, day(lo), day(ex), None) for et, eid, src, lo, ex in watchlist], WATCHLIST_SCHEMA)
    result = build_watchlist_features(targets, listings)
    assert result.columns == ["consignment_id"] + [f.name for f in FEATURES]
    return {r.consignment_id: r.asDict() for r in result.collect()}


def test_active_hits_per_role_and_source(spark):
    t1 = run(spark)["T1"]
    assert t1["watchlist_hits_consignee"] == 2  # GD (two entries, one source) and HK
    assert t1["watchlist_hits_forwarder"] == 1  # listed on D
    assert t1["watchlist_hits_exporter"] == 0  # expired D-1
    assert t1["watchlist_hits_consignor"] == 0 and t1["watchlist_hits_declarant"] == 0
    assert t1["watchlist_any"] == 1
    assert t1["watchlist_sources"] == 3  # GD, HK, INDUSTRY
    # The earliest active listing is C1 on the GD list since D-31 = 2026-08-01.
    assert t1["watchlist_days_since_listed"] == 31
    assert (t1["watchlist_top_source"], t1["watchlist_top_role"], t1["watchlist_top_listed_on"]) == (
        "GD", "consignee", "2026-08-01")


def test_no_active_hit(spark):
    t2 = run(spark)["T2"]  # E2 is listed only from D+1
    assert [t2[f"watchlist_hits_{r}"] for r in PARTY_ROLES] == [0, 0, 0, 0, 0]
    assert (t2["watchlist_any"], t2["watchlist_sources"]) == (0, 0)
    assert t2["watchlist_days_since_listed"] is None and t2["watchlist_top_source"] is None


def test_ties_go_to_the_role_order(spark):
    t3 = run(spark)["T3"]
    assert (t3["watchlist_hits_exporter"], t3["watchlist_hits_declarant"], t3["watchlist_sources"]) == (1, 1, 2)
    assert (t3["watchlist_top_role"], t3["watchlist_top_source"], t3["watchlist_days_since_listed"]) == (
        "exporter", "GD", 7)


def test_later_listings_leave_day_d_unchanged(spark):
    later = [
        ("EXPORTER", "E1", "HK", 1, None),  # listed the day after lodging
        ("CONSIGNEE", "C2", "GD", 30, 60),
        ("FORWARDER", "F3", "MO", 2, None),
    ]
    assert run(spark, WATCHLIST + later) == run(spark)


def test_registry_entries():
    by_name = {f.name: f for f in FEATURES}
    assert all(f.family == "intelligence" for f in FEATURES)
    assert not by_name["watchlist_top_source"].model_input and by_name["watchlist_top_source"].nullable
    assert by_name["watchlist_any"].kind == "flag" and by_name["watchlist_hits_consignee"].model_input


def test_a_partner_entry_counts_from_the_day_it_was_received(spark):
    """A back-dated listed_on must not reach back in time: received after D, invisible on D."""
    schema = T.StructType([*WATCHLIST_SCHEMA.fields, T.StructField("received_on", T.DateType())])
    rows = [("EXPORTER", "E2", "MO", day(-30), None, "seized in Macao", day(2)),  # known here on D+2
            ("EXPORTER", "E3", "MO", day(-30), None, "seized in Macao", day(-3)),  # known here on D-3
            ("EXPORTER", "E1", "HK", day(-4), None, "own listing", None)]  # no received_on: listed_on
    intelligence = spark.createDataFrame(rows, schema)
    targets = spark.createDataFrame([(cid, D, *parties) for cid, *parties in TARGETS], TARGET_SCHEMA)
    got = {r.consignment_id: (r.watchlist_any, r.watchlist_days_since_listed, r.watchlist_top_listed_on)
           for r in build_watchlist_features(targets, intelligence).collect()}
    assert got == {"T1": (1, 4, "2026-08-28"), "T2": (0, None, None), "T3": (1, 3, "2026-08-29")}
    later = targets.withColumn("lodged_date", F.lit(day(2)))
    assert {r.consignment_id: r.watchlist_any for r in build_watchlist_features(later, intelligence).collect()} == \
        {"T1": 1, "T2": 1, "T3": 1}


def test_normalise_party_id(spark):
    from features.intelligence import normalise_party_id

    cases = {
        "HK-12345678": "12345678", "hk 12345678": "12345678", "HK12345678": "12345678",
        "HKG/12345678": "12345678", "12345678 (HK)": "12345678",
        "Acme Trading Co., Ltd.": "ACMETRADING", "ACME TRADING COMPANY LIMITED": "ACMETRADING",
        "ex-001.234": "EX001234", "\uff25\uff38\uff10\uff10\uff11": "EX001",  # full-width letters and digits
        "HKTV Mall": "HKTVMALL",  # HK is a prefix only before a separator or a digit
        "CO": "CO", "HK": "HK", " - ": None, "": None, None: None,
        "Bright\u3000Star Ltd": "BRIGHTSTAR",  # ideographic space
    }
    frame = spark.createDataFrame([(k,) for k in cases], "raw string")
    got = {r.raw: r.n for r in frame.select("raw", normalise_party_id(F.col("raw")).alias("n")).collect()}
    assert got == cases


NORMALISED_SCHEMA = T.StructType([*WATCHLIST_SCHEMA.fields, T.StructField("received_on", T.DateType())])


def _normalised_run(spark, rows, lodged=D):
    listings = spark.createDataFrame(rows, NORMALISED_SCHEMA)
    targets = spark.createDataFrame([(cid, lodged, *ids) for cid, *ids in TARGETS], TARGET_SCHEMA)
    return {r.consignment_id: (r.watchlist_any, r.watchlist_hits_exporter, r.watchlist_hits_normalised,
                               r.watchlist_any_normalised)
            for r in build_watchlist_features(targets, listings).collect()}


def test_normalised_matches_are_a_separate_feature(spark):
    rows = [
        ("EXPORTER", "hk-e1 Ltd.", "MO", day(-5), None, None, day(-2)),  # T1's exporter E1, written otherwise
        ("EXPORTER", "E1", "GD", day(-5), None, None, None),  # exact from GD
        ("EXPORTER", "E1 limited", "GD", day(-5), None, None, None),  # GD again: the pair is already exact
        ("CONSIGNEE", "C 2", "MO", day(-1), None, None, None),  # T2's consignee C2
        ("CONSIGNOR", "C 2", "MO", day(-1), None, None, None),  # same id, other role: no hit
        ("EXPORTER", "E-3", "MO", day(-40), day(-1), None, None),  # expired: no hit
    ]
    got = _normalised_run(spark, rows)
    assert got == {"T1": (1, 1, 1, 1), "T2": (0, 0, 1, 1), "T3": (0, 0, 0, 0)}


def test_normalised_matches_see_no_later_entry(spark):
    """A normalised match counts from the day the entry was received, like an exact one."""
    rows = [("EXPORTER", "HK E1", "MO", day(-30), None, None, day(1)),  # received after D
            ("CONSIGNEE", "c3", "MO", day(0), None, None, day(0))]  # received on D
    assert _normalised_run(spark, rows) == {"T1": (0, 0, 0, 0), "T2": (0, 0, 0, 0), "T3": (0, 0, 1, 1)}
    assert _normalised_run(spark, rows, lodged=day(1))["T1"] == (0, 0, 1, 1)
    later = rows + [("CONSIGNEE", "C-1", "GD", day(5), None, None, None)]
    assert _normalised_run(spark, later) == _normalised_run(spark, rows)
