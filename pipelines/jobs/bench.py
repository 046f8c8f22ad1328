"""`shiprisk bench`: a real nightly run at H and 2H days of stored history, and Spark scoring
against in-process scoring; the command prints the figures (pipelines/cli/bench.py)."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from pipelines.devtools.benchmark import (
    bench_nightly,
    bench_scoring,
    copy_history,
    peak_memory_mb,
    place_night,
    seed_history,
)
from pipelines.devtools.synthetic import generate
from pipelines.errors import UserError
from pipelines.io.context import RunContext
from pipelines.io.progress import Progress
from pipelines.io.workspace import Workspace
from pipelines.jobs.train import train


@dataclass(frozen=True)
class BenchOptions:
    sizes: list[int]
    history_days: int
    history_per_day: int
    seed: int
    reuse_history: bool
    stages: set[str]


def run_bench(ctx: RunContext, options: BenchOptions, out: str | None) -> tuple[dict, Path]:
    """Runs the chosen stages in ctx's workspace; returns the figures and the JSON file written."""
    ws = Path(ctx.workspace.root)
    if options.reuse_history and not (ws / "single").is_dir():
        raise UserError(f"--reuse-history: {ws} holds no earlier benchmark history; run once without it")
    if not options.reuse_history:
        shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(parents=True, exist_ok=True)
    results = {"options": {**vars(options), "stages": sorted(options.stages)}, "ratios": {}}
    if "night" in options.stages:
        _bench_nights(ctx, options, results)
    if "scoring" in options.stages:
        rows = max(options.sizes)
        with ctx.progress.stage(f"scoring {rows:,} rows: Spark against in-process"):
            results["scoring"] = bench_scoring(ctx.spark, ctx.settings, rows, options.seed)
        results["ratios"]["spark_scoring_over_in_process_throughput"] = results["scoring"]["spark_to_in_process_throughput"]
    results["peak_memory_mb"] = peak_memory_mb(ctx.spark)
    target = Path(out) if out else ws / "bench.json"
    target.write_text(json.dumps(results, indent=2))
    return results, target


def _night_context(ctx: RunContext, settings: dict, root: Path, label: str) -> RunContext:
    return RunContext(settings, Workspace(str(root)), Progress(f"bench night, {label}"), ctx.spark)


def _bench_nights(ctx: RunContext, options: BenchOptions, results: dict) -> None:
    start, h, progress = dt.date(2026, 1, 1), options.history_days, ctx.progress
    ws = Path(ctx.workspace.root)
    root, single, double = ws / "input", ws / "single", ws / "double"
    night = (start + dt.timedelta(days=2 * h)).isoformat()
    # Both workspaces register against one store, so the night in each uses the same champion.
    settings = {**ctx.settings, "mlflow": {**ctx.settings["mlflow"], "tracking_uri": f"sqlite:///{ctx.workspace.mlflow_db}"}}
    in_double = replace(ctx, settings=settings, workspace=Workspace(str(double)))
    days = [(start + dt.timedelta(days=i)).isoformat() for i in range(2 * h)]
    if not options.reuse_history:
        with progress.stage(f"generate {2 * h} days x {options.history_per_day:,} consignments of history"):
            generate(str(root), start, 2 * h, options.history_per_day, options.seed, settings["synthetic"])
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
