"""Hostile input through validate_inputs: non-finite numbers (CSV text and Parquet doubles) and
unsafe customs office codes are quarantined with their own reason, rows of files read right
despite their oddities (a byte-order mark before a quoted header, Parquet types changing from
file to file) pass, and whole-file problems stop the run naming the file. One root holds the
row-level cases and is validated once per module; the good rows of the same feed must come
through. Helpers for rows and roots are the ones of test_inputs.py (importable as
`test_inputs`: pytest's default import mode puts this folder, which has no __init__.py, on sys.path)."""
from __future__ import annotations

import datetime as dt
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_inputs import DAY, clean_root, csv_text, declaration, manifest, outcome, write, write_snapshots

from pipelines.validation.inputs import FeedError, validate_inputs


@pytest.fixture(scope="module")
def validate(make_ctx):
    def run(root, workspace=None, **validation):
        """The one call of validate_inputs in this module; without a workspace nothing is recorded."""
        ctx = make_ctx(workspace or root / "unused-workspace", validation=validation)
        return validate_inputs(ctx, str(root), [DAY], record=workspace is not None)
    return run


NON_FINITE = {  # declaration id -> the declaration's bad field
    "D_Q_BIG": {"quantity": "1e309"}, "D_Q_NEG_BIG": {"quantity": "-1e309"}, "D_V_INF": {"declared_value": "inf"},
    "D_V_NEG_INF": {"declared_value": "-inf"}, "D_V_INFINITY": {"declared_value": "Infinity"},
    "D_V_NAN": {"declared_value": "NaN"}, "D_NW_NAN": {"net_weight_kg": "nan"},
    "D_V_MINUS_NAN": {"declared_value": " -nan "},  # Spark does not parse it: it must not pass as empty
}
BAD_OFFICES = {  # declaration id -> customs office
    "D_O_SLASH": "HK/AIR", "D_O_BACKSLASH": "HK\\AIR", "D_O_SPACE": "HK AIR", "D_O_CJK": "深圳灣",
    "D_O_FULLWIDTH": "ＨＫＡＩＲ", "D_O_LONG": "A" * 300, "D_O_65": "B" * 65, "D_O_CONTROL": "HK\x01AIR",
    "D_O_TAB_INSIDE": "HK\tAIR", "D_O_DOTDOT": "..", "D_O_HIDDEN": ".HKAIR", "D_O_DASH": "-rf",
}
GOOD_OFFICES = {  # declaration id -> (office as written, office as read)
    "D_O_TRAILING": ("HKAIR ", "HKAIR"), "D_O_AROUND": ("\u3000HKAIR\t", "HKAIR"), "D_O_NBSP": ("\u00a0HKAIR", "HKAIR"),
    "D_O_DOTTED": ("HK.AIR", "HK.AIR"), "D_O_64": ("C" * 64, "C" * 64), "D_O_PLAIN": ("KWC-2_A", "KWC-2_A"),
}
GOOD_MANIFESTS = {"C_OK", "C_PQ_OK", "C_PQ_INT", "C_BOM", *(f"C_{d}" for d in GOOD_OFFICES)}


def _parquet(path, columns: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)


def build_hostile_root(root) -> None:
    """Every row-level hostile case on one day, one consignment (C_<declaration id>) each."""
    decls = [declaration("C_OK", did="D_OK")]
    decls += [declaration(f"C_{did}", did=did, **bad) for did, bad in NON_FINITE.items()]
    decls += [declaration(f"C_{did}", did=did, customs_office=office) for did, office in BAD_OFFICES.items()]
    decls += [declaration(f"C_{did}", did=did, customs_office=office) for did, (office, _) in GOOD_OFFICES.items()]
    decls += [declaration("C_D_O_BLANK", did="D_O_BLANK", customs_office=" \u3000 ")]
    write(root / "declarations" / f"date={DAY}" / "d.csv", csv_text("declarations", decls))
    # A byte-order mark before a quoted header (RFC 4180), CRLF line ends.
    header, row = csv_text("declarations", [declaration("C_BOM", did="D_BOM")]).splitlines()
    quoted = ",".join(f'"{name}"' for name in header.split(","))
    (root / "declarations" / f"date={DAY}" / "bom.csv").write_bytes(b"\xef\xbb\xbf" + f"{quoted}\r\n{row}\r\n".encode())
    # Parquet files whose column types differ: doubles (holding inf and NaN), a timestamp,
    # int64, then text throughout.
    lodged = dt.datetime(2026, 9, 5, 2, 0, tzinfo=dt.UTC)
    base = {k: [v] * 3 for k, v in declaration("-").items()}
    _parquet(root / "declarations" / f"date={DAY}" / "doubles.parquet", {
        **base, "declaration_id": ["D_PQ_OK", "D_PQ_Q_INF", "D_PQ_V_NAN"],
        "consignment_id": ["C_PQ_OK", "C_PQ_Q_INF", "C_PQ_V_NAN"], "item_no": pa.array([1, 1, 1], pa.int64()),
        "lodged_at": pa.array([lodged] * 3, pa.timestamp("us", tz="UTC")),
        "quantity": [10.0, math.inf, 2.0], "declared_value": [1200.5, 9.0, math.nan], "net_weight_kg": [5.0, 5.0, 5.0]})
    _parquet(root / "declarations" / f"date={DAY}" / "texts.parquet", {
        **{k: v[:2] for k, v in base.items()}, "declaration_id": ["D_PQ_INT", "D_PQ_STR"],
        "consignment_id": ["C_PQ_INT", "C_PQ_STR"], "quantity": pa.array([7, 8], pa.int64()),
        "declared_value": ["1200", "abc"]})
    ids = [d["consignment_id"] for d in decls] + ["C_BOM", "C_PQ_OK", "C_PQ_Q_INF", "C_PQ_V_NAN", "C_PQ_INT", "C_PQ_STR"]
    manifests = [manifest(c) for c in ids] + [manifest("C_M_BIG", gross_weight_kg="1e309")]
    write(root / "manifests" / f"date={DAY}" / "m.csv", csv_text("manifests", manifests))
    _parquet(root / "manifests" / f"date={DAY}" / "m.parquet", {
        **{k: [v] for k, v in manifest("C_M_PQ_INF").items()}, "gross_weight_kg": [-math.inf],
        "package_count": pa.array([3], pa.int64())})
    write(root / "declarations" / f"date={DAY}" / "m_extra.csv",
          csv_text("declarations", [declaration("C_M_BIG", did="D_M_BIG"), declaration("C_M_PQ_INF", did="D_M_PQ_INF")]))
    write(root / "outcomes" / f"date={DAY}" / "o.csv", csv_text("outcomes", [
        outcome("C_OK", seized_value_hkd="1500"), outcome("C_PQ_OK", seized_value_hkd="Infinity")]))
    write_snapshots(root, fx_rows=["USD,2026-09-05,7.8", "EUR,2026-09-05,1e309", "CNY,2026-09-05,NaN"])
    write(root / "rights_holders" / "more.csv", "brand,hs_prefixes,min_genuine_unit_value_hkd,recorded_on\n"
          "ACME,8517,inf,2025-01-01\n")
    _parquet(root / "fx_rates" / "fx.parquet", {"currency": ["MOP", "JPY"], "rate_date": ["2026-09-05"] * 2,
                                                "hkd_per_unit": [math.inf, 0.05]})


@pytest.fixture(scope="module")
def hostile(spark, validate, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    build_hostile_root(root)
    # SUMMARY: GX's failing-row count for every expectation must equal the row flags'.
    result = validate(root, tmp_path_factory.mktemp("ws"), quarantine_threshold=1.0, gx_result_format="SUMMARY")
    quarantined = {}
    for path in result.summary["quarantine_paths"]:
        quarantined.setdefault(path.rstrip("/").rsplit("/", 1)[-1], []).extend(spark.read.parquet(path).collect())
    yield result, quarantined


def reasons(rows, key: str) -> dict:
    return {r[key]: set(r.reasons) for r in rows}


def test_non_finite_numbers_in_csv_and_parquet_are_quarantined_as_such(hostile):
    _, quarantined = hostile
    found = reasons(quarantined["declarations"], "declaration_id")
    manifests = reasons(quarantined["manifests"], "consignment_id")
    for did, cid in [*((d, f"C_{d}") for d in NON_FINITE), ("D_PQ_Q_INF", "C_PQ_Q_INF"), ("D_PQ_V_NAN", "C_PQ_V_NAN")]:
        assert found[did] == {"NON_FINITE_NUMBER"}, did
        assert manifests[cid] == {"CONSIGNMENT_QUARANTINED"}, cid
    assert manifests["C_M_BIG"] == manifests["C_M_PQ_INF"] == {"NON_FINITE_NUMBER"}
    assert found["D_M_BIG"] == found["D_M_PQ_INF"] == {"CONSIGNMENT_QUARANTINED"}
    assert reasons(quarantined["outcomes"], "consignment_id") == {"C_PQ_OK": {"NON_FINITE_NUMBER"}}
    assert reasons(quarantined["fx_rates"], "currency") == {c: {"NON_FINITE_NUMBER"} for c in ("EUR", "CNY", "MOP")}
    assert reasons(quarantined["rights_holders"], "brand") == {"ACME": {"NON_FINITE_NUMBER"}}


def test_unsafe_office_codes_are_quarantined_and_blanks_around_a_code_trimmed(hostile):
    result, quarantined = hostile
    found = reasons(quarantined["declarations"], "declaration_id")
    for did in BAD_OFFICES:
        assert found[did] == {"BAD_OFFICE_CODE"}, did
    assert found["D_O_BLANK"] == {"MISSING_REQUIRED"}
    offices = {r.declaration_id: r.customs_office for r in result.valid["declarations"].collect()}
    assert {did: offices.get(did) for did in GOOD_OFFICES} == {did: read for did, (_, read) in GOOD_OFFICES.items()}
    assert set(offices.values()) == {"HKAIR", "HK.AIR", "C" * 64, "KWC-2_A"}  # "HKAIR " is no office of its own


def test_odd_files_are_read_and_their_good_rows_pass(hostile):
    result, quarantined = hostile
    assert {r.consignment_id for r in result.valid["manifests"].collect()} == GOOD_MANIFESTS
    valid = {r.declaration_id: r for r in result.valid["declarations"].collect()}
    assert valid["D_BOM"].hs_code == "420221" and valid["D_BOM"].customs_office == "HKAIR"
    assert (valid["D_PQ_OK"].quantity, valid["D_PQ_OK"].declared_value) == (10.0, 1200.5)
    assert (valid["D_PQ_INT"].quantity, valid["D_PQ_INT"].declared_value, valid["D_PQ_INT"].item_no) == (7.0, 1200.0, 1)
    assert valid["D_PQ_OK"].lodged_at == dt.datetime(2026, 9, 5, 2, 0)  # the UTC instant, session zone UTC
    assert reasons(quarantined["declarations"], "declaration_id")["D_PQ_STR"] == {"NOT_NUMERIC"}
    assert {r.currency for r in result.valid["fx_rates"].collect()} == {"USD", "JPY"}
    assert [r.brand for r in result.valid["rights_holders"].collect()] == ["LUMORA"]
    assert [r.consignment_id for r in result.valid["outcomes"].collect()] == ["C_OK"]
    s = result.summary["datasets"]["declarations"]
    assert s["by_reason"]["NON_FINITE_NUMBER"] == len(NON_FINITE) + 2 and s["by_reason"]["BAD_OFFICE_CODE"] == len(BAD_OFFICES)


# ---- whole-file problems: the run stops, naming the file ----

@pytest.mark.parametrize("encoding", ["gb18030", "big5", "latin-1"])
def test_a_declarations_file_that_is_not_utf8_stops_the_run(validate, tmp_path, encoding):
    clean_root(tmp_path)
    text = "Café au lait bowl" if encoding == "latin-1" else "手袋 皮革"
    legacy = csv_text("declarations", [declaration("K0", did="D_LEGACY", goods_description=text)])
    (tmp_path / "declarations" / f"date={DAY}" / "legacy.csv").write_bytes(legacy.encode(encoding))
    with pytest.raises(FeedError, match=r"legacy\.csv is not UTF-8 text: byte 0x.. on line 2"):
        validate(tmp_path, tmp_path / "ws")
    assert not (tmp_path / "ws").exists()  # nothing written that could pass for a result


def test_a_column_named_twice_stops_the_run(validate, tmp_path):
    clean_root(tmp_path)
    text = csv_text("declarations", [declaration("K0", did="D_TWICE")]).splitlines()
    write(tmp_path / "declarations" / f"date={DAY}" / "twice.csv",
          f"{text[0]},Declared_Value\n{text[1]},99\n")
    with pytest.raises(FeedError, match=r"twice\.csv: column 'Declared_Value' appears twice"):
        validate(tmp_path)


def test_a_file_of_unknown_type_stops_the_run(validate, tmp_path):
    clean_root(tmp_path)
    (tmp_path / "manifests" / f"date={DAY}" / "late.CSV.GZ").write_bytes(b"\x1f\x8b")
    with pytest.raises(FeedError, match=r"manifests: .*late\.CSV\.GZ is not a data file the pipeline reads"):
        validate(tmp_path)


def test_every_reason_code_is_documented_for_operators():
    from pathlib import Path

    from pipelines.validation.contract import REASON_CODES

    page = (Path(__file__).resolve().parents[4] / "docs" / "operations.md").read_text(encoding="utf-8")
    assert [code for code, meaning in REASON_CODES.items() if f"| {code} | {meaning} |" not in page] == []
