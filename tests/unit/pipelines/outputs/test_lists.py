import csv
import datetime as dt
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from pipelines.io.publish import publish_dir
from pipelines.io.workspace import Workspace
from pipelines.outputs.lists import XLSX_MAX_CHARS, office_file_stem, write_inspection_lists

HYPERLINK = '=HYPERLINK("http://x","y")'
CMD = "+cmd|' /C calc'!A0"
SUM = "@SUM(1)"
SCRIPT = "<script>alert(1)</script>"
EMOJI = "watch \U0001F4E6\U0001F6A2"
CHINESE = "\u4e2d\u6587\u624b\u888b"  # 中文手袋
LONG = "leather bag " * 833 + "end"  # 10,000 characters
HOSTILE = [HYPERLINK, CMD, SUM, SCRIPT, EMOJI, CHINESE, LONG, "-2+3", "\tTAB", "\ufe63x"]
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _selected(descriptions=HOSTILE):
    rows = [dict(consignment_id=f"C{i:02d}", customs_office="HK/AIR", selected=True, rank_in_office=i + 1, lane="RED",
                 score=0.9 - i / 100, score_adjusted=0.9 - i / 100, selection_basis="MODEL", selection_reason="RISK",
                 profile_hits=[], reasons=[f"goods: {d}", d], main_goods_description=d, brands=["LUMORA", d],
                 lodged_date=dt.date(2026, 9, 5), package_count=3, gross_weight_kg=12.5, exporter_id=d[:20],
                 model_version="7", run_id="r1")
            for i, d in enumerate(descriptions)]
    rows.append(dict(rows[0], consignment_id="Z", customs_office="KWC", selected=False, lane="GREEN"))
    return pd.DataFrame(rows)


def test_writes_every_office_and_format(tmp_path):
    paths = write_inspection_lists(_selected(), str(tmp_path), "2026-09-05")
    assert sorted(Path(p).name for p in paths) == [
        "HK_AIR.csv", "HK_AIR.html", "HK_AIR.xlsx", "KWC.csv", "KWC.html", "KWC.xlsx"]
    with open(tmp_path / "KWC.csv", encoding="utf-8-sig", newline="") as fh:
        assert len(list(csv.reader(fh))) == 1  # nothing selected: the header only
    assert "No consignment is listed" in (tmp_path / "KWC.html").read_text(encoding="utf-8")


def test_csv_neutralises_formulas_and_keeps_text(tmp_path):
    write_inspection_lists(_selected(), str(tmp_path), "2026-09-05")
    with open(tmp_path / "HK_AIR.csv", encoding="utf-8-sig", newline="") as fh:
        records = list(csv.DictReader(fh))
    got = [r["main_goods_description"] for r in records]
    assert got == ["'" + HYPERLINK, "'" + CMD, "'" + SUM, SCRIPT, EMOJI, CHINESE, LONG, "'-2+3", "'\tTAB", "\ufe63x"]
    assert records[0]["reason_2"] == "'" + HYPERLINK and records[0]["reason_1"] == "goods: " + HYPERLINK
    assert records[0]["brands"] == "LUMORA; " + HYPERLINK  # the cell starts with text: safe as is
    assert records[0]["rank_in_office"] == "1" and records[0]["score"] == "0.9000"
    assert [r["consignment_id"] for r in records] == [f"C{i:02d}" for i in range(len(HOSTILE))]


def _xlsx_cells(path):
    with zipfile.ZipFile(path) as zf:
        shared = [si.findtext("m:t", namespaces=NS) or "" for si in ET.fromstring(zf.read("xl/sharedStrings.xml"))]
        styles = ET.fromstring(zf.read("xl/styles.xml"))
        sheet_xml = zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
    xfs = styles.find("m:cellXfs", NS).findall("m:xf", NS)
    cells = {}
    for c in ET.fromstring(sheet_xml).iter(f"{{{NS['m']}}}c"):
        value = c.findtext("m:v", namespaces=NS)
        text = shared[int(value)] if c.get("t") == "s" else value
        quoted = xfs[int(c.get("s", 0))].get("quotePrefix") == "1"
        cells[c.get("r")] = (text, c.get("t"), quoted)
    return cells, sheet_xml


def test_xlsx_has_no_formulas_and_quotes_formula_like_text(tmp_path):
    write_inspection_lists(_selected(HOSTILE + ["y" * 40_000]), str(tmp_path), "2026-09-05")
    cells, sheet_xml = _xlsx_cells(tmp_path / "HK_AIR.xlsx")
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    header = {text: re.sub(r"\d", "", ref) for ref, (text, _, _) in cells.items() if ref.endswith("1") and ref[1:] == "1"}
    column = header["Goods description"]
    described = [cells[f"{column}{row}"] for row in range(2, len(HOSTILE) + 3)]
    assert [text for text, _, _ in described[:-1]] == HOSTILE  # the text itself, no apostrophe added
    assert all(kind == "s" for _, kind, _ in described)
    assert [quoted for _, _, quoted in described[:4]] == [True, True, True, False]
    assert described[7][2] and described[8][2]  # "-2+3" and a leading tab
    assert len(described[-1][0]) == XLSX_MAX_CHARS  # Excel's cell limit, not a broken file
    assert cells[f"{header['Model score']}2"][1] is None  # numbers stay numbers


def test_html_is_escaped_and_self_contained(tmp_path):
    write_inspection_lists(_selected(), str(tmp_path), "2026-09-05")
    page = (tmp_path / "HK_AIR.html").read_text(encoding="utf-8")
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<script") == 1  # only the page's own sorting script
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;y&#34;)" in page
    assert EMOJI in page and CHINESE in page and LONG in page
    for external in ("src=", "href=", "<link", "url(", "@import"):
        assert external not in page
    assert "@media print" in page and "aria-sort" in page


def test_rerun_gives_byte_identical_files(tmp_path):
    first = write_inspection_lists(_selected(), str(tmp_path / "a"), "2026-09-05")
    second = write_inspection_lists(_selected(), str(tmp_path / "b"), "2026-09-05")
    for a, b in zip(first, second):
        assert Path(a).read_bytes() == Path(b).read_bytes(), a


def test_from_spark_selection_frame_and_published_atomically(spark, tmp_path):
    pdf = _selected([CHINESE, SCRIPT, "plain"])
    frame = spark.createDataFrame(pdf.iloc[::-1].reset_index(drop=True))  # arrives out of order
    target = Path(Workspace(str(tmp_path)).lists_day("2026-09-05"))
    with publish_dir(target) as tmp:
        names = [Path(p).name for p in write_inspection_lists(frame, str(tmp), "2026-09-05")]
    assert sorted(names) == sorted(["HK_AIR.csv", "HK_AIR.xlsx", "HK_AIR.html", "KWC.csv", "KWC.xlsx", "KWC.html"])
    assert sorted(p.name for p in target.iterdir()) == sorted(names)
    with open(target / "HK_AIR.csv", encoding="utf-8-sig", newline="") as fh:
        records = list(csv.DictReader(fh))
    assert [r["consignment_id"] for r in records] == ["C00", "C01", "C02"]
    assert records[0]["reason_1"] == "goods: " + CHINESE and records[1]["reason_2"] == SCRIPT
    assert [p.name for p in target.parent.iterdir()] == ["lists"]  # no temp dir left beside it


def test_office_code_with_a_dot_keeps_its_whole_name(tmp_path):
    frame = _selected(["plain"]).assign(customs_office="HK.AIR")
    names = sorted(Path(p).name for p in write_inspection_lists(frame, str(tmp_path), "2026-09-05"))
    assert names == ["HK.AIR.csv", "HK.AIR.html", "HK.AIR.xlsx"]


@pytest.mark.parametrize("office, stem", [("HKAIR", "HKAIR"), ("HK/AIR", "HK_AIR"), ("../etc", "_._etc"),
                                          (None, "UNKNOWN_OFFICE"), ("\u6e2f", "_")])
def test_office_file_stem_is_a_safe_name(office, stem):
    assert office_file_stem(office) == stem


def test_load_targeting_checks_the_shipped_conf_and_names_a_bad_profile(tmp_path, monkeypatch):
    import shutil

    from pipelines.errors import UserError
    from pipelines.io.settings import conf_root, load_settings
    from pipelines.outputs.lists import load_targeting

    targeting = load_targeting(load_settings())
    assert targeting.profiles and targeting.policy["novel_conditions"] and targeting.templates["features"]

    conf = tmp_path / "conf"
    shutil.copytree(conf_root() / "base", conf / "base")
    (conf / "base" / "profiles.yaml").write_text(
        "profiles:\n  - {name: NO_OWNER, reason: r, conditions: [{feature: hs_chapter, in: ['42']}], action: force_red,"
        " valid_from: 2026-09-01, valid_to: 2026-09-12}\n", encoding="utf-8")
    with pytest.raises(UserError, match="profile 'NO_OWNER': field 'owner': is missing or empty"):
        load_targeting(load_settings(conf))


def test_shipped_conf_end_to_end_on_feature_table_columns(spark, settings, tmp_path):
    """load_targeting -> select_for_inspection -> lists, on a frame shaped like the nightly's scored table."""
    from pyspark.sql import types as T

    from features.table import table_schema
    from models.reasons import add_reasons
    from models.selection import select_for_inspection
    from pipelines.outputs.lists import load_targeting

    contributions = T.ArrayType(T.StructType([T.StructField("feature", T.StringType()),
                                              T.StructField("value", T.StringType()),
                                              T.StructField("contribution", T.DoubleType())]))
    table = T.StructType([T.StructField(f.name, f.dataType) for f in table_schema().fields])  # nullable here
    details = ["exporter_id", "consignee_id", "consignor_id", "forwarder_id", "port_of_loading", "route_ports",
               "port_of_discharge", "main_hs_code", "main_goods_description", "model_version", "run_id",
               "consignee_country", "declarant_id"]
    fields = list(table.fields) + [T.StructField(c, T.StringType()) for c in details if c not in table.fieldNames()]
    fields += [T.StructField("total_value_hkd", T.DoubleType())]
    fields += [T.StructField("score", T.DoubleType()), T.StructField("top_contributions", contributions)]
    schema = T.StructType(fields)
    base = {f.name: None for f in fields} | {"customs_office": "HKAIR", "lodged_date": dt.date(2026, 9, 5),
                                             "model_version": "3", "run_id": "r9"}
    rows = [
        base | {"consignment_id": "JOINT", "score": 0.02, "exporter_id": "E1", "consignee_id": "Q1", "hs_chapter": "42",
                "dest_region": "EUROPE", "n_transit_hubs": 1, "destination_country": "DE", "route_ports": "AEJEA;GRPIR"},
        base | {"consignment_id": "BRAND", "score": 0.93, "exporter_id": "E2", "consignee_id": "Q2",
                "matched_brand": "LUMORA", "unit_value_hkd": 12.0, "brand_unit_value_hkd": 12.0, "value_to_genuine_ratio": 0.015,
                "main_goods_description": SCRIPT,
                "top_contributions": [("value_to_genuine_ratio", "0.015", 1.2), ("n_transit_hubs", "0", 0.1)]},
        base | {"consignment_id": "LOW", "score": 0.01, "exporter_id": "E3", "consignee_id": "Q3"},
    ]
    frame = spark.createDataFrame([tuple(r[f.name] for f in fields) for r in rows], schema)
    targeting = load_targeting(settings)
    selected = add_reasons(select_for_inspection(frame, targeting.profiles, targeting.policy, "2026-09-05").toPandas(),
                           targeting.profiles, targeting.templates)
    write_inspection_lists(selected, str(tmp_path), "2026-09-05")
    with open(tmp_path / "HKAIR.csv", encoding="utf-8-sig", newline="") as fh:
        records = {r["consignment_id"]: r for r in csv.DictReader(fh)}
    assert set(records) == {"JOINT", "BRAND"}
    assert records["JOINT"]["selection_basis"] == "PROFILE" and records["JOINT"]["rank_in_office"] == "1"
    assert records["JOINT"]["reason_1"].startswith("Joint operation with EU and US customs")
    assert records["BRAND"]["reason_1"] == (
        "brand LUMORA declared at HK$12.00 a unit, 0.02 times the lowest genuine price")
    assert records["BRAND"]["selection_reason"] == "RISK" and records["BRAND"]["lane"] == "RED"


def _office_day():
    """One office's RED list (MODEL, RANDOM) and AMBER queue, plus a GREEN row that reaches no one."""
    base = dict(customs_office="HKAIR", lodged_date=dt.date(2026, 9, 5), model_version="7", selection_reason="RISK",
                profile_hits=[], brands=["LUMORA"], package_count=2, gross_weight_kg=3.5, exporter_id="E1",
                port_of_loading="HKHKG", port_of_discharge="USLAX", destination_country="US")
    rows = [
        base | dict(consignment_id="R1", selected=True, lane="RED", rank_in_office=1, selection_basis="MODEL",
                    score=0.9, score_adjusted=0.9, main_goods_description="handbags", route_ports=[],
                    reasons=["consignee Q1 ships to 8 countries; typical consignees ship to 1-2", "risk score 0.90"]),
        base | dict(consignment_id="R2", selected=True, lane="RED", rank_in_office=2, selection_basis="RANDOM",
                    selection_reason="RANDOM", score=0.01, score_adjusted=0.01, main_goods_description="toys",
                    route_ports=["AEJEA", "GRPIR"], reasons=["chosen at random for the control sample, not for risk"]),
        base | dict(consignment_id="A1", selected=False, lane="AMBER", rank_in_office=3, selection_basis=None,
                    selection_reason=None, score=0.04, score_adjusted=0.04, main_goods_description="watches",
                    route_ports=["SGSIN"], reasons=["exporter listed by Macao customs 3 days ago", "risk score 0.04"]),
        base | dict(consignment_id="G1", selected=False, lane="GREEN", rank_in_office=4, selection_basis=None,
                    score=0.001, score_adjusted=0.001, main_goods_description="socks", route_ports=[], reasons=[]),
    ]
    return pd.DataFrame(rows)


def test_csv_puts_reasons_and_goods_first_and_a_direct_route_says_so(tmp_path):
    write_inspection_lists(_office_day(), str(tmp_path), "2026-09-05")
    with open(tmp_path / "HKAIR.csv", encoding="utf-8-sig", newline="") as fh:
        records = list(csv.DictReader(fh))
    header = list(records[0])
    assert header[:7] == ["rank_in_office", "lane", "selection_basis", "reason_1", "reason_2", "reason_3",
                          "main_goods_description"]
    assert header.index("brands") < header.index("consignment_id") < header.index("exporter_id") < header.index("score")
    assert [r["consignment_id"] for r in records] == ["R1", "R2"]  # the CSV is the RED list only
    assert [r["route_ports"] for r in records] == ["direct", "AEJEA; GRPIR"]


def test_xlsx_has_the_amber_sheet_and_validated_result_columns(tmp_path):
    import openpyxl

    write_inspection_lists(_office_day(), str(tmp_path), "2026-09-05")
    book = openpyxl.load_workbook(tmp_path / "HKAIR.xlsx")
    assert book.sheetnames == ["list", "AMBER document checks"]
    red, amber = book["list"], book["AMBER document checks"]
    header = [c.value for c in red[1]]
    assert header[:4] == ["Rank", "Lane", "Selected by", "Reason 1"] and "Consignment" in header and "Office" in header
    assert header[-8:] == ["Result", "Inspected on", "Not inspected because", "Seized items", "Seized value HK$",
                           "Infringement type", "Brands found", "Note"]
    assert [c.value for c in amber[1]] == header
    ids = header.index("Consignment")
    assert [row[ids].value for row in red.iter_rows(min_row=2)] == ["R1", "R2"]
    assert [row[ids].value for row in amber.iter_rows(min_row=2)] == ["A1"]  # GREEN reaches no one
    assert amber.cell(2, header.index("Reason 1") + 1).value == "exporter listed by Macao customs 3 days ago"

    def cells(name, last):  # the sqref of a column's result cells, rows 2..last
        col = openpyxl.utils.get_column_letter(header.index(name) + 1)
        return f"{col}2:{col}{last}" if last > 2 else f"{col}2"

    for sheet, last in ((red, 3), (amber, 2)):
        rules = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
        result = rules[cells("Result", last)]
        assert result.type == "list" and result.formula1 == '"SEIZED,CLEAN,NOT_INSPECTED"'
        inspected = rules[cells("Inspected on", last)]
        assert inspected.type == "date" and inspected.operator == "greaterThanOrEqual"
        assert inspected.formula1 == str((dt.date(2026, 9, 5) - dt.date(1899, 12, 30)).days)  # Excel's day number
        items = rules[cells("Seized items", last)]
        assert (items.type, items.operator, items.formula1) == ("whole", "greaterThanOrEqual", "0")
        value = rules[cells("Seized value HK$", last)]
        assert (value.type, value.operator, value.formula1) == ("decimal", "greaterThanOrEqual", "0")
        kind = rules[cells("Infringement type", last)]
        assert kind.type == "list" and kind.formula1 == '"TRADEMARK,COPYRIGHT,DESIGN,PATENT"'
        assert len(rules) == 5  # free text columns carry no rule


def test_html_lists_reasons_as_bullets_marks_the_control_sample_and_queues_amber(tmp_path):
    write_inspection_lists(_office_day(), str(tmp_path), "2026-09-05")
    page = (tmp_path / "HKAIR.html").read_text(encoding="utf-8")
    red, amber = page.split("<h2>AMBER: document checks</h2>")
    assert "<li>consignee Q1 ships to 8 countries; typical consignees ship to 1-2</li>" in red
    assert "control sample: inspect like any other" in red and red.count("control sample: inspect") == 1
    assert "<li>exporter listed by Macao customs 3 days ago</li>" in amber and "R1" not in amber
    assert "socks" not in page  # GREEN
    # Reasons (wide) come before goods and identifiers (compact) in each row.
    row = red[red.index("lane-row-RED"):]
    assert row.index("<ul>") < row.index("handbags") < row.index("Consignment:")
    assert "HKHKG \u2192 direct \u2192 USLAX" in red and "HKHKG \u2192 AEJEA; GRPIR \u2192 USLAX" in red
