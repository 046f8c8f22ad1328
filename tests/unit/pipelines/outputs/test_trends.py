"""pipelines.outputs.trends on small hand-built frames, expected values worked out by hand."""
from __future__ import annotations

import datetime as dt
import math

import pytest

from pipelines.outputs import trends

D = dt.date.fromisoformat


def _features(spark, rows):
    return spark.createDataFrame(
        [(c, D(d), r, h) for c, d, r, h in rows], "consignment_id string, lodged_date date, dest_region string, last_hub string")


def _outcomes(spark, rows):
    return spark.createDataFrame(rows, "consignment_id string, selection_reason string, label int")


def test_rates_over_time_weekly_counts_uninspected_as_unknown(spark):
    # 2026-06-01 and 2026-06-08 are Mondays.
    features = _features(spark, [("c1", "2026-06-01", "NORTH_AMERICA", "AEJEA"), ("c2", "2026-06-03", "NORTH_AMERICA", "SGSIN"),
                                 ("c3", "2026-06-08", "NORTH_AMERICA", "AEJEA"), ("c4", "2026-06-02", "EUROPE", "NONE")])
    outcomes = _outcomes(spark, [("c1", "RISK", 1), ("c2", "RANDOM", 0), ("c4", "RISK", 1)])
    pdf = trends.rates_over_time(features, outcomes, ["dest_region"], "week")
    got = [(r.bucket.date().isoformat(), r.dest_region, r.consignments, r.inspected, r.seized) for r in pdf.itertuples()]
    assert got == [("2026-06-01", "EUROPE", 1, 1, 1), ("2026-06-01", "NORTH_AMERICA", 2, 2, 1),
                   ("2026-06-08", "NORTH_AMERICA", 1, 0, 0)]
    assert list(pdf["hit_rate"][:2]) == [1.0, 0.5] and math.isnan(pdf["hit_rate"][2])


def test_rates_over_time_lumps_values_not_kept_and_sums_whole_period(spark):
    features = _features(spark, [("c1", "2026-06-01", "EUROPE", "AEJEA"), ("c2", "2026-06-03", "EUROPE", "SGSIN"),
                                 ("c3", "2026-06-09", "EUROPE", "NLRTM")])
    outcomes = _outcomes(spark, [("c2", "RISK", 1), ("c3", "RISK", 0)])
    pdf = trends.rates_over_time(features, outcomes, ["last_hub"], None, keep={"last_hub": ["AEJEA"]})
    got = [(r.last_hub, r.consignments, r.inspected, r.seized, r.hit_rate) for r in pdf.itertuples()]
    assert got == [(trends.LUMPED, 2, 2, 1, 0.5), ("AEJEA", 1, 0, 0, pytest.approx(float("nan"), nan_ok=True))]


def test_hub_shares_split_each_region_over_its_hubs(spark):
    features = _features(spark, [("c1", "2026-06-01", "EUROPE", "AEJEA"), ("c2", "2026-06-02", "EUROPE", "AEJEA"),
                                 ("c3", "2026-06-03", "EUROPE", "OMSLL"), ("c4", "2026-06-03", "OTHER", "OMSLL"),
                                 ("c5", "2026-06-03", "EUROPE", "NONE")])  # direct: not in the hub shares
    pdf = trends.hub_shares(features, _outcomes(spark, []), "week", ["AEJEA", "OMSLL"])
    got = {(r.dest_region, r.last_hub): r.share_of_region for r in pdf.itertuples()}
    assert got == {("EUROPE", "AEJEA"): pytest.approx(2 / 3), ("EUROPE", "OMSLL"): pytest.approx(1 / 3),
                   ("OTHER", "OMSLL"): 1.0}


def test_split_day_takes_recent_days_or_the_later_half():
    assert trends.split_day(D("2026-06-01"), D("2026-06-30"), 7) == D("2026-06-24")
    assert trends.split_day(D("2026-06-01"), D("2026-06-04"), 7) == D("2026-06-03")


def test_emerging_ranks_new_keys_then_lift_and_applies_minimum(spark):
    # Earlier (before 06-08): A x3, B x1 (4 rows); recent: A x2, B x2, C x2 (6 rows).
    rows = [("2026-06-01", "A")] * 3 + [("2026-06-02", "B")] + [("2026-06-08", "A")] * 2 + [("2026-06-09", "B")] * 2 \
        + [("2026-06-10", "C")] * 2
    frame = spark.createDataFrame([(D(d), k, 1, 1 if k == "C" else 0) for d, k in rows],
                                  "lodged_date date, route string, inspected int, seized int")
    pdf = trends.emerging(frame, ["route"], D("2026-06-08"), min_recent=2, top=10)
    assert list(pdf["route"]) == ["C", "B", "A"]
    c, b, a = pdf.to_dict("records")
    assert (c["earlier"], c["recent"], c["recent_share"], c["seized"]) == (0, 2, pytest.approx(1 / 3), 2)
    assert math.isnan(c["lift"])
    assert b["lift"] == pytest.approx((2 / 6) / (1 / 4))
    assert a["lift"] == pytest.approx((2 / 6) / (3 / 4))
    assert trends.emerging(frame, ["route"], D("2026-06-08"), min_recent=3, top=10).empty
    assert list(trends.emerging(frame, ["route"], D("2026-06-08"), min_recent=2, top=1)["route"]) == ["C"]


def test_emerging_shares_within_a_group(spark):
    # Role X: earlier p1, p2; recent p1 x3. Role Y: earlier q1; recent q1. Shares within the role.
    rows = [("2026-06-01", "X", "p1"), ("2026-06-01", "X", "p2"), ("2026-06-01", "Y", "q1")] \
        + [("2026-06-09", "X", "p1")] * 3 + [("2026-06-09", "Y", "q1")]
    frame = spark.createDataFrame([(D(d), r, p, 0, 0) for d, r, p in rows],
                                  "lodged_date date, role string, party_id string, inspected int, seized int")
    pdf = trends.emerging(frame, ["role", "party_id"], D("2026-06-08"), min_recent=1, top=None, within=["role"])
    got = [(r.role, r.party_id, r.earlier_share, r.recent_share, r.lift) for r in pdf.itertuples()]
    assert got == [("X", "p1", 0.5, 1.0, 2.0), ("Y", "q1", 1.0, 1.0, 1.0)]


def _write_outcomes(root, day, lines):
    folder = root / "outcomes" / f"date={day}"
    folder.mkdir(parents=True)
    header = "consignment_id,inspected_on,selection_reason,result,seized_items,seized_value_hkd,infringement_type\n"
    (folder / "part.csv").write_text(header + "".join(line + "\n" for line in lines), encoding="utf-8")


def test_read_known_outcomes_keeps_latest_known_valid_row(spark, settings, tmp_path):
    _write_outcomes(tmp_path, "2026-06-02", ["c1,2026-06-02,RISK,CLEAN,,,", "c2,2026-06-02,RANDOM,MAYBE,,,",
                                             "c3,,RISK,SEIZED,1,10,TRADEMARK"])
    _write_outcomes(tmp_path, "2026-06-05", ["c1,2026-06-05,RISK,SEIZED,2,50,TRADEMARK", "c4,2026-06-05,RANDOM,CLEAN,,,"])
    days = ["2026-06-02", "2026-06-05"]

    def known(day):
        rows = trends.read_known_outcomes(spark, str(tmp_path), days, D(day), settings["validation"]).collect()
        return sorted((r.consignment_id, str(r.inspected_on), r.selection_reason, r.label) for r in rows)

    # c2 (result not in the contract) and c3 (no inspection day) fail the suite and are left out.
    assert known("2026-06-04") == [("c1", "2026-06-02", "RISK", 0)]
    assert known("2026-06-05") == [("c1", "2026-06-05", "RISK", 1), ("c4", "2026-06-05", "RANDOM", 0)]


def test_read_known_outcomes_counts_recorded_results_beside_the_feed(spark, settings, tmp_path):
    feed, recorded = tmp_path / "feed", tmp_path / "recorded"
    _write_outcomes(feed, "2026-06-02", ["c1,2026-06-02,RISK,CLEAN,,,", "c2,2026-06-02,RANDOM,CLEAN,,,"])
    # The workbench's record of the same inspection of c1 (a seizure) wins; c5 is only recorded.
    _write_outcomes(recorded, "2026-06-02", ["c1,2026-06-02,RISK,SEIZED,3,90,TRADEMARK", "c5,2026-06-02,EXPLORATION,SEIZED,1,5,"])
    rows = trends.read_known_outcomes(spark, str(feed), ["2026-06-02"], D("2026-06-02"), settings["validation"],
                                      str(recorded)).collect()
    assert sorted((r.consignment_id, r.selection_reason, r.label) for r in rows) == [
        ("c1", "RISK", 1), ("c2", "RANDOM", 0), ("c5", "EXPLORATION", 1)]


def test_random_sample_performance_uses_only_random_rows_of_scored_nights(spark):
    scores = spark.createDataFrame(
        [(c, D(n), s, r, False, None) for c, n, s, r in [
            ("c1", "2026-06-10", 0.9, 1), ("c2", "2026-06-10", 0.1, 4), ("c3", "2026-06-10", 0.8, 2),
            ("c4", "2026-06-10", 0.2, 3), ("c5", "2026-06-11", 0.3, 1), ("c6", "2026-06-11", 0.6, 2)]],
        "consignment_id string, run_date date, score double, rank int, selected boolean, selection_basis string")
    outcomes = _outcomes(spark, [("c1", "RANDOM", 1), ("c2", "RANDOM", 0), ("c3", "RISK", 1), ("c5", "RANDOM", 0)])
    pdf = trends.random_sample_performance(scores, outcomes, 0.5).set_index("night")
    first, second, total = pdf.loc["2026-06-10"], pdf.loc["2026-06-11"], pdf.loc["all nights"]
    assert (first.scored, first.random_labelled, first.seized, first.k) == (4, 2, 1, 1)
    assert (first.observed_rate, first.mean_score, first.roc_auc, first.precision_at_capacity) == (0.5, 0.5, 1.0, 1.0)
    assert (second.scored, second.random_labelled, second.seized, second.k, second.precision_at_capacity) == (2, 1, 0, 1, 0.0)
    assert second.roc_auc is None or math.isnan(second.roc_auc)
    # All nights: RANDOM rows c1 (0.9, seized), c5 (0.3), c2 (0.1); top ceil(0.5 * 3) = 2 -> c1, c5.
    assert (total.scored, total.random_labelled, total.k, total.precision_at_capacity, total.roc_auc) == (6, 3, 2, 0.5, 1.0)


def test_random_sample_performance_without_random_outcomes(spark):
    scores = spark.createDataFrame([("c1", D("2026-06-10"), 0.9, 1, True, "MODEL")],
                                   "consignment_id string, run_date date, score double, rank int, selected boolean, selection_basis string")
    pdf = trends.random_sample_performance(scores, _outcomes(spark, [("c1", "RISK", 1)]), 0.05)
    assert list(pdf["random_labelled"]) == [0, 0] and list(pdf["k"]) == [0, 0]


def test_feature_drift_within_period(spark):
    rows = [(D("2026-06-01"), "A", 1.0), (D("2026-06-02"), "A", 2.0), (D("2026-06-08"), "B", 1.0), (D("2026-06-09"), "B", 2.0)]
    features = spark.createDataFrame(rows, "lodged_date date, hs_group string, unit_value_hkd double")
    pdf = trends.feature_drift(features, D("2026-06-08"), ["unit_value_hkd"], ["hs_group"], bins=2).set_index("feature")
    # Same values earlier and recent: PSI 0. The category moved wholly from A to "other":
    # PSI = 2 * (1 - 1e-4) * ln(1 / 1e-4), the floor for empty bins being 1e-4.
    assert pdf.loc["unit_value_hkd", "psi_recent_vs_earlier"] == pytest.approx(0.0)
    assert pdf.loc["hs_group", "psi_recent_vs_earlier"] == pytest.approx(2 * (1 - 1e-4) * math.log(1e4))
    assert pdf["psi_vs_training"].isna().all()


def test_selection_mix_counts_selected_rows_per_night_and_basis(spark):
    rows = [("c1", "MODEL", True), ("c2", "MODEL", True), ("c3", "RANDOM", True), ("c4", "MODEL", False)]
    scores = spark.createDataFrame([(c, D("2026-06-10"), 0.5, 1, s, b) for c, b, s in rows],
                                   "consignment_id string, run_date date, score double, rank int, selected boolean, selection_basis string")
    pdf = trends.selection_mix(scores)
    assert [tuple(r) for r in pdf.itertuples(index=False)] == [("2026-06-10", "MODEL", 2), ("2026-06-10", "RANDOM", 1)]


def test_hub_shares_before_after_a_change_day(spark):
    # EUROPE before 06-10: AEJEA x3, OMSLL x1; from 06-10: AEJEA x1, OMSLL x3 (one seized).
    rows = [("c1", "2026-06-01", "EUROPE", "AEJEA"), ("c2", "2026-06-02", "EUROPE", "AEJEA"),
            ("c3", "2026-06-03", "EUROPE", "AEJEA"), ("c4", "2026-06-04", "EUROPE", "OMSLL"),
            ("c5", "2026-06-10", "EUROPE", "AEJEA"), ("c6", "2026-06-11", "EUROPE", "OMSLL"),
            ("c7", "2026-06-12", "EUROPE", "OMSLL"), ("c8", "2026-06-13", "EUROPE", "OMSLL"),
            ("c9", "2026-06-13", "EUROPE", "NONE")]
    pdf = trends.hub_shares_before_after(_features(spark, rows), _outcomes(spark, [("c7", "RISK", 1)]), D("2026-06-10"),
                                         ["AEJEA", "OMSLL"])
    got = [(r.last_hub, r.share_before, r.share_after, r.share_change, r.seized_before, r.seized_after)
           for r in pdf.itertuples()]
    assert got == [("AEJEA", 0.75, 0.25, -0.5, 0, 0), ("OMSLL", 0.25, 0.75, 0.5, 0, 1)]


def test_feature_drift_leaves_psi_blank_when_a_part_is_empty(spark):
    features = spark.createDataFrame([(D("2026-06-08"), "B", 1.0)], "lodged_date date, hs_group string, unit_value_hkd double")
    pdf = trends.feature_drift(features, D("2026-06-08"), ["unit_value_hkd"], ["hs_group"], bins=2)
    assert pdf["psi_recent_vs_earlier"].isna().all()
