"""Party features of target consignments, point in time, from the daily aggregate (features.parties).

A key is (role, party_id, lodged_date D); every statistic covers days [D-w, D-1]. Two passes,
each a running aggregate per party over marker rows (features.lookback), so the cost grows with
the days probed plus the history, not with their product:

- totals, here: shipments, inspections and seizures over each window, the time-decayed sums,
  and the first day shipped within the longest window;
- dealings (features.party_network): distinct destinations and counterparts, seizures among
  the counterparts, and the share of new front exporters.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from features.lookback import IS_MARKER, OFFSET, at, days_before, days_from, marked_history
from features.parties import (
    FEATURES,
    ITEM_TOTAL,
    LONGEST_WINDOW,
    NETWORK_WINDOW,
    PARTY_ROLES,
    SPARK_TYPE,
    WINDOWS,
    PartyParams,
    prior_rate,
    smoothed_rate,
)
from features.party_join import join_stats
from features.party_network import KEY, PARTY, network_stats
from features.registry import FeatureDef

MEASURES = ("shipments", "inspections", "seizures")
DECAYED = ("seizures", "inspections")
# A night (one lodging day) costs the range join about a third of the linear path, which shuffles
# and sorts the history of every party it probes; the join grows by a night's cost per day and the
# linear path hardly at all, so they cross near a week (docs/benchmarks.md, 2026-12-03): a week of
# 3,000 a day. With few consignments the join stays cheaper however many days they span (28 days
# of 500: 17 s against 37.5 s), as in small back-fills and the test suite's trainings; the demo's
# (42 days of 1,000) stays above the threshold.
JOIN_MAX_DAYS = 7
JOIN_MAX_TARGETS = 21_000


def _total_stats(keys: DataFrame, party_daily: DataFrame, params: PartyParams) -> DataFrame:
    """KEY + first_seen, <measure>_<w>d for every window, <measure>_decayed: one row per distinct key."""
    totals = party_daily.where(F.col("item") == F.lit(ITEM_TOTAL)).select(
        *PARTY, "day", *MEASURES, F.when(F.col("shipments") > 0, F.col("day")).alias("shipped_on"))
    offsets = (0, *WINDOWS)
    marked = marked_history(totals, keys, PARTY, "day", (*MEASURES, "shipped_on"), offsets)
    # Decay as a ratio of sums: 0.5 ** ((D - d) / h) = 2 ** ((d - b) / h) / 2 ** ((D - b) / h), with
    # b the party's first row, so the running sums stay finite (exponents below (span + 365) / h).
    with_base = marked.select("*", F.first("day").over(days_before(PARTY)).alias("_base"))
    weight = F.pow(F.lit(2.0), F.datediff(F.col("day"), F.col("_base")) / F.lit(params.decay_half_life_days))

    def running(value: Column) -> Column:
        return F.coalesce(F.sum(value).over(days_before(PARTY)), F.lit(0))

    run = with_base.select(
        *KEY, OFFSET, IS_MARKER, "_base",
        *[running(F.col(m)).alias(m) for m in MEASURES],
        *[running(F.col(m) * weight).alias(f"w_{m}") for m in DECAYED],
        # Reverse order: read at the marker on D-365, the first day shipped on or after it.
        F.min("shipped_on").over(days_from(PARTY)).alias("first_from"),
    )
    first = at(LONGEST_WINDOW, "first_from")
    scale = F.pow(F.lit(2.0), F.datediff(F.max("_base"), F.col("lodged_date")) / F.lit(params.decay_half_life_days))
    return run.where(F.col(IS_MARKER) == F.lit(1)).groupBy(*KEY).agg(
        F.when(first < F.col("lodged_date"), first).alias("first_seen"),
        *[(at(0, m) - at(w, m)).cast("long").alias(f"{m}_{w}d") for m in MEASURES for w in WINDOWS],
        *[((at(0, f"w_{m}") - at(LONGEST_WINDOW, f"w_{m}")) * scale).alias(f"{m}_decayed") for m in DECAYED],
    )


def lookback_stats(keys: DataFrame, party_daily: DataFrame, params: PartyParams) -> DataFrame:
    """KEY + every party statistic named as the registry names it without the role prefix."""
    totals = _total_stats(keys, party_daily, params)
    own = keys.join(totals, on=list(KEY), how="left")
    first = F.coalesce(F.datediff(F.col("lodged_date"), F.col("first_seen")), F.lit(0))
    counts = [f"{m}_{w}d" for m in MEASURES for w in WINDOWS if (m, w) != ("inspections", 30)]
    rates = [smoothed_rate(f"seizures_{w}", f"inspections_{w}", params).alias(f"seizure_rate_{w}")
             for w in (f"{LONGEST_WINDOW}d", f"{NETWORK_WINDOW}d", "decayed")]
    stats = own.select(*KEY, first.alias("days_since_first_seen"), *counts,
                       *[f"{m}_decayed" for m in DECAYED], *rates)
    return stats.join(network_stats(keys, party_daily, params), on=list(KEY), how="left")


def _target_parties(targets: DataFrame) -> DataFrame:
    """One row per (consignment, role) naming a party: all roles are computed in one pass."""
    roles = [F.struct(F.lit(role).alias("role"), F.col(column).alias("party_id")) for role, column in PARTY_ROLES.items()]
    exploded = targets.select(F.col("consignment_id"), F.col("lodged_date"), F.explode(F.array(*roles)).alias("p"))
    return exploded.select(
        F.col("consignment_id"), F.col("lodged_date"), F.col("p.role").alias("role"), F.col("p.party_id").alias("party_id"),
    ).where(F.col("party_id").isNotNull())


def build_party_features(targets: DataFrame, party_daily: DataFrame, params: PartyParams,
                         target_days: int = 1) -> DataFrame:
    """consignment_id + the party features of every role, from events known before lodged_date.

    target_days: how many lodging days `targets` spans. Up to JOIN_MAX_DAYS days, or up to
    JOIN_MAX_TARGETS consignments, take the range join (features.party_join); more the linear path
    above. Both give the same values.
    """
    parties = _target_parties(targets)
    keys = parties.select(*KEY).distinct()
    # The count only for a multi-day build, whose targets are a kept frame: one small job.
    if target_days <= JOIN_MAX_DAYS or targets.count() <= JOIN_MAX_TARGETS:
        stats = join_stats(keys, party_daily, params)
    else:
        stats = lookback_stats(keys, party_daily, params)
    # stats is unique per key; every (consignment, role) row finds at most one. A named party
    # with no history may find none: first seen today (0); its counts and rates are filled below.
    long = parties.join(stats, on=list(KEY), how="left").fillna(0, subset=["days_since_first_seen"])
    stat_names = [c for c in stats.columns if c not in KEY]
    # Pivot names columns "<role>_<stat>": exactly the registry's names.
    wide = long.groupBy(F.col("consignment_id")).pivot("role", list(PARTY_ROLES)).agg(
        *[F.first(c).alias(c) for c in stat_names])
    out = targets.select(F.col("consignment_id")).join(wide, on="consignment_id", how="left")
    return out.select(F.col("consignment_id"), *[_filled(f, params) for f in FEATURES])


def _filled(feature: FeatureDef, params: PartyParams):
    """A consignment naming no party of a role (no forwarder, say) has no history: zero counts, prior rate."""
    value = F.col(feature.name)
    if not feature.nullable:
        default = prior_rate(params) if "_seizure_rate_" in feature.name else 0
        value = F.coalesce(value, F.lit(default))
    return value.cast(SPARK_TYPE[feature.dtype]).alias(feature.name)
