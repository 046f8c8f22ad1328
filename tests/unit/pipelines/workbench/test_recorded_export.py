"""`shiprisk outcomes export`: the results database's current results in the contract's outcomes
layout, read back through the real readers and validation."""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.validation.outcomes import read_valid_outcomes
from pipelines.workbench.recorded import COLUMNS, FILE_NAME
from pipelines.workbench.store import ResultEntry, ResultStore

LIST_DAY, DAY2, DAY3, DAY4 = "2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04"
FORMULA = '=HYPERLINK("http://evil.example","click")'


def entry(cid: str, reason: str, result: str, inspected: str | None, **more) -> ResultEntry:
    return ResultEntry(consignment_id=cid, list_date=LIST_DAY, office="HKAIR", selection_reason=reason,
                       result=result, inspected_on=inspected, **more)


def read_day(root: Path, day: str) -> list[dict]:
    with open(root / "outcomes" / f"date={day}" / FILE_NAME, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def recorded(settings, tmp_path):
    """A workspace whose database holds a corrected result, three others and a NOT_INSPECTED."""
    from pipelines.io.workspace import Workspace

    store = ResultStore.for_workspace(Workspace(str(tmp_path / "ws")), settings)
    store.record([entry("C1", "RISK", "CLEAN", DAY2, note="first look"),
                  entry("C2", "RANDOM", "CLEAN", DAY3),
                  entry("C3", "EXPLORATION", "SEIZED", DAY3, seized_items=2, seized_value_hkd=150.5,
                        infringement_type="COPYRIGHT", brands_found="LUMORA", note="two boxes,\nsecond pallet"),
                  entry("C4", "RISK", "NOT_INSPECTED", None, not_inspected_reason="already departed")], "ana", "web")
    # The correction: a new version of C1, the one that counts.
    store.record([entry("C1", "RISK", "SEIZED", DAY2, seized_items=3, seized_value_hkd=90.0,
                        infringement_type="TRADEMARK", brands_found="+LUMORA", note=FORMULA)], "ben", "web")
    return tmp_path / "ws", store


def test_export_writes_current_seized_and_clean_rows_by_inspection_day(recorded, tmp_path, spark, settings, capsys):
    ws, _ = recorded
    out = tmp_path / "out"
    assert main(["outcomes", "export", "--workspace", str(ws), "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "outcomes").iterdir()) == [f"date={DAY2}", f"date={DAY3}"]
    day2, day3 = read_day(out, DAY2), read_day(out, DAY3)
    assert list(day2[0]) == list(COLUMNS)
    # Only C1's newest version; formula-like free text neutralised, codes and ids as recorded.
    assert day2 == [{"consignment_id": "C1", "inspected_on": DAY2, "selection_reason": "RISK", "result": "SEIZED",
                     "seized_items": "3", "seized_value_hkd": "90.0", "infringement_type": "TRADEMARK",
                     "brands_found": "'+LUMORA", "note": "'" + FORMULA}]
    assert [(r["consignment_id"], r["selection_reason"], r["result"]) for r in day3] == [
        ("C2", "RANDOM", "CLEAN"), ("C3", "EXPLORATION", "SEIZED")]
    assert day3[1]["note"] == "two boxes,\nsecond pallet"
    assert "C4" not in (out / "outcomes").joinpath(f"date={DAY3}", FILE_NAME).read_text(encoding="utf-8")
    printed = capsys.readouterr().out
    assert "1 NOT_INSPECTED" in printed and f"date={DAY3}: 2 result(s) (1 SEIZED, 1 CLEAN)" in printed

    # The pipeline's own reader and row checks take every exported row as a valid outcome.
    rows = read_valid_outcomes(spark, str(out), [DAY2, DAY3], settings["validation"]).collect()
    got = sorted((r.consignment_id, r.inspected_on, r.selection_reason, r.result, r.seized_items, r.seized_value_hkd)
                 for r in rows)
    assert got == [("C1", dt.date(2026, 6, 2), "RISK", "SEIZED", 3, 90.0),
                   ("C2", dt.date(2026, 6, 3), "RANDOM", "CLEAN", None, None),
                   ("C3", dt.date(2026, 6, 3), "EXPLORATION", "SEIZED", 2, 150.5)]


def test_a_correction_that_moves_the_inspection_day_moves_the_row_and_a_range_writes_its_days_only(recorded, tmp_path):
    ws, store = recorded
    out = tmp_path / "out"
    assert main(["outcomes", "export", "--workspace", str(ws), "--out", str(out)]) == 0
    store.record([entry("C2", "RANDOM", "CLEAN", DAY4)], "ana", "web")
    assert main(["outcomes", "export", "--workspace", str(ws), "--out", str(out)]) == 0
    assert [r["consignment_id"] for r in read_day(out, DAY3)] == ["C3"]
    assert [r["consignment_id"] for r in read_day(out, DAY4)] == ["C2"]
    # No temporary or old folder left beside the days.
    assert sorted(p.name for p in (out / "outcomes").iterdir()) == [f"date={d}" for d in (DAY2, DAY3, DAY4)]

    one = tmp_path / "one"
    assert main(["outcomes", "export", "--workspace", str(ws), "--out", str(one), "--date", DAY3]) == 0
    assert sorted(p.name for p in (one / "outcomes").iterdir()) == [f"date={DAY3}"]
    assert main(["outcomes", "export", "--workspace", str(ws), "--out", str(one), "--from", DAY4, "--to", DAY2]) == 2


def test_export_refuses_to_replace_a_day_folder_holding_a_feed(recorded, tmp_path):
    ws, _ = recorded
    feed = tmp_path / "feed" / "outcomes" / f"date={DAY2}" / "feed.csv"
    feed.parent.mkdir(parents=True)
    feed.write_text("consignment_id,inspected_on,selection_reason,result\nX,2026-06-02,RISK,CLEAN\n", encoding="utf-8")
    assert main(["outcomes", "export", "--workspace", str(ws), "--out", str(tmp_path / "feed")]) == 2
    assert feed.exists() and not (feed.parent / FILE_NAME).exists()
    assert not (tmp_path / "feed" / "outcomes" / f"date={DAY3}").exists()  # refused before writing anything


def test_no_database_means_nothing_written_and_no_database_created(tmp_path, capsys):
    ws = tmp_path / "ws"
    ws.mkdir()
    assert main(["outcomes", "export", "--workspace", str(ws), "--out", str(tmp_path / "out")]) == 0
    assert "nothing written" in capsys.readouterr().out
    assert not (ws / "workbench.db").exists() and not (tmp_path / "out").exists()
