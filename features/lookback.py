"""Point-in-time sums over compact daily aggregates.

A daily aggregate has a `date` column (the lodging day it summarises), key columns and
additive value columns. A consignment lodged on day D may only see days D-L .. D-1: never
D itself (other consignments of the same day are not 'before' it) and never later days,
however many the aggregate frame holds. Every look-back feature goes through `trailing_sums`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def in_lookback(day: Column, lodged: Column, days: int) -> Column:
    """True if `day` lies in the `days` days strictly before `lodged`."""
    return (day < lodged) & (day >= F.date_sub(lodged, days))


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
