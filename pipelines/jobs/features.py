"""The feature job: reference data in, daily aggregates kept, feature table out.

The workspace keeps, one folder per day (writing a day replaces its folder, so a re-run or
a back-fill over days already built is idempotent):

    aggregates route_daily       consignments per exact route
    aggregates hub_region_daily  consignments per (last hub, destination region)
    aggregates hs6_daily         ln unit-value histogram per main HS6
    aggregates party_daily       see pipelines/io/history_store.py
    features                     the feature table of consignments lodged on D

The nightly run passes one day of inputs: it writes that day's aggregates and reads the
stored aggregates of the look-back, never the raw history.
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.consignments import build_consignments
from features.table import build_daily_aggregates, build_feature_table
from pipelines.io import history_store as store
from pipelines.io.context import RunContext
from pipelines.io.feature_store import read_features
from pipelines.io.spark import cut_lineage
from pipelines.io.workspace import days_between, read_day_range, replace_days, stored_days
from pipelines.jobs.outcomes import refresh_recorded
from pipelines.validation.contract import DATASETS
from pipelines.validation.inputs import validate_inputs

AGGREGATE_SCHEMAS = {
    "route_daily": "date date, route_key string, n_consignments long",
    "hub_region_daily": "date date, route_hub string, dest_region string, n_consignments long",
    "hs6_daily": "date date, hs6 string, log_value_bucket int, n_consignments long",
}


def consignments_of(ctx: RunContext, inputs: dict[str, DataFrame]) -> DataFrame:
    """One row per consignment of the inputs, as every feature family and list sees it."""
    fallback = ctx.settings["features"]["fx_fallback_hkd_per_unit"]
    return build_consignments(inputs["manifests"], inputs["declarations"], inputs.get("fx_rates"), fallback,
                              units=ctx.reference["units"])


def _lodging_days(consignments: DataFrame) -> list[str]:
    # One row per day: small whatever the data size.
    rows = consignments.select(F.date_format("lodged_date", "yyyy-MM-dd").alias("d")).distinct().collect()
    return sorted(r["d"] for r in rows)


def _aggregate_lookback(settings: dict) -> int:
    params = settings["features"]
    return max(int(params["route_lookback_days"]), int(params["unit_value_lookback_days"]))


def update_history(ctx: RunContext, consignments: DataFrame, inputs: dict[str, DataFrame], days: list[str]) -> None:
    """Write the daily aggregates of `days`."""
    aggregates = build_daily_aggregates(consignments, ctx.reference, ctx.settings["features"])
    for name, frame in aggregates.items():
        replace_days(ctx.spark, frame, ctx.workspace.aggregate(name), "date", days)
    outcome_lookback = int(ctx.settings["parties"]["history_store"]["outcome_lookback_days"])
    store.update_party_daily(ctx.spark, ctx.workspace, consignments, inputs["outcomes"], days, outcome_lookback)


def history_gaps(stored: list[str], first: dt.date, lookback_days: int) -> list[str]:
    """Days missing from stored history inside the look-back of `first`, after its earliest stored day.

    Days before the earliest stored day are where the history starts (a new workspace), not a gap;
    a missing day after it is a night never run or back-filled, whose consignments every later
    look-back undercounts."""
    if not stored:
        return []
    start, held = min(stored), set(stored)
    window = days_between(first - dt.timedelta(days=lookback_days), first - dt.timedelta(days=1))
    return [d for d in window if d > start and d not in held]


def _warn_of_gaps(ctx: RunContext, first: dt.date) -> None:
    lookback = store.lookback_days(ctx.settings["parties"])
    stored = stored_days(ctx.spark, ctx.workspace.aggregate(store.PARTY_DAILY))
    gaps = history_gaps(stored, first, lookback)
    if gaps:
        ctx.progress.warn(
            f"the workspace's history misses {len(gaps)} day(s) in the look-back of {first} ({_day_runs(gaps)}): "
            "party and route history features undercount those days; back-fill them with "
            f"`shiprisk features --input <root> --workspace {ctx.workspace.root} --from {gaps[0]} --to {gaps[-1]}`")


def _day_runs(days: list[str]) -> str:
    """'2026-01-02..2026-01-04, 2026-01-09': consecutive days as ranges."""
    runs: list[list[str]] = []
    for day in days:
        if runs and dt.date.fromisoformat(day) - dt.date.fromisoformat(runs[-1][-1]) == dt.timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)


def read_history(ctx: RunContext, dates: list[str]) -> dict[str, DataFrame]:
    """The stored aggregates of the look-back that every one of `dates` needs."""
    first, last = dt.date.fromisoformat(min(dates)), dt.date.fromisoformat(max(dates))
    _warn_of_gaps(ctx, first)
    lookback = _aggregate_lookback(ctx.settings)
    history = {
        name: read_day_range(ctx.spark, ctx.workspace.aggregate(name), first - dt.timedelta(days=lookback),
                             last - dt.timedelta(days=1), schema, "date")
        for name, schema in AGGREGATE_SCHEMAS.items()
    }
    span = (last - first).days
    history["party_daily"] = store.read_party_daily(ctx.spark, ctx.workspace, before=max(dates),
                                                    lookback_days=store.lookback_days(ctx.settings["parties"]) + span)
    return history


def update_aggregates(ctx: RunContext, inputs: dict[str, DataFrame]) -> DataFrame:
    """Write the daily aggregates of every lodging day in `inputs`; return its consignments.

    This is all a day leaves behind for later days' look-back: seeding a workspace's history
    needs only this, not the feature table of the past.
    """
    # Materialised once: every family and aggregate starts from it, and a truncated lineage
    # keeps the feature table's query plan small enough to analyse quickly.
    consignments = cut_lineage(consignments_of(ctx, inputs))
    with ctx.progress.stage("update daily aggregates"):
        days = _lodging_days(consignments)
        if days:
            update_history(ctx, consignments, inputs, days)
    return consignments


def build_features(ctx: RunContext, inputs: dict[str, DataFrame], dates: list[str]) -> DataFrame:
    """Build, write and return the feature table of consignments lodged on `dates`.

    inputs: valid typed contract frames (partitioned ones with partition_date) covering at
    least `dates`; days of inputs before `dates` are written to the aggregates too, so a
    back-fill can pass its look-back days and have their history.
    """
    return build_features_and_consignments(ctx, inputs, dates)[0]


def build_features_and_consignments(ctx: RunContext, inputs: dict[str, DataFrame],
                                    dates: list[str]) -> tuple[DataFrame, DataFrame]:
    """build_features, and the consignments of `inputs` it was built from (materialised once), for
    a caller that also needs the shipment details (the nightly lists): no second build."""
    if not dates:
        raise ValueError("build_features needs at least one lodging day in `dates`")
    consignments = update_aggregates(ctx, inputs)
    with ctx.progress.stage("read look-back aggregates"):
        history = read_history(ctx, dates)
    targets = consignments.where(F.col("lodged_date").isin([dt.date.fromisoformat(d) for d in dates]))
    table = build_feature_table(targets, inputs, ctx.reference, history, ctx.settings["features"],
                                store.party_params(ctx.settings["parties"]), target_days=len(set(dates)))
    with ctx.progress.stage(f"write features {min(dates)}..{max(dates)}"):
        replace_days(ctx.spark, table, ctx.workspace.features, "lodged_date", sorted(dates))
    return read_features(ctx.spark, ctx.workspace, dates), consignments


def history_days_to_read(ctx: RunContext, first: dt.date) -> list[str]:
    """Look-back days before `first` whose aggregates are not in the workspace yet."""
    lookback = max(_aggregate_lookback(ctx.settings), store.lookback_days(ctx.settings["parties"]))
    stored = set(stored_days(ctx.spark, ctx.workspace.aggregate("route_daily")))
    stored &= set(stored_days(ctx.spark, ctx.workspace.aggregate(store.PARTY_DAILY)))
    wanted = days_between(first - dt.timedelta(days=lookback), first - dt.timedelta(days=1))
    return [d for d in wanted if d not in stored]


def backfill_features(ctx: RunContext, input_root: str, first: dt.date, last: dt.date) -> DataFrame:
    """Features of every lodging day from first to last; look-back days without stored aggregates
    are read from the input root too, so the first days see their full history."""
    days = days_between(first, last)
    with ctx.writer_lock(f"features {first}..{last}"):
        return _backfill(ctx, input_root, days, first)


def _backfill(ctx: RunContext, input_root: str, days: list[str], first: dt.date) -> DataFrame:
    with ctx.progress.stage("find look-back days without aggregates"):
        available = set(stored_days(ctx.spark, f"{input_root.rstrip('/')}/{DATASETS['manifests'].name}"))
        missing = [d for d in history_days_to_read(ctx, first) if d in available]
    ctx.progress.say(f"reading {len(days)} target day(s) and {len(missing)} look-back day(s) from {input_root}")
    # Outcomes inspected on those days: the input root's and the recorded results (the party history).
    recorded = refresh_recorded(ctx)
    inputs = validate_inputs(ctx, input_root, missing + days, recorded=recorded).valid
    return build_features(ctx, inputs, days)
