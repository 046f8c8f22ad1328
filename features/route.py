"""Route and transshipment features: transit ports and hubs, detour, cross-boundary pattern,
and look-back signals (route rarity, hub-to-region rarity, route shift) from daily aggregates."""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from features.lookback import trailing_sums
from features.reference import haversine_km, ports_table
from features.registry import FeatureDef

_M = ("manifests",)
_MP = ("manifests", "conf/reference/ports.csv")
_MD = ("manifests", "declarations")
_DAY = "day of lodging"
_LONG = "route_lookback_days (90) days before lodging"
NO_HUB = "NONE"


def _f(name, dtype, kind, meaning, sources=_M, window=_DAY, nullable=False):
    return FeatureDef(name, dtype, kind, "route", meaning, sources, window, nullable)


FEATURES = [
    _f("n_transit_ports", "integer", "numeric", "number of transit / transshipment ports declared"),
    _f("n_transit_hubs", "integer", "numeric", "transit ports flagged as hubs in ports.csv", _MP),
    _f("via_ftz", "integer", "flag", "1 if a transit port is a free-trade zone", _MP),
    _f("first_hub", "string", "categorical", "first transit hub (LOCODE), NONE if no hub", _MP),
    _f("last_hub", "string", "categorical", "last transit hub (LOCODE), NONE if no hub", _MP),
    _f("detour_ratio", "double", "numeric",
       "great-circle length loading -> transit ports -> discharge over the direct distance; "
       "null if a port has no coordinates or loading = discharge", _MP, nullable=True),
    _f("is_mainland_loading", "integer", "flag", "1 if the port of loading is in mainland China (CN)"),
    _f("is_reexport", "integer", "flag", "1 if any item is declared as a re-export", ("declarations",)),
    _f("cross_boundary_pattern", "string", "categorical",
       "MAINLAND_VIA_HK, MAINLAND_VIA_MO, MAINLAND_DIRECT, HK_REEXPORT, HK_EXPORT, MO_REEXPORT, "
       "MO_EXPORT or OTHER_LOADING", _MD),
    _f("route_count_90d", "integer", "numeric",
       "consignments on the exact route (loading, transit ports, discharge) in the look-back", window=_LONG),
    _f("route_rarity_90d", "double", "numeric",
       "-ln((route count + 1) / (all consignments + 1)) over the look-back: high = rare route", window=_LONG),
    _f("hub_region_count_90d", "integer", "numeric",
       "consignments through the same last hub (or NONE) to the same destination region in the look-back",
       ("manifests", "conf/reference/ports.csv", "conf/reference/countries.csv"), _LONG),
    _f("hub_region_rarity_90d", "double", "numeric",
       "-ln((hub-region count + 1) / (all consignments + 1)) over the look-back",
       ("manifests", "conf/reference/ports.csv", "conf/reference/countries.csv"), _LONG),
    _f("hub_region_share_shift", "double", "numeric",
       "share of the last hub's traffic going to this region over the recent days (route_recent_days, 7) "
       "minus that share over the look-back (90); 0 when the hub has no traffic in either window",
       ("manifests", "conf/reference/ports.csv", "conf/reference/countries.csv"),
       "7 and 90 days before lodging"),
]
# Drift (issue 17 item 3): is traffic of this kind rising against its own long run? Each lift is
# the recent count (route_recent_days) over the count the long-run share (route_lookback_days)
# predicts for the recent traffic, both + 1 so a thin history stays near 1 (no change).
_LIFT = ("(recent count + 1) / (long-run count * all recent / all long-run consignments + 1): above 1 "
         "when its recent share of all traffic exceeds its long-run share; 1 with no history")
_RECENT_LONG = "route_recent_days (7) and route_lookback_days (90) days before lodging"
_HUB_SRC = ("manifests", "conf/reference/ports.csv")
FEATURES += [
    _f("route_recent_lift", "double", "numeric", f"exact route: {_LIFT}", window=_RECENT_LONG),
    _f("hub_recent_lift", "double", "numeric", f"last transit hub (or NONE): {_LIFT}", _HUB_SRC, _RECENT_LONG),
    _f("dest_region_recent_lift", "double", "numeric", f"destination region: {_LIFT}",
       ("manifests", "conf/reference/countries.csv"), _RECENT_LONG),
]


def _path(consignments: DataFrame, ports: DataFrame) -> DataFrame:
    """consignment_id, path: array of (pos, locode, lat, lon, is_hub, is_ftz) in travel order."""
    c = consignments.select(
        "consignment_id",
        F.concat(F.array("port_of_loading"), F.coalesce("route_ports", F.array().cast("array<string>")),
                 F.array("port_of_discharge")).alias("ports"),
    )
    stops = c.select("consignment_id", F.posexplode("ports").alias("pos", "locode"))
    # ports.csv is unique on locode; an unknown port keeps its row with null coordinates.
    stops = stops.join(F.broadcast(ports_table(ports)), on="locode", how="left")
    stop = F.struct("pos", "locode", "lat", "lon", "is_hub", "is_ftz")
    return stops.groupBy("consignment_id").agg(F.array_sort(F.collect_list(stop)).alias("path"))


def _leg_km(a: Column, b: Column) -> Column:
    return haversine_km(a["lat"], a["lon"], b["lat"], b["lon"])


def _pattern(load_cc: Column, transit_cc: Column, reexport: Column) -> Column:
    via = lambda cc: F.array_contains(transit_cc, cc)  # noqa: E731
    local = load_cc.isin("HK", "MO")
    return (
        F.when((load_cc == "CN") & via("HK"), "MAINLAND_VIA_HK")
        .when((load_cc == "CN") & via("MO"), "MAINLAND_VIA_MO")
        .when(load_cc == "CN", "MAINLAND_DIRECT")
        .when(local & reexport, F.concat(load_cc, F.lit("_REEXPORT")))
        .when(local, F.concat(load_cc, F.lit("_EXPORT")))
        .otherwise("OTHER_LOADING")
    )


def build_route_basics(consignments: DataFrame, ports: DataFrame) -> DataFrame:
    """consignment_id + the day-of-lodging route features + route_key (exact route) and route_hub."""
    p = _path(consignments, ports)
    n = F.size("path")
    transit = F.slice("path", 2, n - 2)
    hubs = F.filter(transit, lambda s: s["is_hub"] == 1)
    legs = F.zip_with(F.slice("path", 1, n - 1), F.slice("path", 2, n - 1), _leg_km)
    # Nulls propagate through the sum: an unknown port gives a null route length.
    route_km = F.aggregate(legs, F.lit(0.0), lambda acc, x: acc + x)
    direct_km = _leg_km(F.col("path")[0], F.element_at("path", -1))
    c = consignments.select("consignment_id", "declaration_type", "lodged_date")
    joined = c.join(p, on="consignment_id", how="inner")  # both unique on consignment_id
    load_cc = F.substring(F.col("path")[0]["locode"], 1, 2)
    transit_cc = F.transform(transit, lambda s: F.substring(s["locode"], 1, 2))
    reexport = F.col("declaration_type") == "REEXPORT"
    last_hub = F.try_element_at(hubs, F.lit(-1))["locode"]
    return joined.select(
        "consignment_id",
        (n - 2).cast("int").alias("n_transit_ports"),
        F.size(hubs).cast("int").alias("n_transit_hubs"),
        F.exists(transit, lambda s: s["is_ftz"] == 1).cast("int").alias("via_ftz"),
        F.coalesce(F.try_element_at(hubs, F.lit(1))["locode"], F.lit(NO_HUB)).alias("first_hub"),
        F.coalesce(last_hub, F.lit(NO_HUB)).alias("last_hub"),
        F.when(direct_km > 0, route_km / direct_km).alias("detour_ratio"),
        (load_cc == "CN").cast("int").alias("is_mainland_loading"),
        reexport.cast("int").alias("is_reexport"),
        _pattern(load_cc, transit_cc, reexport).alias("cross_boundary_pattern"),
        F.array_join(F.transform("path", lambda s: s["locode"]), ">").alias("route_key"),
        F.coalesce(last_hub, F.lit(NO_HUB)).alias("route_hub"),
    )


def build_route_daily(route_keys: DataFrame) -> dict[str, DataFrame]:
    """Daily aggregates from (consignment_id, lodged_date, route_key, route_hub, dest_region):
    route_daily (date, route_key, n_consignments) and hub_region_daily (date, route_hub,
    dest_region, n_consignments)."""
    k = route_keys.select(F.col("lodged_date").alias("date"), "route_key", "route_hub", "dest_region")
    count = F.count(F.lit(1)).cast("long").alias("n_consignments")
    return {
        "route_daily": k.groupBy("date", "route_key").agg(count),
        "hub_region_daily": k.groupBy("date", "route_hub", "dest_region").agg(count),
    }


def _rarity(count: Column, total: Column) -> Column:
    return F.log((total + 1) / (count + 1))


def _share(part: Column, whole: Column) -> Column:
    return F.when(whole > 0, part / whole).otherwise(F.lit(0.0))


def _lift(recent: Column, long: Column, all_recent: Column, all_long: Column) -> Column:
    """(recent + 1) / (expected recent + 1), expected from the long-run share of all traffic.

    Against all traffic, not per day: a quiet weekend or a history shorter than the look-back
    moves every count alike and leaves the lift at 1."""
    expected = F.when(all_long > 0, long * all_recent / all_long).otherwise(F.lit(0.0))
    return ((recent + 1) / (expected + 1)).cast("double")


def build_route_history_features(
    route_keys: DataFrame, route_daily: DataFrame, hub_region_daily: DataFrame, lookback_days: int, recent_days: int
) -> DataFrame:
    """consignment_id + look-back route features; only days strictly before lodging count."""
    t = route_keys.select("consignment_id", "lodged_date", "route_key", "route_hub", "dest_region")
    daily_total = route_daily.groupBy("date").agg(F.sum("n_consignments").alias("n_consignments"))
    hub_daily = hub_region_daily.groupBy("date", "route_hub").agg(F.sum("n_consignments").alias("n_consignments"))
    region_daily = hub_region_daily.groupBy("date", "dest_region").agg(F.sum("n_consignments").alias("n_consignments"))
    pair = ["route_hub", "dest_region"]

    def both(name):  # one join serves both windows
        return {f"{name}_long": lookback_days, f"{name}_recent": recent_days}

    parts = [
        (trailing_sums(t, route_daily, ["route_key"], ["n_consignments"], both("route")), ["route_key"]),
        (trailing_sums(t, daily_total, [], ["n_consignments"], both("all")), []),
        (trailing_sums(t, hub_region_daily, pair, ["n_consignments"], both("pair")), pair),
        (trailing_sums(t, hub_daily, ["route_hub"], ["n_consignments"], both("hub")), ["route_hub"]),
        (trailing_sums(t, region_daily, ["dest_region"], ["n_consignments"], both("region")), ["dest_region"]),
    ]
    joined = t
    for frame, keys in parts:  # each part is unique on (lodged_date, *keys)
        joined = joined.join(frame, on=["lodged_date", *keys], how="left")
    c = {f"{name}_{span}": F.col(f"n_consignments_{name}_{span}")
         for name in ("route", "all", "pair", "hub", "region") for span in ("long", "recent")}
    alls = (c["all_recent"], c["all_long"])
    recent_share = _share(c["pair_recent"], c["hub_recent"])
    long_share = _share(c["pair_long"], c["hub_long"])
    both_seen = (c["hub_recent"] > 0) & (c["hub_long"] > 0)
    return joined.select(
        "consignment_id",
        c["route_long"].cast("int").alias("route_count_90d"),
        _rarity(c["route_long"], c["all_long"]).alias("route_rarity_90d"),
        c["pair_long"].cast("int").alias("hub_region_count_90d"),
        _rarity(c["pair_long"], c["all_long"]).alias("hub_region_rarity_90d"),
        F.when(both_seen, recent_share - long_share).otherwise(F.lit(0.0)).alias("hub_region_share_shift"),
        *[_lift(c[f"{name}_recent"], c[f"{name}_long"], *alls).alias(f"{column}_recent_lift")
          for name, column in (("route", "route"), ("hub", "hub"), ("region", "dest_region"))],
    )
