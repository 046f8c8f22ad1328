"""`shiprisk bench`: stage timings, throughput and peak memory at a chosen scale.

Figures come from this command, never from timed tests; docs/benchmarks.md records them
with the command lines that made them.
"""
from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.io.workspace import Workspace, day_folder


def peak_memory_mb(spark) -> dict:
    """Peak resident memory (VmHWM) of the driver's Python, the JVM and the Python workers."""
    def hwm(pid: int) -> float | None:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    jvm_pid = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
    workers = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"pyspark.daemon" in cmdline or b"pyspark/daemon" in cmdline or b"pyspark.worker" in cmdline:
                workers.append(hwm(int(proc.name)) or 0.0)
    return {
        "driver_python_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "jvm_driver_and_executors_mb": round(hwm(jvm_pid) or 0.0, 1),
        "python_workers_max_mb": round(max(workers), 1) if workers else None,
        "python_workers_sum_mb": round(sum(workers), 1) if workers else None,
    }


def synthetic_features(n: int, numeric: list[str], categorical: list[str], seed: int) -> pd.DataFrame:
    """Random rows shaped like the feature table, for timing the scorer alone."""
    rng = np.random.default_rng(seed)
    frame = {c: rng.choice(np.array([f"{c}_{i}" for i in range(12)], dtype=object), n) for c in categorical}
    frame.update({c: rng.gamma(2.0, 2.0, n) for c in numeric})
    frame["consignment_id"] = np.char.add("C", np.arange(n).astype(str))
    return pd.DataFrame(frame)


def bench_scoring(spark, settings: dict, n_rows: int, seed: int = 0) -> dict:
    """Spark (mapInPandas + Arrow) against in-process predict_proba on the same rows and cores."""
    from features.registry import model_inputs
    from models.factory import make_model, to_model_frame
    from pipelines.io.scoring import score_consignments

    numeric, categorical = model_inputs()
    train = synthetic_features(20_000, numeric, categorical, seed)
    signal = train[numeric[0]] if numeric else 0.0
    labels = (np.random.default_rng(seed).random(len(train)) < 1 / (1 + np.exp(4 - 0.5 * signal))).astype(int)
    model = make_model(numeric, categorical, settings["model"]).fit(to_model_frame(train, numeric, categorical), labels)

    rows = synthetic_features(n_rows, numeric, categorical, seed + 1)
    t0 = time.perf_counter()
    model.predict_proba(to_model_frame(rows, numeric, categorical))
    in_process = time.perf_counter() - t0

    path = Path(tempfile.gettempdir()) / f"shiprisk-bench-features-{n_rows}.parquet"
    rows.to_parquet(path, index=False)
    frame = spark.read.parquet(str(path)).repartition(spark.sparkContext.defaultParallelism).cache()
    frame.count()
    # Warm-up: Python workers start and unpickle the model once.
    score_consignments(frame.limit(1000), model, numeric, categorical).write.format("noop").mode("overwrite").save()
    t0 = time.perf_counter()
    score_consignments(frame, model, numeric, categorical).write.format("noop").mode("overwrite").save()
    in_spark = time.perf_counter() - t0
    frame.unpersist()
    path.unlink(missing_ok=True)
    return {
        "rows": n_rows,
        "in_process_seconds": round(in_process, 2),
        "in_process_rows_per_s": round(n_rows / in_process),
        "spark_seconds": round(in_spark, 2),
        "spark_rows_per_s": round(n_rows / in_spark),
        "spark_to_in_process_throughput": round(in_process / in_spark, 3),
        "cores": os.cpu_count(),
    }


def _timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return result, round(time.perf_counter() - t0, 2)


PARTY_COLUMNS = {"manifests": ("consignor_id", "consignee_id", "forwarder_id"),
                 "declarations": ("exporter_id", "declarant_id")}


def _known_parties(root: Path, days: list[str]) -> dict[str, list[str]]:
    """Party ids of the given history days, by id prefix (EX, CE, FW, ...)."""
    ids: set[str] = set()
    for dataset, columns in PARTY_COLUMNS.items():
        for day in days:
            for path in (root / dataset / f"date={day}").glob("*.csv"):
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=list(columns))
                ids.update(frame.to_numpy().ravel())
    by_prefix: dict[str, list[str]] = {}
    for party in sorted(i for i in ids if i):
        by_prefix.setdefault(party[:2], []).append(party)
    return by_prefix


def _adopt_parties(night_dir: Path, known: dict[str, list[str]]) -> None:
    """Rename the night's parties to parties of the history, the same id always to the same one,
    so the night's party look-back finds real records as a production night would."""
    import zlib

    def adopt(party: str) -> str:
        pool = known.get(party[:2]) if party else None
        return pool[zlib.crc32(party.encode()) % len(pool)] if pool else party

    for dataset, columns in PARTY_COLUMNS.items():
        for path in (night_dir / dataset).glob("date=*/*.csv"):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            for column in columns:
                mapping = {p: adopt(p) for p in frame[column].unique()}
                frame[column] = frame[column].map(mapping)
            frame.to_csv(path, index=False)


def _make_night(tmp: str, night, per_day: int, seed: int, root: str, history_days: list[str], world: dict) -> None:
    from pipelines.devtools.synthetic import generate

    generate(tmp, night, 1, per_day, seed, world)
    _adopt_parties(Path(tmp), _known_parties(Path(root), history_days))


def place_night(root: Path, night, per_day: int, seed: int, history_days: list[str], world: dict) -> float:
    """Generate a night of `per_day` consignments and put it in the root as day `night`.

    The generator writes days of equal volume; a 1,000,000-consignment night over 180 days
    of equal history would be 180 million rows, more than this machine's benchmark budget.
    The night is generated apart, its parties renamed to parties seen in `history_days`, and
    moved in, replacing any earlier night: the feature build reads all the stored history it
    would read in production. Returns the wall seconds of generating and renaming.
    """
    import multiprocessing
    import shutil
    from concurrent.futures import ProcessPoolExecutor

    tmp = root.parent / f"{root.name}-night"
    shutil.rmtree(tmp, ignore_errors=True)

    def make():
        # In a child process: the generator holds a million-row night in pandas (~3.6 GB), which
        # would otherwise stand as the driver's peak memory in the night's figures.
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            pool.submit(_make_night, str(tmp), night, per_day, seed, str(root), history_days, world).result()

    _, seconds = _timed(make)
    for dataset in ("manifests", "declarations", "truth"):
        target = root / dataset / f"date={night}"
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(tmp / dataset / f"date={night}"), str(target))
    shutil.rmtree(tmp)
    return seconds


def seed_history(ctx, root: str, days: list[str]) -> dict:
    """Validate the history days and write only their daily aggregates, in one pass.

    A night reads the past only as these aggregates, so the benchmark need not build the
    feature table of every past day (which `shiprisk features` would).
    """
    from pipelines.jobs.features import update_aggregates
    from pipelines.validation.inputs import validate_inputs

    validated, validate_s = _timed(lambda: validate_inputs(ctx, root, days, record=False))
    _, aggregate_s = _timed(lambda: update_aggregates(ctx, validated.valid))
    return {"days": len(days), "consignments": validated.summary["consignments_valid"],
            "validate_seconds": validate_s, "aggregates_seconds": aggregate_s}


def copy_history(source: Workspace, target: Workspace, days: list[str]) -> None:
    """The aggregates of `days` only: a workspace that has kept a shorter history."""
    import shutil

    for dataset in Path(source.aggregates).iterdir():
        for day in days:
            folder = Path(day_folder(str(dataset), day))
            if folder.is_dir():
                shutil.copytree(folder, Path(day_folder(target.aggregate(dataset.name), day)))


def _read_without_validation(spark, root: str, night: str) -> None:
    """Read and type the night's partitioned files, as any job must even without validation."""
    from pipelines.io.readers import read_dataset

    for name in ("manifests", "declarations", "outcomes"):
        read_dataset(spark, root, name, [night]).write.format("noop").mode("overwrite").save()


def bench_nightly(ctx, root: str, night: str) -> dict:
    """One real nightly run (validate, features, score, select, explain, publish) and its stage timings.

    ctx: a context of its own (its progress records this run's stage timings alone)."""
    import datetime as dt

    from pipelines.io.spark import free_stored, jobs_started
    from pipelines.jobs.nightly import nightly

    spark = ctx.spark
    # Each night starts as a fresh process would: nothing cached or kept from the previous one.
    free_stored(spark)
    jobs_before = jobs_started(spark)
    summary, wall = _timed(lambda: nightly(ctx, root, dt.date.fromisoformat(night)))
    jobs = jobs_started(spark) - jobs_before
    stages = summary["timings_seconds"]
    validate, features = round(stages[f"validate {night}"], 2), round(stages["build features"], 2)
    rows = summary["counts"]["consignments_read"]
    free_stored(spark)
    _, read = _timed(lambda: _read_without_validation(spark, root, night))
    return {"night_consignments": rows, "nightly_seconds": wall, "validate_seconds": validate,
            "read_without_validation_seconds": read,
            "features_seconds": features, "rest_seconds": round(wall - validate - features, 2),
            "nightly_rows_per_s": round(rows / wall), "validate_rows_per_s": round(rows / validate) if validate else None,
            "features_rows_per_s": round(rows / features) if features else None,
            "selected": summary["counts"]["selected"], "stages": stages,
            # Load-independent: a small night's fixed cost is mostly how many jobs it starts.
            "spark_jobs": jobs, "spark_jobs_by_stage": summary.get("spark_jobs_by_stage", {})}


# ---- the figures compared from run to run (docs/benchmarks.json) ----

def headline_figures(results: dict) -> dict[str, float]:
    """Wall seconds of what the issue's targets name: a whole night per size, training, back-fill.

    Named with their scale, so a run at other sizes or history never compares with this one."""
    opts = results["options"]
    history = f"{opts['history_days']}d x {opts['history_per_day']:,}"
    figures = {f"night of {one['per_day']:,} (history {history})": one["single_history"]["nightly_seconds"]
               for one in results.get("nights", [])}
    for stage in ("train", "backfill"):
        if stage in results:
            r = results[stage]
            figures[f"{stage} {r['days']} days x {r['per_day']:,}"] = r["seconds"]
    return figures


def load_recorded(path: Path) -> dict:
    """The recorded figures ({"figures": {name: {"seconds", "recorded_on", "load_average"}}}), or none."""
    import json

    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"figures": {}}


def compare_with_recorded(figures: dict[str, float], recorded: dict) -> list[dict]:
    """Each figure beside the previous recorded one and their ratio (None where none was recorded)."""
    rows = []
    for name, seconds in figures.items():
        previous = recorded.get("figures", {}).get(name, {}).get("seconds")
        rows.append({"figure": name, "seconds": seconds, "previous_seconds": previous,
                     "ratio_to_previous": round(seconds / previous, 3) if previous else None})
    return rows


def record_figures(path: Path, figures: dict[str, float], recorded_on: str, load_average: float) -> dict:
    """Replace the recorded figures of the same names with these; the others stay."""
    import json

    recorded = load_recorded(path)
    for name, seconds in figures.items():
        recorded["figures"][name] = {"seconds": seconds, "recorded_on": recorded_on, "load_average": load_average}
    recorded["figures"] = dict(sorted(recorded["figures"].items()))
    path.write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")
    return recorded
