"""`shiprisk outcomes import`: a filled-in XLSX list is recorded whole (channel xlsx) or not at all,
with a row-by-row report; the list decides membership and the selection reason."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter

from pipelines.cli import main
from pipelines.io.workspace import Workspace
from pipelines.workbench.store import ResultStore

NIGHT = "2026-06-10"
FORMULA = '=HYPERLINK("http://evil.example","click")'
HEADERS = ["Rank", "Lane", "Selection reason", "Consignment", "Office", "Goods description", "Result", "Inspected on",
           "Not inspected because", "Seized items", "Seized value HK$", "Infringement type", "Brands found", "Note"]
LISTED = [  # office, consignment, lane, selection_reason as the night listed them
    ("HKAIR", "C1", "RED", "RISK"), ("HKAIR", "C2", "RED", "RANDOM"), ("HKAIR", "C3", "RED", "EXPLORATION"),
    ("HKAIR", "C4", "RED", "RISK"), ("HKAIR", "C5", "AMBER", None), ("HKSEA", "S1", "RED", "RISK"),
]


def write_worklist(ws: Workspace) -> None:
    rows = [{"list_date": NIGHT, "customs_office": o, "consignment_id": c, "lane": lane, "selection_reason": reason,
             "rank_in_office": i} for i, (o, c, lane, reason) in enumerate(LISTED, 1)]
    path = ws.path("nights", f"date={NIGHT}", "worklist.parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), str(path))


def write_sheet(path, rows: list[dict]) -> str:
    """An XLSX list as lists.py writes it (text with write_string), filled in as an inspector would."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                           "strings_to_urls": False})
    sheet = book.add_worksheet("list")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    for j, h in enumerate(HEADERS):
        sheet.write_string(0, j, h)
    for i, row in enumerate(rows, start=1):
        for j, h in enumerate(HEADERS):
            value = row.get(h)
            if value is None:
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(i, j, dt.datetime.combine(value, dt.time()), day)
            elif isinstance(value, (int, float)):
                sheet.write_number(i, j, value)
            else:
                sheet.write_string(i, j, value)
    book.close()
    return str(path)


def good_rows() -> list[dict]:
    return [
        {"Consignment": "C1", "Office": "HKAIR", "Selection reason": "RISK", "Result": "SEIZED",
         "Inspected on": dt.date(2026, 6, 11), "Seized items": 12, "Seized value HK$": 3400.5,
         "Infringement type": "trademark", "Brands found": FORMULA, "Note": "'=1+1 kept as typed"},
        # The sheet says RISK; the list says RANDOM, and the list decides.
        {"Consignment": "C2", "Selection reason": "RISK", "Result": "CLEAN", "Inspected on": "2026-06-12"},
        {"Consignment": "C3", "Result": "NOT_INSPECTED", "Not inspected because": "already departed"},
        {"Consignment": "C4", "Goods description": "not worked yet"},  # empty Result: skipped, counted
        {"Consignment": "C5", "Result": "clean", "Inspected on": "2026-06-11", "Note": "+ docs checked"},
    ]


@pytest.fixture
def workspace(tmp_path):
    ws = Workspace(str(tmp_path / "ws"))
    write_worklist(ws)
    return ws


def run_import(ws: Workspace, path: str, office: str = "HKAIR") -> int:
    return main(["outcomes", "import", path, "--workspace", ws.root, "--office", office, "--date", NIGHT,
                 "--user", "inspector.lee"])


def test_a_good_file_records_every_worked_row_with_the_lists_selection_reason(workspace, settings, tmp_path, capsys):
    assert run_import(workspace, write_sheet(tmp_path / "HKAIR.xlsx", good_rows())) == 0
    assert "1 row(s) with an empty Result skipped" in capsys.readouterr().out
    got = {r["consignment_id"]: r for r in ResultStore.for_workspace(workspace, settings).current()}
    assert sorted(got) == ["C1", "C2", "C3", "C5"]
    assert {c: (r["selection_reason"], r["result"], r["inspected_on"]) for c, r in got.items()} == {
        "C1": ("RISK", "SEIZED", "2026-06-11"), "C2": ("RANDOM", "CLEAN", "2026-06-12"),
        "C3": ("EXPLORATION", "NOT_INSPECTED", None), "C5": ("RISK", "CLEAN", "2026-06-11")}
    assert all(r["channel"] == "xlsx" and r["recorded_by"] == "inspector.lee" and r["version"] == 1
               and r["office"] == "HKAIR" and r["list_date"] == NIGHT for r in got.values())
    c1 = got["C1"]
    # Formula-like text is stored as the text it is, never evaluated or altered.
    assert (c1["brands_found"], c1["note"]) == (FORMULA, "'=1+1 kept as typed")
    assert (c1["seized_items"], c1["seized_value_hkd"], c1["infringement_type"]) == (12, 3400.5, "TRADEMARK")
    assert got["C3"]["not_inspected_reason"] == "already departed"
    assert got["C5"]["note"] == "+ docs checked"


def test_one_bad_row_loads_nothing_and_the_report_names_that_row(workspace, tmp_path, capsys):
    rows = good_rows() + [{"Consignment": "C4", "Result": "SEIZED", "Inspected on": "2026-13-01",
                           "Infringement type": "FAKE"}]
    path = write_sheet(tmp_path / "bad.xlsx", [r for r in rows if r["Consignment"] != "C4" or "Result" in r])
    assert run_import(workspace, path) == 3
    out = capsys.readouterr().out
    assert "nothing was loaded" in out
    # The bad row is the sheet's row 6 (header on row 1, C1, C2, C3, C5, then it).
    problem_lines = [line for line in out.splitlines() if line.strip().startswith("row ")]
    assert problem_lines and all(line.strip().startswith("row 6: C4:") for line in problem_lines), out
    assert "'2026-13-01'" in out and "'FAKE'" in out and "what to do" in out
    assert not (workspace.workbench_db).exists()  # nothing recorded, no database created


def test_a_consignment_not_on_the_offices_list_is_refused(workspace, settings, tmp_path, capsys):
    rows = good_rows()[:2] + [{"Consignment": "S1", "Result": "CLEAN", "Inspected on": "2026-06-11"},
                              {"Consignment": "NOPE", "Result": "CLEAN", "Inspected on": "2026-06-11"},
                              {"Consignment": "C2", "Result": "SEIZED", "Inspected on": "2026-06-11"}]
    assert run_import(workspace, write_sheet(tmp_path / "x.xlsx", rows)) == 3
    out = capsys.readouterr().out
    assert "row 4: S1: consignment S1 is not on the list of office HKAIR for 2026-06-10" in out  # HKSEA's
    assert "row 5: NOPE: consignment NOPE is not on the list" in out
    assert "row 6: C2: consignment C2 appears more than once (rows 3 and 6)" in out
    assert not workspace.workbench_db.exists()
    # The same consignment through its own office's import is fine.
    assert run_import(workspace, write_sheet(tmp_path / "sea.xlsx", [rows[2]]), office="HKSEA") == 0
    assert [(r["consignment_id"], r["office"]) for r in ResultStore.for_workspace(workspace, settings).current()] == [
        ("S1", "HKSEA")]


def test_without_a_worklist_the_nights_scores_say_what_was_listed(tmp_path, settings):
    ws = Workspace(str(tmp_path / "ws"))
    scores = ws.path("nights", f"date={NIGHT}", "scores")
    scores.mkdir(parents=True)
    rows = [{"consignment_id": c, "customs_office": "HKAIR", "lane": lane, "selection_reason": reason}
            for c, lane, reason in (("C1", "RED", "EXPLORATION"), ("C2", "GREEN", None))]
    pq.write_table(pa.Table.from_pylist(rows), str(scores / "part-00000.parquet"))
    (scores / "_SUCCESS").write_text("")
    sheet = [{"Consignment": "C1", "Result": "CLEAN", "Inspected on": "2026-06-11"},
             {"Consignment": "C2", "Result": "CLEAN", "Inspected on": "2026-06-11"}]
    assert run_import(ws, write_sheet(tmp_path / "s.xlsx", sheet)) == 3  # C2 was scored GREEN, not listed
    assert run_import(ws, write_sheet(tmp_path / "s1.xlsx", sheet[:1])) == 0
    (r,) = ResultStore.for_workspace(ws, settings).current()
    assert (r["consignment_id"], r["selection_reason"], r["channel"]) == ("C1", "EXPLORATION", "xlsx")


def test_a_night_without_a_list_or_a_file_without_result_columns_is_a_usage_error(workspace, tmp_path):
    path = write_sheet(tmp_path / "ok.xlsx", good_rows())
    assert main(["outcomes", "import", path, "--workspace", workspace.root, "--office", "HKAIR",
                 "--date", "2026-06-09"]) == 2
    book = xlsxwriter.Workbook(str(tmp_path / "old.xlsx"))
    book.add_worksheet("list").write_row(0, 0, ["Rank", "Consignment"])
    book.close()
    assert run_import(workspace, str(tmp_path / "old.xlsx")) == 2
    assert not workspace.workbench_db.exists()
