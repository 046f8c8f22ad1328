"""shiprisk validate --input DIR --date D [--date D2 ...] [--workspace W]"""
from __future__ import annotations


def register(parser):
    parser.add_argument("--input", required=True, help="input root laid out as DATA_CONTRACT.md")
    parser.add_argument("--date", required=True, action="append",
                        help="lodging day to check, YYYY-MM-DD (repeat for several days)")
    parser.add_argument("--workspace", default=None,
                        help="where quarantine/ and runs/date=D/validation.html go (default: validation.yaml's default_workspace)")


def run(args) -> int:
    from pipelines.io.settings import load_config
    from pipelines.io.progress import Progress
    from pipelines.io.spark import get_spark
    from pipelines.validation.inputs import validate_inputs, validation_config
    from pipelines.jobs.windows import parse_day

    days = [parse_day(d).isoformat() for d in args.date]
    cfg = load_config()
    workspace = args.workspace or validation_config(cfg)["default_workspace"]
    progress = Progress("validate")
    with progress.stage("start Spark"):
        spark = get_spark(cfg)
    # A feed-level failure raises FeedError: the CLI prints its message and exits 2.
    summary = validate_inputs(spark, cfg, args.input, days, workspace, progress=progress).summary
    print(f"feed OK for {', '.join(days)}: {summary['consignments_read']} consignments read, "
          f"{summary['consignments_valid']} valid, {summary['consignments_quarantined']} quarantined")
    for name, s in summary["datasets"].items():
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(s["by_reason"].items(), key=lambda kv: -kv[1]))
        print(f"  {name:<15} {s['rows_read']:>9} read {s['rows_valid']:>9} valid {s['rows_quarantined']:>7} quarantined"
              + (f"  ({reasons})" if reasons else ""))
    print(f"report: {summary['data_docs']}\nquarantine: {workspace}/quarantine/date=D/<dataset>/")
    return 0
