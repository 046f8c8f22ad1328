"""Where a run's Spark time went, from Spark's own event log (issue 18 item 1).

Run any command with the event log on, uncompressed (the standard library reads no zstd):

    PYSPARK_SUBMIT_ARGS="--conf spark.eventLog.enabled=true --conf spark.eventLog.dir=file:///tmp/ev \\
      --conf spark.eventLog.compress=false pyspark-shell" shiprisk nightly ...
    python -m pipelines.devtools.spark_profile /tmp/ev [--top 15]

It prints the query executions (a DataFrame action each) by wall time with their jobs, stages
and tasks, then the slowest stages. Per task, `run` is the executor's wall time and `cpu` its
JVM CPU time: run far above cpu is waiting (a Python worker of mapInPandas, whose CPU the JVM
does not see, or a core taken by other tasks); many stages of one task each is fixed cost.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    name: str = ""
    tasks: int = 0
    wall_ms: int = 0
    run_ms: int = 0
    cpu_ms: float = 0.0


@dataclass
class Query:
    description: str
    start_ms: int
    wall_ms: int = 0
    jobs: int = 0
    stages: list[int] = field(default_factory=list)


def event_files(folder: Path) -> list[Path]:
    """The event log files under folder (one application's folder, or a folder of them)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "appstatus")))
    compressed = [p for p in files if p.suffix in (".zstd", ".lz4", ".snappy", ".lzf")]
    if compressed:
        raise SystemExit(f"{compressed[0]} is compressed: rerun with --conf spark.eventLog.compress=false")
    return files


def read_profile(lines) -> tuple[dict[int, Query], dict[int, Stage]]:
    """Query executions and stages from the JSON lines of an event log."""
    queries: dict[int, Query] = {}
    stages: dict[int, Stage] = {}
    job_query: dict[int, int] = {}
    for line in lines:
        event = json.loads(line)
        kind = event["Event"]
        if kind.endswith("SQLExecutionStart"):
            queries[event["executionId"]] = Query(event["description"], event["time"])
        elif kind.endswith("SQLExecutionEnd") and event["executionId"] in queries:
            query = queries[event["executionId"]]
            query.wall_ms = event["time"] - query.start_ms
        elif kind == "SparkListenerJobStart":
            execution = (event.get("Properties") or {}).get("spark.sql.execution.id")
            if execution is not None and int(execution) in queries:
                job_query[event["Job ID"]] = int(execution)
                queries[int(execution)].jobs += 1
                queries[int(execution)].stages.extend(event["Stage IDs"])
        elif kind == "SparkListenerStageCompleted":
            info = event["Stage Info"]
            stage = stages.setdefault(info["Stage ID"], Stage())
            stage.name, stage.tasks = info["Stage Name"], info["Number of Tasks"]
            stage.wall_ms = (info.get("Completion Time") or 0) - (info.get("Submission Time") or 0)
        elif kind == "SparkListenerTaskEnd":
            metrics = event.get("Task Metrics") or {}
            stage = stages.setdefault(event["Stage ID"], Stage())
            stage.run_ms += metrics.get("Executor Run Time", 0)
            stage.cpu_ms += metrics.get("Executor CPU Time", 0) / 1e6
    return queries, stages


def report(queries: dict[int, Query], stages: dict[int, Stage], top: int) -> list[str]:
    ran = [s for s in stages.values() if s.tasks]  # skipped stages (shuffle output reused) ran nothing
    lines = [f"{len(queries)} query executions, {len(ran)} stages, {sum(s.tasks for s in ran)} tasks; "
             f"task run {sum(s.run_ms for s in ran) / 1000:.1f} s, task cpu {sum(s.cpu_ms for s in ran) / 1000:.1f} s",
             "", f"{'wall s':>7} {'jobs':>5} {'stages':>6} {'tasks':>6} {'run s':>7} {'cpu s':>6}  query"]
    for query in sorted(queries.values(), key=lambda q: -q.wall_ms)[:top]:
        mine = [stages[s] for s in query.stages if s in stages and stages[s].tasks]
        lines.append(f"{query.wall_ms / 1000:7.2f} {query.jobs:5d} {len(mine):6d} {sum(s.tasks for s in mine):6d} "
                     f"{sum(s.run_ms for s in mine) / 1000:7.2f} {sum(s.cpu_ms for s in mine) / 1000:6.2f}  "
                     f"{query.description[:90]}")
    lines += ["", f"{'wall s':>7} {'tasks':>5} {'run s':>7} {'cpu s':>6}  stage"]
    for sid, stage in sorted(stages.items(), key=lambda kv: -kv[1].wall_ms)[:top]:
        lines.append(f"{stage.wall_ms / 1000:7.2f} {stage.tasks:5d} {stage.run_ms / 1000:7.2f} "
                     f"{stage.cpu_ms / 1000:6.2f}  {sid}: {stage.name[:80]}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.devtools.spark_profile",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="spark.eventLog.dir of the run (or its application folder)")
    parser.add_argument("--top", type=int, default=15, help="rows of each table")
    args = parser.parse_args(argv)
    files = event_files(args.folder)
    if not files:
        raise SystemExit(f"no event log under {args.folder}: was spark.eventLog.enabled=true?")

    def lines():
        for path in files:
            with open(path, encoding="utf-8") as fh:
                yield from fh

    print("\n".join(report(*read_profile(lines()), args.top)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
