"""`shiprisk bench`: a real nightly run at H and 2H days of stored history, training on up to 90
days, a 30-day back-fill, and Spark scoring against in-process scoring; the command prints the
figures beside the previous recorded ones (docs/benchmarks.json, pipelines/cli/bench.py)."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

from pipelines.devtools.benchmark import (
    bench_nightly,
    bench_scoring,
    compare_with_recorded,
    copy_history,
    headline_figures,
    load_recorded,
    peak_memory_mb,
    place_night,
    record_figures,
    seed_history,
)
from pipelines.devtools.synthetic import generate
from pipelines.errors import UserError
from pipelines.io.context import RunContext
from pipelines.io.progress import Progress
from pipelines.io.spark import free_stored
from pipelines.io.workspace import Workspace
from pipelines.jobs.features import backfill_features
from pipelines.jobs.train import train

START = dt.date(2026, 1, 1)  # the generated history's first day
TRAIN_DAYS, BACKFILL_DAYS = 90, 30


@dataclass(frozen=True)
class BenchOptions:
    sizes: list[int]
    history_days: int
    history_per_day: int
    seed: int
    reuse_history: bool
    stages: set[str]
    recorded: Path | None = None  # the recorded figures compared with (docs/benchmarks.json)
    record: bool = False  # replace the recorded figures with this run's
    sql_conf: dict[str, str] | None = None  # runtime spark.sql.* settings for this run (A/B of a setting)


def run_bench(ctx: RunContext, options: BenchOptions, out: str | None) -> tuple[dict, Path]:
    """Runs the chosen stages in ctx's workspace; returns the figures and the JSON file written."""
    ws = Path(ctx.workspace.root)
    if options.reuse_history and not (ws / "single").is_dir():
        raise UserError(f"--reuse-history: {ws} holds no earlier benchmark history; run once without it")
    if not options.reuse_history:
        shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(parents=True, exist_ok=True)
    results = {"options": {**vars(options), "stages": sorted(options.stages), "recorded": str(options.recorded)},
               "ratios": {}, "load_average_at_start": os.getloadavg()[0]}
    for key, value in (options.sql_conf or {}).items():  # runtime SQL settings: the session may already exist
        ctx.spark.conf.set(key, value)
    if "night" in options.stages:
        _bench_nights(ctx, options, results)
    elif options.stages & {"train", "backfill"} and not options.reuse_history:
        _generate(ctx, options)
    if "train" in options.stages:
        _bench_train(ctx, options, results)
    if "backfill" in options.stages:
        _bench_backfill(ctx, options, results)
    if "scoring" in options.stages:
        rows = max(options.sizes)
        with ctx.progress.stage(f"scoring {rows:,} rows: Spark against in-process"):
            results["scoring"] = bench_scoring(ctx.spark, ctx.settings, rows, options.seed)
        results["ratios"]["spark_scoring_over_in_process_throughput"] = results["scoring"]["spark_to_in_process_throughput"]
    results["peak_memory_mb"] = peak_memory_mb(ctx.spark)
    results["load_average_at_end"] = os.getloadavg()[0]
    _compare(options, results)
    target = Path(out) if out else ws / "bench.json"
    target.write_text(json.dumps(results, indent=2))
    return results, target


def _night_context(ctx: RunContext, settings: dict, root: Path, label: str) -> RunContext:
    return RunContext(settings, Workspace(str(root)), Progress(f"bench night, {label}"), ctx.spark)


def _bench_nights(ctx: RunContext, options: BenchOptions, results: dict) -> None:
    start, h, progress = START, options.history_days, ctx.progress
    ws = Path(ctx.workspace.root)
    root, single, double = ws / "input", ws / "single", ws / "double"
    night = (start + dt.timedelta(days=2 * h)).isoformat()
    # Both workspaces register against one store, so the night in each uses the same champion.
    settings = {**ctx.settings, "mlflow": {**ctx.settings["mlflow"], "tracking_uri": f"sqlite:///{ctx.workspace.mlflow_db}"}}
    in_double = replace(ctx, settings=settings, workspace=Workspace(str(double)))
    days = [(start + dt.timedelta(days=i)).isoformat() for i in range(2 * h)]
    if not options.reuse_history:
        _generate(ctx, options)
        with progress.stage(f"seed {2 * h} days of aggregates"):
            results["seed_history"] = seed_history(in_double, str(root), days)
        train_days = min(2 * int(settings["evaluation"]["holdout_days"]), len(days))
        with progress.stage(f"train the champion on the last {train_days} days of history"):
            trained = train(in_double, str(root), dt.date.fromisoformat(days[-train_days]), dt.date.fromisoformat(days[-1]))
        results["model_version"] = trained["version"]
        # The single-history workspace has kept only the last H days, the double one all 2H.
        copy_history(Workspace(str(double)), Workspace(str(single)), days[h:])
    results["nights"] = []
    for size in options.sizes:
        with progress.stage(f"generate a night of {size:,} consignments"):
            generated = place_night(root, dt.date.fromisoformat(night), size, options.seed + 1, days[-30:],
                                    settings["synthetic"])
        one = {"per_day": size, "generate_seconds": generated}
        for label, workspace, days_kept in (("single_history", single, h), ("double_history", double, 2 * h)):
            with progress.stage(f"night of {size:,} with {days_kept} days of history"):
                night_ctx = _night_context(ctx, settings, workspace, f"{size:,}/{days_kept}d")
                one[label] = bench_nightly(night_ctx, str(root), night)
        s, d = one["single_history"], one["double_history"]
        one["ratios"] = {
            "night_features_double_over_single_history": round(d["features_seconds"] / s["features_seconds"], 3),
            "nightly_double_over_single_history": round(d["nightly_seconds"] / s["nightly_seconds"], 3),
            # What validation adds to the night: its stage against everything else the night does.
            "validation_stage_over_rest_of_night": round(s["validate_seconds"] / (s["nightly_seconds"] - s["validate_seconds"]), 3),
            # Net of reading the files, which the night pays with or without validation.
            "validation_added_to_night": round(_added(s) / (s["nightly_seconds"] - _added(s)), 3),
        }
        one["peak_memory_mb_so_far"] = peak_memory_mb(ctx.spark)
        results["nights"].append(one)


def _added(night: dict) -> float:
    return max(night["validate_seconds"] - night["read_without_validation_seconds"], 0.0)


def _generate(ctx: RunContext, options: BenchOptions) -> None:
    days = 2 * options.history_days
    with ctx.progress.stage(f"generate {days} days x {options.history_per_day:,} consignments of history"):
        generate(str(Path(ctx.workspace.root) / "input"), START, days, options.history_per_day, options.seed,
                 ctx.settings["synthetic"])


def _fresh_context(ctx: RunContext, name: str) -> RunContext:
    """A new workspace with its own MLflow store: the benchmark's champion stays as it was."""
    root = Path(ctx.workspace.root) / name
    shutil.rmtree(root, ignore_errors=True)
    workspace = Workspace(str(root))
    settings = {**ctx.settings, "mlflow": {**ctx.settings["mlflow"], "tracking_uri": f"sqlite:///{workspace.mlflow_db}"}}
    return RunContext(settings, workspace, Progress(f"bench {name}"), ctx.spark)


def _last_days(options: BenchOptions, wanted: int) -> tuple[dt.date, dt.date, int]:
    """The last `wanted` days of the generated history (fewer if it is shorter)."""
    days = min(wanted, 2 * options.history_days)
    last = START + dt.timedelta(days=2 * options.history_days - 1)
    return last - dt.timedelta(days=days - 1), last, days


def _bench_train(ctx: RunContext, options: BenchOptions, results: dict) -> None:
    """`shiprisk train` over the last 90 days of history, in a workspace of its own."""
    _bench_window(ctx, options, results, "train", TRAIN_DAYS, train)


def _bench_backfill(ctx: RunContext, options: BenchOptions, results: dict) -> None:
    """`shiprisk features --from --to` over the last 30 days, in a new workspace (its look-back
    days are read from the input root too, as a first back-fill does)."""
    _bench_window(ctx, options, results, "backfill", BACKFILL_DAYS, backfill_features)


def _bench_window(ctx: RunContext, options: BenchOptions, results: dict, key: str, wanted: int, job) -> None:
    """job(context, root, first, last) over the last `wanted` days, timed, in a fresh workspace."""
    first, last, days = _last_days(options, wanted)
    root = str(Path(ctx.workspace.root) / "input")
    with ctx.progress.stage(f"{key} on {days} days x {options.history_per_day:,} consignments"):
        free_stored(ctx.spark)
        t0 = time.perf_counter()
        job(_fresh_context(ctx, key), root, first, last)
        seconds = round(time.perf_counter() - t0, 2)
    results[key] = {"days": days, "per_day": options.history_per_day, "seconds": seconds,
                    "load_average": os.getloadavg()[0]}


def _compare(options: BenchOptions, results: dict) -> None:
    """This run's headline figures beside the recorded ones; with options.record, recorded."""
    figures = headline_figures(results)
    if options.recorded is None:
        results["against_recorded"] = compare_with_recorded(figures, {"figures": {}})
        return
    results["against_recorded"] = compare_with_recorded(figures, load_recorded(options.recorded))
    if options.record and figures:
        record_figures(options.recorded, figures, dt.date.today().isoformat(), round(results["load_average_at_end"], 2))
