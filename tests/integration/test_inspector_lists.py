"""The night's outputs for inspectors, read from a REAL night (train + nightly on generated data):
the reason sentences in the written lists, the AMBER queue, the XLSX result columns, the worklist."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipelines.io.workspace import Workspace
from tests.integration.conftest import LAST_DAY

pytestmark = pytest.mark.slow
DAY = LAST_DAY.isoformat()
ROLES = "exporter|consignor|consignee|forwarder|declarant"


def _summary(trained):
    return json.loads(Path(Workspace(trained).summary(DAY)).read_text())


def _worklist(trained) -> pd.DataFrame:
    return pq.read_table(Workspace(trained).worklist(DAY)).to_pandas()


def _csv_rows(trained) -> list[dict]:
    rows = []
    for path in sorted(Path(Workspace(trained).lists_day(DAY)).glob("*.csv")):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows += list(csv.DictReader(fh))
    return rows


def test_reasons_on_the_real_lists_read_as_sentences(trained, settings):
    worklist = _worklist(trained)
    reasons = [r for rs in worklist["reasons"] for r in rs]
    listed = [r[f"reason_{i}"] for r in _csv_rows(trained) for i in (1, 2, 3) if r[f"reason_{i}"]]
    assert listed and set(listed) <= set(reasons)  # the printed lists say what the worklist says
    for reason in reasons:
        assert "[]" not in reason and "[" not in reason, reason
        assert not re.search(r"\b\d+\.0\b", reason), reason  # a count is printed as a count
        assert not re.match(r"^[a-z].*: -?[\d.]+$", reason), reason  # no bare "<meaning>: <value>"
    # A route is called rare only when it is used less than the day's typical route.
    for reason in reasons:
        rare = re.match(r"rare route: \w+ to \w+ (direct|via [A-Z, and]+), used ([\d,]+) times in 90 days; "
                        r"typical routes ([\d,]+)(?:-([\d,]+))? times$", reason)
        if reason.startswith("rare route"):
            assert rare, reason
            assert int(rare[2].replace(",", "")) < int(rare[3].replace(",", "")), reason
    # The model's reasons carry the comparison with the day's typical figures.
    compared = [r for r in reasons if "typical" in r]
    assert compared, reasons
    # Every model-picked row has a reason beyond the bare score, and none is left without a reason.
    assert all(len(rs) >= 1 for rs in worklist["reasons"])
    model_rows = worklist[worklist["selection_basis"] == "MODEL"]
    assert any(len(rs) > 1 for rs in model_rows["reasons"])


def test_watch_list_reasons_name_the_partner_and_the_age(trained, settings):
    names = settings["exchange"]["source_names"]
    worklist = _worklist(trained)
    sentence = re.compile(rf"^({ROLES}) listed by (.+) (today|1 day ago|\d+ days ago)")
    told = [m for rs in worklist["reasons"] for r in rs if (m := sentence.match(r))]
    assert told, "no watch-list reason on the night's lists"
    assert {m[2] for m in told} <= set(names.values()), told  # readable names, never "MO" or "GD"
    # The worklist lists every active hit as a sentence naming the party, the partner and the day.
    hits = [h for hs in worklist["watchlist"] for h in hs]
    assert hits
    for hit in hits:
        assert re.match(rf"^({ROLES}) \S+ listed by ({'|'.join(map(re.escape, names.values()))}) since "
                        r"\d{4}-\d{2}-\d{2}$", hit), hit


def test_amber_queue_reaches_the_lists_and_the_worklist(trained, settings):
    summary = _summary(trained)
    worklist = _worklist(trained)
    bound = settings["selection"]["amber_queue_per_office"]
    red, amber = worklist[worklist["lane"] == "RED"], worklist[worklist["lane"] == "AMBER"]
    assert len(red) == summary["counts"]["selected"]
    assert len(amber) == summary["counts"]["amber_queued"] > 0
    assert amber.groupby("customs_office").size().max() <= bound
    assert amber["selection_basis"].isna().all() and (amber["selection_reason"] == "RISK").all()
    assert set(red["selection_basis"]) <= {"PROFILE", "MODEL", "EXPLORATION", "RANDOM"}
    contract = {"PROFILE": "RISK", "MODEL": "RISK", "EXPLORATION": "EXPLORATION", "RANDOM": "RANDOM"}
    assert (red["selection_reason"] == red["selection_basis"].map(contract)).all()
    # The queue is each office's best AMBER rows: every AMBER row left out scores no higher.
    scores = pd.read_parquet(Workspace(trained).scores_day(DAY))
    for office, queued in amber.groupby("customs_office"):
        rest = scores[(scores["customs_office"] == office) & (scores["lane"] == "AMBER")
                      & ~scores["consignment_id"].isin(queued["consignment_id"])]
        assert rest.empty or rest["score_adjusted"].max() <= queued["score_adjusted"].min()
        assert len(queued) == min(bound, len(queued) + len(rest))
    # The XLSX holds the AMBER queue on its own sheet, the RED list on "list", with result columns.
    import openpyxl

    office = amber["customs_office"].iloc[0]
    book = openpyxl.load_workbook(next(Path(Workspace(trained).lists_day(DAY)).glob(f"{office}.xlsx")))
    header = [c.value for c in book["list"][1]]
    assert header[-8:] == ["Result", "Inspected on", "Not inspected because", "Seized items", "Seized value HK$",
                           "Infringement type", "Brands found", "Note"]
    ids = header.index("Consignment")
    sheet_amber = [row[ids].value for row in book["AMBER document checks"].iter_rows(min_row=2)]
    assert sheet_amber == amber[amber["customs_office"] == office].sort_values("rank_in_office")["consignment_id"].tolist()
    assert len(book["list"].data_validations.dataValidation) == 5


def test_worklist_schema_and_details_come_from_the_night(trained, input_root):
    from pipelines.outputs.worklist import SCHEMA

    table = pq.read_table(Workspace(trained).worklist(DAY))
    assert table.schema.equals(SCHEMA), table.schema
    worklist = table.to_pandas()
    assert (worklist["list_date"] == DAY).all() and worklist["consignment_id"].is_unique
    # Rows in office order, RED before AMBER, by rank.
    order = worklist.assign(lane_order=worklist["lane"].map({"RED": 0, "AMBER": 1}))
    assert order.equals(order.sort_values(["customs_office", "lane_order", "rank_in_office", "consignment_id"]))
    # Every declared item of the consignment, as the input declares it.
    declared = pd.concat([pd.read_csv(p, dtype=str) for p in Path(input_root, "declarations", f"date={DAY}").glob("*.csv")])
    mine = declared[declared["consignment_id"].isin(worklist["consignment_id"])]
    counts = mine.groupby("consignment_id").size()
    assert (worklist.set_index("consignment_id")["items"].map(len) == counts.reindex(worklist["consignment_id"])).all()
    first = worklist.iloc[0]
    expected = mine[mine["consignment_id"] == first["consignment_id"]].sort_values(["declaration_id", "item_no"])
    assert [i["hs_code"] for i in first["items"]] == expected["hs_code"].tolist()
    assert first["declaration_ids"] == ";".join(sorted(expected["declaration_id"].unique()))
    assert all(i["value_hkd"] is not None for items in worklist["items"] for i in items)
    # Routes as the contract writes them; party history as sentences.
    assert not worklist["route_ports"].str.contains(r"[\[\], ]").any()
    assert all(re.match(rf"^({ROLES}) \S+: \d+ seizure\(s\) in \d+ inspection\(s\) over 365 days", s)
               for hs in worklist["party_history"] for s in hs)
    assert all(any(s.startswith("exporter ") for s in hs) for hs in worklist["party_history"])
