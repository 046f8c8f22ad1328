"""The incremental party-history store in the workspace: daily aggregates instead of raw history.

Layout (Parquet, one folder per day):

    <workspace>/aggregates/party_daily/date=D/          features.parties.build_party_daily rows known on D
    <workspace>/aggregates/consignment_parties/date=D/  consignment -> parties index of consignments lodged on D

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
from pipelines.io.settings import load_config
from pipelines.jobs.features import replace_days
from pipelines.jobs.features import stored_days as day_folders

PARTY_DAILY = "aggregates/party_daily"
CONSIGNMENT_PARTIES = "aggregates/consignment_parties"
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


def parties_conf() -> dict:
    return load_config("parties")


def party_params(conf: dict | None = None) -> PartyParams:
    """The feature tunables of conf/base/parties.yaml."""
    return PartyParams.from_conf(conf or parties_conf())


def lookback_days(conf: dict | None = None) -> int:
    """Days of aggregates a feature build reads before its first lodging day."""
    days = int((conf or parties_conf())["history_store"]["lookback_days"])
    if days < LONGEST_WINDOW:
        raise ValueError(f"parties.yaml history_store.lookback_days={days} is shorter than the "
                         f"{LONGEST_WINDOW}-day window; set it to {LONGEST_WINDOW} or more")
    return days


def days_between(start: str, end: str) -> list[str]:
    """ISO days from start to end inclusive."""
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _uri(workspace: str, name: str) -> str:
    return f"{workspace.rstrip('/')}/{name}"


def stored_days(spark: SparkSession, workspace: str, name: str = PARTY_DAILY) -> list[str]:
    """The days that have a folder in one of the store's datasets."""
    return day_folders(spark, _uri(workspace, name))


def _read_days(spark: SparkSession, uri: str, days: list[str], schema: T.StructType) -> DataFrame:
    if not days:
        return spark.createDataFrame([], schema)
    frame = spark.read.schema(schema).parquet(*[f"{uri}/date={d}" for d in days])
    return frame.select(*[F.col(f.name) for f in schema.fields])


def _read_window(spark: SparkSession, workspace: str, name: str, schema: T.StructType,
                 first: date, last: date) -> DataFrame:
    """Rows of the stored days in [first, last]; days never written simply have no rows."""
    wanted = [d for d in stored_days(spark, workspace, name) if first <= date.fromisoformat(d) <= last]
    return _read_days(spark, _uri(workspace, name), wanted, schema)


def update_party_daily(spark: SparkSession, workspace: str, consignments: DataFrame, outcomes: DataFrame,
                       dates: list[str], outcome_lookback_days: int | None = None) -> None:
    """Write the aggregate (and the parties index) of each day in `dates`, replacing what was there.

    consignments: at least those lodged on `dates` (others are ignored). outcomes: the outcomes
    read for those nights; a day's aggregate takes the outcomes inspected that day, attributed
    through the index to consignments lodged up to outcome_lookback_days (conf) earlier.
    """
    if not dates:
        return
    if outcome_lookback_days is None:
        outcome_lookback_days = int(parties_conf()["history_store"]["outcome_lookback_days"])
    dates = sorted(set(dates))
    index = consignments.select(*[F.col(c) for c in INDEX_COLUMNS])
    replace_days(spark, index, _uri(workspace, CONSIGNMENT_PARTIES), "lodged_date", dates)

    first, last = date.fromisoformat(dates[0]), date.fromisoformat(dates[-1])
    known = _read_window(spark, workspace, CONSIGNMENT_PARTIES, INDEX_SCHEMA,
                         first - timedelta(days=outcome_lookback_days), last)
    inspected = outcomes.where(F.col("inspected_on").isin([date.fromisoformat(d) for d in dates]))
    daily = combine_party_daily(build_shipment_daily(consignments), build_outcome_daily(known, inspected))
    replace_days(spark, daily, _uri(workspace, PARTY_DAILY), "day", dates)


def backfill_party_daily(spark: SparkSession, workspace: str, consignments: DataFrame, outcomes: DataFrame,
                         start: str, end: str, outcome_lookback_days: int | None = None) -> list[str]:
    """(Re)build the store for every day from start to end; returns the days written.

    One pass over the range: the index of every day is written before outcomes are attributed,
    so an outcome inspected inside the range finds a consignment lodged earlier in it.
    """
    days = days_between(start, end)
    update_party_daily(spark, workspace, consignments, outcomes, days, outcome_lookback_days)
    return days


def read_party_daily(spark: SparkSession, workspace: str, before: str, lookback_days: int) -> DataFrame:
    """The aggregate rows of days [before - lookback_days, before - 1], reading only those folders.

    For features of lodging days D1..D2, pass before=D2 and lookback_days=365 + (D2 - D1).
    """
    last = date.fromisoformat(before) - timedelta(days=1)
    first = date.fromisoformat(before) - timedelta(days=lookback_days)
    return _read_window(spark, workspace, PARTY_DAILY, PARTY_DAILY_SCHEMA, first, last)
