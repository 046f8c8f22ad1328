"""Settings and dates shared by the shiprisk DAGs (not a DAG: listed in .airflowignore).

The DAGs only call the project's command-line interface (`shiprisk ...`) through
BashOperator; everything machine-specific comes from Airflow Variables, read when a task
runs (so a change applies to the next run without redeploying the DAG files):

    Variable                              default
    shiprisk_bin                          shiprisk  (looked up on the worker's PATH)
    shiprisk_input                        $AIRFLOW_HOME/shiprisk/input
    shiprisk_workspace                    $AIRFLOW_HOME/shiprisk/workspace
    shiprisk_train_window_days            90
    shiprisk_train_lag_days               0
    shiprisk_evaluate_days                14

Like any Airflow Variable, each can also be given as an environment variable of the
worker, AIRFLOW_VAR_<NAME IN CAPITALS> (e.g. AIRFLOW_VAR_SHIPRISK_INPUT), which takes
precedence over the metadata database.

Retry and pool settings shape the DAG itself, so they are read when the file is parsed, from
the environment only: SHIPRISK_AIRFLOW_RETRIES (default 2),
SHIPRISK_AIRFLOW_RETRY_DELAY_MINUTES (default 15) and SHIPRISK_AIRFLOW_POOL (default: Airflow's
default_pool; name a pool of one slot to keep the two DAGs' tasks from running at the same
time, since the CLI holds one writer lock per workspace and refuses a second writer).

Dates: both DAGs run on a cron trigger in Hong Kong time, so a run's logical date is the
moment it was due (e.g. 2026-09-06 03:00 HKT). The lodging day it works on is the Hong Kong
calendar day before that moment (2026-09-05). `{{ ds }}` is NOT used: it is the logical
date's UTC calendar day, which for a 03:00 HKT run is already the previous day (19:00 UTC),
and for a manual run at another hour can be either day. A run can be pointed at a given
lodging day with the `date` parameter (`airflow dags trigger -c '{"date": "2026-09-05"}'`).
"""
from __future__ import annotations

import datetime as dt
import os

import pendulum

TIMEZONE = pendulum.timezone("Asia/Hong_Kong")
START_DATE = pendulum.datetime(2026, 1, 1, tz=TIMEZONE)


def _airflow_home() -> str:
    return os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")


# name -> default, computed when a task renders its templates (on the worker).
DEFAULTS = {
    "bin": lambda: "shiprisk",
    "input": lambda: os.path.join(_airflow_home(), "shiprisk", "input"),
    "workspace": lambda: os.path.join(_airflow_home(), "shiprisk", "workspace"),
    "train_window_days": lambda: "90",
    "train_lag_days": lambda: "0",
    "evaluate_days": lambda: "14",
}


def setting(name: str) -> str:
    """Airflow Variable `shiprisk_<name>` (or AIRFLOW_VAR_SHIPRISK_<NAME>), else the default."""
    from airflow.sdk import Variable

    value = Variable.get(f"shiprisk_{name}", default=None)
    if value is None or str(value).strip() == "":
        return DEFAULTS[name]()
    return str(value).strip()


def _positive_int(name: str, minimum: int) -> int:
    text = setting(name)
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"Airflow Variable shiprisk_{name} must be a whole number, not {text!r}") from None
    if value < minimum:
        raise ValueError(f"Airflow Variable shiprisk_{name} must be at least {minimum}, not {value}")
    return value


def lodging_day(logical_date, run_after=None, override=None) -> str:
    """The lodging day (YYYY-MM-DD) a run works on: `override` if given, else the Hong Kong
    calendar day before the moment the run was due (its logical date, or run_after for a run
    triggered without one)."""
    if override:
        return dt.date.fromisoformat(str(override).strip()).isoformat()
    moment = logical_date or run_after
    if moment is None:
        raise ValueError("the run has neither a logical date nor a run_after time; pass the `date` parameter")
    local = pendulum.instance(moment).in_timezone(TIMEZONE)
    return (local.date() - dt.timedelta(days=1)).isoformat()


def train_window(last_lodging_day: str) -> tuple[str, str]:
    """(first, last) day of the training window: shiprisk_train_window_days days ending
    shiprisk_train_lag_days days before `last_lodging_day`."""
    days, lag = _positive_int("train_window_days", 2), _positive_int("train_lag_days", 0)
    last = dt.date.fromisoformat(last_lodging_day) - dt.timedelta(days=lag)
    return (last - dt.timedelta(days=days - 1)).isoformat(), last.isoformat()


def evaluate_window(last_lodging_day: str) -> tuple[str, str]:
    """(first, last) day of the evaluation window: the last shiprisk_evaluate_days days of
    the training window (where `train` held out the fitted model's evaluation days)."""
    first, last = train_window(last_lodging_day)
    days = min(_positive_int("evaluate_days", 1), (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1)
    return (dt.date.fromisoformat(last) - dt.timedelta(days=days - 1)).isoformat(), last


def _env_number(name: str, default: float, kind=int):
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"environment variable {name} must be a number, not {text!r}") from None
    if value < 0:
        raise ValueError(f"environment variable {name} must not be negative, not {value}")
    return value


def default_args() -> dict:
    return {
        "owner": "shiprisk",
        "retries": _env_number("SHIPRISK_AIRFLOW_RETRIES", 2, int),
        "retry_delay": dt.timedelta(minutes=_env_number("SHIPRISK_AIRFLOW_RETRY_DELAY_MINUTES", 15, float)),
        "depends_on_past": False,
        "pool": os.environ.get("SHIPRISK_AIRFLOW_POOL", "").strip() or "default_pool",
    }


# Available in every template of both DAGs.
MACROS = {
    "shiprisk_setting": setting,
    "shiprisk_lodging_day": lodging_day,
    "shiprisk_train_window": train_window,
    "shiprisk_evaluate_window": evaluate_window,
}

# The lodging day of the current run, as a template (params.date overrides).
LODGING_DAY = "{{ shiprisk_lodging_day(logical_date, dag_run.run_after, params.date) }}"

# Environment given to every shiprisk task on top of the worker's own (PATH, JAVA_HOME,
# SHIPRISK__SECTION__KEY overrides, MLFLOW_TRACKING_URI ... are inherited). The CLI itself
# keeps local Spark on the loopback and turns MLflow and Great Expectations telemetry off.
CLI_ENV = {
    "SHIPRISK_BIN": "{{ shiprisk_setting('bin') }}",
    "SHIPRISK_INPUT": "{{ shiprisk_setting('input') }}",
    "SHIPRISK_WORKSPACE": "{{ shiprisk_setting('workspace') }}",
    "SHIPRISK_LODGING_DAY": LODGING_DAY,
}

DATE_PARAM_DOC = (
    "Lodging day to work on, YYYY-MM-DD. Empty: the Hong Kong calendar day before the run's logical date."
)
