"""The DAGs of deploy/airflow/dags, run by Airflow itself (`airflow dags test`) on generated data.

Airflow lives in its own virtual environment, .venv-airflow at the repository root, built
from deploy/airflow/requirements.txt and reused while that file (and the Python version) is
unchanged. The DAGs call the project's CLI: by default the `shiprisk` beside the interpreter
running pytest; SHIPRISK_TEST_CLI=/path/to/shiprisk tests another build.

One module-scoped scenario, in a temporary AIRFLOW_HOME with a SQLite metadata database:
1. the weekly retrain DAG for a Monday: `train` registers the first model (so `promote` is
   skipped), `evaluate` reports on the window's last days;
2. the nightly DAG for the next lodging day: W/nights/date=D/ with its summary and lists;
3. the nightly DAG pointed (`date` parameter) at a day with no input: the task fails, is
   retried once, and the DAG run fails.
The test skips only when the Airflow venv cannot be built because the package index cannot
be reached; any other install problem fails it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_DIR = REPO / "deploy" / "airflow"
REQUIREMENTS = AIRFLOW_DIR / "requirements.txt"
DAGS = AIRFLOW_DIR / "dags"
VENV = REPO / ".venv-airflow"
STAMP = VENV / ".requirements.sha256"
AIRFLOW_VERSION = "3.3.2"

# Small data: 13 lodging days of 500 consignments, Wednesday 2026-05-06 to Monday 2026-05-18.
# The retrain DAG runs as scheduled on Monday 2026-05-18 05:00 HKT: its lodging day is Sunday
# 05-17 and it trains on the 12 days 05-06..05-17 (with seed 7 the 7 fitting days hold 79
# outcomes, 7 of them seizures: enough for the settings below). The nightly DAG runs on
# Tuesday 05-19 03:00 HKT and scores Monday 05-18, the last generated day; 05-19 has no input.
START = dt.date(2026, 5, 6)
DAYS = 13
PER_DAY = 500
TRAIN_LAST = START + dt.timedelta(days=DAYS - 2)
NIGHT = START + dt.timedelta(days=DAYS - 1)
MISSING = NIGHT + dt.timedelta(days=1)
WINDOW_DAYS = DAYS - 1
EVALUATE_DAYS = 3

# Settings for the small data (as tests/integration/conftest.py), passed to the CLI
# through the Airflow worker's environment.
SMALL_CONF = {
    "SHIPRISK__EVALUATION__HOLDOUT_DAYS": "5",
    "SHIPRISK__EVALUATION__MIN_POSITIVES": "3",
    "SHIPRISK__EVALUATION__MIN_LABELLED_ROWS": "30",
    "SHIPRISK__MODEL__MAX_ITER": "30",
    "SHIPRISK__SPARK__SHUFFLE_PARTITIONS": "2",
}

# pip's words for "the index could not be reached"; a skip also needs pip to say that this is
# why it got no package (not, say, that a pinned version does not exist, or a build failed).
_UNREACHABLE = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|"
    r"Name or service not known|Network is unreachable|Connection refused|ConnectTimeoutError|"
    r"ReadTimeoutError|Max retries exceeded|ProxyError|No route to host"
)
_NOT_OBTAINED = re.compile(r"No matching distribution found|Could not find a version that satisfies|due to an OSError")


def _digest() -> str:
    h = hashlib.sha256(REQUIREMENTS.read_bytes())
    h.update(f"python {sys.version_info.major}.{sys.version_info.minor}".encode())
    return h.hexdigest()


def _run(cmd, log: Path, env=None, timeout=1800, cwd=None) -> subprocess.CompletedProcess:
    """Run `cmd` with stdout and stderr into `log`; the output is also returned."""
    with open(log, "w") as out:
        proc = subprocess.run([str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT, env=env,
                              timeout=timeout, cwd=cwd, stdin=subprocess.DEVNULL)
    proc.stdout = log.read_text(errors="replace")
    return proc


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="module")
def airflow_bin(tmp_path_factory) -> Path:
    """.venv-airflow/bin/airflow, (re)built when requirements.txt or the Python version changed."""
    airflow = VENV / "bin" / "airflow"
    digest = _digest()
    if airflow.exists() and STAMP.exists() and STAMP.read_text().strip() == digest:
        return airflow
    logs = tmp_path_factory.mktemp("airflow-venv")
    shutil.rmtree(VENV, ignore_errors=True)
    made = _run([sys.executable, "-m", "venv", VENV], logs / "venv.log", timeout=300)
    assert made.returncode == 0, f"python -m venv {VENV} failed:\n{_tail(made.stdout)}"
    pip = [VENV / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
           "--retries", "2", "--timeout", "60", "-r", REQUIREMENTS]
    installed = _run(pip, logs / "pip.log", timeout=1500)
    if installed.returncode != 0:
        shutil.rmtree(VENV, ignore_errors=True)
        unreachable = _UNREACHABLE.search(installed.stdout)
        if unreachable and _NOT_OBTAINED.search(installed.stdout):
            pytest.skip(f"cannot build {VENV.name}: the package index is unreachable ({unreachable.group(0)})")
        pytest.fail(f"pip install -r {REQUIREMENTS.relative_to(REPO)} failed:\n{_tail(installed.stdout)}")
    version = subprocess.run([airflow, "version"], capture_output=True, text=True, timeout=120,
                             env={**_clean_env(), "AIRFLOW_HOME": str(logs / "home")})
    assert version.stdout.strip().splitlines()[-1:] == [AIRFLOW_VERSION], version.stdout + version.stderr
    STAMP.write_text(digest + "\n")
    return airflow


def _clean_env() -> dict:
    """This process's environment less what would leak into Airflow or the CLI: the project's
    Python paths (the CLI picks its own interpreter for Spark's workers) and any Airflow or DAG
    setting of the caller's shell."""
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON"}
    return {k: v for k, v in os.environ.items()
            if k not in drop and not k.startswith(("AIRFLOW", "SHIPRISK_AIRFLOW_"))}


@pytest.fixture(scope="module")
def shiprisk_cli() -> Path:
    cli = Path(os.environ.get("SHIPRISK_TEST_CLI") or Path(sys.executable).with_name("shiprisk"))
    assert cli.exists() and os.access(cli, os.X_OK), f"no shiprisk executable at {cli}: run `make install`"
    return cli


class Airflow:
    """`airflow` in a private AIRFLOW_HOME, plus a look into its SQLite metadata database."""

    def __init__(self, airflow: Path, home: Path, env: dict):
        self.airflow, self.home, self.env = airflow, home, env

    def __call__(self, *args, log: str, timeout=1800) -> subprocess.CompletedProcess:
        return _run([self.airflow, *args], self.home / f"{log}.log", env=self.env, timeout=timeout, cwd=self.home)

    def query(self, sql: str, *params):
        with sqlite3.connect(self.home / "airflow.db") as db:
            return db.execute(sql, params).fetchall()

    def last_run(self, dag_id: str) -> dict:
        (run_id, state), = self.query(
            "SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", dag_id)
        tasks = {t: {"state": s, "try_number": n} for t, s, n in self.query(
            "SELECT task_id, state, try_number FROM task_instance WHERE dag_id = ? AND run_id = ?", dag_id, run_id)}
        rendered = {t: json.loads(f) for t, f in self.query(
            "SELECT task_id, rendered_fields FROM rendered_task_instance_fields WHERE dag_id = ? AND run_id = ?",
            dag_id, run_id)}
        xcom = {t: json.loads(v) for t, v in self.query(
            "SELECT task_id, value FROM xcom WHERE dag_id = ? AND run_id = ? AND key = 'return_value'", dag_id, run_id)}
        return {"run_id": run_id, "state": state, "tasks": tasks, "rendered": rendered, "xcom": xcom}


@pytest.fixture(scope="module")
def scenario(airflow_bin, shiprisk_cli, tmp_path_factory):
    root = tmp_path_factory.mktemp("airflow-dags")
    home, input_root, workspace = root / "airflow-home", root / "input", root / "workspace"
    home.mkdir()
    made = _run([shiprisk_cli, "generate", "--out", input_root, "--start", START, "--days", DAYS,
                 "--per-day", PER_DAY, "--seed", 7], root / "generate.log", timeout=600)
    assert made.returncode == 0, _tail(made.stdout)

    env = {
        **_clean_env(),
        **SMALL_CONF,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        # The DAGs' settings, as Airflow Variables given through the environment.
        "AIRFLOW_VAR_SHIPRISK_BIN": str(shiprisk_cli),
        "AIRFLOW_VAR_SHIPRISK_INPUT": str(input_root),
        "AIRFLOW_VAR_SHIPRISK_WORKSPACE": str(workspace),
        "AIRFLOW_VAR_SHIPRISK_TRAIN_WINDOW_DAYS": str(WINDOW_DAYS),
        "AIRFLOW_VAR_SHIPRISK_TRAIN_LAG_DAYS": "0",
        "AIRFLOW_VAR_SHIPRISK_EVALUATE_DAYS": str(EVALUATE_DAYS),
        # One retry, at once: the failing night shows that a retried failure still fails the run.
        "SHIPRISK_AIRFLOW_RETRIES": "1",
        "SHIPRISK_AIRFLOW_RETRY_DELAY_MINUTES": "0",
        "SPARK_LOCAL_IP": "127.0.0.1",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "GX_ANALYTICS_ENABLED": "False",
        "DO_NOT_TRACK": "1",
    }
    af = Airflow(airflow_bin, home, env)
    migrated = af("db", "migrate", log="db-migrate", timeout=600)
    assert migrated.returncode == 0, _tail(migrated.stdout)

    # Monday 05:00 HKT, the retrain DAG's schedule; its lodging day is the Sunday before.
    retrain = af("dags", "test", "shiprisk_retrain", f"{TRAIN_LAST + dt.timedelta(days=1)}T05:00:00+08:00",
                 log="retrain")
    retrain_run = af.last_run("shiprisk_retrain")
    # 03:00 HKT on the day after NIGHT, the nightly schedule: it scores NIGHT.
    nightly = af("dags", "test", "shiprisk_nightly", f"{NIGHT + dt.timedelta(days=1)}T03:00:00+08:00",
                 log="nightly")
    nightly_run = af.last_run("shiprisk_nightly")
    # A run pointed at a day with no input (the `date` parameter overrides the logical date's day).
    failing = af("dags", "test", "shiprisk_nightly", "2026-07-01T03:00:00+08:00",
                 "--conf", json.dumps({"date": MISSING.isoformat()}), log="nightly-missing")
    failing_run = af.last_run("shiprisk_nightly")
    return {"workspace": workspace, "retrain": (retrain, retrain_run), "nightly": (nightly, nightly_run),
            "failing": (failing, failing_run)}


# Run by .venv-airflow's python: the DAG files as Airflow's DagBag loads them, as JSON.
_DESCRIBE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
out = {"import_errors": {k: str(v)[-400:] for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in sorted(bag.dags.items()):
    out["dags"][dag_id] = {
        "timetable": type(dag.timetable).__name__, "cron": dag.timetable.expression,
        "timezone": dag.timezone.name, "catchup": dag.catchup, "max_active_runs": dag.max_active_runs,
        "tasks": {t.task_id: {"operator": f"{type(t).__module__}.{type(t).__name__}", "retries": t.retries,
                              "retry_delay": t.retry_delay.total_seconds(), "downstream": sorted(t.downstream_task_ids)}
                  for t in dag.tasks},
    }


class TI:  # what the gate before `promote` reads: train's XCom, "<version> <alias>"
    def __init__(self, value):
        self.value = value

    def xcom_pull(self, task_ids):
        return self.value if task_ids == "train" else None


if "shiprisk_retrain" in bag.dags:
    gate = bag.dags["shiprisk_retrain"].get_task("challenger_registered").python_callable
    out["promote_runs_after"] = {value: gate(TI(value)) for value in ("1 champion", "7 challenger")}
print("DAGS " + json.dumps(out))
"""


def test_dags_declare_schedule_time_zone_and_run_policy(airflow_bin, tmp_path):
    env = {**_clean_env(), "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    proc = subprocess.run([airflow_bin.with_name("python"), "-c", _DESCRIBE, DAGS], capture_output=True, text=True,
                          env=env, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = json.loads(next(line[5:] for line in proc.stdout.splitlines() if line.startswith("DAGS ")))
    assert found["import_errors"] == {}
    assert set(found["dags"]) == {"shiprisk_nightly", "shiprisk_retrain"}
    bash = "airflow.providers.standard.operators.bash.BashOperator"
    for dag_id, cron, chain in (
        ("shiprisk_nightly", "0 3 * * *", [("nightly", bash)]),
        ("shiprisk_retrain", "0 5 * * 1", [("train", bash), ("evaluate", bash),
                                           ("challenger_registered",
                                            "airflow.providers.standard.operators.python.ShortCircuitOperator"),
                                           ("promote", bash)]),
    ):
        dag = found["dags"][dag_id]
        assert (dag["timetable"], dag["cron"], dag["timezone"]) == ("CronTriggerTimetable", cron, "Asia/Hong_Kong")
        assert (dag["catchup"], dag["max_active_runs"]) == (False, 1)
        # Defaults of SHIPRISK_AIRFLOW_RETRIES / SHIPRISK_AIRFLOW_RETRY_DELAY_MINUTES.
        assert {(t["retries"], t["retry_delay"]) for t in dag["tasks"].values()} == {(2, 900.0)}
        assert {task: t["operator"] for task, t in dag["tasks"].items()} == dict(chain)
        ids = [task for task, _ in chain]
        assert [dag["tasks"][t]["downstream"] for t in ids] == [[n] for n in ids[1:]] + [[]]
    # `promote` runs only when `train` registered a challenger (the first model is champion already).
    assert found["promote_runs_after"] == {"1 champion": False, "7 challenger": True}


def test_retrain_dag_trains_evaluates_and_skips_promotion_of_the_first_model(scenario):
    proc, run = scenario["retrain"]
    assert proc.returncode == 0 and run["state"] == "success", _tail(proc.stdout, 120)
    states = {t: v["state"] for t, v in run["tasks"].items()}
    assert states == {"train": "success", "evaluate": "success", "challenger_registered": "success",
                      "promote": "skipped"}
    # The first model of an empty registry becomes champion: nothing to promote.
    assert run["xcom"]["train"] == "1 champion"
    first = TRAIN_LAST - dt.timedelta(days=WINDOW_DAYS - 1)
    env = run["rendered"]["train"]["env"]
    assert (env["SHIPRISK_LODGING_DAY"], env["SHIPRISK_FROM"], env["SHIPRISK_TO"]) == (
        TRAIN_LAST.isoformat(), first.isoformat(), TRAIN_LAST.isoformat())
    evaluate_env = run["rendered"]["evaluate"]["env"]
    assert (evaluate_env["SHIPRISK_EVAL_FROM"], evaluate_env["SHIPRISK_EVAL_TO"], evaluate_env["SHIPRISK_MODEL_VERSION"]) == (
        (TRAIN_LAST - dt.timedelta(days=EVALUATE_DAYS - 1)).isoformat(), TRAIN_LAST.isoformat(), "1")
    workspace = scenario["workspace"]
    assert (workspace / "mlflow.db").exists()
    reports = list((workspace / "reports").glob("evaluate-v1-*/evaluation.json"))
    assert reports, "evaluate wrote no report"
    assert json.loads(reports[0].read_text())["n_consignments"] == EVALUATE_DAYS * PER_DAY


def test_nightly_dag_scores_the_previous_lodging_day(scenario):
    proc, run = scenario["nightly"]
    assert proc.returncode == 0 and run["state"] == "success", _tail(proc.stdout, 120)
    assert run["tasks"] == {"nightly": {"state": "success", "try_number": 1}}
    assert run["rendered"]["nightly"]["env"]["SHIPRISK_LODGING_DAY"] == NIGHT.isoformat()
    # What a night publishes, as one unit (docs/operations.md, "Where things are").
    night = scenario["workspace"] / "nights" / f"date={NIGHT}"
    summary = json.loads((night / "summary.json").read_text())
    assert summary["run_date"] == NIGHT.isoformat() and summary["model_version"] == "1"
    counts = summary["counts"]
    assert counts["consignments_read"] == PER_DAY
    assert counts["consignments_read"] == counts["consignments_scored"] + counts["consignments_quarantined"]
    lists = sorted((night / "lists").glob("*.csv"))
    assert lists, "no inspection list written"
    assert sum(len(pd.read_csv(p)) for p in lists) == counts["selected"] > 0
    assert {p.with_suffix(".html").exists() for p in lists} == {True}


def test_nightly_dag_run_fails_when_the_day_has_no_input(scenario):
    proc, run = scenario["failing"]
    assert run["state"] == "failed", _tail(proc.stdout, 120)
    assert proc.returncode != 0, "`airflow dags test` reported success for a failed run"
    # Tried, retried once, failed: the DAG run fails instead of passing over the night.
    assert run["tasks"] == {"nightly": {"state": "failed", "try_number": 2}}
    assert run["rendered"]["nightly"]["env"]["SHIPRISK_LODGING_DAY"] == MISSING.isoformat()
    # Both tries ended with the CLI's "feed broken as a whole" code (3: no manifests for the
    # day, docs/operations.md), not a crash (70), and the log says which day.
    codes = re.findall(r"returned a non-zero exit code (\d+)", proc.stdout)
    assert set(codes) == {"3"} and len(codes) >= 2, _tail(proc.stdout, 120)
    assert MISSING.isoformat() in proc.stdout
    assert not (scenario["workspace"] / "nights" / f"date={MISSING}").exists()
