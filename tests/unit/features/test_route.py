"""Route features. Test ports: AAAAA (0N 0E), BBBBB (0N 90E), DDDDD (north pole, a free-trade zone),
so A -> B direct is a quarter of a great circle and A -> pole -> B is two quarters."""
import math

from consignment_frames import D, consignments, ports
from pyspark.testing import assertDataFrameEqual

from features.route import build_route_basics, build_route_history_features


def _basics(spark, rows):
    return {r["consignment_id"]: r for r in build_route_basics(consignments(spark, rows), ports(spark)).collect()}


def test_transit_hubs_ftz_and_detour(spark):
    out = _basics(spark, [
        {"consignment_id": "POLE", "port_of_loading": "AAAAA", "route_ports": ["DDDDD"], "port_of_discharge": "BBBBB"},
        {"consignment_id": "HUBS", "port_of_loading": "HKHKG", "route_ports": ["MYPEN", "SGSIN", "LKCMB"],
         "port_of_discharge": "NLRTM"},
        {"consignment_id": "UNKNOWN", "port_of_loading": "HKHKG", "route_ports": ["XXQQQ"]},
        {"consignment_id": "DIRECT", "port_of_loading": "AAAAA", "route_ports": [], "port_of_discharge": "BBBBB"},
        {"consignment_id": "SAME", "port_of_loading": "AAAAA", "route_ports": [], "port_of_discharge": "AAAAA"},
    ])
    pole = out["POLE"]
    # (quarter + quarter) / quarter = 2
    assert math.isclose(pole["detour_ratio"], 2.0, rel_tol=1e-9)
    assert (pole["n_transit_ports"], pole["n_transit_hubs"], pole["via_ftz"]) == (1, 0, 1)
    assert (pole["first_hub"], pole["last_hub"]) == ("NONE", "NONE")
    hubs = out["HUBS"]
    # MYPEN is not a hub; SGSIN (an FTZ) and LKCMB are
    assert (hubs["n_transit_ports"], hubs["n_transit_hubs"], hubs["via_ftz"]) == (3, 2, 1)
    assert (hubs["first_hub"], hubs["last_hub"]) == ("SGSIN", "LKCMB")
    assert hubs["detour_ratio"] > 1.0
    assert out["UNKNOWN"]["detour_ratio"] is None  # a port without coordinates
    assert out["UNKNOWN"]["n_transit_ports"] == 1 and out["UNKNOWN"]["n_transit_hubs"] == 0
    assert out["DIRECT"]["detour_ratio"] == 1.0 and out["DIRECT"]["n_transit_ports"] == 0
    assert out["SAME"]["detour_ratio"] is None  # no direct distance to divide by
    assert hubs["route_key"] == "HKHKG>MYPEN>SGSIN>LKCMB>NLRTM" and hubs["route_hub"] == "LKCMB"


def test_cross_boundary_pattern(spark):
    out = _basics(spark, [
        {"consignment_id": "1", "port_of_loading": "CNYTN", "route_ports": ["HKHKG"]},
        {"consignment_id": "2", "port_of_loading": "CNYTN", "route_ports": ["MOMFM"]},
        {"consignment_id": "3", "port_of_loading": "CNYTN"},
        {"consignment_id": "4", "port_of_loading": "HKHKG", "declaration_type": "REEXPORT"},
        {"consignment_id": "5", "port_of_loading": "MOMFM"},
        {"consignment_id": "6", "port_of_loading": "SGSIN"},
    ])
    assert [out[k]["cross_boundary_pattern"] for k in "123456"] == [
        "MAINLAND_VIA_HK", "MAINLAND_VIA_MO", "MAINLAND_DIRECT", "HK_REEXPORT", "MO_EXPORT", "OTHER_LOADING"]
    assert [out[k]["is_mainland_loading"] for k in "123456"] == [1, 1, 1, 0, 0, 0]
    assert [out[k]["is_reexport"] for k in "123456"] == [0, 0, 0, 1, 0, 0]


ROUTE_DAILY = [
    (D(2026, 9, 9), "X", 2), (D(2026, 9, 7), "X", 1), (D(2026, 9, 9), "Y", 3),
    (D(2026, 9, 4), "X", 10),  # 6 days before: outside a 5-day look-back
]
HUB_DAILY = [
    (D(2026, 9, 9), "SGSIN", "EUROPE", 1), (D(2026, 9, 9), "SGSIN", "OTHER", 1), (D(2026, 9, 6), "SGSIN", "EUROPE", 4),
]
LATER = {  # the lodging day itself and later days: must never be seen by a consignment lodged on 09-10
    "route": [(D(2026, 9, 10), "X", 5), (D(2026, 9, 12), "Y", 7)],
    "hub": [(D(2026, 9, 10), "SGSIN", "OTHER", 50), (D(2026, 9, 11), "SGSIN", "EUROPE", 9)],
}


def _history(spark, route_rows, hub_rows):
    keys = spark.createDataFrame(
        [("T", D(2026, 9, 10), "X", "SGSIN", "EUROPE"), ("NEW", D(2026, 9, 10), "Z", "AEJEA", "OTHER")],
        "consignment_id string, lodged_date date, route_key string, route_hub string, dest_region string")
    route = spark.createDataFrame(route_rows, "date date, route_key string, n_consignments long")
    hub = spark.createDataFrame(hub_rows, "date date, route_hub string, dest_region string, n_consignments long")
    return build_route_history_features(keys, route, hub, lookback_days=5, recent_days=2)


def test_route_rarity_and_shift_from_daily_aggregates(spark):
    out = {r["consignment_id"]: r for r in _history(spark, ROUTE_DAILY, HUB_DAILY).collect()}
    t = out["T"]
    # look-back 09-05..09-09: route X = 2 + 1 = 3 of all 2 + 1 + 3 = 6; rarity ln((6+1)/(3+1))
    assert t["route_count_90d"] == 3
    assert math.isclose(t["route_rarity_90d"], math.log(7 / 4))
    # pair (SGSIN, EUROPE) = 1 + 4 = 5; rarity ln(7 / 6)
    assert t["hub_region_count_90d"] == 5
    assert math.isclose(t["hub_region_rarity_90d"], math.log(7 / 6))
    # recent 09-08..09-09: 1 of SGSIN's 2 go to EUROPE (0.5); look-back: 5 of 6; shift 0.5 - 5/6
    assert math.isclose(t["hub_region_share_shift"], 0.5 - 5 / 6)
    new = out["NEW"]  # never seen: count 0, rarity ln(7 / 1), no shift
    assert (new["route_count_90d"], new["hub_region_count_90d"], new["hub_region_share_shift"]) == (0, 0, 0.0)
    assert math.isclose(new["route_rarity_90d"], math.log(7))


def test_route_history_ignores_the_lodging_day_and_later(spark):
    before = _history(spark, ROUTE_DAILY, HUB_DAILY)
    after = _history(spark, ROUTE_DAILY + LATER["route"], HUB_DAILY + LATER["hub"])
    assertDataFrameEqual(after, before, checkRowOrder=False)


def test_recent_lift_of_route_hub_and_region(spark):
    out = {r["consignment_id"]: r for r in _history(spark, ROUTE_DAILY, HUB_DAILY).collect()}
    t, new = out["T"], out["NEW"]
    # All traffic: recent (09-08..09-09) 2 + 3 = 5, look-back 6; expected recent = long * 5 / 6.
    # Route X: recent 2, long 3 -> expected 2.5; (2 + 1) / (2.5 + 1).
    assert math.isclose(t["route_recent_lift"], 3 / 3.5)
    # Hub SGSIN: recent 1 + 1 = 2, long 6 -> expected 5; (2 + 1) / (5 + 1): it fell behind.
    assert math.isclose(t["hub_recent_lift"], 0.5)
    # Region EUROPE (all hubs): recent 1, long 5 -> expected 25 / 6; 2 / (31 / 6).
    assert math.isclose(t["dest_region_recent_lift"], 12 / 31)
    # Never-seen route and hub: no evidence either way, 1.
    assert (new["route_recent_lift"], new["hub_recent_lift"]) == (1.0, 1.0)
    # Region OTHER: recent 1 (09-09), long 1 -> expected 5 / 6; 2 / (11 / 6): rising.
    assert math.isclose(new["dest_region_recent_lift"], 12 / 11)
