"""Recorded results read beside the input root: one validation (suite, quarantine, counts) and
the superseded rule (latest inspected_on wins; for the same inspection the recorded result wins)."""
from __future__ import annotations

import csv
import datetime as dt
import io

from pipelines.jobs.outcomes import refresh_recorded
from pipelines.validation.contract import DATASETS
from pipelines.validation.inputs import validate_inputs
from pipelines.validation.outcomes import read_valid_outcomes
from pipelines.workbench.store import ResultEntry, ResultStore

DAY, NEXT = "2026-09-05", "2026-09-06"


def csv_text(name: str, rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=DATASETS[name].column_names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def build_root(root) -> None:
    cids = ["K0", "K1", "K2", "K3"]
    write(root / "manifests" / f"date={DAY}" / "m.csv", csv_text("manifests", [dict(
        consignment_id=c, manifest_id="M1", transport_mode="SEA", port_of_loading="HKHKG", port_of_discharge="USLAX",
        destination_country="US", departure_date=NEXT, consignor_id="P1", consignee_id="Q1", package_count="3",
        gross_weight_kg="12.5") for c in cids]))
    write(root / "declarations" / f"date={DAY}" / "d.csv", csv_text("declarations", [dict(
        declaration_id=f"D_{c}", item_no="1", consignment_id=c, lodged_at=f"{DAY}T09:00:00+08:00",
        customs_office="HKAIR", exporter_id="E1", hs_code="420221", goods_description="Handbag", origin_country="CN",
        quantity="10", quantity_unit="PCE", declared_value="1200", currency="HKD") for c in cids]))
    write(root / "intelligence" / "intel.csv", "entity_type,entity_id,source,listed_on\nEXPORTER,E9,HK,2026-01-01\n")
    write(root / "rights_holders" / "rh.csv", "brand,hs_prefixes,recorded_on\nLUMORA,4202,2025-01-01\n")

    def outcome(cid, inspected, result):
        return dict(consignment_id=cid, inspected_on=inspected, selection_reason="RISK", result=result)

    write(root / "outcomes" / f"date={DAY}" / "o.csv",
          csv_text("outcomes", [outcome("K0", DAY, "CLEAN"), outcome("K1", DAY, "CLEAN")]))
    # A later finding in the feed for K0, on a day after the recorded inspection.
    write(root / "outcomes" / f"date={NEXT}" / "o.csv", csv_text("outcomes", [outcome("K0", NEXT, "CLEAN")]))


def record(ws, settings) -> None:
    def entry(cid, reason, result, **more):
        return ResultEntry(**{"consignment_id": cid, "list_date": DAY, "office": "HKAIR", "selection_reason": reason,
                              "result": result, "inspected_on": DAY, **more})

    store = ResultStore.for_workspace(ws, settings)
    store.record([entry("K0", "RISK", "SEIZED", seized_items=4, infringement_type="TRADEMARK"),
                  entry("K2", "RANDOM", "CLEAN"), entry("K9", "RANDOM", "SEIZED"),
                  entry("K3", "RISK", "NOT_INSPECTED", inspected_on=None, not_inspected_reason="already departed")],
                 "ana", "web")


def test_recorded_results_go_through_the_same_validation_and_win_the_same_inspection(spark, settings, make_ctx, tmp_path):
    root, workspace = tmp_path / "in", tmp_path / "ws"
    build_root(root)
    ctx = make_ctx(workspace)
    assert refresh_recorded(ctx) is None and not (workspace / "workbench.db").exists()  # nothing recorded: no change
    record(ctx.workspace, settings)
    recorded = refresh_recorded(ctx)
    assert recorded == ctx.workspace.recorded

    result = validate_inputs(ctx, str(root), [DAY], recorded=recorded)
    rows = result.valid["outcomes"].collect()
    assert sorted((r.consignment_id, r.selection_reason, r.result, r.seized_items) for r in rows) == [
        ("K0", "RISK", "SEIZED", 4),   # the feed's K0 of the same day is superseded by the inspector's record
        ("K1", "RISK", "CLEAN", None),  # the feed alone
        ("K2", "RANDOM", "CLEAN", None),  # recorded alone; K3 (NOT_INSPECTED) has no outcome
    ]
    counts = result.summary["datasets"]["outcomes"]
    assert (counts["files"], counts["rows_read"], counts["rows_quarantined"], counts["rows_superseded"],
            counts["rows_kept"]) == (2, 5, 1, 1, 3)
    assert counts["by_reason"] == {"ORPHAN_OUTCOME": 1}
    assert result.summary["recorded_root"] == recorded
    quarantined = spark.read.parquet(str(workspace / "quarantine" / f"date={DAY}" / "outcomes")).collect()
    assert [(q.consignment_id, list(q.reasons)) for q in quarantined] == [("K9", ["ORPHAN_OUTCOME"])]
    assert "/recorded/outcomes/" in quarantined[0]["_source_file"]

    # A later inspection in the feed still replaces the recorded one: the latest inspected_on wins first.
    later = read_valid_outcomes(spark, str(root), [DAY, NEXT], settings["validation"], recorded=recorded).collect()
    assert sorted((r.consignment_id, r.inspected_on, r.result) for r in later) == [
        ("K0", dt.date(2026, 9, 6), "CLEAN"), ("K1", dt.date(2026, 9, 5), "CLEAN"),
        ("K2", dt.date(2026, 9, 5), "CLEAN"), ("K9", dt.date(2026, 9, 5), "SEIZED")]
