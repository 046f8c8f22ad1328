"""Party statistics by a range join: each key (role, party_id, lodged_date D) collects its party's
aggregate rows of days [D-365, D-1] (features.parties). The path of a night and of a short
back-fill: a night's few keys are broadcast and the history is only scanned, where the linear
path (features.party_lookback) shuffles and sorts it; but the join grows with days x history,
so long back-fills and training take the linear path (JOIN_MAX_DAYS, JOIN_MAX_TARGETS, measured
in docs/benchmarks.md).
Both give the same values (tests/unit/features/test_lookback.py).
"""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.parties import (
    COUNTERPART_ROLE,
    ITEM_COUNTERPART,
    ITEM_DESTINATION,
    ITEM_TOTAL,
    LONGEST_WINDOW,
    NETWORK_WINDOW,
    PARTY_DAILY_COLUMNS,
    WINDOWS,
    PartyParams,
    smoothed_rate,
)


def join_stats(keys: DataFrame, party_daily: DataFrame, params: PartyParams) -> DataFrame:
    """(role, party_id, lodged_date) + every party statistic; a key with no history in its window has no row."""
    joined = _history_in_window(keys, party_daily)
    key_columns = ["role", "party_id", "lodged_date"]
    return _window_stats(joined, params).join(_network_stats(joined, party_daily, params), on=key_columns, how="left")


def _history_in_window(keys: DataFrame, history: DataFrame) -> DataFrame:
    """Each (role, party_id, lodged_date) key with the aggregate rows of days [D-365, D-1].

    A range join: the aggregate has many days per party by design, each key collects its window.
    An inner join, so Spark may broadcast a night's few keys (a left join could only broadcast
    the history): a key with no history has no rows here, and callers fill it back.
    """
    h = history.select(*[F.col(c).alias(f"h_{c}") for c in PARTY_DAILY_COLUMNS])
    in_window = (
        (F.col("h_role") == F.col("role"))
        & (F.col("h_party_id") == F.col("party_id"))
        & (F.col("h_day") < F.col("lodged_date"))
        & (F.col("h_day") >= F.date_sub(F.col("lodged_date"), LONGEST_WINDOW))
    )
    return keys.join(h, on=in_window, how="inner")


def _since(days: int):
    return F.col("h_day") >= F.date_sub(F.col("lodged_date"), days)


def _window_stats(joined: DataFrame, params: PartyParams) -> DataFrame:
    """Counts, first-seen and smoothed rate per (role, party_id, lodged_date)."""
    is_total = F.col("h_item") == F.lit(ITEM_TOTAL)

    def total(measure: str, days: int):
        return F.coalesce(F.sum(F.when(is_total & _since(days), F.col(f"h_{measure}"))), F.lit(0)).cast("long")

    def distinct(item: str):
        return F.countDistinct(F.when(F.col("h_item") == F.lit(item), F.col("h_item_id"))).cast("long")

    first_seen = F.min(F.when(is_total & (F.col("h_shipments") > 0), F.col("h_day")))
    aggs = [F.coalesce(F.datediff(F.col("lodged_date"), first_seen), F.lit(0)).alias("days_since_first_seen")]
    aggs += [total("shipments", w).alias(f"shipments_{w}d") for w in WINDOWS]
    aggs += [distinct(ITEM_DESTINATION).alias("distinct_destinations_365d"),
             distinct(ITEM_COUNTERPART).alias("distinct_counterparts_365d")]
    aggs += [total("inspections", w).alias(f"inspections_{w}d") for w in (90, 365)]
    aggs += [total("seizures", w).alias(f"seizures_{w}d") for w in WINDOWS]
    # Exponential decay inside the 365-day window: beyond it a weight is below 0.5 ** 12 at a
    # 30-day half-life, so the window cuts nothing that matters.
    weight = F.pow(F.lit(0.5), F.datediff(F.col("lodged_date"), F.col("h_day")) / F.lit(params.decay_half_life_days))
    aggs += [F.coalesce(F.sum(F.when(is_total, F.col(f"h_{m}") * weight)), F.lit(0.0)).alias(f"{m}_decayed")
             for m in ("seizures", "inspections")]
    counted = joined.groupBy(F.col("role"), F.col("party_id"), F.col("lodged_date")).agg(*aggs)
    rates = [smoothed_rate(f"seizures_{w}", f"inspections_{w}", params).alias(f"seizure_rate_{w}")
             for w in ("365d", f"{NETWORK_WINDOW}d", "decayed")]
    return counted.select(*[F.col(c) for c in counted.columns], *rates)


def _network_stats(joined: DataFrame, party_daily: DataFrame, params: PartyParams) -> DataFrame:
    """Seizures among a party's counterparts (365 days, and recent counterparts' recent seizures) and
    the share of its recent counterparts, and of its recent consignments, that come from new exporters."""
    counterpart_of = F.create_map(*[F.lit(x) for pair in COUNTERPART_ROLE.items() for x in pair])
    recent = _since(NETWORK_WINDOW)
    pairs = joined.where(F.col("h_item") == F.lit(ITEM_COUNTERPART)).groupBy(
        F.col("role"), F.col("party_id"), F.col("lodged_date"), F.col("h_item_id").alias("counterpart_id"),
    ).agg(F.max("h_day").alias("last_dealt"),
          F.coalesce(F.sum(F.when(recent, F.col("h_shipments"))), F.lit(0)).alias("recent_shipments"))
    pairs = pairs.withColumn("counterpart_role", counterpart_of[F.col("role")])
    # Each counterpart's own record as of the same lodging day, over the same look-back.
    other_keys = pairs.select(F.col("counterpart_role").alias("role"), F.col("counterpart_id").alias("party_id"),
                              F.col("lodged_date")).distinct()
    totals = party_daily.where(F.col("item") == F.lit(ITEM_TOTAL))
    record = _history_in_window(other_keys, totals).groupBy(F.col("role"), F.col("party_id"), F.col("lodged_date")).agg(
        F.coalesce(F.sum("h_seizures"), F.lit(0)).alias("cp_seizures"),
        F.coalesce(F.sum(F.when(recent, F.col("h_seizures"))), F.lit(0)).alias("cp_recent_seizures"),
        F.min(F.when(F.col("h_shipments") > 0, F.col("h_day"))).alias("cp_first_seen"),
    )
    record = record.select(F.col("role").alias("counterpart_role"), F.col("party_id").alias("counterpart_id"),
                           F.col("lodged_date"), F.col("cp_seizures"), F.col("cp_recent_seizures"),
                           F.col("cp_first_seen"))
    # record is unique per (counterpart_role, counterpart_id, lodged_date): a safe lookup.
    joined_pairs = pairs.join(record, on=["counterpart_role", "counterpart_id", "lodged_date"], how="left")
    is_recent = F.col("last_dealt") >= F.date_sub(F.col("lodged_date"), NETWORK_WINDOW)
    is_new = F.col("cp_first_seen") >= F.date_sub(F.col("lodged_date"), params.new_party_days)
    w = NETWORK_WINDOW
    new_shipments = F.sum(F.when(is_new, F.col("recent_shipments")).otherwise(F.lit(0)))
    all_shipments = F.sum(F.col("recent_shipments"))
    return joined_pairs.groupBy(F.col("role"), F.col("party_id"), F.col("lodged_date")).agg(
        F.sum("cp_seizures").cast("long").alias("counterpart_seizures_365d"),
        F.avg(F.when(is_recent, F.when(is_new, 1.0).otherwise(0.0))).alias(f"new_exporter_share_{w}d"),
        # Two hops, both recent: who the party dealt with lately, and what was seized from them lately.
        F.sum(F.when(is_recent, F.col("cp_recent_seizures"))).cast("long").alias(f"counterpart_seizures_{w}d"),
        F.when(all_shipments > 0, new_shipments / all_shipments).alias(f"new_exporter_consignment_share_{w}d"),
    )
