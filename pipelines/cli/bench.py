"""shiprisk bench --per-day N --history-days H [--history-per-day M] [--stages ...] [--record] [--out FILE]"""
from __future__ import annotations


def register(parser):
    parser.add_argument("--per-day", default="3000,100000,1000000",
                        help="consignments in the benchmarked night; several sizes comma-separated share one history")
    parser.add_argument("--history-days", type=int, default=90, help="days of history before the night")
    parser.add_argument("--history-per-day", type=int, default=5_000, help="consignments per history day")
    parser.add_argument("--workspace", default="bench-workspace")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=None, help="JSON file for the figures (default: WORKSPACE/bench.json)")
    parser.add_argument("--reuse-history", action="store_true",
                        help="keep the history, aggregates and champion already in WORKSPACE from an earlier "
                             "run with the same --history-days, and only run the nights")
    parser.add_argument("--stages", default="night,train,backfill",
                        help="comma-separated: night (a full nightly run at H and at 2H days of history), "
                             "train (train on the last 90 days of history), backfill (features of the last "
                             "30 days in a new workspace), scoring (Spark against in-process predict_proba)")
    parser.add_argument("--recorded", default=None,
                        help="JSON of the previous recorded figures, printed beside this run's with their ratio "
                             "(default: docs/benchmarks.json of the checkout)")
    parser.add_argument("--sql-conf", action="append", default=[], metavar="KEY=VALUE",
                        help="a runtime spark.sql.* setting for this run, e.g. spark.sql.adaptive.enabled=false "
                             "(repeatable): time a setting against the default before making it one")
    parser.add_argument("--record", action="store_true",
                        help="replace the recorded figures of the same names with this run's")


def run(args) -> int:
    from pathlib import Path

    from pipelines.io.context import open_context
    from pipelines.jobs.bench import BenchOptions, run_bench

    options = BenchOptions(sizes=_sizes(args.per_day), history_days=args.history_days,
                           history_per_day=args.history_per_day, seed=args.seed, reuse_history=args.reuse_history,
                           stages={s.strip() for s in args.stages.split(",") if s.strip()},
                           recorded=Path(args.recorded) if args.recorded else _default_recorded(), record=args.record,
                           sql_conf=_sql_conf(args.sql_conf))
    ctx = open_context("bench", str(Path(args.workspace).resolve()))
    results, out = run_bench(ctx, options, args.out)
    _print(results, out)
    return 0


def _sql_conf(items: list[str]) -> dict[str, str]:
    from pipelines.errors import UserError

    bad = [kv for kv in items if "=" not in kv or not kv.startswith("spark.sql.")]
    if bad:
        raise UserError(f"--sql-conf wants spark.sql.KEY=VALUE, got {', '.join(bad)}")
    return dict(kv.split("=", 1) for kv in items)


def _default_recorded():
    from pipelines.io.settings import conf_root

    return conf_root().parent / "docs" / "benchmarks.json"


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in str(text).split(",") if part.strip()]


def _print(r: dict, out) -> None:
    h = r["options"]["history_days"]
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
        print(f"{'spark_jobs':<32}{s['spark_jobs']:>16}{d['spark_jobs']:>16}")
        print("peak memory so far (MB): " + ", ".join(f"{k} {v}" for k, v in one["peak_memory_mb_so_far"].items()))
    if "scoring" in r:
        sc = r["scoring"]
        print(f"\nscoring {sc['rows']:,} rows: in-process {sc['in_process_rows_per_s']:,} rows/s "
              f"({sc['in_process_seconds']} s), Spark {sc['spark_rows_per_s']:,} rows/s ({sc['spark_seconds']} s)")
    for k, v in r["ratios"].items():
        print(f"{k:<52}{v}")
    if r.get("against_recorded"):
        print(f"\n{'figure (wall seconds)':<56}{'now':>10}{'recorded':>10}{'ratio':>8}")
        for row in r["against_recorded"]:
            previous = "-" if row["previous_seconds"] is None else row["previous_seconds"]
            ratio = "-" if row["ratio_to_previous"] is None else row["ratio_to_previous"]
            print(f"{row['figure']:<56}{row['seconds']:>10}{previous:>10}{ratio:>8}")
        print(f"load average: {r['load_average_at_start']:.1f} at start, {r['load_average_at_end']:.1f} at the end"
              + (f"; recorded in {r['options']['recorded']}" if r["options"].get("record") else ""))
    print("peak memory (MB): " + ", ".join(f"{k} {v}" for k, v in r["peak_memory_mb"].items()))
    print(f"figures written to {out}")
