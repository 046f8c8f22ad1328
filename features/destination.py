"""Destination features: where the goods are going, by region and Belt-and-Road membership."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.reference import countries_table
from features.registry import FeatureDef

_SRC = ("manifests", "conf/reference/countries.csv")
_DAY = "day of lodging"

FEATURES = [
    FeatureDef("dest_region", "string", "categorical", "destination",
               "region of the destination country: NORTH_AMERICA, EUROPE, BELT_AND_ROAD or OTHER "
               "(OTHER also for a code not in countries.csv)", _SRC, _DAY),
    FeatureDef("is_belt_and_road", "integer", "flag", "destination",
               "1 if the destination country signed a Belt and Road cooperation document "
               "(a European signatory is both EUROPE and 1)", _SRC, _DAY),
    FeatureDef("destination_country", "string", "categorical", "destination",
               "ISO alpha-2 of the final place of delivery", ("manifests",), _DAY),
    FeatureDef("consignee_country_mismatch", "integer", "flag", "destination",
               "1 if the consignee's country is given and differs from the destination country",
               ("manifests",), _DAY),
]

UNKNOWN_REGION = "OTHER"


def build_destination_features(consignments: DataFrame, countries: DataFrame) -> DataFrame:
    """consignment_id + the destination features."""
    c = consignments.select("consignment_id", "destination_country", "consignee_country")
    ref = countries_table(countries).withColumnRenamed("iso2", "destination_country")
    # countries.csv is unique on iso2 (one row per ISO 3166 country).
    joined = c.join(F.broadcast(ref), on="destination_country", how="left")
    has_consignee_country = F.col("consignee_country").isNotNull() & (F.col("consignee_country") != "")
    differs = F.col("consignee_country") != F.col("destination_country")
    return joined.select(
        "consignment_id",
        F.coalesce(F.col("region"), F.lit(UNKNOWN_REGION)).alias("dest_region"),
        F.coalesce(F.col("belt_and_road"), F.lit(0)).cast("int").alias("is_belt_and_road"),
        F.coalesce(F.col("destination_country"), F.lit("UNKNOWN")).alias("destination_country"),
        F.when(has_consignee_country & differs, 1).otherwise(0).cast("int").alias("consignee_country_mismatch"),
    )
