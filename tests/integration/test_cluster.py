"""The nightly job, unchanged, on a real Spark standalone cluster (master and two workers on
loopback) against a real MLflow tracking server: same scores and lists as the local run.

The cluster scores with the champion the local run trained: the tracking server's store starts
as a copy of the local SQLite store (its registry and training run; the model files are read
where the local run wrote them), so the two nights differ only in where they ran. Training on
the cluster was dropped from this test to keep the suite within its time (a 28-day training on
two single-core executors beside the master, workers and server on a two-core machine was twelve
of the suite's minutes); the feature build and the MLflow calls it makes are the nightly's. It is also the suite's check that
a spark-submit command line wins over conf/base (master, driver and executor memory) and that another
degree of parallelism writes the same lists byte for byte."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipelines.io.workspace import Workspace
from tests.integration.conftest import LAST_DAY, spark_submit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(trained, settings, tmp_path_factory):
    from mlflow.tracking import MlflowClient

    from pipelines.devtools.local_cluster import start, stop_pids

    folder = tmp_path_factory.mktemp("cluster")
    shutil.copy(Path(trained) / "mlflow.db", folder / "mlflow.db")
    # The local nights' experiment keeps its artifact folder in the local workspace: renamed, so
    # the cluster's night creates its own, whose artifacts go through the server.
    local = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
    nightly = local.get_experiment_by_name(settings["mlflow"]["experiment_nightly"])
    local.rename_experiment(nightly.experiment_id, "shiprisk-nightly-local-run")
    state = start(str(folder), worker_memory="2g")
    try:
        yield state
    finally:
        stop_pids(state["pids"])
        for pid in state["pids"]:
            with pytest.raises(ProcessLookupError):
                os.killpg(pid, 0)


def test_cluster_run_matches_local_run(cluster, trained, input_root, small_conf, tmp_path, settings):
    from mlflow.tracking import MlflowClient

    # The workspace as a file system URI: every write goes through Hadoop's FileSystem API (as
    # on HDFS); the outputs are read back below through the same folder as a local path. It
    # starts with the local workspace's history (the daily aggregates), nothing else.
    workspace = str(tmp_path / "ws")
    shutil.copytree(Path(trained) / "aggregates", tmp_path / "ws" / "aggregates")
    uri = (tmp_path / "ws").as_uri()
    # conf/base says local[2] and a 4g driver: the command line must win.
    spark_submit(["--master", cluster["master"], "--driver-memory", "1g", "--executor-memory", "1g",
                  "--total-executor-cores", "2"],
                 ["nightly", "--input", input_root, "--workspace", uri, "--date", LAST_DAY.isoformat()],
                 {"MLFLOW_TRACKING_URI": cluster["tracking_uri"]})
    spark = json.loads(Path(Workspace(workspace).summary(LAST_DAY.isoformat())).read_text())["spark"]
    assert spark["master"] == cluster["master"] and spark["executors"] >= 1  # the cluster did the work
    assert spark["driver_memory"] == "1g" and spark["executor_memory"] == "1g"
    # The model came from the tracking server and the night's run went to it, not to a file in the workspace.
    assert not (Path(workspace) / "mlflow.db").exists()
    server = MlflowClient(tracking_uri=cluster["tracking_uri"])
    runs = server.search_runs([server.get_experiment_by_name(settings["mlflow"]["experiment_nightly"]).experiment_id])
    assert len(runs) == 1 and runs[0].info.artifact_uri.startswith("mlflow-artifacts:")
    assert runs[0].data.tags["model_version"] == "1"
    assert sorted(p.name for p in Path(workspace, "nights").iterdir()) == [f"date={LAST_DAY}"]  # no staging left
    assert not (Path(workspace) / "locks" / "workspace.lock").exists()  # released
    local = pd.read_parquet(Workspace(trained).scores_day(LAST_DAY.isoformat())).set_index("consignment_id").sort_index()
    remote = pd.read_parquet(Workspace(workspace).scores_day(LAST_DAY.isoformat())).set_index("consignment_id").sort_index()
    columns = ["score", "rank", "lane", "selected", "selection_basis", "customs_office"]
    pd.testing.assert_frame_equal(local[columns], remote[columns])
    local_lists = sorted(Path(Workspace(trained).lists_day(LAST_DAY.isoformat())).glob("*.csv"))
    remote_lists = sorted(Path(Workspace(workspace).lists_day(LAST_DAY.isoformat())).glob("*.csv"))
    assert [p.name for p in local_lists] == [p.name for p in remote_lists]
    for a, b in zip(local_lists, remote_lists):
        assert a.read_bytes() == b.read_bytes(), f"{a.name} differs between local and cluster runs"
