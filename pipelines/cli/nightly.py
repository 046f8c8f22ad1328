"""shiprisk nightly --input DIR --workspace W --date D"""
from __future__ import annotations


def register(parser):
    parser.add_argument("--input", required=True, help="input root laid out as DATA_CONTRACT.md")
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--date", required=True, help="lodging day to score, YYYY-MM-DD")


def run(args) -> int:
    from pipelines.io.settings import load_config
    from pipelines.jobs.nightly import nightly
    from pipelines.io.progress import Progress
    from pipelines.io.spark import get_spark
    from pipelines.jobs.windows import parse_day

    day = parse_day(args.date)
    cfg = load_config()
    progress = Progress("nightly")
    with progress.stage("start Spark"):
        spark = get_spark(cfg)
    summary = nightly(spark, cfg, args.input, args.workspace, day, progress)
    c = summary["counts"]
    print(f"nightly {day}: {c['consignments_read']} consignments read, {c['consignments_scored']} scored, "
          f"{c['consignments_quarantined']} quarantined, {c['selected']} selected "
          f"({', '.join(f'{k} {v}' for k, v in sorted(summary['selection_by_basis'].items()))}); "
          f"model version {summary['model_version']}")
    print(f"scores: {summary['outputs']['scores']}\nlists:  {summary['outputs']['lists']}")
    print(f"record: {args.workspace}/runs/date={day}/summary.json")
    if summary["drift_warnings"]:
        print(f"drift warning (PSI above threshold): {', '.join(summary['drift_warnings'])}; see docs/operations.md")
    return 0
