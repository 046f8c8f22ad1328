"""Quantity units (UN/ECE Rec. 20 codes) turned into comparable quantities.

The reference table is conf/reference/units.csv (code, name, dimension, factor_to_base, note),
passed in as a frame. Each item gets

    quantity_base       quantity in the base unit of its dimension: units of sale for COUNT
                        (a piece, a pair or a set is 1; DZN is 12, DPR 12 pairs), kg for MASS,
                        m for LENGTH, m2 for AREA, litres for VOLUME; null for a PACKAGE unit
                        (box, carton, ...) or a code the table does not know
    quantity_dimension  COUNT, MASS, LENGTH, AREA, VOLUME or PACKAGE; null for an unknown code

A unit value (HKD per unit of sale) exists only for COUNT quantities: a price per kg or per
box is not comparable with a brand's lowest genuine price per item, so it is null, not wrong.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

DIMENSIONS = ("COUNT", "MASS", "LENGTH", "AREA", "VOLUME", "PACKAGE")
COUNT = "COUNT"


def normalise_unit_code(col: Column) -> Column:
    """Upper case without surrounding blanks; blank is null (' pce ' -> 'PCE')."""
    return F.nullif(F.upper(F.trim(col)), F.lit(""))


def units_table(units: DataFrame) -> DataFrame:
    """unit_code -> unit_dimension, unit_factor (null for PACKAGE), unique on unit_code.

    Unique because conf/reference/units.csv has one row per code (tests/unit/features/test_units.py).
    """
    dimension = F.upper(F.trim(F.col("dimension")))
    factor = F.col("factor_to_base").cast("double")
    return units.select(
        normalise_unit_code(F.col("code")).alias("unit_code"),
        dimension.alias("unit_dimension"),
        F.when((dimension != F.lit("PACKAGE")) & (factor > 0), factor).alias("unit_factor"),
    )


def with_quantity_base(items: DataFrame, units: DataFrame) -> DataFrame:
    """items with quantity_unit normalised and quantity_base, quantity_dimension added (one row per item)."""
    code = normalise_unit_code(F.col("quantity_unit"))
    keyed = items.withColumn("quantity_unit", code)
    # The units table is a few dozen rows (broadcast) and unique on unit_code: no row is repeated.
    joined = keyed.join(F.broadcast(units_table(units)), on=F.col("quantity_unit") == F.col("unit_code"), how="left")
    return joined.select(
        *[F.col(c) for c in keyed.columns],
        (F.col("quantity").cast("double") * F.col("unit_factor")).alias("quantity_base"),
        F.col("unit_dimension").alias("quantity_dimension"),
    )


def unit_value(value_hkd: Column, quantity_base: Column, quantity_dimension: Column) -> Column:
    """HKD per unit of sale: only for a positive COUNT quantity, else null."""
    is_count = quantity_dimension == F.lit(COUNT)
    has_quantity = quantity_base > 0
    return F.when(is_count & has_quantity, value_hkd / quantity_base)
