"""`shiprisk generate`: write a synthetic input root (DATA_CONTRACT layout) with ground truth."""
from __future__ import annotations

import argparse
import datetime as dt


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="input root to write (created if missing)")
    parser.add_argument("--start", required=True, type=_date, help="first lodging day, YYYY-MM-DD")
    parser.add_argument("--days", required=True, type=int, help="number of lodging days")
    parser.add_argument("--per-day", required=True, type=int, help="consignments lodged per day")
    parser.add_argument("--seed", required=True, type=int, help="random seed: same seed, same files")
    parser.add_argument("--format", default="csv", choices=["csv", "parquet", "mixed"],
                        help="file format of partitions; mixed writes some days as CSV, some as Parquet")
    parser.add_argument("--dirty", type=float, default=0.0, metavar="FRACTION",
                        help="share of rows to corrupt (every problem of issue 3); writes <out>/_corruptions.csv")
    parser.add_argument("--world", default="base", metavar="NAME|PATH",
                        help="world to simulate: base (default), a name from conf/worlds/ (air_belt_road, "
                             "displaced_hubs, mainland_express, ...) or a .yaml file of synthetic settings; recorded in <out>/_world.json")


def run(args: argparse.Namespace) -> int:
    import time

    from pipelines.devtools.synthetic import generate
    from pipelines.devtools.synthetic.worlds import load_world
    from pipelines.io.settings import load_settings

    started = time.perf_counter()
    world = load_world(args.world, load_settings()["synthetic"])
    summary = generate(args.out, args.start, args.days, args.per_day, args.seed, world, fmt=args.format, dirty=args.dirty)
    print(f"wrote {len(summary['files'])} files under {summary['out']} in {time.perf_counter() - started:.1f}s")
    print(f"  world {world.name} (settings sha256 {world.digest[:12]}), recorded in {summary['out']}/_world.json")
    for name, rows in summary["rows"].items():
        print(f"  {name:<15} {rows:>10,} rows")
    print(f"  consignments {summary['consignments']:,}, counterfeit base rate {summary['base_rate']:.2%}, "
          f"inspected {summary['inspected']:,}, seized {summary['seized']:,}")
    if summary["corruptions"]:
        print(f"  {summary['corruptions']:,} corrupted rows listed in {summary['out']}/_corruptions.csv")
    if summary["problems_not_injected"]:
        print(f"  not injected (they need CSV partitions): {', '.join(summary['problems_not_injected'])}")
    return 0
