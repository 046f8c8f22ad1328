"""The incremental party-history store in the workspace: daily aggregates instead of raw history.

Two datasets under the workspace's aggregates (Parquet, one folder per day):

    party_daily          features.parties.build_party_daily rows known on D
    consignment_parties  consignment -> parties index of consignments lodged on D

Outcomes arrive days after lodging. The night that reads outcomes inspected on D needs the
parties of consignments lodged earlier: it finds them in the small index, not in raw history.
Writing a day replaces its folder, so re-running a night or a back-fill is idempotent.

Known limit: when a later outcome replaces an earlier one for the same consignment on another
day, both days keep their inspection (a re-inspection counts twice), whereas a full recompute
from deduplicated outcomes counts one.
"""
from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from features.parties import (
    LONGEST_WINDOW,
    PARTY_ROLES,
    PartyParams,
    build_outcome_daily,
    build_shipment_daily,
    combine_party_daily,
)
from pipelines.errors import UserError
from pipelines.io.workspace import Workspace, read_day_range, replace_days

PARTY_DAILY = "party_daily"
CONSIGNMENT_PARTIES = "consignment_parties"
INDEX_COLUMNS = ("consignment_id", "lodged_date", "destination_country", *PARTY_ROLES.values())

PARTY_DAILY_SCHEMA = T.StructType(
    [T.StructField(c, T.DateType()) for c in ("day",)]
    + [T.StructField(c, T.StringType()) for c in ("role", "party_id", "item", "item_id")]
    + [T.StructField(c, T.LongType()) for c in ("shipments", "inspections", "seizures")]
)
INDEX_SCHEMA = T.StructType(
    [T.StructField("consignment_id", T.StringType()), T.StructField("lodged_date", T.DateType())]
    + [T.StructField(c, T.StringType()) for c in INDEX_COLUMNS[2:]]
)


def party_params(parties: dict) -> PartyParams:
    """The feature tunables of the `parties` settings (conf/base/parties.yaml)."""
    return PartyParams.from_conf(parties)


def lookback_days(parties: dict) -> int:
    """Days of aggregates a feature build reads before its first lodging day."""
    days = int(parties["history_store"]["lookback_days"])
    if days < LONGEST_WINDOW:
        raise UserError(f"parties.yaml history_store.lookback_days={days} is shorter than the "
                        f"{LONGEST_WINDOW}-day window; set it to {LONGEST_WINDOW} or more")
    return days


def update_party_daily(spark: SparkSession, workspace: Workspace, consignments: DataFrame, outcomes: DataFrame,
                       dates: list[str], outcome_lookback_days: int) -> None:
    """Write the aggregate (and the parties index) of each day in `dates`, replacing what was there.

    consignments: at least those lodged on `dates` (others are ignored). outcomes: the outcomes
    read for those nights; a day's aggregate takes the outcomes inspected that day, attributed
    through the index to consignments lodged up to outcome_lookback_days earlier. Writing the
    index of every day first means an outcome inspected inside a multi-day range finds a
    consignment lodged earlier in it.
    """
    if not dates:
        return
    dates = sorted(set(dates))
    index = consignments.select(*[F.col(c) for c in INDEX_COLUMNS])
    replace_days(spark, index, workspace.aggregate(CONSIGNMENT_PARTIES), "lodged_date", dates)

    first, last = date.fromisoformat(dates[0]), date.fromisoformat(dates[-1])
    known = read_day_range(spark, workspace.aggregate(CONSIGNMENT_PARTIES), first - timedelta(days=outcome_lookback_days),
                           last, INDEX_SCHEMA, "lodged_date")
    inspected = outcomes.where(F.col("inspected_on").isin([date.fromisoformat(d) for d in dates]))
    daily = combine_party_daily(build_shipment_daily(consignments), build_outcome_daily(known, inspected))
    replace_days(spark, daily, workspace.aggregate(PARTY_DAILY), "day", dates)


def read_party_daily(spark: SparkSession, workspace: Workspace, before: str, lookback_days: int) -> DataFrame:
    """The aggregate rows of days [before - lookback_days, before - 1], reading only those folders.

    For features of lodging days D1..D2, pass before=D2 and lookback_days=365 + (D2 - D1).
    """
    last = date.fromisoformat(before) - timedelta(days=1)
    first = date.fromisoformat(before) - timedelta(days=lookback_days)
    return read_day_range(spark, workspace.aggregate(PARTY_DAILY), first, last, PARTY_DAILY_SCHEMA, "day")
