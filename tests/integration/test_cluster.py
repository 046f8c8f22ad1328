"""The same train and nightly jobs, unchanged, on a real Spark standalone cluster (master and
two workers on loopback) against a real MLflow tracking server: same scores and lists as the
local run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.integration.conftest import LAST_DAY, START, TRAIN_TO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from pipelines.devtools.local_cluster import start, stop_pids

    state = start(str(tmp_path_factory.mktemp("cluster")), worker_memory="2g")
    try:
        yield state
    finally:
        stop_pids(state["pids"])
        for pid in state["pids"]:
            with pytest.raises(ProcessLookupError):
                os.killpg(pid, 0)


def _cli(args: list[str], env: dict) -> None:
    result = subprocess.run([sys.executable, "-m", "pipelines.cli", *args], env=env, capture_output=True, text=True,
                            timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]


def test_cluster_run_matches_local_run(cluster, trained, input_root, small_conf, tmp_path):
    env = {**os.environ, "SHIPRISK__SPARK__MASTER": cluster["master"], "MLFLOW_TRACKING_URI": cluster["tracking_uri"],
           "SHIPRISK__SPARK__EXTRA__spark.executor.memory": "1g", "SHIPRISK__SPARK__EXTRA__spark.cores.max": "2"}
    workspace = str(tmp_path / "ws")
    _cli(["train", "--input", input_root, "--workspace", workspace,
          "--from", START.isoformat(), "--to", TRAIN_TO.isoformat()], env)
    _cli(["nightly", "--input", input_root, "--workspace", workspace, "--date", LAST_DAY.isoformat()], env)
    # The model and runs went to the tracking server, not to a file in the workspace.
    assert not (Path(workspace) / "mlflow.db").exists()
    local = pd.read_parquet(f"{trained}/scores/date={LAST_DAY}").set_index("consignment_id").sort_index()
    remote = pd.read_parquet(f"{workspace}/scores/date={LAST_DAY}").set_index("consignment_id").sort_index()
    columns = ["score", "rank", "lane", "selected", "selection_basis", "customs_office"]
    pd.testing.assert_frame_equal(local[columns], remote[columns])
    local_lists = sorted((Path(trained) / "lists" / f"date={LAST_DAY}").glob("*.csv"))
    remote_lists = sorted((Path(workspace) / "lists" / f"date={LAST_DAY}").glob("*.csv"))
    assert [p.name for p in local_lists] == [p.name for p in remote_lists]
    for a, b in zip(local_lists, remote_lists):
        assert a.read_bytes() == b.read_bytes(), f"{a.name} differs between local and cluster runs"
