"""One local Spark session for the whole test run, and a private conf/ environment."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)


@pytest.fixture(scope="session")
def spark():
    from pipelines.io.settings import load_config
    from pipelines.io.spark import get_spark

    cfg = load_config()
    cfg["spark"]["shuffle_partitions"] = 2
    session = get_spark(cfg)
    yield session
    session.stop()
