"""The contract's rule for outcomes: a later outcome for the same consignment replaces an earlier one."""
from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F


def latest_outcomes(outcomes: DataFrame) -> DataFrame:
    """A later outcome for the same consignment replaces an earlier one."""
    latest_first = Window.partitionBy("consignment_id").orderBy(F.col("inspected_on").desc_nulls_last())
    return (
        outcomes.withColumn("_order", F.row_number().over(latest_first))
        .filter(F.col("_order") == 1)
        .drop("_order")
    )
