"""The versioned reference tables of conf/reference/ as Spark frames with explicit schemas."""
from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from pipelines.io.settings import reference_path

REFERENCE_SCHEMAS = {
    "countries": "iso2 string, name string, region string, belt_and_road int, note string, source string",
    "ports": "locode string, name string, country string, lat double, lon double, is_hub int, is_ftz int",
    "hs_groups": "hs_prefix string, hs_group string, counterfeit_prone int",
    "units": "code string, name string, dimension string, factor_to_base double, note string",
    "product_terms": "term string, hs_prefixes string, language string",
}


def load_reference(spark: SparkSession) -> dict[str, DataFrame]:
    """Every conf/reference CSV file as a small cached frame (read once per command)."""
    frames = {}
    for name, schema in REFERENCE_SCHEMAS.items():
        path = str(reference_path(f"{name}.csv"))
        frames[name] = spark.read.option("header", True).schema(schema).csv(path).cache()
    return frames
