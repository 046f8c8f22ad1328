"""Coverage figures per night and office as the trend report shows them."""
from __future__ import annotations

from pipelines.outputs.trend_report import coverage_section, render_html
from pipelines.workbench.coverage import coverage_rows


def _row(day, office, cid, lane="RED", basis="MODEL"):
    return {"list_date": day, "customs_office": office, "consignment_id": cid, "lane": lane, "selection_basis": basis}


NIGHTS = [
    ("2026-06-01", [_row("2026-06-01", "KWAI_CHUNG", "A1"), _row("2026-06-01", "KWAI_CHUNG", "A2", basis="RANDOM"),
                    _row("2026-06-01", "AIRPORT", "B1"), _row("2026-06-01", "AIRPORT", "B2", lane="AMBER", basis=None)]),
    ("2026-06-02", [_row("2026-06-02", "KWAI_CHUNG", "A3", basis="RANDOM")]),
]
RESULTS = [
    {"consignment_id": "A1", "list_date": "2026-06-01", "result": "SEIZED"},
    {"consignment_id": "A2", "list_date": "2026-06-01", "result": "NOT_INSPECTED"},
    {"consignment_id": "B1", "list_date": "2026-06-01", "result": "CLEAN"},
    {"consignment_id": "B2", "list_date": "2026-06-01", "result": "SEIZED"},
    # A result of another night for the same consignment does not count for this one.
    {"consignment_id": "A3", "list_date": "2026-06-01", "result": "SEIZED"},
]


def test_rows_per_night_and_office_in_order():
    rows = coverage_rows(NIGHTS, RESULTS)
    assert [(r["night"], r["office"]) for r in rows] == [
        ("2026-06-01", "AIRPORT"), ("2026-06-01", "KWAI_CHUNG"), ("2026-06-02", "KWAI_CHUNG")]
    airport, kwai, later = rows
    assert (airport["listed"], airport["inspected"], airport["seized"], airport["hit_rate"]) == (2, 2, 1, 0.5)
    assert (kwai["random_listed"], kwai["random_inspected"], kwai["skipped_controls"]) == (1, 0, ["A2"])
    assert kwai["control_sample_intact"] is False
    assert (later["with_result"], later["random_pending"], later["control_sample_intact"]) == (0, 1, True)


def test_section_flags_the_skipped_control_sample_and_renders_inert():
    section = coverage_section(coverage_rows(NIGHTS, RESULTS))
    table = section["tables"][0]
    assert table["columns"][:4] == ["night", "office", "listed", "with_result"]
    assert [r[:2] for r in table["rows"]] == [["2026-06-01", "AIRPORT"], ["2026-06-01", "KWAI_CHUNG"],
                                              ["2026-06-02", "KWAI_CHUNG"]]
    assert table["rows"][1][table["columns"].index("skipped_controls")] == "1"
    assert any(note == "Control sample NOT intact on: 2026-06-01 KWAI_CHUNG." for note in section["notes"])
    hostile = coverage_section(coverage_rows([("2026-06-01", [_row("2026-06-01", "<script>x</script>", "C1")])], []))
    assert "<script>x" not in render_html("t", [], [hostile])


def test_no_results_database_says_so():
    section = coverage_section(None)
    assert section["tables"] == [] and "No result was recorded" in section["notes"][0]
