"""The stored feature table: one folder per lodging day in the workspace, read by any job or report."""
from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from features.table import KEY_COLUMNS, table_schema
from pipelines.io.workspace import Workspace, read_days


def read_features(spark: SparkSession, workspace: Workspace, dates: list[str]) -> DataFrame:
    """The stored feature table of `dates` (lodged_date restored from the folder)."""
    frame = read_days(spark, workspace.features, dates, table_schema(), "lodged_date")
    return frame.select(*KEY_COLUMNS, *[c for c in frame.columns if c not in KEY_COLUMNS])
