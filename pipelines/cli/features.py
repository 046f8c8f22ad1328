"""shiprisk features --input DIR --workspace W --from D1 --to D2"""
from __future__ import annotations

from pipelines.cli.args import add_window_args


def register(parser):
    add_window_args(parser, "workspace folder; features go to W/features/date=D/")


def run(args) -> int:
    from pyspark.sql import functions as F

    from pipelines.io.settings import load_config
    from pipelines.jobs.features import backfill_features
    from pipelines.io.progress import Progress
    from pipelines.io.spark import get_spark
    from pipelines.jobs.windows import days_between, parse_day

    first, last = parse_day(args.date_from, "from"), parse_day(args.date_to, "to")
    days_between(first, last)  # a reversed window is a UserError with a clear message
    cfg = load_config()
    progress = Progress("features")
    with progress.stage("start Spark"):
        spark = get_spark(cfg)
    table = backfill_features(spark, cfg, args.input, args.workspace, first, last, progress)
    per_day = table.groupBy("lodged_date").agg(F.count(F.lit(1)).alias("n")).orderBy("lodged_date").collect()
    for row in per_day:  # one row per day
        print(f"{row['lodged_date']}: {row['n']} consignments -> {args.workspace.rstrip('/')}/features/date={row['lodged_date']}/")
    if not per_day:
        print(f"no valid consignments lodged {first}..{last} under {args.input}; check --input and the dates")
    return 0
