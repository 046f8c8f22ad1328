"""spark-submit's master and resources win over the configuration's defaults."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.io.workspace import Workspace
from tests.integration.conftest import LAST_DAY

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).resolve().parents[2] / "pipelines" / "cli" / "__main__.py"


def test_spark_submit_master_and_driver_memory_are_the_ones_in_effect(trained, input_root, small_conf):
    # conf/base says local[2] and 4g: the command line must win.
    command = [str(Path(sys.executable).parent / "spark-submit"), "--master", "local[1]", "--driver-memory", "1g",
               str(DRIVER), "nightly", "--input", input_root, "--workspace", trained, "--date", LAST_DAY.isoformat()]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    spark = json.loads(Path(Workspace(trained).summary(LAST_DAY.isoformat())).read_text())["spark"]
    assert spark["master"] == "local[1]"
    assert spark["driver_memory"] == "1g"
    assert spark["default_parallelism"] == 1 and spark["application_id"].startswith("local-")

