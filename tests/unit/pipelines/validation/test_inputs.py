"""Validation and quarantine on hand-written feeds: one catalogue root holding every bad-input
case of issue 3 (validated once per module), plus feed-level failures on small roots."""
from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.validation.contract import DATASETS
from pipelines.validation.inputs import FeedError, validate_inputs

DAY, NEXT, EARLIER = "2026-09-05", "2026-09-06", "2026-09-01"
LONG_TEXT = "Leather handbag, " + "x" * 10_000
ODD_TEXTS = {
    "C_EMOJI": "手袋 👜 皮革 — 名牌",
    "C_FORMULA": '=HYPERLINK("http://evil.example","click")',
    "C_SCRIPT": "<script>alert('x')</script> & <b>bold</b>",
    "C_LONG": LONG_TEXT,
}


def manifest(cid: str, **over) -> dict:
    row = dict(consignment_id=cid, manifest_id="M1", transport_mode="SEA", carrier_code="OOCL",
               port_of_loading="HKHKG", route_ports="SGSIN;AEJEA", port_of_discharge="USLAX",
               destination_country="US", departure_date="2026-09-06", consignor_id="P1", consignee_id="Q1",
               consignee_country="US", forwarder_id="F1", package_count="3", gross_weight_kg="12.5", container_ids="")
    row.update(over)
    return row


def declaration(cid: str, did: str | None = None, item: str = "1", **over) -> dict:
    row = dict(declaration_id=did or f"D_{cid}", item_no=item, consignment_id=cid,
               lodged_at="2026-09-05T10:00:00+08:00", customs_office="HKAIR", exporter_id="E1", declarant_id="",
               declaration_type="EXPORT", hs_code="420221", goods_description="Handbag", brand="LUMORA",
               origin_country="CN", quantity="10", quantity_unit="PCE", net_weight_kg="5", declared_value="1200",
               currency="HKD")
    row.update(over)
    return row


def outcome(cid: str, inspected: str = DAY, result: str = "CLEAN", **over) -> dict:
    row = dict(consignment_id=cid, inspected_on=inspected, selection_reason="RISK", result=result,
               seized_items="", seized_value_hkd="", infringement_type="")
    row.update(over)
    return row


def csv_text(name: str, rows: list[dict], extra_lines: tuple[str, ...] = ()) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=DATASETS[name].column_names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue() + "".join(line + "\n" for line in extra_lines)


def write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_snapshots(root, intel_rows=None, fx_rows=None) -> None:
    write(root / "intelligence" / "intel.csv", "entity_type,entity_id,source,listed_on,expires_on,note\n"
          + "\n".join(intel_rows or ["EXPORTER,E9,HK,2026-01-01,,tip"]) + "\n")
    write(root / "rights_holders" / "rh.csv", "brand,aliases,hs_prefixes,min_genuine_unit_value_hkd,recorded_on\n"
          "LUMORA,LUMORRA;LUM0RA,4202;6403,800,2025-01-01\n")
    if fx_rows is not None:
        write(root / "fx_rates" / "fx.csv", "currency,rate_date,hkd_per_unit\n" + "\n".join(fx_rows) + "\n")


def clean_root(root, day: str = DAY, n: int = 10) -> list[str]:
    cids = [f"K{i}" for i in range(n)]
    write(root / "manifests" / f"date={day}" / "m.csv", csv_text("manifests", [manifest(c) for c in cids]))
    decl = [declaration(c, lodged_at=f"{day}T09:00:00+08:00") for c in cids]
    write(root / "declarations" / f"date={day}" / "d.csv", csv_text("declarations", decl))
    write_snapshots(root)
    return cids


def build_catalogue(root) -> None:
    """Every bad-input case of issue 3, one consignment each where possible."""
    good = ["C_OK1", "C_OK2", *ODD_TEXTS]
    manifests = [manifest(c) for c in good] + [
        manifest("C_MISS", consignor_id=""),
        manifest("C_DATE", departure_date="2026-13-45"),
        manifest("C_CTRY", destination_country="<i>"),
        manifest("C_LOC", port_of_loading="HK-HKG", route_ports="SGSIN;sgsin"),
        manifest("C_LOC2", port_of_discharge="QQABC"),
        manifest("C_PKG", package_count="0", gross_weight_kg="-1"),
        manifest("C_DUP"), manifest("C_DUP", manifest_id="M2"),
        manifest("C_NODECL"),
        manifest("C_MULTI"), manifest("C_BQ"), manifest("C_FC"), manifest("C_TS"), manifest("C_PD"), manifest("C_UTC"),
        manifest("C_QTY0"), manifest("C_QTYNEG"), manifest("C_VAL"), manifest("C_HS"), manifest("C_HS5"), manifest("C_CUR"),
    ]
    write(root / "manifests" / f"date={DAY}" / "m.csv", csv_text("manifests", manifests))
    decls = [declaration(c) for c in good if c not in ODD_TEXTS]
    decls += [declaration(c, goods_description=text) for c, text in ODD_TEXTS.items()]
    decls += [declaration(c) for c in ("C_MISS", "C_DATE", "C_CTRY", "C_LOC", "C_LOC2", "C_PKG", "C_DUP")]
    decls += [
        declaration("C_MULTI", item="1"), declaration("C_MULTI", item="2", quantity="-5"),
        declaration("C_TS", lodged_at="yesterday"),
        declaration("C_PD", lodged_at="2026-09-04T23:30:00+08:00"),
        declaration("C_UTC", lodged_at="2026-09-05T01:00:00+08:00"),  # UTC day is the 4th: still valid
        declaration("C_QTY0", quantity="0"), declaration("C_QTYNEG", quantity="-3"),
        declaration("C_VAL", declared_value="abc"), declaration("C_HS", hs_code="42A2B1"),
        declaration("C_HS5", hs_code="42022"), declaration("C_CUR", currency="ZZZ"),
        declaration("C_NOMAN"),
        declaration("C_OK2", did="D_REPEAT"), declaration("C_OK2", did="D_REPEAT"),
    ]
    header_and_rows = csv_text("declarations", decls)
    good_line = ",".join(declaration("C_FC", did="D_AFTER").values())
    # An unclosed quote, then a line that must still parse on its own; a line with one
    # field too many; a line whose last field opens a quote it never closes.
    broken = ("D_BQ,1,C_BQ,2026-09-05T10:00:00+08:00,HKAIR,E1,,EXPORT,420221,\"Bag, unclosed,LUMORA,CN,1,PCE,1,10,HKD",
              good_line,
              "D_FC,1,C_FC,2026-09-05T10:00:00+08:00,HKAIR,E1,,EXPORT,420221,Bag,LUMORA,CN,1,PCE,1,10,HKD,EXTRA",
              "D_LQ,1,C_FC,2026-09-05T10:00:00+08:00,HKAIR,E1,,EXPORT,420221,Bag,LUMORA,CN,1,PCE,1,10,\"HKD")
    write(root / "declarations" / f"date={DAY}" / "d.csv", header_and_rows + "\n".join(broken) + "\n")
    outcomes = [outcome("C_OK1"), outcome("C_UNKNOWN"), outcome("E_OLD", inspected=DAY), outcome("C_OK2", selection_reason="GUESS")]
    write(root / "outcomes" / f"date={DAY}" / "o.csv", csv_text("outcomes", outcomes))
    # The next day: a later outcome for C_OK1 replaces the first one.
    table = pa.table({k: [v] for k, v in manifest("N1").items()})
    (root / "manifests" / f"date={NEXT}").mkdir(parents=True)
    pq.write_table(table, root / "manifests" / f"date={NEXT}" / "m.parquet")
    write(root / "declarations" / f"date={NEXT}" / "d.csv",
          csv_text("declarations", [declaration("N1", lodged_at="2026-09-06T08:00:00+08:00")]))
    write(root / "outcomes" / f"date={NEXT}" / "o.csv",
          csv_text("outcomes", [outcome("C_OK1", inspected=NEXT, result="SEIZED", seized_items="4")]))
    # An earlier day, not validated, whose consignment E_OLD makes an outcome known.
    write(root / "manifests" / f"date={EARLIER}" / "m.csv", csv_text("manifests", [manifest("E_OLD")]))
    write_snapshots(root, intel_rows=["EXPORTER,E9,HK,2026-01-01,,tip", "SMUGGLER,E8,HK,2026-01-01,,bad type"],
                    fx_rows=["USD,2026-09-05,7.8", "ZZZ,2026-09-05,1.0"])


@pytest.fixture(scope="module")
def catalogue(spark, make_ctx, tmp_path_factory):
    root = tmp_path_factory.mktemp("catalogue")
    build_catalogue(root)
    workspace = tmp_path_factory.mktemp("ws")
    # SUMMARY: GX's failing-row count for every expectation must equal the row flags'.
    cfg = {"validation": {"quarantine_threshold": 1.0, "gx_result_format": "SUMMARY"}}
    result = validate_inputs(make_ctx(workspace, **cfg), str(root), [DAY, NEXT])
    quarantined = {}
    for name in ("manifests", "declarations", "outcomes"):
        for day in (DAY, NEXT):
            path = workspace / "quarantine" / f"date={day}" / name
            if path.exists():
                quarantined.setdefault(name, []).extend(spark.read.parquet(str(path)).collect())
    for name in ("intelligence", "fx_rates"):
        quarantined[name] = spark.read.parquet(str(workspace / "quarantine" / f"date={NEXT}" / name)).collect()
    return result, quarantined, workspace


def reasons_by(rows, key: str) -> dict:
    found = {}
    for r in rows:
        found.setdefault(r[key], set()).update(r.reasons)
    return found


@pytest.mark.parametrize("cid, reasons", [
    ("C_MISS", {"MISSING_REQUIRED"}),
    ("C_DATE", {"BAD_DATE"}),
    ("C_CTRY", {"UNKNOWN_COUNTRY"}),
    ("C_LOC", {"BAD_LOCODE"}),
    ("C_LOC2", {"BAD_LOCODE"}),
    ("C_PKG", {"NON_POSITIVE"}),
    ("C_DUP", {"DUPLICATE_KEY", "CONSIGNMENT_QUARANTINED"}),  # each copy also goes with the other
    ("C_NODECL", {"MANIFEST_WITHOUT_DECLARATION"}),
])
def test_bad_manifest_rows_are_quarantined_with_their_reason(catalogue, cid, reasons):
    _, quarantined, _ = catalogue
    found = reasons_by(quarantined["manifests"], "consignment_id")
    assert found[cid] == reasons
    if cid != "C_NODECL":  # its declarations follow it
        assert reasons_by(quarantined["declarations"], "consignment_id")[cid] == {"CONSIGNMENT_QUARANTINED"}


@pytest.mark.parametrize("cid, reasons", [
    ("C_TS", {"BAD_TIMESTAMP"}),
    ("C_PD", {"PARTITION_DATE_MISMATCH"}),
    ("C_QTY0", {"NON_POSITIVE"}),
    ("C_QTYNEG", {"NON_POSITIVE"}),
    ("C_VAL", {"NOT_NUMERIC"}),
    ("C_HS", {"BAD_HS_CODE"}),
    ("C_HS5", {"BAD_HS_CODE"}),
    ("C_CUR", {"UNKNOWN_CURRENCY"}),
    ("C_BQ", {"MALFORMED_LINE"}),
])
def test_bad_declaration_rows_take_their_manifest_with_them(catalogue, cid, reasons):
    _, quarantined, _ = catalogue
    assert reasons_by(quarantined["declarations"], "consignment_id")[cid] >= reasons
    assert reasons_by(quarantined["manifests"], "consignment_id")[cid] == {"CONSIGNMENT_QUARANTINED"}


def test_declaration_without_manifest_and_duplicate_key(catalogue):
    _, quarantined, _ = catalogue
    by_cid = reasons_by(quarantined["declarations"], "consignment_id")
    assert by_cid["C_NOMAN"] == {"ORPHAN_DECLARATION"}
    repeats = [r for r in quarantined["declarations"] if r.declaration_id == "D_REPEAT"]
    # Each copy is a duplicate and also goes with the other copy.
    assert len(repeats) == 2 and all(set(r.reasons) == {"DUPLICATE_KEY", "CONSIGNMENT_QUARANTINED"} for r in repeats)
    # C_OK2's manifest goes with its duplicated declaration items.
    assert reasons_by(quarantined["manifests"], "consignment_id")["C_OK2"] == {"CONSIGNMENT_QUARANTINED"}


def test_multi_item_consignment_is_quarantined_whole(catalogue):
    _, quarantined, _ = catalogue
    items = {r.item_no: set(r.reasons) for r in quarantined["declarations"] if r.consignment_id == "C_MULTI"}
    assert items == {"1": {"CONSIGNMENT_QUARANTINED"}, "2": {"NON_POSITIVE"}}


def test_malformed_lines_keep_their_raw_text_and_do_not_swallow_the_next_line(catalogue):
    result, quarantined, _ = catalogue
    malformed = {r._raw_line for r in quarantined["declarations"] if "MALFORMED_LINE" in r.reasons}
    assert len(malformed) == 3
    assert any(line.startswith("D_BQ,1,C_BQ") and "unclosed" in line for line in malformed)
    assert any(line.endswith(",EXTRA") for line in malformed)
    assert any(line.startswith("D_LQ,1") for line in malformed)
    # The line right after the unclosed quote was read as its own row (C_FC then goes
    # with the malformed D_FC line of the same consignment).
    after = [r for r in quarantined["declarations"] if r.declaration_id == "D_AFTER"]
    assert len(after) == 1 and set(after[0].reasons) == {"CONSIGNMENT_QUARANTINED"}
    assert all(r._source_file.endswith("d.csv") for r in quarantined["declarations"])


def test_odd_but_valid_text_passes_unchanged(catalogue):
    result, _, _ = catalogue
    rows = {r.consignment_id: r.goods_description
            for r in result.valid["declarations"].where("consignment_id like 'C_%'").collect()}
    for cid, text in ODD_TEXTS.items():
        assert rows[cid] == text
    assert "C_UTC" in rows and "C_OK1" in rows
    valid_ids = {r.consignment_id for r in result.valid["manifests"].collect()}
    assert valid_ids == {"C_OK1", "C_UTC", "N1", *ODD_TEXTS}


def test_outcomes_later_replaces_earlier_and_unknown_is_quarantined(catalogue):
    result, quarantined, _ = catalogue
    kept = {r.consignment_id: r for r in result.valid["outcomes"].collect()}
    assert set(kept) == {"C_OK1", "E_OLD"}  # E_OLD is known from an earlier day in the root
    assert kept["C_OK1"].result == "SEIZED" and kept["C_OK1"].seized_items == 4
    assert str(kept["C_OK1"].partition_date) == NEXT
    assert reasons_by(quarantined["outcomes"], "consignment_id") == {"C_UNKNOWN": {"ORPHAN_OUTCOME"}, "C_OK2": {"BAD_ENUM"}}
    s = result.summary["datasets"]["outcomes"]
    assert (s["rows_read"], s["rows_valid"], s["rows_quarantined"], s["rows_superseded"], s["rows_kept"]) == (5, 3, 2, 1, 2)


def test_snapshots_are_validated(catalogue):
    result, quarantined, _ = catalogue
    assert [(r.entity_id, list(r.reasons)) for r in quarantined["intelligence"]] == [("E8", ["BAD_ENUM"])]
    assert [(r.currency, list(r.reasons)) for r in quarantined["fx_rates"]] == [("ZZZ", ["UNKNOWN_CURRENCY"])]
    assert [r.currency for r in result.valid["fx_rates"].collect()] == ["USD"]
    assert result.valid["rights_holders"].count() == 1


def test_counts_reconcile(catalogue):
    result, quarantined, workspace = catalogue
    s = result.summary
    m, d = s["datasets"]["manifests"], s["datasets"]["declarations"]
    # Manifests: 6 good (2 + 4 odd texts) + 21 listed on the day + N1 on the next day;
    # valid: C_OK1, C_UTC, N1 and the 4 odd texts (C_OK2 goes with its duplicated item).
    assert (m["rows_read"], m["rows_valid"], m["rows_quarantined"]) == (28, 7, 21)
    # Declarations: 6 good + 7 for bad manifests + 14 listed + 4 broken physical lines
    # on the day, N1 the next day.
    assert (d["rows_read"], d["rows_quarantined"]) == (32, 25)
    assert d["rows_valid"] == result.valid["declarations"].count() == 7
    assert m["rows_quarantined"] == len(quarantined["manifests"])
    assert d["rows_quarantined"] == len(quarantined["declarations"])
    assert d["by_reason"]["MALFORMED_LINE"] == 3 and m["by_reason"]["DUPLICATE_KEY"] == 2
    # Consignments: 27 manifest ids (C_DUP once) + C_NOMAN from declarations.
    assert (s["consignments_read"], s["consignments_valid"], s["consignments_quarantined"]) == (28, 7, 21)
    saved = json.loads((workspace / "runs" / f"date={NEXT}" / "validation.json").read_text())
    assert saved["consignments_read"] == 28 and saved["status"] == "OK"


def test_report_escapes_data(catalogue):
    _, _, workspace = catalogue
    page = (workspace / "runs" / f"date={NEXT}" / "validation.html").read_text(encoding="utf-8")
    assert "Input validation" in page and "ORPHAN_OUTCOME" in page
    assert "&lt;i&gt;" in page and "<i>" not in page


# ---- feed-level failures: the run stops, with a message naming what to fix ----

def test_file_missing_a_required_column_stops_the_run(spark, make_ctx, tmp_path):
    clean_root(tmp_path)
    rows = [{k: v for k, v in declaration("K0").items() if k != "hs_code"}]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write(tmp_path / "declarations" / f"date={DAY}" / "late.csv", buf.getvalue())
    with pytest.raises(FeedError, match=r"declarations: file .*late\.csv lacks required column\(s\) hs_code"):
        validate_inputs(make_ctx(tmp_path / "ws"), str(tmp_path), [DAY])
    assert not (tmp_path / "ws").exists()  # nothing written that could pass for a result


def test_empty_partition_is_a_clear_error(spark, make_ctx, tmp_path):
    clean_root(tmp_path)
    with pytest.raises(FeedError, match=r"manifests: no files for 2026-09-06 .*empty partition"):
        validate_inputs(make_ctx(tmp_path / "unused-workspace"), str(tmp_path), [NEXT], record=False)
    write(tmp_path / "manifests" / f"date={NEXT}" / "m.csv", csv_text("manifests", []))
    with pytest.raises(FeedError, match=r"date=2026-09-06/ hold no rows \(empty partition\)"):
        validate_inputs(make_ctx(tmp_path / "unused-workspace"), str(tmp_path), [NEXT], record=False)


def test_unreadable_file_stops_the_run(spark, make_ctx, tmp_path):
    clean_root(tmp_path)
    (tmp_path / "declarations" / f"date={DAY}" / "broken.parquet").write_bytes(b"not a parquet file at all")
    with pytest.raises(FeedError, match=r"broken\.parquet"):
        validate_inputs(make_ctx(tmp_path / "unused-workspace"), str(tmp_path), [DAY], record=False)


def test_missing_required_snapshot_stops_the_run(spark, make_ctx, tmp_path):
    clean_root(tmp_path)
    for f in (tmp_path / "rights_holders").iterdir():
        f.unlink()
    with pytest.raises(FeedError, match=r"rights_holders: no files"):
        validate_inputs(make_ctx(tmp_path / "unused-workspace"), str(tmp_path), [DAY], record=False)


def test_quarantined_share_above_threshold_stops_the_run(spark, make_ctx, tmp_path):
    cids = clean_root(tmp_path, n=10)
    # 1 bad declaration of 10 (10 %) takes its manifest along: 10 % of both datasets.
    decl = [declaration(c, lodged_at=f"{DAY}T09:00:00+08:00", hs_code="BAD" if c == cids[0] else "420221") for c in cids]
    write(tmp_path / "declarations" / f"date={DAY}" / "d.csv", csv_text("declarations", decl))
    workspace = tmp_path / "ws"
    with pytest.raises(FeedError, match=r"manifests: 1 of 10 rows quarantined \(10\.0%, threshold 5\.0%.*"
                                        r"declarations: 1 of 10 rows quarantined \(10\.0%.*BAD_HS_CODE 1"):
        validate_inputs(make_ctx(workspace, **{"validation": {"threshold_min_rows": 1}}), str(tmp_path), [DAY])
    assert not (workspace / "quarantine").exists()
    saved = json.loads((workspace / "runs" / f"date={DAY}" / "validation.json").read_text())
    assert saved["status"] == "FAILED"
    assert (saved["datasets"]["declarations"]["rows_read"], saved["consignments_quarantined"]) == (10, 1)


def test_gx_disagreeing_with_the_row_flags_is_a_loud_error():
    from pipelines.validation.expectations import ExpectationOutcome
    from pipelines.validation.inputs import ReconciliationError, _cross_check

    counted = {"manifests": {"per_expectation": [0, 2], "examples": [None, "XX"]}}
    agree = {"manifests": [ExpectationOutcome(0, "t", "a", "BAD_ENUM", True, None),
                           ExpectationOutcome(1, "t", "b", "BAD_ENUM", False, 2)]}
    _cross_check(agree, counted)
    for outcome in (ExpectationOutcome(1, "t", "b", "BAD_ENUM", False, 3), ExpectationOutcome(1, "t", "b", "BAD_ENUM", True, None)):
        with pytest.raises(ReconciliationError, match="report this as a bug"):
            _cross_check({"manifests": [outcome]}, counted)


@pytest.mark.slow
def test_row_ids_from_gx_give_the_same_quarantine(spark, make_ctx, tmp_path):
    cids = clean_root(tmp_path, n=6)
    decl = [declaration(c, lodged_at=f"{DAY}T09:00:00+08:00") for c in cids]
    decl[0]["currency"], decl[1]["quantity"], decl[1]["hs_code"] = "ZZZ", "0", "12"
    write(tmp_path / "declarations" / f"date={DAY}" / "d.csv", csv_text("declarations", decl))
    found = {}
    for mode in ("spark", "gx"):
        cfg = {"validation": {"quarantine_threshold": 1.0, "row_flags": mode}}
        workspace = tmp_path / f"ws_{mode}"
        validate_inputs(make_ctx(workspace, **cfg), str(tmp_path), [DAY])
        rows = spark.read.parquet(str(workspace / "quarantine" / f"date={DAY}" / "declarations")).collect()
        found[mode] = {r.consignment_id: sorted(r.reasons) for r in rows}
    assert found["gx"] == found["spark"] == {"K0": ["UNKNOWN_CURRENCY"], "K1": ["BAD_HS_CODE", "NON_POSITIVE"]}


def test_cli_exits_3_with_the_message_on_a_feed_failure(spark, tmp_path, capsys):
    from pipelines.cli import main

    clean_root(tmp_path)
    code = main(["validate", "--input", str(tmp_path), "--date", NEXT, "--workspace", str(tmp_path / "ws")])
    assert code == 3  # a broken feed (docs/operations.md, exit codes)
    assert "manifests: no files for 2026-09-06" in capsys.readouterr().err


def test_a_rerun_over_replaced_files_reads_them_anew(spark, make_ctx, tmp_path):
    # A replaced file keeps its path: rows cached by plan would give a second run in the same
    # session the first run's rows (found by the benchmark, which replaces its night between sizes).
    clean_root(tmp_path, n=4)
    first = validate_inputs(make_ctx(tmp_path / "unused-workspace", **{"validation": {"gx_enabled": False}}), str(tmp_path), [DAY], record=False)
    assert first.summary["consignments_read"] == 4
    clean_root(tmp_path, n=7)
    second = validate_inputs(make_ctx(tmp_path / "unused-workspace", **{"validation": {"gx_enabled": False}}), str(tmp_path), [DAY], record=False)
    assert (second.summary["consignments_read"], second.summary["consignments_valid"]) == (7, 7)
    assert second.valid["manifests"].count() == 7
