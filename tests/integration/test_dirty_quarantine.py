"""Generated dirty data: every corruption the generator lists lands in quarantine with its
expected reason, every untouched consignment stays valid, and the counts reconcile."""
from __future__ import annotations

import csv
import datetime as dt

import pytest

from pipelines.devtools.synthetic import CORRUPTIONS_FILE, generate
from pipelines.io.readers import read_raw
from pipelines.validation.inputs import validate_inputs

DAYS = ["2026-09-01", "2026-09-02", "2026-09-03"]


@pytest.fixture(scope="module")
def dirty_run(spark, settings, make_ctx, tmp_path_factory):
    root = tmp_path_factory.mktemp("dirty_root")
    generate(str(root), dt.date.fromisoformat(DAYS[0]), len(DAYS), 400, 11, settings["synthetic"], fmt="mixed", dirty=0.01)
    workspace = tmp_path_factory.mktemp("dirty_ws")
    # The default 5 % threshold holds: 1 % corrupted rows plus the consignments they take along.
    result = validate_inputs(make_ctx(workspace), str(root), DAYS)
    with open(root / CORRUPTIONS_FILE, encoding="utf-8") as fh:
        listed = [row for row in csv.DictReader(fh) if row["partition_date"] in DAYS]
    quarantined = {}
    for name in ("manifests", "declarations", "outcomes"):
        for day in DAYS:
            path = workspace / "quarantine" / f"date={day}" / name
            if path.exists():
                quarantined.setdefault(name, []).extend(spark.read.parquet(str(path)).collect())
    return root, result, listed, quarantined


def _key(dataset: str, row) -> tuple:
    if dataset == "declarations":
        return (row["declaration_id"], str(row["item_no"]))
    return (row["consignment_id"],)


def test_every_corruption_is_quarantined_with_its_reason(dirty_run):
    _, _, listed, quarantined = dirty_run
    problems = [c for c in listed if c["expected_reason"] != "VALID"]
    assert {c["expected_reason"] for c in problems} >= {"MISSING_REQUIRED", "BAD_DATE", "BAD_TIMESTAMP", "NON_POSITIVE",
                                                         "NOT_NUMERIC", "BAD_HS_CODE", "DUPLICATE_KEY", "MALFORMED_LINE"}
    reasons = {name: {} for name in quarantined}
    for name, rows in quarantined.items():
        for r in rows:
            reasons[name].setdefault(_key(name, r.asDict()), set()).update(r.reasons)
    missed = [c for c in problems if c["expected_reason"] not in reasons[c["dataset"]].get(_key(c["dataset"], c), set())]
    assert missed == []


def test_valid_oddities_pass_and_clean_consignments_are_kept(spark, dirty_run):
    root, result, listed, _ = dirty_run
    touched = {c["consignment_id"] for c in listed if c["expected_reason"] != "VALID" and c["dataset"] != "outcomes"}
    all_ids = {r.consignment_id for r in read_raw(spark, str(root), "manifests", DAYS).select("consignment_id").collect()}
    valid_ids = {r.consignment_id for r in result.valid["manifests"].select("consignment_id").collect()}
    assert valid_ids == all_ids - touched
    odd = {(c["declaration_id"], c["item_no"]) for c in listed if c["expected_reason"] == "VALID"}
    kept = {(r.declaration_id, str(r.item_no)) for r in result.valid["declarations"].collect()}
    odd_touched = {(c["declaration_id"], c["item_no"]) for c in listed
                   if c["expected_reason"] == "VALID" and c["consignment_id"] in touched}
    assert odd - odd_touched <= kept


def test_counts_reconcile(dirty_run):
    _, result, _, quarantined = dirty_run
    s = result.summary
    for name in ("manifests", "declarations", "outcomes"):
        d = s["datasets"][name]
        assert d["rows_read"] == d["rows_valid"] + d["rows_quarantined"]
        assert d["rows_quarantined"] == len(quarantined.get(name, []))
    assert s["consignments_read"] == s["consignments_valid"] + s["consignments_quarantined"]
    assert s["consignments_valid"] == result.valid["manifests"].count()
