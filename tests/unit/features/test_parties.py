"""Party-history features on a small hand-built history, every value worked out by hand.

The target day is D = 2026-09-01. Days before it (2026 is not a leap year):
D-1 = 2026-08-31, D-12 = 08-20, D-29 = 08-03, D-30 = 08-02, D-31 = 08-01,
D-90 = 06-03, D-363 = 2025-09-03, D-364 = 2025-09-02, D-365 = 2025-09-01, D-366 = 2025-08-31.

History (consignment, lodged, exporter, consignor, consignee, forwarder, declarant, destination):
  H0  D-366  E1 S1 C1 F1 B1 GB   lodged before every window ...
  H1  D-365  E1 S1 C1 F1 B1 US   ... this one is on the 365-day edge, inside
  H3  D-31   E1 S1 C1 -  B1 US   just outside the 30-day window
  H2  D-30   E1 S1 C2 F1 B1 DE   on the 30-day edge, inside
  H7  D-12   E4 S4 C3 F1 B1 US
  H4  D-1    E2 S2 C1 F1 -  FR
Outcomes (filed by inspected_on, not by lodging day):
  H0 CLEAN  D-364   (lodged outside the 365-day window, known inside it: counts)
  H1 SEIZED D-363
  H3 SEIZED D-29    (lodged D-31, known D-29: a 30-day seizure)
  H4 CLEAN  D-1
  H2 SEIZED D       (known on D itself: NOT seen by a consignment lodged on D)
Smoothing: prior 0.1, strength 10.
"""
from __future__ import annotations

import pytest
from party_history import HISTORY, OUTCOMES, PARAMS, day, outcomes
from pyspark.sql import Row
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from features.parties import FEATURES, PARTY_ROLES, build_party_daily
from features.party_lookback import build_party_features
from features.registry import FeatureDef

CONSIGNMENT_SCHEMA = T.StructType(
    [T.StructField("consignment_id", T.StringType()), T.StructField("lodged_date", T.DateType())]
    + [T.StructField(c, T.StringType()) for c in (*PARTY_ROLES.values(), "destination_country")]
)


# T1 names the busy parties; T2 only unknown ones and no forwarder / declarant; T3 an exporter first seen D-1.
TARGETS = [
    ("T1", 0, "E1", "S1", "C1", "F1", "B1", "US"),
    ("T2", 0, "E3", "S3", "C9", None, None, "US"),
    ("T3", 0, "E2", "S9", "C8", None, "B9", "US"),
]


def consignments(spark, rows):
    # Columns in PARTY_ROLES order: exporter, consignor, consignee, forwarder, declarant.
    data = [(cid, day(off), exp, cnor, cnee, fwd, decl, dest) for cid, off, exp, cnor, cnee, fwd, decl, dest in rows]
    return spark.createDataFrame(data, CONSIGNMENT_SCHEMA)


def features_of(spark, history, outcome_rows, targets=TARGETS):
    daily = build_party_daily(consignments(spark, history), outcomes(spark, outcome_rows))
    result = build_party_features(consignments(spark, targets), daily, PARAMS)
    return {r.consignment_id: r.asDict() for r in result.collect()}


@pytest.fixture(scope="module")
def feats(spark):
    return features_of(spark, HISTORY, OUTCOMES)


def test_columns_follow_the_registry(spark, feats):
    assert list(feats["T1"]) == ["consignment_id"] + [f.name for f in FEATURES]
    assert all(f.family == "party" and isinstance(f, FeatureDef) for f in FEATURES)
    assert len({f.name for f in FEATURES}) == len(FEATURES)


def test_exporter_history(feats):
    e1 = feats["T1"]
    assert e1["exporter_days_since_first_seen"] == 365  # H1 at D-365; H0 (D-366) is beyond the look-back
    assert (e1["exporter_shipments_30d"], e1["exporter_shipments_90d"], e1["exporter_shipments_365d"]) == (1, 2, 3)
    # 30d: H2 (D-30, edge); 90d: + H3 (D-31); 365d: + H1 (D-365, edge); H0 at D-366 never.
    assert e1["exporter_distinct_destinations_365d"] == 2  # US (H1, H3), DE (H2)
    assert e1["exporter_distinct_counterparts_365d"] == 2  # consignees C1 (H1, H3), C2 (H2)
    # Inspections known in the window: H0 D-364, H1 D-363, H3 D-29; H2's seizure on D is not yet known.
    assert (e1["exporter_inspections_90d"], e1["exporter_inspections_365d"]) == (1, 3)
    assert (e1["exporter_seizures_30d"], e1["exporter_seizures_90d"], e1["exporter_seizures_365d"]) == (1, 1, 2)
    assert e1["exporter_seizure_rate_365d"] == pytest.approx((2 + 0.1 * 10) / (3 + 10))  # 3/13
    # Consignees C1 (seizures H1, H3 = 2) and C2 (H2 seized on D: not yet) -> 2.
    assert e1["exporter_counterpart_seizures_365d"] == 2


def test_consignee_history_and_new_exporter_share(feats):
    c1 = feats["T1"]
    assert c1["consignee_days_since_first_seen"] == 365
    # H1 (D-365), H3 (D-31), H4 (D-1): 30d = H4, 90d = H3 + H4, 365d = all three.
    assert (c1["consignee_shipments_30d"], c1["consignee_shipments_90d"], c1["consignee_shipments_365d"]) == (1, 2, 3)
    assert c1["consignee_distinct_destinations_365d"] == 2  # US, FR
    assert c1["consignee_distinct_counterparts_365d"] == 2  # exporters E1, E2
    # Inspections H0 (D-364), H1 (D-363), H3 (D-29), H4 (D-1): 90d = 2, 365d = 4; seizures H1, H3.
    assert (c1["consignee_inspections_90d"], c1["consignee_inspections_365d"]) == (2, 4)
    assert (c1["consignee_seizures_30d"], c1["consignee_seizures_90d"], c1["consignee_seizures_365d"]) == (1, 1, 2)
    assert c1["consignee_seizure_rate_365d"] == pytest.approx((2 + 1.0) / (4 + 10))  # 3/14
    assert c1["consignee_counterpart_seizures_365d"] == 2  # E1: 2 (H1, H3), E2: 0 (H4 clean)
    # Exporters in [D-90, D-1]: E1 (first seen D-365: old) and E2 (first seen D-1: new) -> 1/2.
    assert c1["consignee_new_exporter_share_90d"] == pytest.approx(0.5)


def test_forwarder_and_declarant_history(feats):
    t1 = feats["T1"]
    # F1 on H0 (out), H1 (D-365), H2 (D-30), H7 (D-12), H4 (D-1).
    assert (t1["forwarder_shipments_30d"], t1["forwarder_shipments_90d"], t1["forwarder_shipments_365d"]) == (3, 3, 4)
    assert t1["forwarder_distinct_destinations_365d"] == 3  # US, DE, FR
    assert t1["forwarder_distinct_counterparts_365d"] == 3  # E1, E4, E2
    # Inspections H0 (D-364), H1 (D-363, seized), H4 (D-1): 1 in 90d, 3 in 365d; 1 seizure.
    assert (t1["forwarder_inspections_90d"], t1["forwarder_inspections_365d"]) == (1, 3)
    assert (t1["forwarder_seizures_30d"], t1["forwarder_seizures_365d"]) == (0, 1)
    assert t1["forwarder_seizure_rate_365d"] == pytest.approx((1 + 1.0) / (3 + 10))  # 2/13
    # Exporters in 90 days: E1 (old), E4 (first seen D-12), E2 (D-1) -> 2/3 new.
    assert t1["forwarder_new_exporter_share_90d"] == pytest.approx(2 / 3)
    assert t1["forwarder_counterpart_seizures_365d"] == 2  # E1 2, E4 0, E2 0
    # B1 on H1, H3, H2, H7 (H0 out, H4 has no declarant): 30d = H2, H7; 90d = + H3.
    assert (t1["declarant_shipments_30d"], t1["declarant_shipments_90d"], t1["declarant_shipments_365d"]) == (2, 3, 4)
    assert t1["declarant_distinct_counterparts_365d"] == 2  # E1, E4
    assert (t1["declarant_inspections_365d"], t1["declarant_seizures_365d"]) == (3, 2)  # H0, H1, H3
    assert (t1["declarant_inspections_90d"], t1["declarant_seizures_30d"], t1["declarant_seizures_90d"]) == (1, 1, 1)
    assert t1["declarant_distinct_destinations_365d"] == 2  # US (H1, H3, H7), DE (H2)
    assert t1["declarant_seizure_rate_365d"] == pytest.approx((2 + 1.0) / (3 + 10))  # 3/13
    assert t1["declarant_counterpart_seizures_365d"] == 2  # E1 2, E4 0
    # Both first seen on H1 at D-365; H0 (D-366) is beyond the look-back.
    assert (t1["forwarder_days_since_first_seen"], t1["declarant_days_since_first_seen"]) == (365, 365)
    assert t1["forwarder_seizures_90d"] == 0


def test_consignor_mirrors_its_exporter(feats):
    t1 = feats["T1"]
    # S1 ships exactly the consignments of E1, with consignees C1 and C2 as counterparts.
    exporter_features = [f.name for f in FEATURES if f.name.startswith("exporter_")]
    assert len(exporter_features) == 13
    for name in exporter_features:
        assert t1[name.replace("exporter_", "consignor_")] == t1[name], name


def test_unknown_and_missing_parties(feats):
    t2, t3 = feats["T2"], feats["T3"]
    assert t2["exporter_days_since_first_seen"] == 0  # first seen on the day of lodging
    assert t2["exporter_shipments_365d"] == 0 and t2["exporter_inspections_365d"] == 0
    assert t2["exporter_seizure_rate_365d"] == pytest.approx(0.1)  # the prior: (0 + 1) / (0 + 10)
    assert t2["forwarder_days_since_first_seen"] is None  # no forwarder named
    assert t2["forwarder_shipments_30d"] == 0 and t2["forwarder_new_exporter_share_90d"] is None
    assert t2["consignee_new_exporter_share_90d"] is None  # C9 has no exporters yet
    assert t2["exporter_counterpart_seizures_365d"] == 0
    assert t3["exporter_days_since_first_seen"] == 1  # E2 first seen D-1 (H4)
    assert t3["exporter_shipments_30d"] == 1 and t3["exporter_inspections_90d"] == 1  # H4, clean on D-1


def test_later_data_leaves_day_d_unchanged(spark, feats):
    later = [
        ("H5", 0, "E1", "S1", "C1", "F1", "B1", "CN"),  # lodged on D itself
        ("H6", 1, "E1", "S1", "C3", "F2", "B1", "JP"),  # lodged after D
    ]
    later_outcomes = [("H7", 0, "SEIZED"), ("H5", 2, "SEIZED"), ("H6", 3, "CLEAN")]
    assert features_of(spark, HISTORY + later, OUTCOMES + later_outcomes) == feats


def test_window_edges(spark):
    # Shipments of X at D-366, D-365, D-91, D-90, D-31, D-30, D-1 and D; each window is [D-w, D-1].
    rows = [(f"X{n}", -n, "X", "S", "C", None, None, "US") for n in (366, 365, 91, 90, 31, 30, 1, 0)]
    # Seizures known on the same days.
    seized = [(f"X{n}", -n, "SEIZED") for n in (366, 365, 91, 90, 31, 30, 1, 0)]
    f = features_of(spark, rows, seized, targets=[("T", 0, "X", "S", "C", None, None, "US")])["T"]
    assert (f["exporter_shipments_30d"], f["exporter_shipments_90d"], f["exporter_shipments_365d"]) == (2, 4, 6)
    assert (f["exporter_seizures_30d"], f["exporter_seizures_90d"], f["exporter_seizures_365d"]) == (2, 4, 6)
    assert (f["exporter_inspections_90d"], f["exporter_inspections_365d"]) == (4, 6)
    assert f["exporter_days_since_first_seen"] == 365


def test_party_daily_files_events_by_the_day_they_became_known(spark):
    daily = build_party_daily(consignments(spark, HISTORY), outcomes(spark, OUTCOMES))
    e1_totals = daily.where("role = 'exporter' AND party_id = 'E1' AND item = 'TOTAL'")
    expected = [
        Row(day=day(-366), shipments=1, inspections=0, seizures=0),  # H0 lodged
        Row(day=day(-365), shipments=1, inspections=0, seizures=0),  # H1 lodged
        Row(day=day(-364), shipments=0, inspections=1, seizures=0),  # H0 inspected, clean
        Row(day=day(-363), shipments=0, inspections=1, seizures=1),  # H1 seized
        Row(day=day(-31), shipments=1, inspections=0, seizures=0),  # H3 lodged
        Row(day=day(-30), shipments=1, inspections=0, seizures=0),  # H2 lodged
        Row(day=day(-29), shipments=0, inspections=1, seizures=1),  # H3 seized
        Row(day=day(0), shipments=0, inspections=1, seizures=1),  # H2 seized on D
    ]
    assertDataFrameEqual(e1_totals.select("day", "shipments", "inspections", "seizures"), expected)
    # Per-day distinct values: one row per (day, counterpart), e.g. forwarder F1's exporters.
    f1_pairs = daily.where("role = 'forwarder' AND party_id = 'F1' AND item = 'COUNTERPART'")
    assert sorted((r.day, r.item_id) for r in f1_pairs.collect()) == [
        (day(-366), "E1"), (day(-365), "E1"), (day(-30), "E1"), (day(-12), "E4"), (day(-1), "E2")]
