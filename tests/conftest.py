"""One local Spark session for the whole test run, the settings, and run contexts for jobs."""
from __future__ import annotations

import copy
import os

import pytest

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)


@pytest.fixture(scope="session")
def settings():
    """The shipped settings (conf/base), as every command loads them. Do not mutate: copy."""
    from pipelines.io.settings import load_settings

    return load_settings()


@pytest.fixture(scope="session")
def spark(settings):
    from pipelines.io.spark import get_spark

    local = copy.deepcopy(settings)
    local["spark"]["shuffle_partitions"] = 2
    session = get_spark(local)
    yield session
    session.stop()


def _deep_update(tree: dict, overrides: dict) -> dict:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(tree.get(key), dict):
            _deep_update(tree[key], value)
        else:
            tree[key] = value
    return tree


@pytest.fixture(scope="session")
def make_ctx(spark, settings):
    """make_ctx(workspace, validation={...}, ...): a job's run context on the test session,
    with the shipped settings deep-updated by the given sections."""
    from pipelines.io.context import RunContext
    from pipelines.io.progress import Progress
    from pipelines.io.workspace import Workspace

    def make(workspace, **overrides) -> RunContext:
        return RunContext(_deep_update(copy.deepcopy(settings), overrides), Workspace(str(workspace)),
                          Progress("test", quiet=True), spark)

    return make
