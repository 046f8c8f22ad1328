"""compute_coverage: listed, with a result, RANDOM inspected vs listed, skipped controls, hit rate."""
from __future__ import annotations

from pipelines.workbench.coverage import compute_coverage, coverage_by_office

DAY = "2026-11-28"


def _row(cid, lane="RED", basis="MODEL", office="KC", day=DAY):
    return {"consignment_id": cid, "list_date": day, "lane": lane, "selection_basis": basis, "customs_office": office}


def _res(cid, result, day=DAY):
    return {"consignment_id": cid, "list_date": day, "result": result}


ROWS = [_row("a"), _row("b", basis="PROFILE"), _row("r1", basis="RANDOM"), _row("r2", basis="RANDOM"),
        _row("r3", basis="RANDOM"), _row("x", lane="AMBER", basis=None)]


def test_nothing_recorded_yet():
    cov = compute_coverage(ROWS, [])
    assert (cov.listed, cov.red_listed, cov.amber_listed, cov.with_result) == (6, 5, 1, 0)
    assert (cov.random_listed, cov.random_inspected, cov.random_pending) == (3, 0, 3)
    assert cov.hit_rate is None and cov.control_sample_intact


def test_figures_and_a_skipped_control_sample():
    results = [_res("a", "SEIZED"), _res("b", "CLEAN"), _res("x", "SEIZED"), _res("r1", "CLEAN"),
               _res("r2", "NOT_INSPECTED"),
               _res("zz", "SEIZED"),            # not on this list: ignored
               _res("r3", "SEIZED", "2026-11-27")]  # same consignment, another night's list: ignored
    cov = compute_coverage(ROWS, results)
    assert (cov.with_result, cov.inspected, cov.seized, cov.not_inspected) == (5, 4, 2, 1)
    assert cov.hit_rate == 0.5
    assert (cov.random_inspected, cov.random_seized, cov.random_pending) == (1, 0, 1)
    assert cov.random_hit_rate == 0.0
    assert cov.skipped_controls == ("r2",) and not cov.control_sample_intact
    figures = cov.as_dict()
    assert figures["skipped_controls"] == ["r2"] and figures["hit_rate"] == 0.5 and figures["listed"] == 6


def test_by_office_splits_a_whole_night():
    rows = ROWS + [_row("h1", office="AIR"), _row("h2", office="AIR", basis="RANDOM")]
    results = [_res("h2", "SEIZED"), _res("a", "CLEAN")]
    by_office = coverage_by_office(rows, results)
    assert list(by_office) == ["AIR", "KC"]
    assert (by_office["AIR"].listed, by_office["AIR"].random_seized, by_office["AIR"].hit_rate) == (2, 1, 1.0)
    assert (by_office["KC"].listed, by_office["KC"].with_result, by_office["KC"].hit_rate) == (6, 1, 0.0)
