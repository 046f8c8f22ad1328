"""shiprisk demo [--workspace W]: generate, train, run the last nights, show a list, write the trend report."""
from __future__ import annotations


def register(parser):
    parser.add_argument("--workspace", default="demo-workspace", help="folder for everything the demo writes")


def run(args) -> int:
    from pathlib import Path

    from pipelines.io.context import open_context
    from pipelines.jobs.demo import run_demo

    ctx = open_context("demo", str(Path(args.workspace).resolve()))
    made = run_demo(ctx)
    _print_where(ctx.workspace, made)
    return 0


def _print_where(workspace, made: dict) -> None:
    from pathlib import Path

    day, trained, summary = made["last_day"].isoformat(), made["trained"], made["summary"]
    lists = sorted(Path(workspace.lists_day(day)).glob("*.csv"))
    print("\nshiprisk demo finished")
    print(f"  input data      {made['input_root']}")
    print(f"  model           version {trained['version']} (@{trained['alias']}), report {trained['report_html']}")
    print(f"  MLflow store    {workspace.mlflow_db}  (mlflow ui --backend-store-uri sqlite:///{workspace.mlflow_db})")
    print(f"  nights run      {', '.join(str(n) for n in made['nights'])}")
    print(f"  scores          {workspace.scores_day(day)}")
    print(f"  lists           {workspace.lists_day(day)}  ({len(lists)} offices)")
    print(f"  run record      {workspace.summary(day)}")
    print(f"  trend report    {made['report']}")
    counts = summary["counts"]
    print(f"  consignments    {counts['consignments_read']} read, {counts['consignments_scored']} scored, "
          f"{counts['consignments_quarantined']} quarantined, {counts['selected']} selected for inspection")
    if lists:
        busiest = max(lists, key=lambda p: p.stat().st_size)
        print(f"\nTop of {busiest.name}:")
        with busiest.open(encoding="utf-8") as fh:
            for _, line in zip(range(6), fh):
                print("  " + (line.rstrip()[:200]))
        _print_workbench(workspace, busiest.stem)


def _print_workbench(workspace, office: str) -> None:
    """How to work these lists in the inspector workbench (a user must be configured first)."""
    print("\nWork the lists in the inspector workbench (README 'For inspectors'):")
    print(f"  1. shiprisk serve --add-user inspector --office {office}")
    print("     (asks for a password; add the lines it prints under `users:` in conf/local/workbench.yaml)")
    print(f"  2. shiprisk serve --workspace {workspace.root}")
    print("  3. open http://127.0.0.1:8080 and sign in as inspector")
