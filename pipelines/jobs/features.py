"""The feature job: reference data in, daily aggregates kept, feature table out.

Workspace layout (Parquet, one folder per day; writing a day replaces its folder, so a
re-run or a back-fill over days already built is idempotent):

    <workspace>/aggregates/route_daily/date=D/        consignments per exact route
    <workspace>/aggregates/hub_region_daily/date=D/   consignments per (last hub, destination region)
    <workspace>/aggregates/hs6_daily/date=D/          ln unit-value histogram per main HS6
    <workspace>/aggregates/party_daily/date=D/        see pipelines/io/history_store.py
    <workspace>/features/date=D/                      the feature table of consignments lodged on D

The nightly run passes one day of inputs: it writes that day's aggregates and reads the
stored aggregates of the look-back, never the raw history.
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.io.settings import load_config, reference_path
from pipelines.io.progress import Progress
from pipelines.io.filesystem import hadoop_fs

REFERENCE_SCHEMAS = {
    "countries": "iso2 string, name string, region string, belt_and_road int, note string, source string",
    "ports": "locode string, name string, country string, lat double, lon double, is_hub int, is_ftz int",
    "hs_groups": "hs_prefix string, hs_group string, counterfeit_prone int",
}
AGGREGATE_SCHEMAS = {
    "route_daily": "date date, route_key string, n_consignments long",
    "hub_region_daily": "date date, route_hub string, dest_region string, n_consignments long",
    "hs6_daily": "date date, hs6 string, log_value_bucket int, n_consignments long",
}


def load_reference(spark: SparkSession) -> dict[str, DataFrame]:
    """The conf/reference CSV files as frames with explicit schemas."""
    frames = {}
    for name, schema in REFERENCE_SCHEMAS.items():
        path = str(reference_path(f"{name}.csv"))
        frames[name] = spark.read.option("header", True).schema(schema).csv(path)
    return frames


def feature_conf(cfg: dict | None = None) -> dict:
    """conf/base/features.yaml (a `features` section already in cfg wins, for tests and overrides)."""
    conf = load_config("features")
    if cfg and isinstance(cfg.get("features"), dict):
        conf = {**conf, "features": {**conf["features"], **cfg["features"]}}
    return conf


def _uri(workspace: str, *parts: str) -> str:
    return "/".join([workspace.rstrip("/"), *parts])


def stored_days(spark: SparkSession, uri: str) -> list[str]:
    """Days with a date=D folder under uri."""
    fs, path = hadoop_fs(spark, f"{uri}/date=*")
    statuses = fs.globStatus(path) or []
    return sorted(str(s.getPath().getName()).split("=", 1)[1] for s in statuses if s.isDirectory())


def replace_days(spark: SparkSession, frame: DataFrame, uri: str, day_column: str, days: list[str]) -> None:
    """Make uri/date=D hold exactly frame's rows of day D, for each D in days."""
    for day in days:
        fs, path = hadoop_fs(spark, f"{uri}/date={day}")
        if fs.exists(path):
            fs.delete(path, True)
    wanted = [dt.date.fromisoformat(d) for d in days]
    out = frame.where(F.col(day_column).isin(wanted)).withColumn("date", F.date_format(day_column, "yyyy-MM-dd"))
    # One file per day: the folders are read back day by day and stay small.
    out.repartition("date").write.mode("append").partitionBy("date").parquet(uri)


def read_days(spark: SparkSession, uri: str, first: dt.date, last: dt.date, schema: str) -> DataFrame:
    """Rows of the stored days in [first, last], with `date` as a DATE column."""
    days = [d for d in stored_days(spark, uri) if first <= dt.date.fromisoformat(d) <= last]
    empty = spark.createDataFrame([], schema)
    if not days:
        return empty
    struct = empty.schema
    body = T.StructType([f for f in struct.fields if f.name != "date"])
    # Each leaf folder is read as its own root, so Spark infers no partition column.
    frame = spark.read.schema(body).parquet(*[f"{uri}/date={d}" for d in days])
    # The partition column comes back as the folder name; typed explicitly, not inferred.
    with_day = frame.withColumn("date", F.to_date(F.regexp_extract(F.col("_metadata.file_path"), r"date=(\d{4}-\d{2}-\d{2})", 1)))
    return with_day.select(*[F.col(f.name) for f in struct.fields])


def _lodging_days(consignments: DataFrame) -> list[str]:
    # One row per day: small whatever the data size.
    rows = consignments.select(F.date_format("lodged_date", "yyyy-MM-dd").alias("d")).distinct().collect()
    return sorted(r["d"] for r in rows)


def _party_store():
    # Imported late: the store builds on this module's day-folder helpers.
    from pipelines.io import history_store

    return history_store


def update_history(spark, workspace, consignments, inputs, reference, days, store, params) -> None:
    """Write the daily aggregates of `days`, then read the look-back every target day needs."""
    from features.table import build_daily_aggregates

    aggregates = build_daily_aggregates(consignments, reference, params)
    for name, frame in aggregates.items():
        replace_days(spark, frame, _uri(workspace, "aggregates", name), "date", days)
    store.update_party_daily(spark, workspace, consignments, inputs["outcomes"], days)


def read_history(spark, workspace, dates, params, store) -> dict[str, DataFrame]:
    first, last = dt.date.fromisoformat(min(dates)), dt.date.fromisoformat(max(dates))
    lookback = max(int(params["route_lookback_days"]), int(params["unit_value_lookback_days"]))
    history = {
        name: read_days(spark, _uri(workspace, "aggregates", name), first - dt.timedelta(days=lookback),
                        last - dt.timedelta(days=1), schema)
        for name, schema in AGGREGATE_SCHEMAS.items()
    }
    span = (last - first).days
    history["party_daily"] = store.read_party_daily(spark, workspace, before=max(dates),
                                                    lookback_days=store.lookback_days() + span)
    return history


def update_aggregates(spark: SparkSession, cfg: dict, inputs: dict[str, DataFrame], workspace: str,
                      progress: Progress | None = None) -> DataFrame:
    """Write the daily aggregates of every lodging day in `inputs`; return its consignments.

    This is all a day leaves behind for later days' look-back: seeding a workspace's history
    needs only this, not the feature table of the past.
    """
    from features.consignments import build_consignments

    progress = progress or Progress("features", quiet=True)
    params = feature_conf(cfg)["features"]
    consignments = build_consignments(inputs["manifests"], inputs["declarations"], inputs.get("fx_rates"),
                                      params["fx_fallback_hkd_per_unit"])
    # Materialised once: every family and aggregate starts from it, and a truncated lineage
    # keeps the feature table's query plan small enough to analyse quickly.
    consignments = consignments.localCheckpoint()
    with progress.stage("update daily aggregates"):
        days = _lodging_days(consignments)
        if days:
            update_history(spark, workspace, consignments, inputs, load_reference(spark), days, _party_store(), params)
    return consignments


def build_features(spark: SparkSession, cfg: dict, inputs: dict[str, DataFrame], dates: list[str], workspace: str,
                   progress: Progress | None = None) -> DataFrame:
    """Build, write and return the feature table of consignments lodged on `dates`.

    inputs: valid typed contract frames (partitioned ones with partition_date) covering at
    least `dates`; days of inputs before `dates` are written to the aggregates too, so a
    back-fill can pass its look-back days and have their history.
    """
    from features.table import build_feature_table

    if not dates:
        raise ValueError("build_features needs at least one lodging day in `dates`")
    progress = progress or Progress("features", quiet=True)
    params = feature_conf(cfg)["features"]
    store = _party_store()
    consignments = update_aggregates(spark, cfg, inputs, workspace, progress)
    with progress.stage("read look-back aggregates"):
        history = read_history(spark, workspace, dates, params, store)
    targets = consignments.where(F.col("lodged_date").isin([dt.date.fromisoformat(d) for d in dates]))
    party_params = store.party_params()
    table = build_feature_table(targets, inputs, load_reference(spark), history, params, party_params)
    out = _uri(workspace, "features")
    with progress.stage(f"write features {min(dates)}..{max(dates)}"):
        replace_days(spark, table, out, "lodged_date", sorted(dates))
    return read_features(spark, workspace, dates)


def read_features(spark: SparkSession, workspace: str, dates: list[str]) -> DataFrame:
    """The stored feature table of `dates` (lodged_date restored from the folder)."""
    uri = _uri(workspace, "features")
    days = [d for d in sorted(dates) if d in set(stored_days(spark, uri))]
    from features.table import KEY_COLUMNS, table_schema

    schema = table_schema()
    if not days:
        return spark.createDataFrame([], schema)
    body = T.StructType([f for f in schema.fields if f.name != "lodged_date"])
    frame = spark.read.schema(body).parquet(*[f"{uri}/date={d}" for d in days])
    day = F.to_date(F.regexp_extract(F.col("_metadata.file_path"), r"date=(\d{4}-\d{2}-\d{2})", 1))
    return frame.withColumn("lodged_date", day).select(*KEY_COLUMNS, *[f.name for f in schema.fields if f.name not in KEY_COLUMNS])


def _days(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def history_days_to_read(spark: SparkSession, cfg: dict, workspace: str, first: dt.date) -> list[str]:
    """Look-back days before `first` whose aggregates are not in the workspace yet."""
    params = feature_conf(cfg)["features"]
    store = _party_store()
    lookback = max(int(params["route_lookback_days"]), int(params["unit_value_lookback_days"]))
    stored = set(stored_days(spark, _uri(workspace, "aggregates", "route_daily")))
    lookback = max(lookback, store.lookback_days())
    stored &= set(stored_days(spark, _uri(workspace, "aggregates", "party_daily")))
    wanted = _days(first - dt.timedelta(days=lookback), first - dt.timedelta(days=1))
    return [d for d in wanted if d not in stored]


def read_valid_inputs(spark: SparkSession, cfg: dict, input_root: str, days: list[str], workspace: str,
                      progress: Progress) -> dict[str, DataFrame]:
    """Valid typed inputs of `days` (bad rows quarantined in the workspace)."""
    from pipelines.validation.inputs import validate_inputs

    return validate_inputs(spark, cfg, input_root, days, workspace, progress=progress).valid


def backfill_features(spark: SparkSession, cfg: dict, input_root: str, workspace: str, first: dt.date,
                      last: dt.date, progress: Progress) -> DataFrame:
    """Features of every lodging day from first to last; look-back days without stored aggregates
    are read from the input root too, so the first days see their full history."""
    days = _days(first, last)
    with progress.stage("find look-back days without aggregates"):
        available = set(stored_days(spark, _uri(input_root, "manifests")))
        missing = [d for d in history_days_to_read(spark, cfg, workspace, first) if d in available]
    progress.say(f"reading {len(days)} target day(s) and {len(missing)} look-back day(s) from {input_root}")
    inputs = read_valid_inputs(spark, cfg, input_root, missing + days, workspace, progress)
    return build_features(spark, cfg, inputs, days, workspace, progress=progress)
