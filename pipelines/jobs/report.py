"""`shiprisk report`: the trend report of a period, written as one self-contained HTML page
and logged to MLflow."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipelines.io import tracking
from pipelines.io.context import RunContext
from pipelines.io.publish import staged_dir
from pipelines.jobs.outcomes import list_coverage, refresh_recorded
from pipelines.outputs import trend_report, trends


def write_trend_report(ctx: RunContext, input_root: str, first: dt.date, last: dt.date,
                       out: str | None = None) -> tuple[str, list]:
    """Computes, writes and logs the report; returns its path and the overview rows."""
    rcfg, progress = ctx.settings["report"], ctx.progress
    spark = ctx.spark
    with ctx.writer_lock(f"report {first}..{last}"):  # the refresh rewrites W/recorded
        recorded = refresh_recorded(ctx)
    with progress.stage(f"read features, outcomes and nightly scores of {first}..{last}"):
        period = trends.load_period(spark, ctx.workspace, input_root, first, last, ctx.settings, recorded)
        period.features = period.features.select(*trend_report.feature_columns(rcfg)).cache()
        overview = _overview(period, ctx.workspace.root, input_root)
    sections = trend_report.build_sections(ctx, period, input_root)
    with progress.stage("coverage of the lists by recorded results"):
        sections.append(trend_report.coverage_section(list_coverage(ctx, period.nights)))
    period.features.unpersist()
    name = f"trends_{first}_{last}.html"
    target = str(Path(out).resolve()) if out else ctx.workspace.report(name)
    with progress.stage(f"write {target}"), staged_dir(spark, target.rsplit("/", 1)[0]) as folder:
        generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        html = trend_report.render_html(f"Counterfeit risk trends {first}..{last}",
                                        [*overview, ("generated (UTC)", generated)], sections)
        page = folder / target.rsplit("/", 1)[1]
        page.write_text(html, encoding="utf-8")
        tracking.configure(ctx.settings, ctx.workspace)
        with tracking.run(rcfg["experiment"], ctx.workspace, f"report {first}..{last}", tags={"kind": "report"}) as run:
            tracking.log_params({"from": first, "to": last, "input_root": input_root, "bucket": rcfg["bucket"],
                                 "nights": len(period.nights), "feature_days": len(period.feature_days)})
            tracking.log_artifact(str(page), "report")
            run_id = run.info.run_id
    return target, [*overview, ("MLflow run", f"{run_id} (experiment {rcfg['experiment']})")]


def _overview(period: trends.Period, workspace: str, input_root: str) -> list[tuple[str, str]]:
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

