"""shiprisk_retrain: every Monday at 05:00 Hong Kong time, retrain on a trailing window.

    train ──> evaluate ──> challenger_registered ──> promote

- `train`: `shiprisk train` over the shiprisk_train_window_days lodging days ending
  shiprisk_train_lag_days before the run's lodging day (the Sunday before a Monday run).
  The new version becomes `challenger`, or `champion` if the registry has none yet. The
  task's XCom is "<version> <alias>", read from the CLI's "registered ... version N as
  @alias" line (the task fails if that line is missing).
- `evaluate`: `shiprisk evaluate --model <version>` on the last shiprisk_evaluate_days days
  of the window (JSON and HTML report under W/reports/).
- `challenger_registered`: skips `promote` when `train` made the first champion (there is
  nothing to compare it with).
- `promote`: `shiprisk promote`: the CLI moves `champion` only if the challenger is not worse
  on the configured metric; a refused challenger is a successful task.

Runs at 05:00, after the 03:00 nightly run has built the Sunday's features. See README.md
beside the dags/ folder for the settings.
"""
from __future__ import annotations

import datetime as dt
import os
import sys

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import ShortCircuitOperator
from airflow.sdk import DAG, CronTriggerTimetable, Param

# shiprisk_common.py sits beside this file; not every Airflow entry point puts the DAG folder
# on sys.path (`airflow dags list --local` does not), so say where it is.
if os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from shiprisk_common import CLI_ENV, DATE_PARAM_DOC, MACROS, START_DATE, TIMEZONE, default_args


def _window_end(macro: str, end: int) -> str:
    """Template: first (0) or last (1) day of a window computed from the run's lodging day."""
    return "{{ " + f"{macro}(shiprisk_lodging_day(logical_date, dag_run.run_after, params.date))[{end}]" + " }}"


WINDOW_ENV = {
    "SHIPRISK_FROM": _window_end("shiprisk_train_window", 0),
    "SHIPRISK_TO": _window_end("shiprisk_train_window", 1),
    "SHIPRISK_EVAL_FROM": _window_end("shiprisk_evaluate_window", 0),
    "SHIPRISK_EVAL_TO": _window_end("shiprisk_evaluate_window", 1),
}

TRAIN = r"""
set -euo pipefail
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
echo "training on $SHIPRISK_FROM..$SHIPRISK_TO"
"$SHIPRISK_BIN" train --input "$SHIPRISK_INPUT" --workspace "$SHIPRISK_WORKSPACE" \
    --from "$SHIPRISK_FROM" --to "$SHIPRISK_TO" | tee "$out"
registered="$(sed -nE 's/^registered .* version ([0-9]+) as @([A-Za-z_-]+).*/\1 \2/p' "$out" | tail -n 1)"
if [ -z "$registered" ]; then
    echo "shiprisk train succeeded but printed no 'registered ... version N as @alias' line" >&2
    exit 1
fi
echo "$registered"
"""

EVALUATE = r"""
set -euo pipefail
exec "$SHIPRISK_BIN" evaluate --input "$SHIPRISK_INPUT" --workspace "$SHIPRISK_WORKSPACE" \
    --from "$SHIPRISK_EVAL_FROM" --to "$SHIPRISK_EVAL_TO" --model "$SHIPRISK_MODEL_VERSION"
"""

PROMOTE = r"""
set -euo pipefail
exec "$SHIPRISK_BIN" promote --workspace "$SHIPRISK_WORKSPACE" --input "$SHIPRISK_INPUT"
"""


def _trained_as_challenger(ti) -> bool:
    version, alias = ti.xcom_pull(task_ids="train").split()
    if alias != "challenger":
        print(f"train registered version {version} as @{alias}: there is no champion to compare it with, "
              "so there is nothing to promote")
        return False
    print(f"train registered version {version} as @challenger: promote decides")
    return True


with DAG(
    dag_id="shiprisk_retrain",
    description="Weekly: train on a trailing window, evaluate, promote if not worse",
    schedule=CronTriggerTimetable("0 5 * * 1", timezone=TIMEZONE),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    user_defined_macros=MACROS,
    params={"date": Param(None, type=["null", "string"], format="date",
                          description=DATE_PARAM_DOC + " The training window ends on this day (less the lag).")},
    tags=["shiprisk"],
    doc_md=__doc__,
) as dag:
    env = {**CLI_ENV, **WINDOW_ENV}
    train = BashOperator(
        task_id="train",
        bash_command=TRAIN,
        env=env,
        append_env=True,
        skip_on_exit_code=None,
        execution_timeout=dt.timedelta(hours=8),
    )
    evaluate = BashOperator(
        task_id="evaluate",
        bash_command=EVALUATE,
        env={**env, "SHIPRISK_MODEL_VERSION": "{{ ti.xcom_pull(task_ids='train').split()[0] }}"},
        append_env=True,
        skip_on_exit_code=None,
        do_xcom_push=False,
        execution_timeout=dt.timedelta(hours=4),
    )
    gate = ShortCircuitOperator(task_id="challenger_registered", python_callable=_trained_as_challenger)
    promote = BashOperator(
        task_id="promote",
        bash_command=PROMOTE,
        env=env,
        append_env=True,
        skip_on_exit_code=None,
        do_xcom_push=False,
        execution_timeout=dt.timedelta(hours=4),
    )
    train >> evaluate >> gate >> promote
