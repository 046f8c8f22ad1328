"""Shape features: how the consignment travels and how big it is."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.registry import FeatureDef

_M = ("manifests",)
_D = ("declarations",)
_DAY = "day of lodging"


def _f(name, dtype, kind, meaning, sources=_M):
    return FeatureDef(name, dtype, kind, "shape", meaning, sources, _DAY)


FEATURES = [
    _f("transport_mode", "string", "categorical", "SEA, AIR, ROAD, RAIL, POST or EXPRESS"),
    _f("is_small_parcel", "integer", "flag",
       "1 if sent by a small-parcel mode (small_parcel_modes: POST, EXPRESS) with at most "
       "small_parcel_max_packages (3) packages"),
    _f("package_count", "integer", "numeric", "packages on the manifest"),
    _f("gross_weight_kg", "double", "numeric", "gross weight on the manifest"),
    _f("n_items", "integer", "numeric", "declaration items of the consignment", _D),
    _f("log_total_value_hkd", "double", "numeric",
       "ln(1 + total declared value in HKD) over all items; 0 if no item has an HKD value",
       ("declarations", "fx_rates")),
]


def build_shape_features(consignments: DataFrame, params: Mapping) -> DataFrame:
    """consignment_id + the shape features."""
    small_mode = F.col("transport_mode").isin(*list(params["small_parcel_modes"]))
    few_packages = F.col("package_count") <= int(params["small_parcel_max_packages"])
    total = F.greatest(F.coalesce(F.col("total_value_hkd"), F.lit(0.0)), F.lit(0.0))
    return consignments.select(
        "consignment_id",
        F.coalesce(F.col("transport_mode"), F.lit("UNKNOWN")).alias("transport_mode"),
        F.coalesce(small_mode & few_packages, F.lit(False)).cast("int").alias("is_small_parcel"),
        F.col("package_count").cast("int").alias("package_count"),
        F.col("gross_weight_kg").cast("double").alias("gross_weight_kg"),
        F.col("n_items").cast("int").alias("n_items"),
        F.log1p(total).alias("log_total_value_hkd"),
    )
