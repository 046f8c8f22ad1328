from consignment_frames import consignments, countries
from pyspark.testing import assertDataFrameEqual

from features.destination import build_destination_features


def test_destination_features(spark):
    c = consignments(spark, [
        {"consignment_id": "NL", "destination_country": "NL", "consignee_country": "NL"},
        {"consignment_id": "GR", "destination_country": "GR", "consignee_country": "CN"},  # EU and BRI; mismatch
        {"consignment_id": "PK", "destination_country": "PK"},  # no consignee country: no mismatch
        {"consignment_id": "US", "destination_country": "US", "consignee_country": ""},
        {"consignment_id": "ZZ", "destination_country": "ZZ"},  # unknown code: OTHER, not BRI
    ])
    expected = spark.createDataFrame([
        ("NL", "EUROPE", 0, "NL", 0), ("GR", "EUROPE", 1, "GR", 1), ("PK", "BELT_AND_ROAD", 1, "PK", 0),
        ("US", "NORTH_AMERICA", 0, "US", 0), ("ZZ", "OTHER", 0, "ZZ", 0),
    ], "consignment_id string, dest_region string, is_belt_and_road int, destination_country string, "
       "consignee_country_mismatch int")
    assertDataFrameEqual(build_destination_features(c, countries(spark)), expected, checkRowOrder=False)
