import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import types as T

from pipelines.io.readers import PARTITION_DATE, SOURCE_FILE, read_dataset, read_raw
from pipelines.validation.contract import DECLARATIONS, MANIFESTS

HEADER = "consignment_id,manifest_id,transport_mode,port_of_loading,port_of_discharge,destination_country,departure_date,consignor_id,consignee_id,package_count,gross_weight_kg"


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_mixed_csv_and_parquet_with_different_column_orders(spark, tmp_path):
    day = tmp_path / "manifests" / "date=2026-09-05"
    _write(day / "a.csv", HEADER + "\nC1,M1,SEA,HKHKG,USLAX,US,2026-09-06,P1,Q1,3,12.5\n")
    # Same columns, another order, plus an extra column the contract does not know.
    cols = HEADER.split(",")
    reordered = list(reversed(cols)) + ["extra"]
    values = dict(zip(cols, "C2,M1,AIR,HKHKG,DEFRA,DE,2026-09-06,P2,Q2,1,0.7".split(",")))
    _write(day / "b.csv", ",".join(reordered) + "\n" + ",".join([values[c] for c in reversed(cols)] + ["x"]) + "\n")
    table = pa.table({"consignment_id": ["C3"], "manifest_id": ["M2"], "transport_mode": ["POST"],
                      "port_of_loading": ["MOMFM"], "route_ports": ["SGSIN;AEJEA"], "port_of_discharge": ["NLRTM"],
                      "destination_country": ["NL"], "departure_date": pa.array([__import__("datetime").date(2026, 9, 7)]),
                      "consignor_id": ["P3"], "consignee_id": ["Q3"], "package_count": pa.array([2], pa.int32()),
                      "gross_weight_kg": [4.25]})
    pq.write_table(table, day / "c.parquet")
    _write(tmp_path / "manifests" / "date=2026-09-06" / "d.csv", HEADER + "\nC9,M9,SEA,HKHKG,USLAX,US,2026-09-07,P1,Q1,3,1\n")

    df = read_dataset(spark, str(tmp_path), "manifests", ["2026-09-05"])
    assert df.schema == MANIFESTS.spark_schema()
    rows = {r.consignment_id: r for r in df.collect()}
    assert set(rows) == {"C1", "C2", "C3"}
    assert rows["C2"].transport_mode == "AIR" and rows["C2"].gross_weight_kg == 0.7
    assert rows["C3"].route_ports == "SGSIN;AEJEA" and rows["C3"].package_count == 2
    assert rows["C1"].route_ports is None  # optional column absent from the file
    assert str(rows["C3"].departure_date) == "2026-09-07"


def test_raw_keeps_original_text_and_lineage(spark, tmp_path):
    day = tmp_path / "declarations" / "date=2026-09-05"
    header = ",".join(DECLARATIONS.column_names)
    line = 'D1,1,C1,2026-09-05T14:03:00+08:00,HKAIR,E1,,EXPORT,4202,"Bag, ""leather"" =HYPERLINK(""x"")",LUMORA,CN,abc,PCE,,12,HKD'
    _write(day / "x.csv", header + "\n" + line + "\n")
    raw = read_raw(spark, str(tmp_path), "declarations")
    row = raw.collect()[0]
    assert row.quantity == "abc"  # kept as text for the quarantine record
    assert row.goods_description == 'Bag, "leather" =HYPERLINK("x")'
    assert row[PARTITION_DATE] == "2026-09-05" and row[SOURCE_FILE].endswith("x.csv")
    typed = read_dataset(spark, str(tmp_path), "declarations").collect()[0]
    assert typed.quantity is None and typed.declared_value == 12.0
    assert typed.lodged_at is not None


def test_missing_dataset_is_empty_with_contract_schema(spark, tmp_path):
    df = read_dataset(spark, str(tmp_path), "fx_rates")
    assert df.count() == 0
    assert [f.name for f in df.schema] == ["currency", "rate_date", "hkd_per_unit"]
    assert isinstance(df.schema["hkd_per_unit"].dataType, T.DoubleType)


def test_bom_crlf_and_broken_lines_one_record_per_physical_line(spark, tmp_path):
    from pipelines.io.readers import CORRUPT_RECORD

    day = tmp_path / "manifests" / "date=2026-09-05"
    day.mkdir(parents=True)
    lines = ["\ufeff" + HEADER, "C1,M1,SEA,HKHKG,USLAX,US,2026-09-06,P1,Q1,3,12.5",
             'C2,M1,SEA,"HKHKG,USLAX,US,2026-09-06,P1,Q1,3,12.5',  # unclosed quote
             "C3,M1,SEA,HKHKG,USLAX,US,2026-09-06,P1,Q1,3,12.5", "", "C4,M1,SEA,HKHKG", "   ",
             'C5,M1,SEA,HKHKG,USLAX,US,2026-09-06,P1,Q1,3,"12.5']  # last field never closed
    (day / "m.csv").write_bytes("\r\n".join(lines).encode("utf-8") + b"\r\n")
    rows = {r.consignment_id: r for r in read_raw(spark, str(tmp_path), "manifests").collect()}
    assert set(rows) == {"C1", "C2", "C3", "C4", "C5"}  # header and blank lines are not records
    assert rows["C1"][CORRUPT_RECORD] is None and rows["C3"][CORRUPT_RECORD] is None
    assert rows["C3"].gross_weight_kg == "12.5"
    assert rows["C2"][CORRUPT_RECORD].startswith('C2,M1,SEA,"HKHKG')
    assert rows["C4"][CORRUPT_RECORD] == "C4,M1,SEA,HKHKG"
    assert rows["C5"][CORRUPT_RECORD].endswith(',"12.5')


def test_parquet_timestamps_become_iso_text_in_the_feed_zone(spark, tmp_path):
    import datetime as dt

    day = tmp_path / "declarations" / "date=2026-09-05"
    day.mkdir(parents=True)
    instant = dt.datetime(2026, 9, 4, 17, 0, 5, tzinfo=dt.UTC)  # 01:00:05 on the 5th in Hong Kong
    pq.write_table(pa.table({"declaration_id": ["D1"], "lodged_at": pa.array([instant], pa.timestamp("us", tz="UTC"))}),
                   day / "x.parquet")
    local = read_raw(spark, str(tmp_path), "declarations", timezone="Asia/Hong_Kong").collect()[0]
    assert local.lodged_at == "2026-09-05T01:00:05+08:00"
    assert read_raw(spark, str(tmp_path), "declarations").collect()[0].lodged_at == "2026-09-04T17:00:05+00:00"
    typed = read_dataset(spark, str(tmp_path), "declarations").collect()[0]
    assert typed.lodged_at.replace(tzinfo=dt.UTC) == instant  # session time zone is UTC


def test_quoted_field_spanning_lines_is_one_record_and_broken_quotes_cost_only_their_line(spark, tmp_path):
    # RFC 4180 allows a line break inside a quoted field: that row is valid and whole.
    from pipelines.io.readers import CORRUPT_RECORD

    day = tmp_path / "manifests" / "date=2026-09-05"
    day.mkdir(parents=True)
    ok = "M1,SEA,HKHKG,USLAX,US,2026-09-06,P1,Q1,3,12.5"
    spanning = 'C2,M1,SEA,HKHKG,USLAX,US,2026-09-06,"P1 line one\r\n\r\nline three, after a blank",Q1,3,12.5'
    lines = [HEADER, f"C1,{ok}", spanning, f"C3,{ok}",
             'C4,M1,SEA,"HKHKG,USLAX,US,2026-09-06,P1,Q1,3,12.5',  # broken quote ...
             f"C5,{ok}", f"C6,{ok}",
             'C7,M1,SEA,HKHKG,USLAX,US,2026-09-06,P1,"Q1,3,12.5',  # ... and another: not one record
             f"C8,{ok}"]
    (day / "m.csv").write_bytes("\r\n".join(lines).encode("utf-8") + b"\r\n")
    (day / "plain.csv").write_text(HEADER + "\n" + f"C9,{ok}\n", encoding="utf-8")
    rows = {r.consignment_id: r for r in read_raw(spark, str(tmp_path), "manifests").collect()}
    assert sorted(rows) == [f"C{i}" for i in range(1, 10)]
    assert rows["C2"].consignor_id == "P1 line one\n\nline three, after a blank"
    assert rows["C2"].gross_weight_kg == "12.5"
    assert {c for c, r in rows.items() if r[CORRUPT_RECORD] is not None} == {"C4", "C7"}
    assert rows["C4"][CORRUPT_RECORD] == lines[4] and rows["C7"][CORRUPT_RECORD] == lines[7]
    assert rows["C5"].gross_weight_kg == "12.5" and rows["C9"].consignee_id == "Q1"
