"""Reading the nights' worklists: rank order, office index, nights present, untrusted days."""
from __future__ import annotations

import os

from pipelines.devtools.workbench_bench import sample_rows, write_worklist
from pipelines.io.workspace import Workspace
from pipelines.workbench.worklist import Worklists, parse_day


def test_rows_come_red_by_rank_then_amber_by_rank_per_office(tmp_path):
    ws = Workspace(str(tmp_path))
    rows = sample_rows("KC", "2026-11-28", 10, red=6) + sample_rows("AIR", "2026-11-28", 3, red=1)
    write_worklist(ws.worklist("2026-11-28"), list(reversed(rows)))
    night = Worklists(ws).night("2026-11-28")
    kc = night.rows("KC")
    assert [(r["lane"], r["rank_in_office"]) for r in kc] == [("RED", i) for i in range(1, 7)] + [("AMBER", i) for i in range(1, 5)]
    assert [r["consignment_id"] for r in night.rows("AIR")] == [r["consignment_id"] for r in rows[10:]]
    assert night.row("KC", kc[0]["consignment_id"]) is kc[0]
    assert night.row("AIR", kc[0]["consignment_id"]) is None  # another office's consignment
    assert night.rows("NOWHERE") == []


def test_nights_present_newest_first_and_reread_when_replaced(tmp_path):
    ws = Workspace(str(tmp_path))
    lists = Worklists(ws)
    assert lists.nights() == []
    for day in ("2026-11-27", "2026-11-28"):
        write_worklist(ws.worklist(day), sample_rows("KC", day, 2))
    os.makedirs(tmp_path / "nights" / "date=2026-11-29")  # a night folder without a worklist
    os.makedirs(tmp_path / "nights" / "date=2026-13-01")
    assert lists.nights() == ["2026-11-28", "2026-11-27"]
    first = lists.night("2026-11-28")
    assert lists.night("2026-11-28") is first  # cached
    write_worklist(ws.worklist("2026-11-28"), sample_rows("KC", "2026-11-28", 5))
    assert len(lists.night("2026-11-28").rows("KC")) == 5
    assert lists.night("2026-11-29") is None


def test_days_from_urls_are_checked():
    assert parse_day("2026-11-28") == "2026-11-28"
    for bad in ("2026-02-30", "../../etc", "2026-11-28/../x", "20261128", "", None):
        assert parse_day(bad) is None
