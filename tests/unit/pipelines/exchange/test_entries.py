"""Proposed watch-list entries and alerts from hand-built consignments and seizures."""
from __future__ import annotations

import copy
import datetime as dt

import pandas as pd
import pytest

from pipelines.errors import UserError
from pipelines.exchange.alerts import emerging_keys, render_bulletin, significant, z_statistic
from pipelines.exchange.entries import ENTRY_COLUMNS, propose_entries, seizure_facts
from pipelines.exchange.policy import load_policy

CONSIGNMENT_SCHEMA = (
    "consignment_id string, lodged_date date, exporter_id string, consignor_id string, consignee_id string, "
    "forwarder_id string, declarant_id string, destination_country string, port_of_loading string, "
    "route_ports array<string>, port_of_discharge string, hs_codes array<string>, brands array<string>")
SEIZURE_SCHEMA = "consignment_id string, inspected_on date, seized_items long, seized_value_hkd double, brands_found string"
D = dt.date(2026, 6, 1)
CONSIGNMENTS = [
    ("C1", D, "E1", "S1", "K1", None, "B1", "US", "HKHKG", [], "USLAX", ["420221", "640399"], ["Nike"]),
    ("C2", D, "E1", "S2", "K2", None, None, "NL", "CNYTN", ["AEJEA"], "NLRTM", ["420221"], ["GUCCI; =cmd|x"]),
    ("C3", D, "E9", "S9", "K9", None, None, "US", "HKHKG", [], "USLAX", ["610910"], []),  # not seized
]
SEIZURES = [("C1", dt.date(2026, 6, 10), 10, 5000.0, None), ("C2", dt.date(2026, 6, 20), 5, 900.0, "Rolex,\nnike")]


def entries(spark, settings, **exchange):
    cfg = copy.deepcopy(settings)
    cfg["exchange"].update(exchange)
    facts = seizure_facts(spark.createDataFrame(CONSIGNMENTS, CONSIGNMENT_SCHEMA), spark.createDataFrame(SEIZURES, SEIZURE_SCHEMA))
    frame = propose_entries(facts, load_policy(cfg), "MO")
    assert tuple(frame.columns) == ENTRY_COLUMNS
    return {(r.entity_type, r.entity_id): r.asDict() for r in frame.collect()}


def test_one_entry_per_party_with_merged_evidence(spark, settings):
    got = entries(spark, settings)
    assert sorted(got) == [("CONSIGNEE", "K1"), ("CONSIGNEE", "K2"), ("CONSIGNOR", "S1"), ("CONSIGNOR", "S2"),
                           ("DECLARANT", "B1"), ("EXPORTER", "E1")]
    e1 = got[("EXPORTER", "E1")]
    assert (e1["source"], e1["listed_on"], e1["expires_on"], e1["received_on"]) == (
        "MO", dt.date(2026, 6, 10), dt.date(2027, 6, 20), None)  # first seizure; last + 365 days
    assert e1["note"] == ("seizures=2; first=2026-06-10; last=2026-06-20; brands=GUCCI CMD X|NIKE|ROLEX; "
                          "hs=4202|6403; routes=CNYTN>AEJEA>NLRTM|HKHKG>USLAX; to=NL|US; items=15")
    assert got[("CONSIGNEE", "K1")]["expires_on"] == dt.date(2026, 12, 7)  # 06-10 + 180
    assert got[("DECLARANT", "B1")]["expires_on"] == dt.date(2026, 9, 8)  # 06-10 + 90


def test_withheld_fields_never_leave(spark, settings):
    got = entries(spark, settings, withheld_fields=["exporter_id", "brand", "route_ports", "seized_items", "seized_value_hkd"],
                  expiry_days={"CONSIGNEE": 0})
    assert not [k for k in got if k[0] == "EXPORTER"]
    k2 = got[("CONSIGNEE", "K2")]
    assert k2["expires_on"] is None and k2["note"] == "seizures=1; first=2026-06-20; last=2026-06-20; hs=4202; to=NL"
    shared = entries(spark, settings, withheld_fields=[])
    assert shared[("CONSIGNEE", "K2")]["note"].endswith("items=5; value_hkd=900")


def test_a_misspelt_withheld_field_is_a_settings_error(settings):
    cfg = copy.deepcopy(settings)
    cfg["exchange"]["withheld_fields"] = ["declared_values"]
    with pytest.raises(UserError, match="declared_values"):
        load_policy(cfg)


def test_alerts_need_volume_lift_and_significance(settings):
    params = load_policy(settings).alerts
    rows = [("last_hub", "AEJEA", "earlier", 40, 0), ("last_hub", "AEJEA", "recent", 60, 3),  # 40/400 -> 60/200
            ("last_hub", "SGSIN", "earlier", 360, 2), ("last_hub", "SGSIN", "recent", 136, 1),
            ("last_hub", "LKCMB", "recent", 4, 0),  # new, but below min_recent
            ("hs_group", "BAGS", "earlier", 100, 1), ("hs_group", "BAGS", "recent", 55, 1)]  # lift 1.1: no alert
    counts = pd.DataFrame(rows, columns=["dimension", "key", "part", "consignments", "seized"])
    table = emerging_keys(counts, "CONSIGNMENTS", params)
    aejea = table.set_index("key").loc["AEJEA"]
    assert (aejea["earlier_share"], aejea["recent_share"]) == pytest.approx((0.1, 0.3))
    assert aejea["z"] == pytest.approx(z_statistic(40, 60, 400, 200))
    assert list(significant(table, params)["key"]) == ["AEJEA"]


def test_bulletin_escapes_everything(settings):
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    frame = pd.DataFrame([{"entity_type": "EXPORTER", "entity_id": evil, "listed_on": "2026-06-01",
                           "expires_on": None, "note": evil}])
    alerts = pd.DataFrame([{"kind": "TRANSIT_HUB", "key": evil, "measure": "SEIZURES", "earlier": 1, "recent": 9,
                            "earlier_share": 0.1, "recent_share": 0.5, "lift": 5.0, "z": 4.2, "recent_from": "x"}])
    page = render_bulletin([("source", evil)], frame, alerts, "MO", ["declared_value"])
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page
    assert "://" not in page and "<link" not in page and "<script" not in page  # no external asset, no script
    assert "default-src 'none'" in page
