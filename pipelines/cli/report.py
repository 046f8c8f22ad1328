"""shiprisk report --input DIR --workspace W --from D1 --to D2 [--out FILE]: the trend report of a period."""
from __future__ import annotations


def register(parser):
    parser.add_argument("--input", required=True, help="input root (DATA_CONTRACT.md layout): outcomes and parties")
    parser.add_argument("--workspace", required=True, help="workspace holding features/, scores/ and runs/")
    parser.add_argument("--from", dest="first", required=True, help="first lodging day of the period (YYYY-MM-DD)")
    parser.add_argument("--to", dest="last", required=True, help="last lodging day of the period (YYYY-MM-DD)")
    parser.add_argument("--out", help="HTML file to write (default: W/reports/trends_<from>_<to>.html)")


def run(args) -> int:
    from pipelines.io.settings import load_config
    from pipelines.io.progress import Progress
    from pipelines.jobs.windows import days_between, parse_day

    first, last = parse_day(args.first, "from"), parse_day(args.last, "to")
    days_between(first, last)  # an empty period is a user error, before Spark starts
    cfg, rcfg = load_config(), load_config("report")
    progress = Progress("report")
    path, overview = write_trend_report(cfg, rcfg, args.input, args.workspace, first, last, args.out, progress)
    print(f"\nshiprisk report finished in {progress.elapsed:.0f}s")
    for key, value in overview:
        print(f"  {key:<28}{value}")
    print(f"  {'report':<28}{path}")
    return 0


def write_trend_report(cfg, rcfg, input_root, workspace, first, last, out, progress) -> tuple[str, list]:
    """Computes, writes and logs the report; returns its path and the overview rows."""
    import datetime as dt
    from pathlib import Path

    from pipelines.outputs import trend_report as report

    from pipelines.io import tracking

    from pipelines.outputs import trends
    from pipelines.io.spark import get_spark

    with progress.stage("start Spark"):
        spark = get_spark(cfg)
    with progress.stage(f"read features, outcomes and nightly scores of {first}..{last}"):
        period = trends.load_period(spark, workspace, input_root, first, last, int(rcfg["outcome_partition_lag_days"]))
        period.features = period.features.select(*report.feature_columns(rcfg)).cache()
        overview = _overview(period, workspace, input_root)
    sections = report.build_sections(spark, cfg, rcfg, period, input_root, workspace, progress)
    period.features.unpersist()
    target = Path(out) if out else Path(workspace) / rcfg["output"].format(first=first, last=last)
    with progress.stage(f"write {target}"):
        generated = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        html = report.render_html(f"Counterfeit risk trends {first}..{last}", [*overview, ("generated (UTC)", generated)],
                                  sections)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    with progress.stage("log to MLflow"):
        tracking.configure(cfg, workspace)
        with tracking.run(rcfg["experiment"], workspace, f"report {first}..{last}", tags={"kind": "report"}) as run:
            tracking.log_params({"from": first, "to": last, "input_root": input_root, "bucket": rcfg["bucket"],
                                 "nights": len(period.nights), "feature_days": len(period.feature_days)})
            tracking.log_artifact(str(target), "report")
            run_id = run.info.run_id
    return str(target.resolve()), [*overview, ("MLflow run", f"{run_id} (experiment {rcfg['experiment']})")]


def _overview(period, workspace: str, input_root: str) -> list[tuple[str, str]]:
    from pipelines.outputs import trends

    totals = trends.rates_over_time(period.features, period.outcomes, [], None).iloc[0]
    span = (period.last - period.first).days + 1
    missing = span - len(period.feature_days)
    hit = f"{totals['hit_rate']:.4f}" if totals["inspected"] else "no inspection known"
    return [
        ("period", f"{period.first}..{period.last} ({span} days)"),
        ("workspace", workspace), ("input root", input_root),
        ("days with features", f"{len(period.feature_days)} of {span}"
         + (f" ({missing} without: run `shiprisk features` for them)" if missing else "")),
        ("consignments", str(int(totals["consignments"]))),
        ("inspected / seized", f"{int(totals['inspected'])} / {int(totals['seized'])} (latest outcome known on "
                               f"{period.last}); hit rate {hit}"),
        ("nights with scores", ", ".join(period.nights) if period.nights else "none"),
    ]
