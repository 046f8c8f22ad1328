"""shiprisk report --input DIR --workspace W --from D1 --to D2 [--out FILE]: the trend report of a period."""
from __future__ import annotations


def register(parser):
    parser.add_argument("--input", required=True, help="input root (DATA_CONTRACT.md layout): outcomes and parties")
    parser.add_argument("--workspace", required=True, help="workspace holding the features, nightly scores and run records")
    parser.add_argument("--from", dest="first", required=True, help="first lodging day of the period (YYYY-MM-DD)")
    parser.add_argument("--to", dest="last", required=True, help="last lodging day of the period (YYYY-MM-DD)")
    parser.add_argument("--out", help="HTML file to write (default: trends_<from>_<to>.html in the workspace's reports)")


def run(args) -> int:
    from pipelines.io.context import open_context
    from pipelines.io.workspace import days_between, parse_day
    from pipelines.jobs.report import write_trend_report

    first, last = parse_day(args.first, "from"), parse_day(args.last, "to")
    days_between(first, last)  # an empty period is a user error, before Spark starts
    ctx = open_context("report", args.workspace)
    path, overview = write_trend_report(ctx, args.input, first, last, args.out)
    print(f"\nshiprisk report finished in {ctx.progress.elapsed:.0f}s")
    for key, value in overview:
        print(f"  {key:<28}{value}")
    print(f"  {'report':<28}{path}")
    return 0
