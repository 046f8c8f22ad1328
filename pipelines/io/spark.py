"""The one place a SparkSession is built.

What the launch said wins; the `spark` settings fill only what it left unset. Under
spark-submit the driver's gateway already exists and its SparkConf holds every setting of
the command line and of spark-defaults.conf. A plain `shiprisk ...` run starts the JVM itself:
then spark-defaults.conf and PYSPARK_SUBMIT_ARGS are what the launch says.
"""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from pyspark import SparkConf, SparkContext, StorageLevel
from pyspark.sql import DataFrame, SparkSession

# spark-submit flags that are spelled as settings (the rest reach SparkConf as --conf).
_SUBMIT_FLAGS = {"--master": "spark.master", "--driver-memory": "spark.driver.memory",
                 "--executor-memory": "spark.executor.memory", "--name": "spark.app.name",
                 "--num-executors": "spark.executor.instances", "--executor-cores": "spark.executor.cores"}


def _defaults_file() -> dict[str, str]:
    """spark-defaults.conf of SPARK_CONF_DIR (else SPARK_HOME/conf), as the launcher reads it."""
    folder = os.environ.get("SPARK_CONF_DIR") or (Path(os.environ["SPARK_HOME"]) / "conf"
                                                   if os.environ.get("SPARK_HOME") else None)
    path = Path(folder) / "spark-defaults.conf" if folder else None
    if path is None or not path.is_file():
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) == 2 and not parts[0].startswith("#"):
            found[parts[0]] = parts[1].strip()
    return found


def _submit_args() -> dict[str, str]:
    """Settings named in PYSPARK_SUBMIT_ARGS (how a plain Python driver passes launch flags)."""
    words = shlex.split(os.environ.get("PYSPARK_SUBMIT_ARGS", ""))
    found = {}
    for flag, value in zip(words, words[1:]):
        if flag in _SUBMIT_FLAGS:
            found[_SUBMIT_FLAGS[flag]] = value
        elif flag == "--conf" and "=" in value:
            key, setting = value.split("=", 1)
            found[key] = setting
    return found


def launch_settings() -> dict[str, str]:
    """The spark.* settings the launch fixed before any of ours apply."""
    if os.environ.get("PYSPARK_GATEWAY_PORT"):  # spark-submit started this driver
        SparkContext._ensure_initialized()
        return dict(SparkConf().getAll())
    return {**_defaults_file(), **_submit_args()}


def wanted_settings(cfg: dict) -> dict[str, str]:
    """The spark.* settings the `spark` section asks for."""
    spark_cfg = cfg["spark"]
    wanted = {
        "spark.master": spark_cfg["master"],
        "spark.app.name": spark_cfg["app_name"],
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": str(spark_cfg["shuffle_partitions"]),
        "spark.driver.memory": spark_cfg["driver_memory"],
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # PySpark's DataFrame debugging records the Python call site of every Column call in the
        # JVM: ten extra round trips per call, most of a night's 240,000 (seconds of a small night).
        # Errors still name the failing expression; only the Python line of its origin is lost.
        "spark.python.sql.dataFrameDebugging.enabled": "false",
    }
    wanted.update({key: str(value) for key, value in (spark_cfg["extra"] or {}).items()})
    return wanted


def get_spark(cfg: dict) -> SparkSession:
    """The active session if there is one, else one built from the launch and the `spark` section."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    launched = launch_settings()
    settings = {k: v for k, v in wanted_settings(cfg).items() if k not in launched}
    master = launched.get("spark.master", settings.get("spark.master", "local[*]"))
    # Python workers run the interpreter that runs the driver (the project's venv), unless the
    # deployment says otherwise: they must import pyarrow, scikit-learn and this package.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if master.startswith("local"):
        # Loopback only: a laptop or CI box must not open ports on its network.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        for key in ("spark.driver.host", "spark.driver.bindAddress"):
            if key not in launched:
                settings[key] = "127.0.0.1"
    builder = SparkSession.builder
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(cfg["spark"]["log_level"])
    return spark


def session_facts(spark: SparkSession) -> dict:
    """What the run record says about the Spark it ran on: master, application, resources."""
    sc = spark.sparkContext
    conf = sc.getConf()
    # The block managers include the driver's; in local mode the driver is the only executor.
    managers = sc._jsc.sc().getExecutorMemoryStatus().size()
    return {"master": sc.master, "application_id": sc.applicationId, "executors": max(managers - 1, 0),
            "default_parallelism": sc.defaultParallelism,
            "driver_memory": conf.get("spark.driver.memory", "1g (Spark's default)"),
            "executor_memory": conf.get("spark.executor.memory", None)}


def jobs_started(spark: SparkSession) -> int:
    """How many Spark jobs this application has started: job ids count up from 0.

    The status tracker keeps the last spark.ui.retainedJobs jobs (1,000 by default) even with
    the UI off; the highest id kept is what counts. The maximum is taken in the JVM: reading the
    ids one by one from Python cost a round trip per job, thousands per night."""
    ids = spark.sparkContext._jsc.sc().statusTracker().getJobIdsForGroup(None)
    return int(spark.sparkContext._jvm.java.util.Arrays.stream(ids).max().orElse(-1)) + 1


def cut_lineage(frame: DataFrame) -> DataFrame:
    """`frame` computed now and kept, with its lineage cut (a local checkpoint).

    Spark re-analyses a frame's whole plan at each DataFrame step: the frames every later step of
    a run builds on (the valid input rows, the consignments, the night's selection) are cut so
    those plans stay short. A local checkpoint cannot be recomputed, so on a cluster its blocks
    are kept on two executors: losing one executor does not fail the run."""
    local = frame.sparkSession.sparkContext.master.startswith("local")
    level = StorageLevel.MEMORY_AND_DISK if local else StorageLevel.MEMORY_AND_DISK_2
    return frame.localCheckpoint(eager=True, storageLevel=level)


def free_stored(spark: SparkSession) -> None:
    """Drop every cached frame and kept checkpoint of this application (clearCache leaves the
    checkpoints): a benchmark's next run then starts as a fresh process would."""
    spark.catalog.clearCache()
    for rdd in spark.sparkContext._jsc.getPersistentRDDs().values():
        rdd.unpersist(False)
