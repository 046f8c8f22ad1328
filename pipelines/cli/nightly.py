"""shiprisk nightly --input DIR --workspace W --date D"""
from __future__ import annotations


def register(parser):
    parser.add_argument("--input", required=True, help="input root laid out as DATA_CONTRACT.md")
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--date", required=True, help="lodging day to score, YYYY-MM-DD")


def run(args) -> int:
    from pipelines.io.context import open_context
    from pipelines.io.workspace import parse_day
    from pipelines.jobs.nightly import nightly

    day = parse_day(args.date)
    ctx = open_context("nightly", args.workspace)
    summary = nightly(ctx, args.input, day)
    c = summary["counts"]
    print(f"nightly {day}: {c['consignments_read']} consignments read, {c['consignments_scored']} scored, "
          f"{c['consignments_quarantined']} quarantined, {c['selected']} selected "
          f"({', '.join(f'{k} {v}' for k, v in sorted(summary['selection_by_basis'].items()))}); "
          f"model version {summary['model_version']}")
    print(f"scores: {summary['outputs']['scores']}\nlists:  {summary['outputs']['lists']}")
    print(f"record: {ctx.workspace.summary(day.isoformat())}")
    if summary["drift_warnings"]:
        print(f"drift warning (PSI above threshold): {', '.join(summary['drift_warnings'])}; see docs/operations.md")
    return 0
