"""shiprisk demo [--workspace W]: generate, train, run the last nights, show a list, write the trend report."""
from __future__ import annotations

import datetime as dt
from pathlib import Path


def register(parser):
    parser.add_argument("--workspace", default="demo-workspace", help="folder for everything the demo writes")


def run(args) -> int:
    from pipelines.cli.report import write_trend_report
    from pipelines.io.settings import load_config
    from pipelines.jobs.nightly import nightly
    from pipelines.io.progress import Progress
    from pipelines.io.spark import get_spark
    from pipelines.devtools.synthetic import generate
    from pipelines.jobs.train import train

    cfg = load_config()
    demo = cfg["demo"]
    workspace = Path(args.workspace).resolve()
    input_root = workspace / "input"
    start = dt.date.fromisoformat(str(demo["start"]))
    last_day = start + dt.timedelta(days=int(demo["days"]) - 1)
    nights = [last_day - dt.timedelta(days=n) for n in reversed(range(max(1, int(demo.get("nightly_days", 1)))))]
    # Train on every day before the first night; each night then finds the history it needs
    # in the aggregates written by training and by the nights before it.
    train_to = nights[0] - dt.timedelta(days=1)
    progress = Progress("demo")
    with progress.stage(f"generate {demo['days']} days x {demo['per_day']} consignments into {input_root}"):
        generate(str(input_root), start, int(demo["days"]), int(demo["per_day"]), int(demo["seed"]), progress=progress)
    with progress.stage("start Spark"):
        spark = get_spark(cfg)
    with progress.stage(f"train on {start}..{train_to}"):
        trained = train(spark, cfg, str(input_root), str(workspace), start, train_to, progress)
    for night in nights:
        with progress.stage(f"nightly run for {night}"):
            summary = nightly(spark, cfg, str(input_root), str(workspace), night, progress)
    with progress.stage(f"trend report for {start}..{last_day}"):
        report_path, _ = write_trend_report(cfg, load_config("report"), str(input_root), str(workspace), start, last_day,
                                            None, progress)
    _print_where(workspace, trained, summary, last_day, nights, report_path)
    return 0


def _print_where(workspace: Path, trained: dict, summary: dict, day: dt.date, nights: list[dt.date],
                 report_path: str) -> None:
    lists = sorted((workspace / "lists" / f"date={day}").glob("*.csv"))
    print("\nshiprisk demo finished")
    print(f"  input data      {workspace / 'input'}")
    print(f"  model           version {trained['version']} (@{trained['alias']}), report {trained['report_html']}")
    print(f"  MLflow store    {workspace / 'mlflow.db'}  (mlflow ui --backend-store-uri sqlite:///{workspace / 'mlflow.db'})")
    print(f"  nights run      {', '.join(str(n) for n in nights)}")
    print(f"  scores          {workspace / 'scores' / f'date={day}'}")
    print(f"  lists           {workspace / 'lists' / f'date={day}'}  ({len(lists)} offices)")
    print(f"  run record      {workspace / 'runs' / f'date={day}' / 'summary.json'}")
    print(f"  trend report    {report_path}")
    counts = summary.get("counts", {})
    print(f"  consignments    {counts.get('consignments_read')} read, {counts.get('consignments_scored')} scored, "
          f"{counts.get('consignments_quarantined')} quarantined, {counts.get('selected')} selected for inspection")
    if lists:
        busiest = max(lists, key=lambda p: p.stat().st_size)
        print(f"\nTop of {busiest.name}:")
        with busiest.open(encoding="utf-8") as fh:
            for _, line in zip(range(6), fh):
                print("  " + (line.rstrip()[:200]))
