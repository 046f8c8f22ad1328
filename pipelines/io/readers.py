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

from pipelines.errors import FeedError
from pipelines.io.filesystem import glob_files, hadoop_fs
from pipelines.validation.contract import DATASETS, Dataset

SOURCE_FILE = "_source_file"
PARTITION_DATE = "_partition_date"
CORRUPT_RECORD = "_corrupt_record"
FORMATS = ("csv", "parquet")
_DATE_DIR = re.compile(r"date=(\d{4}-\d{2}-\d{2})")


class InputError(FeedError):
    """A feed that cannot be read as a whole; the message says what to do."""


@dataclass(frozen=True)
class SourceFile:
    path: str
    fmt: str
    partition_date: str | None


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
            for path in glob_files(spark, f"{folder}/*.{fmt}"):
                match = _DATE_DIR.search(path)
                files.append(SourceFile(path, fmt, match.group(1) if match else None))
    return files


def read_first_line(spark: SparkSession, uri: str) -> str | None:
    """The first physical line of a file, read through Hadoop FS so any Spark URI works."""
    jvm = spark.sparkContext._jvm
    try:
        fs, path = hadoop_fs(spark, uri)
        stream = fs.open(path)
        try:
            reader = jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(stream, "UTF-8"))
            return reader.readLine()
        finally:
            stream.close()
    except Exception as exc:  # py4j wraps every Java IO failure; the user needs the file name
        raise InputError(f"cannot read {uri}: {str(exc).splitlines()[0]}; check the file exists and is readable") from exc


def parse_header(line: str | None) -> list[str]:
    if line is None:
        return []
    return [h.strip().strip('"').lstrip("\ufeff").strip() for h in line.split(",")]


def read_csv_header(spark: SparkSession, uri: str) -> list[str]:
    """The header row of a CSV file, read through Hadoop FS so any Spark URI works."""
    return parse_header(read_first_line(spark, uri))


def file_columns(spark: SparkSession, source: SourceFile) -> list[str]:
    """Column names a file holds (lower case), for the required-column check."""
    if source.fmt == "csv":
        return [c.lower() for c in read_csv_header(spark, source.path)]
    try:
        return [c.lower() for c in spark.read.parquet(source.path).columns]
    except Exception as exc:  # an AnalysisException naming the file is the useful part
        raise InputError(f"cannot read {source.path} as Parquet: {str(exc).splitlines()[0]}") from exc


def _ddl(names: list[str]) -> str:
    return ", ".join("`" + n.replace("`", "``") + "` STRING" for n in names)


_CSV_OPTIONS = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_RECORD, "escape": '"'}


def _quote_count(col):
    return F.length(col) - F.length(F.regexp_replace(col, '"', ""))


def _parse_records(records: DataFrame, header_line: str) -> DataFrame:
    """CSV records (value, source file) parsed into the header's fields; the text of any
    record that does not parse into exactly those fields, or leaves a quote open, is kept
    in _corrupt_record."""
    header = parse_header(header_line)
    parsed = F.from_csv(F.col("value"), _ddl(header + [CORRUPT_RECORD]), _CSV_OPTIONS)
    is_blank = F.trim(F.col("value")) == ""
    # Hadoop FS and Spark's text source disagree on a UTF-8 byte-order mark: ignore it.
    is_header = F.regexp_replace(F.col("value"), "^\ufeff", "") == F.lit(header_line.lstrip("\ufeff"))
    open_quote = _quote_count(F.col("value")) % 2 == 1
    rows = records.where(~is_blank & ~is_header).select(F.col("value"), parsed.alias("r"), F.col(SOURCE_FILE))
    malformed = F.col(f"r.{CORRUPT_RECORD}").isNotNull() | open_quote
    return rows.select(
        *[F.col("r").getField(name).alias(name) for name in header],
        F.when(malformed, F.col("value")).alias(CORRUPT_RECORD),
        F.col(SOURCE_FILE),
    )


def _multiline_records(spark: SparkSession, paths: list[str], header_line: str) -> DataFrame:
    """Records of files where a quoted field may span lines (RFC 4180), nothing swallowed.

    Lines are joined while the file's running quote count is odd. A joined record is kept
    only if it parses into exactly the header's fields and none of its inner lines is a
    whole row by itself; otherwise its lines go back to being records one by one, so a
    broken quote costs its own line only.
    """
    from pyspark.sql import Window

    text = spark.read.text(paths, wholetext=True)
    lines = text.select(F.col("_metadata.file_path").alias(SOURCE_FILE),
                        F.posexplode(F.split(F.col("value"), "\r?\n")).alias("line_no", "value"))
    in_file = Window.partitionBy(SOURCE_FILE).orderBy("line_no")
    before = F.sum(_quote_count(F.col("value"))).over(in_file.rowsBetween(Window.unboundedPreceding, -1))
    opened = F.coalesce(before, F.lit(0)) % 2 == 1  # the line continues a record left open above it
    starts = F.sum(F.when(opened, 0).otherwise(1)).over(in_file.rowsBetween(Window.unboundedPreceding, 0))
    header = parse_header(header_line)

    def parses(col):
        fields = F.from_csv(col, _ddl(header + [CORRUPT_RECORD]), _CSV_OPTIONS)
        return fields[CORRUPT_RECORD].isNull() & (_quote_count(col) % 2 == 0)

    is_row = (F.trim(F.col("value")) != "") & parses(F.col("value"))
    numbered = lines.select(F.col(SOURCE_FILE), F.col("line_no"), F.col("value"), starts.alias("record_no"),
                            is_row.alias("is_row"))
    by_record = Window.partitionBy(SOURCE_FILE, "record_no")
    first_line = F.min("line_no").over(by_record)
    inner_rows = F.sum(F.when(F.col("is_row") & (F.col("line_no") > first_line), 1).otherwise(0)).over(by_record)
    ordered = F.array_sort(F.collect_list(F.struct("line_no", "value")).over(by_record))
    joined = F.array_join(F.transform(ordered, lambda x: x["value"]), "\n")
    grouped = numbered.select("*", joined.alias("record"), F.count(F.lit(1)).over(by_record).alias("n_lines"),
                              inner_rows.alias("inner_rows"), first_line.alias("first_line"))
    keep_joined = (F.col("n_lines") > 1) & (F.col("inner_rows") == 0) & parses(F.col("record"))
    as_record = grouped.where(keep_joined & (F.col("line_no") == F.col("first_line"))).select(
        F.col("record").alias("value"), F.col(SOURCE_FILE))
    as_lines = grouped.where(~keep_joined).select(F.col("value"), F.col(SOURCE_FILE))
    return as_record.unionByName(as_lines)


def _read_csv_group(spark: SparkSession, paths: list[str], header_line: str) -> DataFrame:
    """Files sharing one header line, one record per physical line, nothing swallowed.

    Spark's CSV reader in multiLine mode lets an unclosed quote swallow the lines after
    it, so each physical line is parsed on its own (from_csv over the text). Only the few
    files with a line holding an odd number of quotes (a quoted field spanning lines, or a
    broken quote) are read whole and their records assembled (_multiline_records).
    """
    lines = spark.read.text(paths).select(F.col("value"), F.col("_metadata.file_path").alias(SOURCE_FILE))
    odd = lines.where(_quote_count(F.col("value")) % 2 == 1).select(SOURCE_FILE).distinct()
    multiline = sorted(r[SOURCE_FILE] for r in odd.collect())  # file names: small
    if not multiline:
        return _parse_records(lines, header_line)
    single = _parse_records(lines.where(~F.col(SOURCE_FILE).isin(multiline)), header_line)
    return single.unionByName(_parse_records(_multiline_records(spark, multiline, header_line), header_line))


def timestamp_text(col, zone: str):
    """A timestamp as ISO 8601 text with the offset of `zone` (2026-09-05T14:03:00+08:00),
    as a CSV feed would carry it: its first ten characters are the local day. Assumes the
    UTC session time zone that pipelines.io.spark sets (date_format renders in it)."""
    local = F.from_utc_timestamp(col, zone)
    minutes = ((F.unix_timestamp(local) - F.unix_timestamp(col)) / 60).cast("int")
    sign = F.when(minutes < 0, F.lit("-")).otherwise(F.lit("+"))
    hours = F.lpad((F.abs(minutes) / 60).cast("int").cast("string"), 2, "0")
    mins = F.lpad((F.abs(minutes) % 60).cast("string"), 2, "0")
    return F.concat(F.date_format(local, "yyyy-MM-dd'T'HH:mm:ss"), sign, hours, F.lit(":"), mins)


def _read_parquet_group(spark: SparkSession, paths: list[str], zone: str) -> DataFrame:
    # mergeSchema: a file may lack an optional column that another file of the day has.
    df = spark.read.option("mergeSchema", True).parquet(*paths)

    def as_text(field: T.StructField):
        col = F.col(f"`{field.name}`")
        if isinstance(field.dataType, T.TimestampType):
            return timestamp_text(col, zone).alias(field.name)
        return col.cast("string").alias(field.name)

    return df.select(
        *[as_text(f) for f in df.schema.fields],
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


def read_raw(spark: SparkSession, root: str, name: str, dates: list[str] | None = None, timezone: str = "UTC") -> DataFrame:
    """All contract columns as strings, plus the source file, partition day and any unparsed CSV line.

    Parquet timestamps become ISO 8601 text with the offset of `timezone` (the feed's local
    zone, so that the text's date is the local lodging day, as in a CSV file)."""
    dataset = DATASETS[name]
    files = list_source_files(spark, root, dataset, dates)
    if not files:
        return empty_raw(spark, dataset)
    # Spark applies one header to all files of a read, so files are grouped by header line.
    groups: dict[tuple, list[str]] = defaultdict(list)
    for f in files:
        key = ("csv", read_first_line(spark, f.path) or "") if f.fmt == "csv" else ("parquet", "")
        groups[key].append(f.path)
    parts = []
    for (fmt, header_line), paths in sorted(groups.items()):
        if fmt == "csv" and not header_line.strip():
            raise InputError(f"{name}: {paths[0]} has no header row; every CSV file needs one (see DATA_CONTRACT.md)")
        frame = _read_csv_group(spark, paths, header_line) if fmt == "csv" else _read_parquet_group(spark, paths, timezone)
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
    """A contract dataset with the contract's types (no quarantine: use pipelines.validation.inputs for that)."""
    return to_typed(read_raw(spark, root, name, dates), name)
