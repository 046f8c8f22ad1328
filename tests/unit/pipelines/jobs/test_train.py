"""Pieces of `shiprisk train` that need no MLflow store: the split of the window and the day counts."""
import datetime as dt

import pandas as pd
import pytest

from pipelines.errors import UserError
from pipelines.jobs.train import consignments_per_day, split_days


def test_consignments_per_day_counts_every_consignment_lodged_not_only_the_labelled(spark):
    days = [dt.date(2026, 2, 1)] * 3 + [dt.date(2026, 2, 2)] * 5
    features = spark.createDataFrame(pd.DataFrame({"consignment_id": [f"C{i}" for i in range(8)], "lodged_date": days}))
    assert consignments_per_day(features) == {"2026-02-01": 3, "2026-02-02": 5}


def test_the_hold_out_is_the_windows_last_days_and_needs_a_day_before_it():
    days = [f"2026-02-{d:02d}" for d in range(1, 11)]
    assert split_days(days, 3) == (days[:7], days[7:])
    with pytest.raises(UserError, match="holdout_days is 10"):
        split_days(days, 10)
