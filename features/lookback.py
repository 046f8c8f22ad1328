"""Point-in-time sums over compact daily aggregates.

A daily aggregate has a day column (the lodging day it summarises), key columns and additive
value columns. A consignment lodged on day D may only see days D-L .. D-1: never D itself
(other consignments of the same day are not 'before' it) and never later days, however many
the aggregate frame holds.

Two ways to get there:
- `trailing_sums`, a range join of the probes with the history rows of their windows: right for
  the small route, hub and HS6 aggregates, and for a night's few probes (broadcast, the history
  only scanned), but it grows with days x history.
- Markers, for the party history over many days (features.party_lookback): each probe
  (lodged_date, keys) adds marker rows to the aggregate rows of its keys, one on day D - o for
  each offset o it needs, with no values. One running sum per key, in day order with a day's
  markers before that day's aggregate rows, then holds at a marker on day x the sum over all
  days < x, and a window [D-w, D-1] is the marker at D minus the marker at D-w: one sort per
  key however many days are probed (issue 18 item 4).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyspark.sql import Column, DataFrame, Window, WindowSpec
from pyspark.sql import functions as F

IS_MARKER, OFFSET = "_is_marker", "_offset"


def in_lookback(day: Column, lodged: Column, days: int) -> Column:
    """True if `day` lies in the `days` days strictly before `lodged`."""
    return (day < lodged) & (day >= F.date_sub(lodged, days))


def marked_history(history: DataFrame, probes: DataFrame, keys: Sequence[str], day: str,
                   values: Sequence[str], offsets: Sequence[int]) -> DataFrame:
    """keys, day, values, lodged_date, OFFSET, IS_MARKER: the aggregate rows (lodged_date and
    OFFSET null, IS_MARKER 0) and, per distinct probe (lodged_date, keys) and offset, a marker
    on day lodged_date - offset (values null, IS_MARKER 1). Rows with a null key are left out:
    a null key has no history (a probe's caller fills its sums with zeros)."""
    has_keys = F.lit(True)
    for k in keys:
        has_keys = has_keys & F.col(k).isNotNull()
    types = dict(history.select(*values).dtypes)
    wanted = probes.where(has_keys).select(*keys, "lodged_date").distinct()
    if keys:  # only the probed keys' history is sorted: a night probes few of the parties a year has
        history = history.join(wanted.select(*keys).distinct(), on=list(keys), how="left_semi")
    rows = history.where(has_keys).select(
        *[F.col(k) for k in keys], F.col(day).alias("day"), *[F.col(v) for v in values],
        F.lit(None).cast("date").alias("lodged_date"), F.lit(None).cast("int").alias(OFFSET),
        F.lit(0).alias(IS_MARKER),
    )
    each = wanted.select(*keys, "lodged_date", F.explode(F.array(*[F.lit(o) for o in offsets])).alias(OFFSET))
    markers = each.select(
        *[F.col(k) for k in keys], F.date_sub(F.col("lodged_date"), F.col(OFFSET)).alias("day"),
        *[F.lit(None).cast(types[v]).alias(v) for v in values],
        F.col("lodged_date"), F.col(OFFSET), F.lit(1).alias(IS_MARKER),
    )
    return rows.unionByName(markers)


def days_before(keys: Sequence[str]) -> WindowSpec:
    """Running frame per key in day order, a day's markers first: an aggregate over it, read at
    a marker on day x, covers exactly the aggregate rows of days before x."""
    order = [F.col("day").asc(), F.col(IS_MARKER).desc()]
    return Window.partitionBy(*keys).orderBy(*order).rowsBetween(Window.unboundedPreceding, Window.currentRow)


def days_from(keys: Sequence[str]) -> WindowSpec:
    """Running frame per key in reverse day order, a day's aggregate rows first: read at a marker
    on day x, it covers exactly the aggregate rows of day x and later."""
    order = [F.col("day").desc(), F.col(IS_MARKER).asc()]
    return Window.partitionBy(*keys).orderBy(*order).rowsBetween(Window.unboundedPreceding, Window.currentRow)


def at(offset: int, column: str) -> Column:
    """For a groupBy over marker rows: `column` as read at the marker of this offset."""
    return F.max(F.when(F.col(OFFSET) == F.lit(offset), F.col(column)))


def trailing_sums(
    targets: DataFrame, daily: DataFrame, keys: Sequence[str], values: Sequence[str], windows: Mapping[str, int]
) -> DataFrame:
    """lodged_date + keys + `<value>_<window name>` sums over each look-back window, for each
    distinct (lodged_date, keys) of `targets`; 0 where the history holds nothing.

    windows: name -> days, e.g. {"recent": 7, "long": 90}; one join serves them all.
    The result is unique on (lodged_date, *keys), so it can be left-joined back.
    """
    wanted = targets.select("lodged_date", *keys).distinct()
    hist = daily.select(F.col("date").alias("_day"), *[F.col(k).alias(f"_k_{k}") for k in keys], *values)
    longest = max(windows.values())
    cond = in_lookback(F.col("_day"), F.col("lodged_date"), longest)
    for k in keys:
        cond = cond & (F.col(k) == F.col(f"_k_{k}"))
    # Inner join, then a left join back: the night's few (day, key) pairs are small enough for
    # Spark to broadcast, which a left join from them would forbid (only the side that may
    # lose rows can be broadcast); a pair with no history comes back with zero sums.
    joined = wanted.join(hist, on=cond, how="inner")
    sums = joined.groupBy("lodged_date", *keys).agg(*[
        F.sum(F.when(in_lookback(F.col("_day"), F.col("lodged_date"), days), F.col(v))).alias(f"{v}_{name}")
        for v in values
        for name, days in windows.items()
    ])
    # A null key matched nothing above and matches nothing here: it keeps its row, with zeros.
    back = wanted.join(sums, on=["lodged_date", *keys], how="left")
    return back.select(
        "lodged_date", *keys,
        *[F.coalesce(F.col(f"{v}_{name}"), F.lit(0)).alias(f"{v}_{name}") for v in values for name in windows],
    )
