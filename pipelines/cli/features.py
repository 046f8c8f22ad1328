"""shiprisk features --input DIR --workspace W --from D1 --to D2"""
from __future__ import annotations

from pipelines.cli.args import add_window_args


def register(parser):
    add_window_args(parser, "workspace folder; the features of day D go to its features folder")


def run(args) -> int:
    from pyspark.sql import functions as F

    from pipelines.io.context import open_context
    from pipelines.io.workspace import day_folder, days_between, parse_day
    from pipelines.jobs.features import backfill_features

    first, last = parse_day(args.date_from, "from"), parse_day(args.date_to, "to")
    days_between(first, last)  # a reversed window is a UserError with a clear message
    ctx = open_context("features", args.workspace)
    table = backfill_features(ctx, args.input, first, last)
    per_day = table.groupBy("lodged_date").agg(F.count(F.lit(1)).alias("n")).orderBy("lodged_date").collect()
    for row in per_day:  # one row per day
        print(f"{row['lodged_date']}: {row['n']} consignments -> {day_folder(ctx.workspace.features, row['lodged_date'])}/")
    if not per_day:
        print(f"no valid consignments lodged {first}..{last} under {args.input}; check --input and the dates")
    return 0
