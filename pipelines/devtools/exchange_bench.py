"""Benchmark of `shiprisk share export` (issue 16: 90 days of 5,000 consignments a day, under
2 minutes on 2 cores). Generates the input root with the synthetic generator into a temporary
folder unless one is given, runs the export job once and prints the wall time of each stage.

    python -m pipelines.devtools.exchange_bench [--input ROOT] [--days 90] [--per-day 5000] [--seed 7]

The seizure look-back (exchange.seizure_lookback_days) reaches before the first generated day:
the export reads the days that exist, so the figures are for the period's own days.
"""
from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

START = dt.date(2026, 3, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.devtools.exchange_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--input", help="an existing input root (default: generate one into a temporary folder)")
    parser.add_argument("--start", default=START.isoformat(), help="first day of the generated data / the period")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--per-day", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    from pipelines.io.context import open_context
    from pipelines.io.progress import configure_logging
    from pipelines.io.settings import load_settings
    from pipelines.jobs.share import export_package

    configure_logging("text")
    settings = load_settings()
    start = dt.date.fromisoformat(args.start)
    last = start + dt.timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory(prefix="exchange_bench_") as tmp:
        root = args.input
        generated = None
        if root is None:
            from pipelines.devtools.synthetic import generate

            root = str(Path(tmp) / "input")
            t0 = time.perf_counter()
            generate(root, start, args.days, args.per_day, args.seed, settings["synthetic"])
            generated = time.perf_counter() - t0
        ctx = open_context("share export (bench)", str(Path(tmp) / "workspace"), settings=settings)
        t0 = time.perf_counter()
        summary = export_package(ctx, root, start, last, settings["exchange"]["own_source"], str(Path(tmp) / "package"))
        total = time.perf_counter() - t0
        print(f"\nshare export of {start}..{last}: {args.days} days x {args.per_day:,} consignments a day "
              f"(seed {args.seed}); {summary['counts']['seizures']} seizures, {summary['counts']['entries']} entries, "
              f"{summary['counts']['alerts']} alerts")
        if generated is not None:
            print(f"  {'generate the input root (not timed below)':<58}{generated:8.1f}s")
        for stage, seconds in ctx.progress.timings.items():
            print(f"  {stage[:58]:<58}{seconds:8.1f}s")
        print(f"  {'export, wall time (Spark start included)':<58}{total:8.1f}s")
        ctx.spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
