"""The incremental party-history store: nightly updates equal a full recompute, days are replaced."""
from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from features.parties import PARTY_ROLES, build_party_daily
from features.party_lookback import build_party_features
from pipelines.errors import UserError
from pipelines.io.history_store import PARTY_DAILY, lookback_days, party_params, read_party_daily, update_party_daily
from pipelines.io.workspace import Workspace, days_between, stored_days
from tests.unit.features.party_history import HISTORY, OUTCOMES, PARAMS, D, day, outcomes

CONSIGNMENT_SCHEMA = T.StructType(
    [T.StructField("consignment_id", T.StringType()), T.StructField("lodged_date", T.DateType())]
    + [T.StructField(c, T.StringType()) for c in (*PARTY_ROLES.values(), "destination_country")]
    + [T.StructField("transport_mode", T.StringType())]  # an extra column the store ignores
)
# Consignments lodged on D (the shared history is tests/unit/features/party_history.py).
TARGETS = [("T1", 0, "E1", "S1", "C1", "F1", "B1", "US"), ("T2", 0, "E2", "S3", "C3", "F1", None, "US")]


def iso(offset: int) -> str:
    return day(offset).isoformat()


def consignments(spark, rows):
    return spark.createDataFrame([(cid, day(off), *rest, "SEA") for cid, off, *rest in rows], CONSIGNMENT_SCHEMA)


def nightly(spark, workspace, offset):
    """What the nightly job passes: the day's consignments and the outcomes inspected that day."""
    todays = consignments(spark, [r for r in HISTORY if r[1] == offset])
    inspected = outcomes(spark, [o for o in OUTCOMES if o[1] == offset])
    update_party_daily(spark, workspace, todays, inspected, [iso(offset)], 180)


@pytest.fixture(scope="module")
def store(spark, tmp_path_factory):
    """Back-fill up to D-30, then three nights: D-29 (H3's seizure), D-12 (H7), D-1 (H4 and its outcome)."""
    workspace = Workspace(str(tmp_path_factory.mktemp("workspace")))
    update_party_daily(spark, workspace, consignments(spark, HISTORY), outcomes(spark, OUTCOMES),
                       days_between(day(-366), day(-30)), 180)
    for offset in (-29, -12, -1):
        nightly(spark, workspace, offset)
    return workspace


def full_aggregate(spark):
    return build_party_daily(consignments(spark, HISTORY), outcomes(spark, OUTCOMES))


def test_incremental_store_equals_full_recompute(spark, store):
    stored = read_party_daily(spark, store, before=iso(0), lookback_days=365)
    full = full_aggregate(spark)
    assertDataFrameEqual(stored, full.where(F.col("day").between(day(-365), day(-1))))
    targets = consignments(spark, TARGETS)
    assertDataFrameEqual(build_party_features(targets, stored, PARAMS), build_party_features(targets, full, PARAMS))


def test_only_days_with_events_have_folders(spark, store):
    # Lodging days -366, -365, -31, -30, -12, -1 and inspection days -364, -363, -29 (-1 twice).
    expected = sorted(iso(o) for o in (-366, -365, -364, -363, -31, -30, -29, -12, -1))
    assert stored_days(spark, store.aggregate(PARTY_DAILY)) == expected


def test_read_touches_only_the_window(spark, store):
    frame = read_party_daily(spark, store, before=iso(0), lookback_days=30)
    assert {_offset_of(f) for f in frame.inputFiles()} == {-30, -29, -12, -1}  # [D-30, D-1]; D-31 is not read
    assert frame.where(F.col("day") < day(-30)).count() == 0


def _offset_of(path: str) -> int:
    stamp = path.split("date=")[1][:10]
    return (dt.date.fromisoformat(stamp) - D).days


def test_later_nights_leave_day_d_unchanged(spark, store):
    before = read_party_daily(spark, store, before=iso(0), lookback_days=365).collect()
    nightly(spark, store, 0)  # H2's seizure, known on D
    try:
        assertDataFrameEqual(read_party_daily(spark, store, before=iso(0), lookback_days=365), before)
        on_d = read_party_daily(spark, store, before=iso(1), lookback_days=1)
        assert on_d.where("role = 'exporter' AND party_id = 'E1'").select("seizures").collect()[0][0] == 1
    finally:
        update_party_daily(spark, store, consignments(spark, []), outcomes(spark, []), [iso(0)], 180)
    assert iso(0) not in stored_days(spark, store.aggregate(PARTY_DAILY))  # an empty day leaves no folder behind


def test_rewriting_a_day_replaces_it(spark, tmp_path):
    workspace = Workspace(str(tmp_path))
    h7 = [r for r in HISTORY if r[0] == "H7"]
    changed = [("H7", -12, "E9", "S4", "C3", "F1", "B1", "US")]
    update_party_daily(spark, workspace, consignments(spark, changed), outcomes(spark, []), [iso(-12)], 180)
    update_party_daily(spark, workspace, consignments(spark, h7), outcomes(spark, []), [iso(-12)], 180)
    update_party_daily(spark, workspace, consignments(spark, h7), outcomes(spark, []), [iso(-12)], 180)
    exporters = read_party_daily(spark, workspace, before=iso(0), lookback_days=30).where(
        "role = 'exporter' AND item = 'TOTAL'")
    assert [(r.party_id, r.shipments) for r in exporters.collect()] == [("E4", 1)]  # no E9, no double count


def test_conf_values(settings):
    assert lookback_days(settings["parties"]) >= 365
    params = party_params(settings["parties"])
    assert 0 < params.seizure_prior < 1 and params.prior_strength > 0 and params.new_party_days > 0
    with pytest.raises(UserError, match="lookback_days"):
        lookback_days({"history_store": {"lookback_days": 90}})
