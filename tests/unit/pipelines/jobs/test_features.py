"""The feature job: reference data, incremental nightly build, no look-ahead."""
import csv
import datetime as dt

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from pipelines.io.reference import load_reference
from pipelines.io.settings import conf_root
from pipelines.jobs.features import build_features
from tests.unit.features.consignment_frames import (
    DECLARATION_DEFAULTS,
    MANIFEST_DEFAULTS,
    D,
    contract_frame,
    rights_holders,
)

REF = conf_root() / "reference"


def _rows(name):
    with (REF / f"{name}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_reference_tables_are_unique_and_cover_the_synthetic_world():
    from pipelines.devtools.synthetic.world import PORTS

    countries, ports, groups = _rows("countries"), _rows("ports"), _rows("hs_groups")
    assert len({r["iso2"] for r in countries}) == len(countries) == 249
    assert {r["region"] for r in countries} == {"NORTH_AMERICA", "EUROPE", "BELT_AND_ROAD", "OTHER"}
    by_iso = {r["iso2"]: r for r in countries}
    assert (by_iso["GR"]["region"], by_iso["GR"]["belt_and_road"]) == ("EUROPE", "1")  # both
    assert (by_iso["IT"]["belt_and_road"], by_iso["PK"]["region"]) == ("0", "BELT_AND_ROAD")
    assert len({r["locode"] for r in ports}) == len(ports)
    assert all(r["locode"][:2] == r["country"] and r["country"] in by_iso for r in ports)
    assert {p.locode for p in PORTS} <= {r["locode"] for r in ports}
    assert len({r["hs_prefix"] for r in groups}) == len(groups)


def test_load_reference(spark):
    ref = load_reference(spark)
    assert ref["ports"].where(F.col("locode") == "HKHKG").select("lat", "is_hub").first() == (22.30, 1)
    assert ref["countries"].count() == 249 and ref["hs_groups"].where("hs_prefix = '91'").count() == 1


def _inputs(spark, days, with_outcomes=False):
    manifests, declarations = [], []
    for day in days:
        for i in range(3):
            cid = f"C{day.day}{i}"
            manifests.append({"consignment_id": cid, "partition_date": day, "route_ports": "SGSIN" if i else None,
                              "consignor_id": f"CR{i}"})
            declarations.append({"consignment_id": cid, "declaration_id": "D" + cid, "partition_date": day,
                                 "lodged_at": dt.datetime.combine(day, dt.time(3)), "declared_value": 100.0 * (i + 1)})
    outcomes = [{"consignment_id": "C50", "inspected_on": D(2026, 9, 6), "selection_reason": "RANDOM",
                 "result": "SEIZED", "partition_date": D(2026, 9, 6)}] if with_outcomes else []
    return {
        "manifests": contract_frame(spark, "manifests", manifests, MANIFEST_DEFAULTS),
        "declarations": contract_frame(spark, "declarations", declarations, DECLARATION_DEFAULTS),
        "outcomes": contract_frame(spark, "outcomes", outcomes),
        "intelligence": contract_frame(spark, "intelligence", []),
        "rights_holders": rights_holders(spark),
        "fx_rates": contract_frame(spark, "fx_rates", []),
    }


@pytest.mark.slow
def test_nightly_from_aggregates_equals_backfill_with_later_data(spark, make_ctx, tmp_path):
    d4, d5, d6 = D(2026, 9, 4), D(2026, 9, 5), D(2026, 9, 6)
    # Back-fill: raw inputs of 09-04..09-06 (a later day and a later seizure included), features of 09-05.
    full = build_features(make_ctx(tmp_path / "backfill"), _inputs(spark, [d4, d5, d6], with_outcomes=True),
                          ["2026-09-05"])
    # Nightly: 09-04 alone, then 09-05 alone; 09-05 sees 09-04 only through the stored aggregates.
    nightly_ctx = make_ctx(tmp_path / "nightly")
    build_features(nightly_ctx, _inputs(spark, [d4]), ["2026-09-04"])
    nightly = build_features(nightly_ctx, _inputs(spark, [d5]), ["2026-09-05"])
    assert full.count() == 3
    assertDataFrameEqual(nightly, full, checkRowOrder=False)
    # 09-04's route HKHKG>NLRTM (1 of 3 consignments) is seen; 09-05's own rows are not
    row = full.where(F.col("consignment_id") == "C50").first()
    assert row["route_count_90d"] == 1 and row["hs6_count_90d"] == 3
    assert (tmp_path / "nightly" / "aggregates" / "route_daily" / "date=2026-09-05").is_dir()
    assert (tmp_path / "nightly" / "features" / "date=2026-09-05").is_dir()


def test_history_gaps_are_missing_days_after_the_first_stored_one():
    from pipelines.io.workspace import days_between
    from pipelines.jobs.features import _day_runs, history_gaps

    first = dt.date(2026, 1, 10)
    stored = ["2026-01-02", "2026-01-05", "2026-01-06", "2026-01-09", "2026-01-10", "2026-01-12"]
    # Look-back of 9 days: 2026-01-01..2026-01-09. The history starts on 01-02 (01-01 is before
    # the start, not a gap); the target day and later days never count.
    gaps = history_gaps(stored, first, 9)
    assert gaps == ["2026-01-03", "2026-01-04", "2026-01-07", "2026-01-08"]
    assert _day_runs(gaps) == "2026-01-03..2026-01-04, 2026-01-07..2026-01-08"
    assert _day_runs(["2026-01-03"]) == "2026-01-03"
    assert history_gaps([], first, 9) == []  # a new workspace: no history yet, nothing missing
    assert history_gaps(["2026-01-09"], first, 9) == []
    # History that started before the look-back: every missing day of the look-back is a gap.
    assert history_gaps(["2025-01-01", "2026-01-09"], first, 9) == days_between(dt.date(2026, 1, 1), dt.date(2026, 1, 8))
