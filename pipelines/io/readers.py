"""Readers for the data contract: any Spark URI, CSV and Parquet mixed, optional columns absent.

Every dataset is first read as strings (`read_raw`), so that a value that does not parse
can be quarantined with its original text instead of turning into a silent null; then
`to_typed` casts to the contract's types.

A file the pipeline cannot read faithfully is refused as a whole (InputError naming the file
and what to do), never read half-way: a name that is not .csv, .csv.gz or .parquet, a CSV
file that is not UTF-8 (checked on every line's bytes: a correctly encoded U+FFFD passes),
a header naming a column twice, a Parquet column of a nested type.
"""
from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.errors import FeedError
from pipelines.io.filesystem import glob_files, hadoop_fs
from pipelines.validation.contract import DATASETS, Dataset

SOURCE_FILE = "_source_file"
PARTITION_DATE = "_partition_date"
CORRUPT_RECORD = "_corrupt_record"
_DATE_DIR = re.compile(r"date=(\d{4}-\d{2}-\d{2})")


class InputError(FeedError):
    """A feed that cannot be read as a whole; the message says what to do."""


@dataclass(frozen=True)
class SourceFile:
    path: str
    fmt: str
    partition_date: str | None


def file_format(name: str) -> str | None:
    """csv or parquet from a file name (any case; a gzip CSV needs the lower-case .gz Hadoop
    decompresses), None for anything else."""
    lower = name.lower()
    if lower.endswith(".parquet"):
        return "parquet"
    if lower.endswith(".csv") or (lower.endswith(".csv.gz") and name.endswith(".gz")):
        return "csv"
    return None


def list_source_files(spark: SparkSession, root: str, dataset: Dataset, dates: list[str] | None = None) -> list[SourceFile]:
    """Data files of a dataset under an input root; for partitioned data, only the given days.

    Hidden files (a name starting with . or _, as Hadoop and Spark write them) are skipped. Any
    other file that is not .csv, .csv.gz or .parquet is refused, not skipped in silence, in the
    folders of the days given and of snapshots; a listing of every day (dates None) only finds
    days, and a stray file in a day nobody reads must not stop the night."""
    root = root.rstrip("/")
    if dataset.partitioned:
        days = dates if dates is not None else ["*"]
        dirs = [f"{root}/{dataset.name}/date={day}" for day in days]
    else:
        dirs = [f"{root}/{dataset.name}"]
    files = []
    for folder in dirs:
        for path in glob_files(spark, f"{folder}/*"):
            name = path.rsplit("/", 1)[-1]
            if name.startswith((".", "_")):
                continue
            fmt = file_format(name)
            if fmt is None and dataset.partitioned and dates is None:
                continue
            if fmt is None:
                raise InputError(f"{dataset.name}: {path} is not a data file the pipeline reads (.csv, .csv.gz with a "
                                 "lower-case .gz, or .parquet); convert or rename it, or move it out of the folder")
            match = _DATE_DIR.search(path)
            files.append(SourceFile(path, fmt, match.group(1) if match else None))
    return files


def _open(spark: SparkSession, uri: str):
    """A Java input stream of a file's bytes through Hadoop FS, decompressed if its suffix names a codec (.gz)."""
    jvm = spark.sparkContext._jvm
    fs, path = hadoop_fs(spark, uri)
    codec = jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(
        spark.sparkContext._jsc.hadoopConfiguration()).getCodec(path)
    stream = fs.open(path)
    return stream if codec is None else codec.createInputStream(stream)


def _first_error_line(exc: Exception) -> str:
    """What a user needs of a (py4j-wrapped) error: Spark's words naming the file, and the root cause."""
    java = getattr(exc, "java_exception", None)
    text = str((java.getMessage() if java is not None else None) or exc).strip()
    found = re.search(r"\[FAILED_READ_FILE[^\]]*\].*?(?=\s+SQLSTATE|$)", text, re.MULTILINE)
    head = found.group(0) if found else (text.splitlines() or [type(exc).__name__])[0]
    root = java
    while root is not None and root.getCause() is not None:
        root = root.getCause()
    return head[:600] + (f" ({root.toString()[:200]})" if root is not None and root is not java else "")


def read_first_line(spark: SparkSession, uri: str) -> str | None:
    """The first physical line of a file, read through Hadoop FS so any Spark URI works; bytes
    that are not UTF-8 (in the first few KiB the reader decodes) refuse the file."""
    jvm = spark.sparkContext._jvm
    try:
        stream = _open(spark, uri)
        try:
            strict = jvm.java.nio.charset.StandardCharsets.UTF_8.newDecoder()  # reports bad bytes, never replaces them
            return jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(stream, strict)).readLine()
        finally:
            stream.close()
    except Exception as exc:  # py4j wraps every Java IO failure; the user needs the file name
        java = getattr(exc, "java_exception", None)
        if java is not None and java.getClass().getName() == "java.nio.charset.MalformedInputException":
            raise not_utf8_error(spark, uri) from None
        raise InputError(f"cannot read {uri}: {_first_error_line(exc)}; check the file exists and is readable") from exc


_SCAN_BYTES = 4 << 20


def guess_encoding(line: bytes) -> str:
    """A hint, not a verdict: which legacy encoding a line's non-UTF-8 bytes look like."""
    runs = re.findall(rb"[\x80-\xff]+", line)
    if runs and all(len(r) == 1 for r in runs):
        return "Latin-1 / Windows-1252 (single accented letters)"
    fits = []
    for codec, label in (("gb18030", "GB18030/GBK"), ("big5", "Big5")):
        try:
            line.decode(codec)
            fits.append(label)
        except UnicodeDecodeError:
            pass
    return (" or ".join(fits) + " (Chinese double-byte text)") if fits else "a legacy encoding, not UTF-8"


def describe_bad_utf8(head: bytes, limit: int = _SCAN_BYTES) -> str:
    """Where the first byte that is not UTF-8 is in a file's first `limit` bytes, and a guess at the encoding."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "it starts with a UTF-16 byte-order mark (the file is UTF-16)"
    if head.startswith((b"\x1f\x8b", b"PK\x03\x04")):
        return "it is a gzip or ZIP archive (an Excel workbook?), not CSV text: a gzip CSV must be named .csv.gz"
    try:
        head.decode("utf-8")
        return f"a byte sequence beyond the first {limit >> 10} KiB is not UTF-8"
    except UnicodeDecodeError as exc:
        if len(head) >= limit and exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return f"a byte sequence beyond the first {limit >> 10} KiB is not UTF-8"
        start, end, line_no = head.rfind(b"\n", 0, exc.start) + 1, head.find(b"\n", exc.start), head.count(b"\n", 0, exc.start) + 1
        line = head[start:end if end >= 0 else len(head)]
        return f"byte 0x{head[exc.start]:02X} on line {line_no} is not UTF-8; the line looks like {guess_encoding(line)}"


def not_utf8_error(spark: SparkSession, uri: str, others: int = 0, dataset: str | None = None) -> InputError:
    """The refusal of a CSV file that is not UTF-8, with where and what it probably is."""
    try:
        stream = _open(spark, uri)
        try:
            detail = describe_bad_utf8(bytes(stream.readNBytes(_SCAN_BYTES)))
        finally:
            stream.close()
    except Exception as exc:  # the refusal stands; only the detail is lost
        detail = f"(its bytes could not be re-read: {_first_error_line(exc)})"
    more = f" ({others} other file(s) of the feed too)" if others else ""
    where = f"{dataset}: " if dataset else ""
    return InputError(f"{where}{uri} is not UTF-8 text{more}: {detail}. The contract wants UTF-8 CSV files, and a "
                      "file decoded in the wrong encoding would corrupt its text in silence: re-export it as UTF-8 "
                      "(or convert it: iconv -f <its encoding> -t UTF-8) and run again")


def parse_header(line: str | None) -> list[str]:
    """Header names of a CSV header line (RFC 4180 quoting, a UTF-8 byte-order mark ignored)."""
    if line is None:
        return []
    fields = next(csv.reader([line.lstrip("\ufeff")]), [])
    names = [h.strip().strip('"').strip() for h in fields]
    # An unnamed column (a trailing comma, say) cannot be a contract column: it gets a name
    # of its own and is dropped with the other extra columns.
    return [n or f"_unnamed_{i + 1}" for i, n in enumerate(names)]


def check_column_names(uri: str, names: list[str]) -> list[str]:
    """The names, refused if one repeats (ignoring case, as every reader here does): which
    of two columns of the same name is meant is anybody's guess."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name and name.lower() in seen:
            raise InputError(f"{uri}: column {name!r} appears twice (columns {seen[name.lower()] + 1} and {i + 1}, "
                             "ignoring case); fix the export so that every column has its own name")
        seen[name.lower()] = i
    return names


def read_csv_header(spark: SparkSession, uri: str) -> list[str]:
    """The header row of a CSV file, read through Hadoop FS so any Spark URI works."""
    return check_column_names(uri, parse_header(read_first_line(spark, uri)))


def parquet_schema(spark: SparkSession, uri: str) -> tuple[str, list[str]]:
    """(the schema as text, the column names) of a Parquet file, from its footer, on the driver."""
    jvm = spark.sparkContext._jvm
    try:
        _, path = hadoop_fs(spark, uri)
        conf = spark.sparkContext._jsc.hadoopConfiguration()
        reader = jvm.org.apache.parquet.hadoop.ParquetFileReader.open(
            jvm.org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(path, conf))
        try:
            schema = reader.getFileMetaData().getSchema()
        finally:
            reader.close()
    except Exception as exc:  # py4j wraps the Java error; the file name is the useful part
        raise InputError(f"cannot read {uri} as Parquet: {_first_error_line(exc)}") from exc
    return schema.toString(), check_column_names(uri, [f.getName() for f in schema.getFields()])


def file_columns(spark: SparkSession, source: SourceFile) -> list[str]:
    """Column names a file holds (lower case), for the required-column check."""
    if source.fmt == "csv":
        return [c.lower() for c in read_csv_header(spark, source.path)]
    return [c.lower() for c in parquet_schema(spark, source.path)[1]]


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


def _given_path(paths: list[str], file_path: str) -> str:
    """The path as listed for a file Spark names by its URL-encoded URI (_metadata.file_path)."""
    wanted = unquote(urlparse(file_path).path)
    return next((p for p in paths if unquote(urlparse(p).path) == wanted), file_path)


def _scan_csv_files(spark: SparkSession, name: str, lines: DataFrame, paths: list[str]) -> list[str]:
    """One pass over the lines: refuses a file with a line that is not UTF-8 (Spark's text
    source keeps the bytes as they are, so the check sees every byte of every line); returns
    the files with a line holding an odd number of quotes."""
    odd = _quote_count(F.col("value")) % 2 == 1
    not_utf8 = ~F.is_valid_utf8(F.col("value"))
    flagged = lines.where(odd | not_utf8).groupBy(SOURCE_FILE).agg(F.max(not_utf8).alias("not_utf8"))
    try:
        found = {r[SOURCE_FILE]: r["not_utf8"] for r in flagged.collect()}  # file names: small
    except Exception as exc:  # a truncated .gz, a file gone: Spark says which
        raise InputError(f"{name}: a CSV file could not be read: {_first_error_line(exc)}; "
                         "replace the broken file and run again") from exc
    bad = sorted(_given_path(paths, f) for f, is_bad in found.items() if is_bad)
    if bad:
        raise not_utf8_error(spark, bad[0], others=len(bad) - 1, dataset=name)
    return sorted(found)


def _read_csv_group(spark: SparkSession, name: str, paths: list[str], header_line: str) -> DataFrame:
    """Files sharing one header line, one record per physical line, nothing swallowed.

    Spark's CSV reader in multiLine mode lets an unclosed quote swallow the lines after
    it, so each physical line is parsed on its own (from_csv over the text). Only the few
    files with a line holding an odd number of quotes (a quoted field spanning lines, or a
    broken quote) are read whole and their records assembled (_multiline_records).
    """
    check_column_names(paths[0], parse_header(header_line))
    lines = spark.read.text(paths).select(F.col("value"), F.col("_metadata.file_path").alias(SOURCE_FILE))
    multiline = _scan_csv_files(spark, name, lines, paths)
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


def _read_parquet_group(spark: SparkSession, dataset: Dataset, paths: list[str], zone: str) -> DataFrame:
    """Parquet files of one schema (read_raw groups them by footer: a column may be a double in
    one file and text in another), the contract's columns as text."""
    df = spark.read.parquet(*paths)
    wanted = [f for f in df.schema.fields if f.name.lower() in dataset.column_names]
    for field in wanted:
        if isinstance(field.dataType, (T.StructType, T.ArrayType, T.MapType)):
            others = f" (and {len(paths) - 1} other file(s) of the same schema)" if len(paths) > 1 else ""
            raise InputError(f"{dataset.name}: column {field.name} of {paths[0]}{others} is of type "
                             f"{field.dataType.simpleString()}; the contract wants a single value per row")

    def as_text(field: T.StructField):
        col = F.col(f"`{field.name}`")
        if isinstance(field.dataType, T.TimestampType):
            return timestamp_text(col, zone).alias(field.name)
        return col.cast("string").alias(field.name)

    return df.select(
        *[as_text(f) for f in wanted],
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
    # Spark applies one header (one schema) to all files of a read, so files are grouped by
    # header line, Parquet files by the schema in their footer.
    groups: dict[tuple, list[str]] = defaultdict(list)
    for f in files:
        key = ("csv", read_first_line(spark, f.path) or "") if f.fmt == "csv" else ("parquet", parquet_schema(spark, f.path)[0])
        groups[key].append(f.path)
    parts = []
    for (fmt, header_line), paths in sorted(groups.items()):
        if fmt == "csv" and not header_line.strip():
            raise InputError(f"{name}: {paths[0]} has no header row; every CSV file needs one (see DATA_CONTRACT.md)")
        frame = (_read_csv_group(spark, name, paths, header_line) if fmt == "csv"
                 else _read_parquet_group(spark, dataset, paths, timezone))
        parts.append(_conform(frame, dataset))
    result = parts[0]
    for part in parts[1:]:
        result = result.unionByName(part)
    return result


def typed_column(name: str, data_type: T.DataType):
    """Cast a string column to its contract type; a value that does not parse, or a number
    that is not finite (inf, NaN, 1e309), becomes null."""
    col = F.trim(F.col(name))
    if isinstance(data_type, T.StringType):
        return F.col(name).alias(name)
    if isinstance(data_type, T.BooleanType):
        return col.try_cast("boolean").alias(name)
    if isinstance(data_type, T.DoubleType):
        number = col.try_cast(data_type)
        return F.when(~F.isnan(number) & (F.abs(number) != F.lit(float("inf"))), number).alias(name)
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
