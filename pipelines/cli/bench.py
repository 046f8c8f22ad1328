"""shiprisk bench --per-day N --history-days H [--history-per-day M] [--out FILE]"""
from __future__ import annotations


def register(parser):
    parser.add_argument("--per-day", default="100000",
                        help="consignments in the benchmarked night; several sizes comma-separated share one history")
    parser.add_argument("--history-days", type=int, default=90, help="days of history before the night")
    parser.add_argument("--history-per-day", type=int, default=5_000, help="consignments per history day")
    parser.add_argument("--workspace", default="bench-workspace")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=None, help="JSON file for the figures (default: WORKSPACE/bench.json)")
    parser.add_argument("--reuse-history", action="store_true",
                        help="keep the history, aggregates and champion already in WORKSPACE from an earlier "
                             "run with the same --history-days, and only run the nights")
    parser.add_argument("--stages", default="night,scoring",
                        help="comma-separated: night (a full nightly run at H and at 2H days of history), "
                             "scoring (Spark against in-process predict_proba)")


def run(args) -> int:
    import json
    import shutil
    from pathlib import Path

    from pipelines.devtools.benchmark import bench_scoring, peak_memory_mb
    from pipelines.io.settings import load_config
    from pipelines.io.progress import Progress
    from pipelines.io.spark import get_spark

    cfg = load_config()
    progress = Progress("bench")
    stages = {s.strip() for s in args.stages.split(",") if s.strip()}
    ws = Path(args.workspace).resolve()
    if args.reuse_history and not (ws / "single").is_dir():
        from pipelines.errors import UserError

        raise UserError(f"--reuse-history: {ws} holds no earlier benchmark history; run once without it")
    if not args.reuse_history:
        shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(parents=True, exist_ok=True)
    spark = get_spark(cfg)
    results = {"args": {k: v for k, v in vars(args).items() if not k.startswith("_")}, "ratios": {}}
    if "night" in stages:
        _bench_nights(spark, cfg, args, ws, progress, results)
    if "scoring" in stages:
        with progress.stage(f"scoring {max(_sizes(args.per_day)):,} rows: Spark against in-process"):
            results["scoring"] = bench_scoring(spark, cfg, max(_sizes(args.per_day)), args.seed)
        results["ratios"]["spark_scoring_over_in_process_throughput"] = results["scoring"]["spark_to_in_process_throughput"]
    results["peak_memory_mb"] = peak_memory_mb(spark)
    out = Path(args.out) if args.out else ws / "bench.json"
    out.write_text(json.dumps(results, indent=2))
    _print(results, out)
    return 0


def _bench_nights(spark, cfg, args, ws, progress, results) -> None:
    import datetime as dt

    from pipelines.devtools.benchmark import bench_nightly, copy_history, peak_memory_mb, place_night, seed_history
    from pipelines.devtools.synthetic import generate
    from pipelines.jobs.train import train

    start, h = dt.date(2026, 1, 1), args.history_days
    root, single, double = ws / "input", ws / "single", ws / "double"
    night = (start + dt.timedelta(days=2 * h)).isoformat()
    # Both workspaces register against one store, so the night in each uses the same champion.
    cfg["mlflow"]["tracking_uri"] = f"sqlite:///{ws / 'mlflow.db'}"
    days = [(start + dt.timedelta(days=i)).isoformat() for i in range(2 * h)]
    if not args.reuse_history:
        with progress.stage(f"generate {2 * h} days x {args.history_per_day:,} consignments of history"):
            generate(str(root), start, 2 * h, args.history_per_day, args.seed)
        with progress.stage(f"seed {2 * h} days of aggregates"):
            results["seed_history"] = seed_history(spark, cfg, str(root), str(double), days, progress)
        train_days = min(2 * int(cfg["evaluation"]["holdout_days"]), len(days))
        with progress.stage(f"train the champion on the last {train_days} days of history"):
            trained = train(spark, cfg, str(root), str(double), dt.date.fromisoformat(days[-train_days]),
                            dt.date.fromisoformat(days[-1]), progress)
        results["model_version"] = trained["version"]
        # The single-history workspace has kept only the last H days, the double one all 2H.
        copy_history(double, single, days[h:])
    results["nights"] = []
    for size in _sizes(args.per_day):
        with progress.stage(f"generate a night of {size:,} consignments"):
            generated = place_night(root, dt.date.fromisoformat(night), size, args.seed + 1, days[-30:])
        one = {"per_day": size, "generate_seconds": generated}
        for label, workspace, days_kept in (("single_history", single, h), ("double_history", double, 2 * h)):
            with progress.stage(f"night of {size:,} with {days_kept} days of history"):
                one[label] = bench_nightly(spark, cfg, str(root), str(workspace), night, f"{size:,}/{days_kept}d")
        s, d = one["single_history"], one["double_history"]
        one["ratios"] = {
            "night_features_double_over_single_history": round(d["features_seconds"] / s["features_seconds"], 3),
            "nightly_double_over_single_history": round(d["nightly_seconds"] / s["nightly_seconds"], 3),
            # What validation adds to the night: its stage against everything else the night does.
            "validation_stage_over_rest_of_night": round(s["validate_seconds"] / (s["nightly_seconds"] - s["validate_seconds"]), 3),
            # Net of reading the files, which the night pays with or without validation.
            "validation_added_to_night": round(_added(s) / (s["nightly_seconds"] - _added(s)), 3),
        }
        one["peak_memory_mb_so_far"] = peak_memory_mb(spark)
        results["nights"].append(one)


def _added(night: dict) -> float:
    return max(night["validate_seconds"] - night["read_without_validation_seconds"], 0.0)


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in str(text).split(",") if part.strip()]


def _print(r: dict, out) -> None:
    h = r["args"]["history_days"]
    if "seed_history" in r:
        print(f"\nhistory seeded: {r['seed_history']['consignments']:,} consignments over "
              f"{r['seed_history']['days']} days in {r['seed_history']['validate_seconds'] + r['seed_history']['aggregates_seconds']:.0f} s")
    for one in r.get("nights", []):
        s, d = one["single_history"], one["double_history"]
        print(f"\nnight of {s['night_consignments']:,} consignments")
        print(f"{'stage':<32}{'history ' + str(h) + 'd':>16}{'history ' + str(2 * h) + 'd':>16}")
        for key in ("nightly_seconds", "validate_seconds", "read_without_validation_seconds", "features_seconds", "rest_seconds",
                    "nightly_rows_per_s", "validate_rows_per_s", "features_rows_per_s"):
            print(f"{key:<32}{s[key]:>16}{d[key]:>16}")
        for k, v in one["ratios"].items():
            print(f"{k:<52}{v}")
        print("peak memory so far (MB): " + ", ".join(f"{k} {v}" for k, v in one["peak_memory_mb_so_far"].items()))
    if "scoring" in r:
        sc = r["scoring"]
        print(f"\nscoring {sc['rows']:,} rows: in-process {sc['in_process_rows_per_s']:,} rows/s "
              f"({sc['in_process_seconds']} s), Spark {sc['spark_rows_per_s']:,} rows/s ({sc['spark_seconds']} s)")
    for k, v in r["ratios"].items():
        print(f"{k:<52}{v}")
    print("peak memory (MB): " + ", ".join(f"{k} {v}" for k, v in r["peak_memory_mb"].items()))
    print(f"figures written to {out}")
