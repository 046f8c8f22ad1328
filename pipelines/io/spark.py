"""The one place a SparkSession is built. Master and resources come from conf or spark-submit."""
from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession


def get_spark(cfg: dict) -> SparkSession:
    """The active session if spark-submit made one, else one built from the `spark` section."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    spark_cfg = cfg.get("spark", {})
    master = spark_cfg.get("master", "local[2]")
    # Python workers run the interpreter that runs the driver (the project's venv), unless the
    # deployment says otherwise: they must import pyarrow, scikit-learn and this package.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if master.startswith("local"):
        # Loopback only: a laptop or CI box must not open ports on its network.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.master(master)
        .appName(spark_cfg.get("app_name", "shiprisk"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(spark_cfg.get("shuffle_partitions", 8)))
        .config("spark.driver.memory", spark_cfg.get("driver_memory", "2g"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if master.startswith("local"):
        builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
    for key, value in (spark_cfg.get("extra") or {}).items():
        builder = builder.config(key, str(value))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(spark_cfg.get("log_level", "ERROR"))
    return spark
