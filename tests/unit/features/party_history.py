"""The hand-built party history shared by the party-feature and party-store tests
(test_parties.py explains every row and the values worked out from it)."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import types as T

from features.parties import PartyParams

D = dt.date(2026, 9, 1)
PARAMS = PartyParams(seizure_prior=0.1, prior_strength=10.0, new_party_days=30, decay_half_life_days=30.0)
OUTCOME_SCHEMA = T.StructType([
    T.StructField("consignment_id", T.StringType()), T.StructField("inspected_on", T.DateType()),
    T.StructField("selection_reason", T.StringType()), T.StructField("result", T.StringType()),
])
# (id, lodged offset from D, exporter, consignor, consignee, forwarder, declarant, destination)
HISTORY = [
    ("H0", -366, "E1", "S1", "C1", "F1", "B1", "GB"),
    ("H1", -365, "E1", "S1", "C1", "F1", "B1", "US"),
    ("H3", -31, "E1", "S1", "C1", None, "B1", "US"),
    ("H2", -30, "E1", "S1", "C2", "F1", "B1", "DE"),
    ("H7", -12, "E4", "S4", "C3", "F1", "B1", "US"),
    ("H4", -1, "E2", "S2", "C1", "F1", None, "FR"),
]
OUTCOMES = [("H0", -364, "CLEAN"), ("H1", -363, "SEIZED"), ("H3", -29, "SEIZED"), ("H4", -1, "CLEAN"), ("H2", 0, "SEIZED")]


def day(offset: int) -> dt.date:
    return D + dt.timedelta(days=offset)


def outcomes(spark, rows):
    return spark.createDataFrame([(cid, day(off), "RISK", result) for cid, off, result in rows], OUTCOME_SCHEMA)
