"""shiprisk_nightly: every day at 03:00 Hong Kong time, score the previous lodging day.

One task, `nightly`, runs `shiprisk nightly --input I --workspace W --date D`: validation,
quarantine, features, scoring, per-office inspection lists and the run record, published
together under W/nights/date=D/.
Any non-zero exit fails the task (after its retries) and so the run. See README.md beside
the dags/ folder for the settings and shiprisk_common.py for the dates.
"""
from __future__ import annotations

import datetime as dt
import os
import sys

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, CronTriggerTimetable, Param

# shiprisk_common.py sits beside this file; not every Airflow entry point puts the DAG folder
# on sys.path (`airflow dags list --local` does not), so say where it is.
if os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from shiprisk_common import CLI_ENV, DATE_PARAM_DOC, MACROS, START_DATE, TIMEZONE, default_args

with DAG(
    dag_id="shiprisk_nightly",
    description="Score the previous lodging day and write the inspection lists",
    schedule=CronTriggerTimetable("0 3 * * *", timezone=TIMEZONE),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    user_defined_macros=MACROS,
    params={"date": Param(None, type=["null", "string"], format="date", description=DATE_PARAM_DOC)},
    tags=["shiprisk"],
    doc_md=__doc__,
) as dag:
    BashOperator(
        task_id="nightly",
        bash_command=(
            'exec "$SHIPRISK_BIN" nightly --input "$SHIPRISK_INPUT" --workspace "$SHIPRISK_WORKSPACE"'
            ' --date "$SHIPRISK_LODGING_DAY"'
        ),
        env=CLI_ENV,
        append_env=True,
        # Not BashOperator's default (exit 99 = skip): no exit code of the CLI means "skip",
        # and a skipped night must never pass for a scored one.
        skip_on_exit_code=None,
        do_xcom_push=False,
        execution_timeout=dt.timedelta(hours=4),
    )
