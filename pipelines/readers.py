"""Readers for the data contract: any Spark URI, CSV and Parquet mixed, optional columns absent.

Every dataset is first read as strings (`read_raw`), so that a value that does not parse
can be quarantined with its original text instead of turning into a silent null; then
`to_typed` casts to the contract's types.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.contract import DATASETS, Dataset

SOURCE_FILE = "_source_file"
PARTITION_DATE = "_partition_date"
CORRUPT_RECORD = "_corrupt_record"
FORMATS = ("csv", "parquet")
_DATE_DIR = re.compile(r"date=(\d{4}-\d{2}-\d{2})")


from pipelines.errors import UserError  # noqa: E402


class InputError(UserError):
    """A feed that cannot be read as a whole; the message says what to do."""


@dataclass(frozen=True)
class SourceFile:
    path: str
    fmt: str
    partition_date: str | None


def _jvm_fs(spark: SparkSession, uri: str):
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(conf), path


def _glob(spark: SparkSession, pattern: str) -> list[str]:
    fs, path = _jvm_fs(spark, pattern)
    statuses = fs.globStatus(path)
    if statuses is None:
        return []
    return sorted(str(s.getPath().toString()) for s in statuses if s.isFile())


def path_exists(spark: SparkSession, uri: str) -> bool:
    fs, path = _jvm_fs(spark, uri)
    return bool(fs.exists(path))


def list_source_files(spark: SparkSession, root: str, dataset: Dataset, dates: list[str] | None = None) -> list[SourceFile]:
    """Data files of a dataset under an input root; for partitioned data, only the given days."""
    root = root.rstrip("/")
    if dataset.partitioned:
        days = dates if dates is not None else ["*"]
        dirs = [f"{root}/{dataset.name}/date={day}" for day in days]
    else:
        dirs = [f"{root}/{dataset.name}"]
    files = []
    for folder in dirs:
        for fmt in FORMATS:
            for path in _glob(spark, f"{folder}/*.{fmt}"):
                match = _DATE_DIR.search(path)
                files.append(SourceFile(path, fmt, match.group(1) if match else None))
    return files


def read_csv_header(spark: SparkSession, uri: str) -> list[str]:
    """The header row of a CSV file, read through Hadoop FS so any Spark URI works."""
    jvm = spark.sparkContext._jvm
    fs, path = _jvm_fs(spark, uri)
    stream = fs.open(path)
    try:
        reader = jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(stream, "UTF-8"))
        line = reader.readLine()
    finally:
        stream.close()
    if line is None:
        return []
    return [h.strip().strip('"').lstrip("\ufeff").strip() for h in line.split(",")]


def _read_csv_group(spark: SparkSession, paths: list[str], header: list[str]) -> DataFrame:
    # An explicit all-string schema in the file's own column order: Spark applies the
    # first file's header to every file, so files are grouped by identical header.
    schema = T.StructType(
        [T.StructField(name, T.StringType(), True) for name in header]
        + [T.StructField(CORRUPT_RECORD, T.StringType(), True)]
    )
    return (
        spark.read.option("header", True)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
        .option("escape", '"')
        .option("encoding", "UTF-8")
        .schema(schema)
        .csv(paths)
        .withColumn(SOURCE_FILE, F.col("_metadata.file_path"))
    )


def _read_parquet_group(spark: SparkSession, paths: list[str]) -> DataFrame:
    df = spark.read.parquet(*paths)
    return df.select(
        *[F.col(f"`{c}`").cast("string").alias(c) for c in df.columns],
        F.lit(None).cast("string").alias(CORRUPT_RECORD),
        F.col("_metadata.file_path").alias(SOURCE_FILE),
    )


def _conform(df: DataFrame, dataset: Dataset) -> DataFrame:
    """Contract columns in contract order, absent ones as null; extra columns dropped."""
    present = {c.lower(): c for c in df.columns}
    cols = [
        (F.col(f"`{present[c]}`") if c in present else F.lit(None)).cast("string").alias(c)
        for c in dataset.column_names
    ]
    return df.select(
        *cols,
        F.col(CORRUPT_RECORD),
        F.col(SOURCE_FILE),
        F.regexp_extract(F.col(SOURCE_FILE), _DATE_DIR.pattern, 1).alias(PARTITION_DATE),
    )


def empty_raw(spark: SparkSession, dataset: Dataset) -> DataFrame:
    schema = T.StructType(
        list(dataset.string_schema().fields)
        + [T.StructField(n, T.StringType(), True) for n in (CORRUPT_RECORD, SOURCE_FILE, PARTITION_DATE)]
    )
    return spark.createDataFrame([], schema)


def read_raw(spark: SparkSession, root: str, name: str, dates: list[str] | None = None) -> DataFrame:
    """All contract columns as strings, plus the source file, partition day and any unparsed CSV line."""
    dataset = DATASETS[name]
    files = list_source_files(spark, root, dataset, dates)
    if not files:
        return empty_raw(spark, dataset)
    groups: dict[tuple, list[str]] = defaultdict(list)
    for f in files:
        key = ("csv", tuple(read_csv_header(spark, f.path))) if f.fmt == "csv" else ("parquet", ())
        groups[key].append(f.path)
    parts = []
    for (fmt, header), paths in sorted(groups.items()):
        if fmt == "csv" and not header:
            raise InputError(f"{name}: {paths[0]} has no header row; every CSV file needs one (see DATA_CONTRACT.md)")
        frame = _read_csv_group(spark, paths, list(header)) if fmt == "csv" else _read_parquet_group(spark, paths)
        parts.append(_conform(frame, dataset))
    result = parts[0]
    for part in parts[1:]:
        result = result.unionByName(part)
    return result


def typed_column(name: str, data_type: T.DataType):
    """Cast a string column to its contract type; a value that does not parse becomes null."""
    col = F.trim(F.col(name))
    if isinstance(data_type, T.StringType):
        return F.col(name).alias(name)
    if isinstance(data_type, T.BooleanType):
        return col.try_cast("boolean").alias(name)
    return col.try_cast(data_type).alias(name)


def to_typed(raw: DataFrame, name: str, keep_lineage: bool = False) -> DataFrame:
    """The contract's schema from a raw (string) frame."""
    dataset = DATASETS[name]
    cols = [typed_column(c.name, c.spark_type) for c in dataset.columns]
    if keep_lineage:
        cols += [F.col(SOURCE_FILE), F.col(PARTITION_DATE)]
    return raw.select(*cols)


def read_dataset(spark: SparkSession, root: str, name: str, dates: list[str] | None = None) -> DataFrame:
    """A contract dataset with the contract's types (no quarantine: use pipelines.validation for that)."""
    return to_typed(read_raw(spark, root, name, dates), name)
