"""`shiprisk bench`: stage timings, throughput and peak memory at a chosen scale.

Figures come from this command, never from timed tests; docs/benchmarks.md records them
with the command lines that made them.
"""
from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd


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


def bench_scoring(spark, cfg: dict, n_rows: int, seed: int = 0) -> dict:
    """Spark (mapInPandas + Arrow) against in-process predict_proba on the same rows and cores."""
    from features.registry import model_inputs
    from models.factory import make_model, to_model_frame
    from pipelines.scoring import score_consignments

    numeric, categorical = model_inputs()
    train = synthetic_features(20_000, numeric, categorical, seed)
    signal = train[numeric[0]] if numeric else 0.0
    labels = (np.random.default_rng(seed).random(len(train)) < 1 / (1 + np.exp(4 - 0.5 * signal))).astype(int)
    model = make_model(numeric, categorical, cfg["model"]).fit(to_model_frame(train, numeric, categorical), labels)

    rows = synthetic_features(n_rows, numeric, categorical, seed + 1)
    t0 = time.perf_counter()
    model.predict_proba(to_model_frame(rows, numeric, categorical))
    in_process = time.perf_counter() - t0

    path = Path(cfg.get("bench_dir", "/tmp")) / f"shiprisk-bench-features-{n_rows}.parquet"
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


def make_bench_root(root: Path, start, history_days: int, history_per_day: int, night_per_day: int, seed: int,
                    progress) -> dict:
    """History days at one volume and a night at another, in one input root.

    The generator writes days of equal volume; a 1,000,000-consignment night over 180 days
    of equal history would be 180 million rows, more than this machine's benchmark budget.
    The night is generated apart (its own parties) and moved in as day start+history_days:
    the feature build still reads all the stored history it would read in production.
    """
    import datetime as dt
    import shutil

    from pipelines.synthetic import generate

    night = start + dt.timedelta(days=history_days)
    timings = {}
    _, timings["generate_history"] = _timed(lambda: generate(str(root), start, history_days, history_per_day, seed))
    tmp = root.parent / f"{root.name}-night"
    _, timings["generate_night"] = _timed(lambda: generate(str(tmp), night, 1, night_per_day, seed + 1))
    for dataset in ("manifests", "declarations", "truth"):
        shutil.move(str(tmp / dataset / f"date={night}"), str(root / dataset / f"date={night}"))
    shutil.rmtree(tmp)
    progress.say(f"input root {root}: {history_days} days x {history_per_day:,} then {night} x {night_per_day:,}")
    return {"night": night.isoformat(), "timings": timings}


def bench_night(spark, cfg: dict, root: str, workspace: str, night: str, history: list[str], progress) -> dict:
    """Back-fill the history's features, then time validation and the feature build of the night."""
    from pipelines.feature_job import build_features
    from pipelines.validation import validate_inputs

    def backfill():
        validated = validate_inputs(spark, cfg, root, history, workspace, progress=progress)
        build_features(spark, cfg, validated.valid, history, workspace, progress=progress).count()

    _, backfill_s = _timed(backfill)
    validated, validate_s = _timed(lambda: validate_inputs(spark, cfg, root, [night], workspace, progress=progress))
    rows = validated.summary["consignments_valid"]
    features, features_s = _timed(
        lambda: build_features(spark, cfg, validated.valid, [night], workspace, progress=progress).count())
    return {"history_days": len(history), "backfill_seconds": backfill_s, "validate_seconds": validate_s,
            "night_features_seconds": features_s, "night_consignments": rows,
            "validate_rows_per_s": round(rows / validate_s) if validate_s else None,
            "features_rows_per_s": round(rows / features_s) if features_s else None}
