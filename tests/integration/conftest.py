"""A small generated input root and a trained workspace, shared by the integration tests."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

START = dt.date(2026, 6, 1)
DAYS = 36
PER_DAY = 500
TRAIN_TO = START + dt.timedelta(days=27)
LAST_DAY = START + dt.timedelta(days=DAYS - 1)
DRIVER = Path(__file__).resolve().parents[2] / "pipelines" / "cli" / "__main__.py"


def spark_submit(flags: list[str], args: list[str], env: dict | None = None) -> None:
    """The job as an operator deploys it: spark-submit of the one driver file, master and
    resources on the command line (docs/deployment.md)."""
    command = [str(Path(sys.executable).parent / "spark-submit"), *flags, str(DRIVER), *args]
    result = subprocess.run(command, env={**os.environ, "PYSPARK_PYTHON": sys.executable, **(env or {})},
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="session")
def input_root(settings, tmp_path_factory):
    from pipelines.devtools.synthetic import generate

    root = tmp_path_factory.mktemp("input")
    generate(str(root), START, DAYS, PER_DAY, 11, settings["synthetic"])
    return str(root)


@pytest.fixture(scope="session")
def small_conf(tmp_path_factory):
    """Settings scaled to the small data: a short hold-out, few boosting rounds."""
    import os

    overrides = {
        "SHIPRISK__EVALUATION__HOLDOUT_DAYS": "7",
        "SHIPRISK__EVALUATION__MIN_POSITIVES": "3",
        "SHIPRISK__MODEL__MAX_ITER": "80",
    }
    old = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    yield overrides
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def trained(spark, input_root, small_conf, tmp_path_factory):
    """A workspace where `train` then `nightly` for LAST_DAY ran in local mode."""
    from pipelines.cli import main

    workspace = str(tmp_path_factory.mktemp("ws"))
    assert main(["train", "--input", input_root, "--workspace", workspace,
                 "--from", START.isoformat(), "--to", TRAIN_TO.isoformat()]) == 0
    assert main(["nightly", "--input", input_root, "--workspace", workspace, "--date", LAST_DAY.isoformat()]) == 0
    return workspace
