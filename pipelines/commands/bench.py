"""shiprisk bench --per-day N --history-days H [--history-per-day M] [--out FILE]"""
from __future__ import annotations


def register(parser):
    parser.add_argument("--per-day", type=int, default=100_000, help="consignments in the benchmarked night")
    parser.add_argument("--history-days", type=int, default=90, help="days of history before the night")
    parser.add_argument("--history-per-day", type=int, default=5_000, help="consignments per history day")
    parser.add_argument("--workspace", default="bench-workspace")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=None, help="JSON file for the figures (default: WORKSPACE/bench.json)")
    parser.add_argument("--stages", default="night,scoring",
                        help="comma-separated: night (validation and features at H and 2H days of history), "
                             "scoring (Spark against in-process predict_proba)")


def run(args) -> int:
    import json
    import shutil
    from pathlib import Path

    from pipelines.benchmark import bench_scoring, peak_memory_mb
    from pipelines.config import load_config
    from pipelines.progress import Progress
    from pipelines.spark import get_spark

    cfg = load_config()
    progress = Progress("bench")
    stages = {s.strip() for s in args.stages.split(",") if s.strip()}
    ws = Path(args.workspace).resolve()
    shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(parents=True)
    spark = get_spark(cfg)
    results = {"args": {k: v for k, v in vars(args).items() if not k.startswith("_")}, "ratios": {}}
    if "night" in stages:
        _bench_nights(spark, cfg, args, ws, progress, results)
    if "scoring" in stages:
        with progress.stage(f"scoring {args.per_day:,} rows: Spark against in-process"):
            results["scoring"] = bench_scoring(spark, cfg, args.per_day, args.seed)
        results["ratios"]["spark_scoring_over_in_process_throughput"] = results["scoring"]["spark_to_in_process_throughput"]
    results["peak_memory_mb"] = peak_memory_mb(spark)
    out = Path(args.out) if args.out else ws / "bench.json"
    out.write_text(json.dumps(results, indent=2))
    _print(results, out)
    return 0


def _bench_nights(spark, cfg, args, ws, progress, results) -> None:
    import datetime as dt

    from pipelines.benchmark import bench_night, make_bench_root

    start = dt.date(2026, 1, 1)
    # Double history: the single-history run stores only the last H days, the double one 2H.
    with progress.stage("generate"):
        made = make_bench_root(ws / "input", start, 2 * args.history_days, args.history_per_day, args.per_day,
                               args.seed, progress)
    days = [(start + dt.timedelta(days=i)).isoformat() for i in range(2 * args.history_days)]
    results["generate"] = made["timings"]
    with progress.stage(f"night with {args.history_days} days of history"):
        results["single_history"] = bench_night(spark, cfg, str(ws / "input"), str(ws / "single"), made["night"],
                                                days[args.history_days:], progress)
    with progress.stage(f"night with {2 * args.history_days} days of history"):
        results["double_history"] = bench_night(spark, cfg, str(ws / "input"), str(ws / "double"), made["night"],
                                                days, progress)
    s, d = results["single_history"], results["double_history"]
    results["ratios"]["night_features_double_over_single_history"] = round(
        d["night_features_seconds"] / s["night_features_seconds"], 3)
    results["ratios"]["validation_share_of_night_validation_and_features"] = round(
        s["validate_seconds"] / (s["validate_seconds"] + s["night_features_seconds"]), 3)


def _print(r: dict, out) -> None:
    if "single_history" in r:
        s, d = r["single_history"], r["double_history"]
        print(f"\nnight of {s['night_consignments']:,} consignments")
        print(f"{'stage':<44}{'history ' + str(s['history_days']) + 'd':>16}{'history ' + str(d['history_days']) + 'd':>16}")
        for key in ("backfill_seconds", "validate_seconds", "night_features_seconds",
                    "validate_rows_per_s", "features_rows_per_s"):
            print(f"{key:<44}{s[key]:>16}{d[key]:>16}")
    if "scoring" in r:
        sc = r["scoring"]
        print(f"scoring {sc['rows']:,} rows: in-process {sc['in_process_rows_per_s']:,} rows/s "
              f"({sc['in_process_seconds']} s), Spark {sc['spark_rows_per_s']:,} rows/s ({sc['spark_seconds']} s)")
    for k, v in r["ratios"].items():
        print(f"{k:<52}{v}")
    print("peak memory (MB): " + ", ".join(f"{k} {v}" for k, v in r["peak_memory_mb"].items()))
    print(f"figures written to {out}")
