"""The workspace W: every folder the jobs write, named here and nowhere else, and the
day-folder helpers that read and replace them.

    W/features/date=D/                  feature table of consignments lodged on D
    W/aggregates/<name>/date=D/         daily history aggregates (routes, hubs, HS6, parties)
    W/nights/date=D/                    what night D published, as one unit (swapped in whole):
        scores/                         every consignment scored
        lists/<office>.{csv,xlsx,html}  the inspection lists
        summary.json                    the run record: counts that reconcile, timings, drift, Spark
        worklist.parquet                the listed consignments (RED and AMBER) with their details, for the workbench
    W/runs/date=D/                      validation report of the days checked (validation.html/json)
    W/quarantine/date=D/<dataset>/      rows refused on D, with their reasons
    W/reports/                          evaluation and trend reports
    W/locks/                            one lock file per running job and day
    W/mlflow.db, W/mlartifacts/         the default MLflow store
    W/model_card.md                     the card of the last model trained here
    W/workbench.db                      inspection results recorded by inspectors (default database)
    W/recorded/outcomes/date=D/         those results in the contract's outcomes layout, D = inspected_on
                                        (rewritten from the database; read beside the input root's)
    W/input/                            the demo's generated input root (`shiprisk demo` only)

Spark data (features, aggregates, scores, quarantine) is addressed as URIs through Hadoop's
FileSystem, so W may be any URI Spark can write; files the driver writes itself (lists,
run records, reports, locks, the MLflow store) need a local path.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.errors import UserError
from pipelines.io.filesystem import hadoop_fs

_DAY_IN_PATH = r"date=(\d{4}-\d{2}-\d{2})"
# File systems whose folder rename is atomic: a workspace may live there (docs/deployment.md).
SUPPORTED_SCHEMES = ("file", "hdfs", "viewfs")


@dataclass(frozen=True)
class Workspace:
    root: str

    def uri(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    def path(self, *parts: str) -> Path:
        return Path(self.root).joinpath(*parts)

    @property
    def is_local(self) -> bool:
        """A plain path: POSIX renames and flock. Otherwise a URI on a Hadoop file system."""
        return "://" not in self.root and not self.root.startswith("file:")

    def check_supported(self) -> None:
        """Refuse a workspace on a store without atomic folder rename (object stores)."""
        scheme = self.root.split("://", 1)[0].lower() if "://" in self.root else "file"
        if scheme.split(":")[0] not in SUPPORTED_SCHEMES:
            raise UserError(f"workspace {self.root}: {scheme}:// has no atomic folder rename, so a night could be "
                            "seen half published; put the workspace on a local or shared disk, HDFS or viewfs "
                            "(input data may stay on any store Spark reads)")

    # Spark datasets (URIs)
    @property
    def features(self) -> str:
        return self.uri("features")

    @property
    def aggregates(self) -> str:
        return self.uri("aggregates")

    def aggregate(self, name: str) -> str:
        return self.uri("aggregates", name)

    @property
    def nights(self) -> str:
        return self.uri("nights")

    @property
    def quarantine(self) -> str:
        return self.uri("quarantine")

    def quarantine_day(self, day: str, dataset: str) -> str:
        return self.uri("quarantine", f"date={day}", dataset)

    def quarantine_staging(self, dataset: str) -> str:
        return self.uri("quarantine", "_staging", dataset)

    # Files the driver writes: a local path, or a URI on a Hadoop file system (io.publish)
    def night(self, day: str) -> str:
        """The folder a nightly run publishes as one unit."""
        return self.uri("nights", f"date={day}")

    def scores_day(self, day: str) -> str:
        return self.uri("nights", f"date={day}", "scores")

    def lists_day(self, day: str) -> str:
        return self.uri("nights", f"date={day}", "lists")

    def worklist(self, day: str) -> str:
        """One row per listed consignment of night `day` (RED list and AMBER queue) with what the
        inspector workbench shows: rank, lane, basis, reasons, goods items, route, parties, history.

        ONE Parquet file (written by pyarrow, not a Spark folder): `pyarrow.parquet.read_table(path)`
        reads it; schema pipelines.outputs.worklist.SCHEMA."""
        return self.uri("nights", f"date={day}", "worklist.parquet")

    def summary(self, day: str) -> str:
        return self.uri("nights", f"date={day}", "summary.json")

    def run_record(self, day: str) -> str:
        return self.uri("runs", f"date={day}")

    def report(self, name: str) -> str:
        return self.uri("reports", name)

    @property
    def model_card(self) -> str:
        return self.uri("model_card.md")

    # Local only
    @property
    def lock(self) -> Path:
        """The one writer lock of the workspace (pipelines.io.publish.workspace_lock)."""
        return self.path("locks", "workspace.lock")

    @property
    def mlflow_db(self) -> Path:
        return self.path("mlflow.db").resolve()

    @property
    def mlflow_artifacts(self) -> Path:
        return self.path("mlartifacts").resolve()

    @property
    def workbench_db(self) -> Path:
        """The default results database of the inspector workbench (SQLite)."""
        return self.path("workbench.db").resolve()

    @property
    def recorded(self) -> str:
        """An input root holding only outcomes: the results recorded here, in the contract's layout."""
        return self.uri("recorded")

    @property
    def demo_input(self) -> Path:
        """Where `shiprisk demo` generates its input root."""
        return self.path("input")


def days_between(first: dt.date, last: dt.date) -> list[str]:
    """ISO days from first to last inclusive."""
    if last < first:
        raise UserError(f"the window {first} to {last} is empty: --to must not be before --from")
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def parse_day(text: str, flag: str = "date") -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--{flag} {text!r} is not a date: write it as YYYY-MM-DD") from None


def day_folder(uri: str, day: str) -> str:
    return f"{uri}/date={day}"


def stored_days(spark: SparkSession, uri: str) -> list[str]:
    """Days with a date=D folder under uri."""
    fs, path = hadoop_fs(spark, day_folder(uri, "*"))
    statuses = fs.globStatus(path) or []
    return sorted(str(s.getPath().getName()).split("=", 1)[1] for s in statuses if s.isDirectory())


def replace_days(spark: SparkSession, frame: DataFrame, uri: str, day_column: str, days: list[str]) -> None:
    """Make uri/date=D hold exactly frame's rows of day D, for each D in days."""
    for day in days:
        fs, path = hadoop_fs(spark, day_folder(uri, day))
        if fs.exists(path):
            fs.delete(path, True)
    wanted = [dt.date.fromisoformat(d) for d in days]
    out = frame.where(F.col(day_column).isin(wanted)).withColumn("date", F.date_format(day_column, "yyyy-MM-dd"))
    # One file per day: the folders are read back day by day and stay small.
    out.repartition("date").write.mode("append").partitionBy("date").parquet(uri)


def read_days(spark: SparkSession, uri: str, days: list[str], schema: T.StructType | str, day_column: str) -> DataFrame:
    """Rows of the stored `days` under uri, with the folder's day restored as `day_column` (DATE)."""
    empty = spark.createDataFrame([], schema)
    schema = empty.schema
    stored = set(stored_days(spark, uri))
    wanted = [d for d in sorted(days) if d in stored]
    if not wanted:
        return empty
    body = T.StructType([f for f in schema.fields if f.name != day_column])
    # Each leaf folder is read as its own root, so Spark infers no partition column.
    frame = spark.read.schema(body).parquet(*[day_folder(uri, d) for d in wanted])
    if day_column in schema.fieldNames():
        day = F.to_date(F.regexp_extract(F.col("_metadata.file_path"), _DAY_IN_PATH, 1))
        frame = frame.withColumn(day_column, day)
    return frame.select(*[F.col(f.name) for f in schema.fields])


def read_day_range(spark: SparkSession, uri: str, first: dt.date, last: dt.date, schema: T.StructType | str,
                   day_column: str) -> DataFrame:
    """Rows of the stored days in [first, last] (days never written simply have no rows)."""
    days = [d for d in stored_days(spark, uri) if first <= dt.date.fromisoformat(d) <= last]
    return read_days(spark, uri, days, schema, day_column)
