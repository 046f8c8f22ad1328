"""A party's dealings as of each lodging day, linear in the days probed: distinct destinations and
counterparts, seizures among its counterparts (two hops), and the share of new front exporters.

Why not one row per (key, counterpart): a forwarder's front exporters rotate, so the set it dealt
with in the last year is most of the exporters of that year, and listing it for every day
probed grows with days x history. Instead each statistic is written as intervals of lodging days
D (inclusive) over which something counts, turned into +v / -v events and summed per party up to
D (features.lookback markers):

- a (party, value) pair counts for D while some dealing lies in [D-w, D-1]: the maximal spans of
  such D come from the pair's dealing days (a gap of more than w days ends a span);
- a counterpart's seizure known on day d counts for D in [d+1, d+w], where that meets a span;
- a counterpart is new on D when its first shipment in [D-365, D-1] is at most new_party_days
  old: for its shipment day s after previous shipment p, D in [max(s+1, p+366), s+new_party_days].
A consignment's window ends the day before it is lodged, so nothing of D or later is counted.
"""
from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from features.lookback import IS_MARKER, OFFSET, at, days_before, marked_history
from features.parties import (
    COUNTERPART_ROLE,
    ITEM_COUNTERPART,
    ITEM_DESTINATION,
    ITEM_TOTAL,
    LONGEST_WINDOW,
    NETWORK_WINDOW,
    PartyParams,
)

PARTY = ("role", "party_id")
KEY = ("role", "party_id", "lodged_date")
PAIR = ("role", "party_id", "counterpart_role", "counterpart_id")
EVENT_COLUMNS = ("role", "party_id", "day", "kind", "value")
KINDS = ("destinations", "counterparts", "recent_counterparts", "counterpart_seizures", "recent_counterpart_seizures",
         "new_recent_counterparts", "recent_shipments", "new_recent_shipments")


def _spans(rows: DataFrame, keys: Sequence[str], days: int) -> DataFrame:
    """keys + lo, hi: the maximal ranges of lodging days D for which the key has a row in [D-days, D-1]."""
    by_day = Window.partitionBy(*keys).orderBy(F.col("day"))
    gap_before = F.datediff(F.col("day"), F.lag("day").over(by_day))
    gap_after = F.datediff(F.lead("day").over(by_day), F.col("day"))
    flagged = rows.select(*keys, "day", (gap_before.isNull() | (gap_before > days)).alias("_starts"),
                          (gap_after.isNull() | (gap_after > days)).alias("_ends"))
    # A span's last dealing: the first end on or after its first day (reverse running minimum).
    later = Window.partitionBy(*keys).orderBy(F.col("day").desc()).rowsBetween(Window.unboundedPreceding,
                                                                                 Window.currentRow)
    ends = flagged.select(*keys, "day", "_starts", F.min(F.when(F.col("_ends"), F.col("day"))).over(later).alias("_last"))
    return ends.where(F.col("_starts")).select(
        *keys, F.date_add(F.col("day"), 1).alias("lo"), F.date_add(F.col("_last"), days).alias("hi"))


def _overlap(spans: DataFrame, intervals: DataFrame, value: str) -> DataFrame:
    """PAIR + lo, hi, value: where a pair's interval meets an interval of its counterpart
    (intervals: counterpart_role, counterpart_id, lo, hi, ...); `value` is a column of either side."""
    other = intervals.select(*[F.col(c) for c in intervals.columns if c not in ("lo", "hi")],
                             F.col("lo").alias("_lo"), F.col("hi").alias("_hi"))
    meets = (F.col("_lo") <= F.col("hi")) & (F.col("lo") <= F.col("_hi"))
    joined = spans.join(other, on=["counterpart_role", "counterpart_id"], how="inner").where(meets)
    return joined.select(*PAIR, F.greatest("lo", "_lo").alias("lo"), F.least("hi", "_hi").alias("hi"),
                         F.col(value).alias("value"))


def _events(intervals: DataFrame, kind: str, value=None) -> DataFrame:
    """EVENT_COLUMNS: +value on each interval's first day, -value the day after its last."""
    v = F.lit(1).cast("double") if value is None else F.col(value).cast("double")
    both = F.array(F.struct(F.col("lo").alias("day"), v.alias("value")),
                   F.struct(F.date_add(F.col("hi"), 1).alias("day"), (-v).alias("value")))
    exploded = intervals.select(*PARTY, F.explode(both).alias("e"))
    return exploded.select(*PARTY, F.col("e.day").alias("day"), F.lit(kind).alias("kind"), F.col("e.value").alias("value"))


def _counterpart_intervals(party_daily: DataFrame, dealings: DataFrame, params: PartyParams):
    """(seizure intervals, new intervals) of the counterparts dealt with: counterpart_role,
    counterpart_id, lo, hi and the seizures (recent and long) or 1."""
    totals = party_daily.where(F.col("item") == F.lit(ITEM_TOTAL)).select(
        F.col("role").alias("counterpart_role"), F.col("party_id").alias("counterpart_id"), "day", "shipments",
        "seizures")
    theirs = totals.join(dealings.select("counterpart_role", "counterpart_id").distinct(),
                         on=["counterpart_role", "counterpart_id"], how="left_semi")
    them = ("counterpart_role", "counterpart_id")
    seized = theirs.where(F.col("seizures") > 0).select(
        *them, F.date_add(F.col("day"), 1).alias("lo"), F.date_add(F.col("day"), LONGEST_WINDOW).alias("hi"),
        F.date_add(F.col("day"), NETWORK_WINDOW).alias("recent_hi"), F.col("seizures"))
    shipped = theirs.where(F.col("shipments") > 0).groupBy(*them, "day").agg(F.lit(1).alias("one"))
    previous = F.lag("day").over(Window.partitionBy(*them).orderBy(F.col("day")))
    first_in_window = F.greatest(F.date_add(F.col("day"), 1), F.date_add(previous, LONGEST_WINDOW + 1))
    new = shipped.select(*them, F.coalesce(first_in_window, F.date_add(F.col("day"), 1)).alias("lo"),
                         F.date_add(F.col("day"), params.new_party_days).alias("hi"), F.col("one"))
    return seized, new.where(F.col("lo") <= F.col("hi"))


def _network_events(keys: DataFrame, party_daily: DataFrame, params: PartyParams) -> DataFrame:
    counterpart_of = F.create_map(*[F.lit(x) for pair in COUNTERPART_ROLE.items() for x in pair])
    items = party_daily.where(F.col("item").isin(ITEM_DESTINATION, ITEM_COUNTERPART))
    mine = items.join(keys.select(*PARTY).distinct(), on=list(PARTY), how="left_semi")
    daily = mine.groupBy(*PARTY, "item", "item_id", "day").agg(F.sum("shipments").alias("shipments"))
    destinations = daily.where(F.col("item") == F.lit(ITEM_DESTINATION))
    dealings = daily.where(F.col("item") == F.lit(ITEM_COUNTERPART)).select(
        *PARTY, counterpart_of[F.col("role")].alias("counterpart_role"), F.col("item_id").alias("counterpart_id"),
        "day", "shipments")
    seized, new = _counterpart_intervals(party_daily, dealings, params)
    spans, recent = _spans(dealings, PAIR, LONGEST_WINDOW), _spans(dealings, PAIR, NETWORK_WINDOW)
    shipments = dealings.select(*PAIR, F.date_add(F.col("day"), 1).alias("lo"),
                                F.date_add(F.col("day"), NETWORK_WINDOW).alias("hi"), "shipments")
    recent_seized = seized.select("counterpart_role", "counterpart_id", "lo", F.col("recent_hi").alias("hi"), "seizures")
    parts = [
        _events(_spans(destinations, (*PARTY, "item_id"), LONGEST_WINDOW), "destinations"),
        _events(spans, "counterparts"),
        _events(recent, "recent_counterparts"),
        _events(_overlap(spans, seized, "seizures"), "counterpart_seizures", "value"),
        _events(_overlap(recent, recent_seized, "seizures"), "recent_counterpart_seizures", "value"),
        _events(_overlap(recent, new, "one"), "new_recent_counterparts", "value"),
        _events(shipments, "recent_shipments", "shipments"),
        _events(_overlap(shipments, new, "shipments"), "new_recent_shipments", "value"),
    ]
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out


def network_stats(keys: DataFrame, party_daily: DataFrame, params: PartyParams) -> DataFrame:
    """KEY + the dealings statistics of each key, named as the registry names them without the role."""
    events = _network_events(keys, party_daily, params)
    wide = events.select(*PARTY, "day", *[F.when(F.col("kind") == F.lit(k), F.col("value")).alias(k) for k in KINDS])
    # A marker on D+1 (offset -1) reads the events of days up to D: an interval is inclusive.
    marked = marked_history(wide, keys, PARTY, "day", KINDS, (-1,))
    run = marked.select(*KEY, OFFSET, IS_MARKER,
                        *[F.coalesce(F.sum(k).over(days_before(PARTY)), F.lit(0.0)).alias(k) for k in KINDS])
    read = run.where(F.col(IS_MARKER) == F.lit(1)).groupBy(*KEY).agg(*[at(-1, k).alias(k) for k in KINDS])
    w = NETWORK_WINDOW

    def share(part: str, whole: str):
        return F.when(F.col(whole) > 0, F.col(part) / F.col(whole))

    return read.select(
        *KEY,
        F.round("destinations").cast("long").alias(f"distinct_destinations_{LONGEST_WINDOW}d"),
        F.round("counterparts").cast("long").alias(f"distinct_counterparts_{LONGEST_WINDOW}d"),
        F.round("counterpart_seizures").cast("long").alias(f"counterpart_seizures_{LONGEST_WINDOW}d"),
        share("new_recent_counterparts", "recent_counterparts").alias(f"new_exporter_share_{w}d"),
        F.round("recent_counterpart_seizures").cast("long").alias(f"counterpart_seizures_{w}d"),
        share("new_recent_shipments", "recent_shipments").alias(f"new_exporter_consignment_share_{w}d"),
    )
