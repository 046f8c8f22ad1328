"""`shiprisk demo`: generate a modest input root, train, run the last nights, write a trend report."""
from __future__ import annotations

import datetime as dt

from pipelines.devtools.synthetic import generate
from pipelines.io.context import RunContext
from pipelines.jobs.nightly import nightly
from pipelines.jobs.report import write_trend_report
from pipelines.jobs.train import train


def run_demo(ctx: RunContext) -> dict:
    """Everything `make demo` shows, written under the workspace; returns what it made."""
    demo = ctx.settings["demo"]
    input_root = str(ctx.workspace.demo_input.resolve())
    start = dt.date.fromisoformat(str(demo["start"]))
    last_day = start + dt.timedelta(days=int(demo["days"]) - 1)
    nights = [last_day - dt.timedelta(days=n) for n in reversed(range(max(1, int(demo["nightly_days"]))))]
    # Train on every day before the first night; each night then finds the history it needs
    # in the aggregates written by training and by the nights before it.
    train_to = nights[0] - dt.timedelta(days=1)
    with ctx.progress.stage(f"generate {demo['days']} days x {demo['per_day']} consignments into {input_root}"):
        generate(input_root, start, int(demo["days"]), int(demo["per_day"]), int(demo["seed"]),
                 ctx.settings["synthetic"])
    with ctx.progress.stage(f"train on {start}..{train_to}"):
        trained = train(ctx, input_root, start, train_to)
    for night in nights:
        with ctx.progress.stage(f"nightly run for {night}"):
            summary = nightly(ctx, input_root, night)
    with ctx.progress.stage(f"trend report for {start}..{last_day}"):
        report_path, _ = write_trend_report(ctx, input_root, start, last_day)
    return {"input_root": input_root, "trained": trained, "summary": summary, "last_day": last_day,
            "nights": nights, "report": report_path}
