"""Quantity units: codes normalised, quantities in units of sale, unit values only for counts."""
import csv
import math
from pathlib import Path

from consignment_frames import UNITS_SCHEMA, units
from pyspark.sql import functions as F

from features.units import DIMENSIONS, unit_value, units_table, with_quantity_base

UNITS_CSV = Path(__file__).resolve().parents[3] / "conf" / "reference" / "units.csv"
ITEMS = "item string, quantity double, quantity_unit string, value_hkd double"


def _normalised(spark, rows):
    items = spark.createDataFrame(rows, ITEMS)
    out = with_quantity_base(items, units(spark)).select(
        "*", unit_value(F.col("value_hkd"), F.col("quantity_base"), F.col("quantity_dimension")).alias("uv"))
    return {r["item"]: r for r in out.collect()}


def test_count_units_give_units_of_sale_and_a_unit_value(spark):
    out = _normalised(spark, [
        ("DOZEN", 1.0, "DZN", 1200.0), ("PIECES", 12.0, "PCE", 1200.0),
        ("BLANKS", 12.0, " pce ", 1200.0), ("LOWER", 1.0, "dzn", 1200.0),
        ("PAIRS", 3.0, "PR", 300.0), ("SETS", 2.0, "SET", 100.0),
    ])
    assert (out["DOZEN"]["quantity_base"], out["DOZEN"]["quantity_dimension"]) == (12.0, "COUNT")
    assert out["DOZEN"]["uv"] == out["PIECES"]["uv"] == 100.0  # a dozen is not 12 times dearer
    assert (out["BLANKS"]["quantity_unit"], out["BLANKS"]["uv"]) == ("PCE", 100.0)  # ' pce ' is PCE
    assert (out["LOWER"]["quantity_unit"], out["LOWER"]["uv"]) == ("DZN", 100.0)
    assert (out["PAIRS"]["quantity_base"], out["PAIRS"]["uv"]) == (3.0, 100.0)  # a pair is one unit of sale
    assert out["SETS"]["uv"] == 50.0


def test_mass_package_and_unknown_units_give_no_unit_value(spark):
    out = _normalised(spark, [
        ("KILOS", 2.0, "KGM", 100.0), ("GRAMS", 500.0, "GRM", 100.0), ("CARTONS", 5.0, "CT", 100.0),
        ("UNKNOWN", 5.0, "XYZ", 100.0), ("MISSING", 5.0, None, 100.0), ("BLANK", 5.0, "  ", 100.0),
    ])
    assert (out["KILOS"]["quantity_base"], out["KILOS"]["quantity_dimension"], out["KILOS"]["uv"]) == (2.0, "MASS", None)
    assert math.isclose(out["GRAMS"]["quantity_base"], 0.5) and out["GRAMS"]["uv"] is None
    assert (out["CARTONS"]["quantity_base"], out["CARTONS"]["quantity_dimension"], out["CARTONS"]["uv"]) == (
        None, "PACKAGE", None)
    for name in ("UNKNOWN", "MISSING", "BLANK"):
        assert (out[name]["quantity_base"], out[name]["quantity_dimension"], out[name]["uv"]) == (None, None, None)
    assert out["BLANK"]["quantity_unit"] is None


def test_quantity_base_keeps_one_row_per_item(spark):
    items = spark.createDataFrame([("A", 1.0, "PCE", 1.0), ("B", 1.0, "XYZ", 1.0)], ITEMS)
    assert with_quantity_base(items, units(spark)).count() == 2


def test_units_csv_is_a_valid_reference_table(spark):
    """conf/reference/units.csv: unique upper-case codes, known dimensions, a positive factor
    exactly when the dimension is not PACKAGE, and the codes declarations commonly use."""
    with UNITS_CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["code", "name", "dimension", "factor_to_base", "note"]
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes)) and all(c == c.strip().upper() and c for c in codes)
    assert {r["dimension"] for r in rows} <= set(DIMENSIONS)
    for r in rows:
        if r["dimension"] == "PACKAGE":
            assert r["factor_to_base"] == "", r
        else:
            assert float(r["factor_to_base"]) > 0, r
    by_code = {r["code"]: r for r in rows}
    expected = {
        "PCE": ("COUNT", 1), "NAR": ("COUNT", 1), "C62": ("COUNT", 1), "H87": ("COUNT", 1), "EA": ("COUNT", 1),
        "PR": ("COUNT", 1), "SET": ("COUNT", 1), "DZN": ("COUNT", 12), "DPR": ("COUNT", 12), "GRO": ("COUNT", 144),
        "KGM": ("MASS", 1), "GRM": ("MASS", 0.001), "TNE": ("MASS", 1000), "LBR": ("MASS", 0.45359237),
        "MTR": ("LENGTH", 1), "CMT": ("LENGTH", 0.01), "MTK": ("AREA", 1), "MTQ": ("VOLUME", 1000),
        "LTR": ("VOLUME", 1), "MLT": ("VOLUME", 0.001),
    }
    for code, (dimension, factor) in expected.items():
        assert by_code[code]["dimension"] == dimension and math.isclose(float(by_code[code]["factor_to_base"]), factor)
    for code in ("BX", "CT", "PK", "PA", "BG", "RO"):
        assert by_code[code]["dimension"] == "PACKAGE"
    # Read the way the pipeline reads it: an explicit schema, the same as the test frames'.
    frame = spark.read.option("header", True).schema(UNITS_SCHEMA).csv(str(UNITS_CSV))
    table = units_table(frame)
    assert table.count() == len(rows) == table.select("unit_code").distinct().count()
    assert table.where(F.col("unit_dimension").isNull()).count() == 0
