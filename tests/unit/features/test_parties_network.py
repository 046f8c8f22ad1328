"""Persistent-party features (issue 17 item 2) on a hand-built history, every value worked out by hand.

The target T is lodged on D = 2026-09-01 by exporter EO through forwarder F, declarant B, consignee C.
Prior 0.1, strength 10, a new exporter is first seen at most 30 days before D, half-life 30 days.

History (consignment, lodged, exporter, consignee, forwarder, declarant; outcome known on):
  A1  D-200  EO C  F B    SEIZED D-198   (outside 90 days: in 365-day and decayed sums only)
  X1  D-150  EX C  F B    SEIZED D-148   (EX is F's counterpart only long ago)
  G1  D-60   EO C2 G B2   SEIZED D-58    (EO caught through another forwarder: a two-hop seizure)
  A2  D-50   EO C  F B    CLEAN  D-45
  A3  D-40   EO C  F B    SEIZED D-38
  X2  D-30   EX C2 G B2   SEIZED D-28    (recent, but EX is not a recent counterpart of F, B, C)
  A4  D-20   EO C  F B    (no outcome)
  N1  D-10   EN C3 F B    CLEAN  D-5     (EN first seen D-10: a new front exporter)
  G2  D-8    EN C2 G B2   SEIZED D-3
"""
from __future__ import annotations

import pytest
from party_history import PARAMS, outcomes
from test_parties import consignments

from features.parties import FEATURES, PERSISTENT_ROLES, build_party_daily
from features.party_lookback import build_party_features

HISTORY = [  # (id, offset, exporter, consignor, consignee, forwarder, declarant, destination)
    ("A1", -200, "EO", "SO", "C", "F", "B", "US"),
    ("X1", -150, "EX", "SX", "C", "F", "B", "US"),
    ("G1", -60, "EO", "SO", "C2", "G", "B2", "US"),
    ("A2", -50, "EO", "SO", "C", "F", "B", "US"),
    ("A3", -40, "EO", "SO", "C", "F", "B", "US"),
    ("X2", -30, "EX", "SX", "C2", "G", "B2", "US"),
    ("A4", -20, "EO", "SO", "C", "F", "B", "US"),
    ("N1", -10, "EN", "SN", "C3", "F", "B", "US"),
    ("G2", -8, "EN", "SN", "C2", "G", "B2", "US"),
]
OUTCOMES = [("A1", -198, "SEIZED"), ("X1", -148, "SEIZED"), ("G1", -58, "SEIZED"), ("A2", -45, "CLEAN"),
            ("A3", -38, "SEIZED"), ("X2", -28, "SEIZED"), ("N1", -5, "CLEAN"), ("G2", -3, "SEIZED")]
TARGETS = [("T", 0, "EO", "SO", "C", "F", "B", "US"), ("LONE", 0, "EZ", "SZ", "CZ", None, None, "US")]


def decayed(*ages: int) -> float:
    return sum(0.5 ** (age / 30) for age in ages)


def features_of(spark, history, outcome_rows):
    daily = build_party_daily(consignments(spark, history), outcomes(spark, outcome_rows))
    result = build_party_features(consignments(spark, TARGETS), daily, PARAMS)
    return {r.consignment_id: r.asDict() for r in result.collect()}


@pytest.fixture(scope="module")
def feats(spark):
    return features_of(spark, HISTORY, OUTCOMES)


def test_only_the_persistent_roles_get_the_network_features(feats):
    names = {f.name for f in FEATURES}
    for role in ("forwarder", "declarant", "consignee"):
        assert f"{role}_seizure_rate_decayed" in names and f"{role}_counterpart_seizures_90d" in names
    assert PERSISTENT_ROLES == ("forwarder", "declarant", "consignee")
    assert not any(n.startswith(("exporter_", "consignor_")) and n.endswith("_decayed") for n in names)
    assert "exporter_seizure_rate_90d" not in feats["T"]


def test_forwarder_recent_and_decayed_rates(feats):
    t = feats["T"]
    # 90 days: A2 (D-45, clean), A3 (D-38, seized), N1 (D-5, clean) -> (1 + 1) / (3 + 10).
    assert t["forwarder_seizure_rate_90d"] == pytest.approx(2 / 13)
    # 365 days adds A1 and X1, both seized: (3 + 1) / (5 + 10).
    assert t["forwarder_seizure_rate_365d"] == pytest.approx(4 / 15)
    seized, inspected = decayed(198, 148, 38), decayed(198, 148, 45, 38, 5)
    assert t["forwarder_seizures_decayed"] == pytest.approx(seized)
    assert t["forwarder_inspections_decayed"] == pytest.approx(inspected)
    assert t["forwarder_seizure_rate_decayed"] == pytest.approx((seized + 1) / (inspected + 10))


def test_forwarder_new_exporters_by_consignment(feats):
    t = feats["T"]
    # Exporters in 90 days: EO (first seen D-200) and EN (D-10, new): half of the exporters ...
    assert t["forwarder_new_exporter_share_90d"] == pytest.approx(0.5)
    # ... but one consignment (N1) of four (A2, A3, A4, N1).
    assert t["forwarder_new_exporter_consignment_share_90d"] == pytest.approx(1 / 4)


def test_counterpart_seizures_two_hops(feats):
    t = feats["T"]
    # 365 days: EO A1, G1, A3 (3) + EX X1, X2 (2) + EN G2 (1).
    assert t["forwarder_counterpart_seizures_365d"] == 6
    # Recent counterparts EO and EN (EX last dealt with at D-150); their 90-day seizures:
    # EO G1 (through forwarder G) and A3, EN G2 (through G) -> 3; EX's X2 does not count.
    assert t["forwarder_counterpart_seizures_90d"] == 3


def test_declarant_mirrors_forwarder_and_consignee_differs(feats):
    t = feats["T"]
    suffixes = ("seizure_rate_90d", "new_exporter_share_90d", "new_exporter_consignment_share_90d",
                "counterpart_seizures_90d", "seizures_decayed", "inspections_decayed", "seizure_rate_decayed")
    # B is on exactly F's consignments (decayed sums may add in another order: equal to rounding).
    for suffix in suffixes:
        assert t[f"declarant_{suffix}"] == pytest.approx(t[f"forwarder_{suffix}"], rel=1e-12), suffix
    # C is on A1, X1, A2, A3, A4 (N1 went to C3): no new exporter, 90 days A2 clean + A3 seized.
    assert t["consignee_new_exporter_share_90d"] == 0.0
    assert t["consignee_new_exporter_consignment_share_90d"] == 0.0
    assert t["consignee_seizure_rate_90d"] == pytest.approx((1 + 1) / (2 + 10))
    assert t["consignee_counterpart_seizures_90d"] == 2  # EO's G1 and A3
    assert t["consignee_inspections_decayed"] == pytest.approx(decayed(198, 148, 45, 38))


def test_no_history_and_no_party(feats):
    lone = feats["LONE"]
    # CZ never seen: the prior for every rate, no share, zero sums; no forwarder / declarant named: the same.
    for role in PERSISTENT_ROLES:
        assert lone[f"{role}_seizure_rate_90d"] == pytest.approx(0.1)
        assert lone[f"{role}_seizure_rate_decayed"] == pytest.approx(0.1)
        assert lone[f"{role}_new_exporter_consignment_share_90d"] is None
        assert lone[f"{role}_counterpart_seizures_90d"] == 0
        assert lone[f"{role}_seizures_decayed"] == 0.0


def test_later_data_leaves_day_d_unchanged(spark, feats):
    later = [
        ("L0", 0, "EN", "SN", "C", "F", "B", "US"),  # lodged on D itself by the parties of T
        ("L1", 2, "EO", "SO", "C", "F", "B", "US"),  # lodged after D
    ]
    # Seizures known on D or later, of consignments lodged before and after D, incl. two-hop ones.
    later_outcomes = [("A4", 0, "SEIZED"), ("L0", 0, "SEIZED"), ("L1", 3, "SEIZED")]
    later_two_hop = [("G3", 0, "EO", "SO", "C2", "G", "B2", "US")]
    after = features_of(spark, HISTORY + later + later_two_hop, OUTCOMES + later_outcomes + [("G3", 1, "SEIZED")])
    assert after.keys() == feats.keys()
    for cid, row in feats.items():
        # Decayed sums are floating-point sums whose order depends on partitioning: equal to rounding.
        # A leak would add at least one event of weight 0.5 ** (0 / 30) = 1.
        for name, value in row.items():
            expected = pytest.approx(value, rel=1e-12) if isinstance(value, float) else value
            assert after[cid][name] == expected, (cid, name)
