"""shiprisk validate --input DIR --date D [--date D2 ...] [--workspace W]"""
from __future__ import annotations


def register(parser):
    parser.add_argument("--input", required=True, help="input root laid out as DATA_CONTRACT.md")
    parser.add_argument("--date", required=True, action="append",
                        help="lodging day to check, YYYY-MM-DD (repeat for several days)")
    parser.add_argument("--workspace", default=None,
                        help="workspace for the quarantined rows and the validation report (default: validation.yaml's default_workspace)")


def run(args) -> int:
    from pipelines.io.context import open_context
    from pipelines.io.settings import load_settings
    from pipelines.io.workspace import parse_day
    from pipelines.jobs.validate import validate

    days = [parse_day(d).isoformat() for d in args.date]
    settings = load_settings()
    ctx = open_context("validate", args.workspace or settings["validation"]["default_workspace"], settings)
    # A feed-level failure raises FeedError: the CLI prints its message and exits 2.
    summary = validate(ctx, args.input, days).summary
    print(f"feed OK for {', '.join(days)}: {summary['consignments_read']} consignments read, "
          f"{summary['consignments_valid']} valid, {summary['consignments_quarantined']} quarantined")
    for name, s in summary["datasets"].items():
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(s["by_reason"].items(), key=lambda kv: -kv[1]))
        print(f"  {name:<15} {s['rows_read']:>9} read {s['rows_valid']:>9} valid {s['rows_quarantined']:>7} quarantined"
              + (f"  ({reasons})" if reasons else ""))
    print(f"report: {summary['data_docs']}\nquarantine: {ctx.workspace.quarantine_day('D', '<dataset>')}/")
    return 0
