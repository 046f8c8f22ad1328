"""Hostile input at the readers: files the pipeline reads right although they are odd (a
byte-order mark before a quoted header, .CSV, .csv.gz, Parquet columns whose type changes
from file to file), and files it refuses as a whole, naming the file and the problem (not
UTF-8, a column named twice, an unknown file type, a nested Parquet column), never a Spark
traceback or text decoded into U+FFFD. Files are written byte for byte into tmp_path."""
from __future__ import annotations

import gzip
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.errors import UserError
from pipelines.io.readers import (
    CORRUPT_RECORD,
    InputError,
    SourceFile,
    describe_bad_utf8,
    file_columns,
    list_source_files,
    read_dataset,
    read_raw,
)
from pipelines.validation.contract import DATASETS

DAY = "2026-09-05"
HEADER = ("consignment_id,manifest_id,transport_mode,port_of_loading,port_of_discharge,destination_country,"
          "departure_date,consignor_id,consignee_id,package_count,gross_weight_kg")
REST = "M1,SEA,HKHKG,USLAX,US,2026-09-06,P1,Q1,3,12.5"


def day_dir(root, dataset: str = "manifests"):
    folder = root / dataset / f"date={DAY}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def manifest_lines(*ids: str, header: str = HEADER) -> list[str]:
    return [header] + [f"{cid},{REST}" for cid in ids]


def raw_rows(spark, root, dataset: str = "manifests", key: str = "consignment_id") -> dict:
    return {r[key]: r for r in read_raw(spark, str(root), dataset).collect()}


# ---- read right ----

def test_bom_before_a_quoted_header_is_read(spark, tmp_path):
    quoted = ",".join(f'"{name}"' for name in HEADER.split(","))
    data = "\r\n".join(manifest_lines("B1", "B2", header=quoted)) + "\r\n"
    path = day_dir(tmp_path) / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + data.encode("utf-8"))
    assert file_columns(spark, SourceFile(str(path), "csv", DAY)) == HEADER.split(",")
    rows = raw_rows(spark, tmp_path)
    assert sorted(rows) == ["B1", "B2"]  # the header is not read as a row
    assert rows["B1"].gross_weight_kg == "12.5" and rows["B1"][CORRUPT_RECORD] is None


def test_upper_case_and_gzip_csv_files_are_read_with_multiline_records(spark, tmp_path):
    folder = day_dir(tmp_path)
    (folder / "UPPER.CSV").write_bytes("\n".join(manifest_lines("U1")).encode("utf-8") + b"\n")
    spanning = 'G2,M1,SEA,HKHKG,USLAX,US,2026-09-06,"P1 line one\nline two",Q1,3,12.5'
    text = "\n".join([HEADER, f"G1,{REST}", spanning, f"G3,{REST}"]) + "\n"
    (folder / "packed.csv.gz").write_bytes(gzip.compress(text.encode("utf-8")))
    (folder / "plain.csv.gz").write_bytes(gzip.compress("\n".join(manifest_lines("G4")).encode("utf-8")))
    pq.write_table(pa.table({"consignment_id": ["P1"], "gross_weight_kg": [2.5]}), folder / "LOUD.PARQUET")
    rows = raw_rows(spark, tmp_path)
    assert sorted(rows) == ["G1", "G2", "G3", "G4", "P1", "U1"]
    assert rows["G2"].consignor_id == "P1 line one\nline two" and rows["G2"][CORRUPT_RECORD] is None
    assert rows["G4"].gross_weight_kg == "12.5" and rows["P1"].gross_weight_kg == "2.5"


def test_parquet_column_types_that_differ_between_files_are_read_as_text(spark, tmp_path):
    folder = day_dir(tmp_path, "declarations")
    pq.write_table(pa.table({"declaration_id": ["D_STR", "D_BAD"], "quantity": ["10", "ten"],
                             "declared_value": ["1200.50", "abc"]}), folder / "a.parquet")
    pq.write_table(pa.table({"declaration_id": ["D_DBL", "D_INF", "D_NAN"],
                             "quantity": pa.array([10, 11, 12], pa.int64()),
                             "declared_value": [1200.5, math.inf, math.nan]}), folder / "b.parquet")
    pq.write_table(pa.table({"declaration_id": ["D_F32"], "quantity": pa.array([2.5], pa.float32()),
                             "declared_value": pa.array([-math.inf], pa.float64()),
                             "Brand": ["LUMORA"]}), folder / "c.parquet")
    rows = raw_rows(spark, tmp_path, "declarations", "declaration_id")
    assert {k: (r.quantity, r.declared_value) for k, r in rows.items()} == {
        "D_STR": ("10", "1200.50"), "D_BAD": ("ten", "abc"), "D_DBL": ("10", "1200.5"),
        "D_INF": ("11", "Infinity"), "D_NAN": ("12", "NaN"), "D_F32": ("2.5", "-Infinity")}
    assert rows["D_F32"].brand == "LUMORA"  # column names match whatever their case
    typed = {r.declaration_id: r for r in read_dataset(spark, str(tmp_path), "declarations").collect()}
    # Without validation a value that does not parse, or is not finite, is null, never inf.
    assert (typed["D_DBL"].declared_value, typed["D_INF"].declared_value, typed["D_NAN"].declared_value) == (1200.5, None, None)
    assert typed["D_BAD"].quantity is None and typed["D_F32"].quantity == 2.5


def test_a_utf8_file_holding_the_replacement_character_itself_is_read(spark, tmp_path):
    # The check is on bytes, not on U+FFFD: a correctly encoded U+FFFD is text like any other.
    (day_dir(tmp_path) / "m.csv").write_bytes("\n".join(manifest_lines("R\ufffd1")).encode("utf-8") + b"\n")
    assert list(raw_rows(spark, tmp_path)) == ["R\ufffd1"]


# ---- refused, naming the file ----

def _latin1(rows):  # accented letters, one byte each
    return "\n".join(rows).encode("latin-1")


@pytest.mark.parametrize("encoding, hint", [("gb18030", "GB18030"), ("big5", "Big5"), ("latin-1", "Latin-1")])
def test_a_csv_file_that_is_not_utf8_is_refused_wherever_the_bad_byte_is(spark, tmp_path, encoding, hint):
    good = manifest_lines(*[f"OK{i:05d}" for i in range(3000)])  # about 150 KB of ASCII first
    shipper = "Café Crème SARL" if encoding == "latin-1" else "手袋皮革廠"
    bad = f"BAD1,M1,SEA,HKHKG,USLAX,US,2026-09-06,{shipper},Q1,3,12.5"
    path = day_dir(tmp_path) / "legacy.csv"
    path.write_bytes(("\n".join(good + [bad]) + "\n").encode(encoding))
    (day_dir(tmp_path) / "fine.csv").write_bytes("\n".join(manifest_lines("F1")).encode("utf-8") + b"\n")
    with pytest.raises(InputError) as caught:
        read_raw(spark, str(tmp_path), "manifests")
    message = str(caught.value)
    assert "legacy.csv is not UTF-8" in message and "fine.csv" not in message
    assert "line 3002" in message and hint in message and "re-export it as UTF-8" in message
    assert isinstance(caught.value, UserError)


def test_a_header_that_is_not_utf8_is_refused_by_the_column_check(spark, tmp_path):
    path = day_dir(tmp_path) / "header.csv"
    path.write_bytes(("\n".join(manifest_lines("H1", header=HEADER + ",備註")) + "\n").encode("big5"))
    with pytest.raises(InputError, match=r"header\.csv is not UTF-8 text: byte 0x.. on line 1 "):
        file_columns(spark, SourceFile(str(path), "csv", DAY))


def test_describe_bad_utf8_names_utf16_gzip_and_a_bad_byte_beyond_the_sample():
    assert "UTF-16" in describe_bad_utf8("a,b\n".encode("utf-16"))
    assert "must be named .csv.gz" in describe_bad_utf8(gzip.compress(b"a,b\n1,2\n"))
    assert "beyond the first 1024 KiB" in describe_bad_utf8(b"x" * (1 << 20), limit=1 << 20)
    # The sample may end inside a character: that is not the bad byte.
    assert "beyond the first" in describe_bad_utf8(b"x" * 9 + "手".encode()[:2], limit=11)


@pytest.mark.parametrize("header, column", [
    (HEADER + ",consignment_id", "consignment_id"),
    (HEADER.replace("manifest_id", "Gross_Weight_KG"), "gross_weight_kg"),
])
def test_a_column_named_twice_is_refused_naming_file_and_column(spark, tmp_path, header, column):
    path = day_dir(tmp_path) / "twice.csv"
    path.write_bytes(("\n".join(manifest_lines("T1", header=header)) + ",X\n").encode("utf-8"))
    with pytest.raises(InputError, match=rf"twice\.csv: column '{column}' appears twice"):
        file_columns(spark, SourceFile(str(path), "csv", DAY))
    with pytest.raises(InputError, match=r"twice\.csv: column .* appears twice"):
        read_raw(spark, str(tmp_path), "manifests")


def test_a_parquet_column_named_twice_or_nested_is_refused(spark, tmp_path):
    folder = day_dir(tmp_path)
    twice = pa.Table.from_arrays([pa.array(["C1"]), pa.array(["C1"])], names=["consignment_id", "Consignment_ID"])
    pq.write_table(twice, folder / "twice.parquet")
    with pytest.raises(InputError, match=r"twice\.parquet: column 'Consignment_ID' appears twice"):
        read_raw(spark, str(tmp_path), "manifests")
    (folder / "twice.parquet").unlink()
    nested = pa.table({"consignment_id": ["C1"], "gross_weight_kg": pa.array([[1.0, 2.0]])})
    pq.write_table(nested, folder / "nested.parquet")
    with pytest.raises(InputError, match=r"manifests: column gross_weight_kg of .*nested\.parquet is of type array<double>"):
        read_raw(spark, str(tmp_path), "manifests")


def test_unknown_files_are_refused_and_hidden_ones_skipped(spark, tmp_path):
    folder = day_dir(tmp_path)
    (folder / "m.csv").write_bytes("\n".join(manifest_lines("K1")).encode("utf-8") + b"\n")
    for hidden in ("_SUCCESS", ".m.csv.crc", "._m.csv"):
        (folder / hidden).write_bytes(b"\x00\x01 not data")
    assert [f.path.rsplit("/", 1)[-1] for f in list_source_files(spark, str(tmp_path), DATASETS["manifests"], [DAY])] == ["m.csv"]
    for name in ("extra.xlsx", "shouting.CSV.GZ", "m.csv.zip"):
        (folder / name).write_bytes(b"PK\x03\x04")
        with pytest.raises(InputError, match=rf"manifests: .*/{name.replace('.', '[.]')} is not a data file"):
            list_source_files(spark, str(tmp_path), DATASETS["manifests"], [DAY])
        # Listing every day only finds the days: a stray file in one is not read, so not refused.
        assert len(list_source_files(spark, str(tmp_path), DATASETS["manifests"])) == 1
        (folder / name).unlink()
    (tmp_path / "intelligence").mkdir()
    (tmp_path / "intelligence" / "watch.json").write_text("{}")
    with pytest.raises(InputError, match=r"intelligence: .*watch\.json is not a data file"):
        list_source_files(spark, str(tmp_path), DATASETS["intelligence"])


def test_a_truncated_gzip_file_is_refused(spark, tmp_path):
    folder = day_dir(tmp_path)
    packed = gzip.compress("\n".join(manifest_lines(*[f"Z{i}" for i in range(2000)])).encode("utf-8"))
    (folder / "cut.csv.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InputError, match=r"manifests: a CSV file could not be read: .*cut\.csv\.gz"):
        read_raw(spark, str(tmp_path), "manifests")
