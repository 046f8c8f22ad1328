"""The lists inspectors open each morning: per office CSV, XLSX and a self-contained HTML page.

Only selected rows are listed; they are bounded by office capacity (plus the small RANDOM
sample), so bringing them to the driver as pandas is safe. Text comes from declarations and
is hostile until proven otherwise:
- CSV: a text cell starting with = + - @ tab or CR (or their full-width forms) gets a leading
  apostrophe, so a spreadsheet shows it as text instead of running it as a formula.
- XLSX: every text cell is written with write_string (never a formula, URL or number), and
  such cells also carry Excel's quote-prefix style so editing them keeps them text.
- HTML: Jinja2 autoescaping; the page has no external assets and no data in its script.
Output is deterministic: the same rows give byte-identical files (no clock, fixed order).
"""
from __future__ import annotations

import csv
import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

# Listed columns, in order, with the header shown in XLSX and HTML; absent ones are skipped.
# No run id: it changes with every run, and a re-run must give byte-identical lists
# (the run id is in the scores and the run record).
COLUMNS = {
    "rank_in_office": "Rank", "lane": "Lane", "score": "Model score", "score_adjusted": "Score after profiles",
    "selection_basis": "Selected by", "selection_reason": "Selection reason", "profile_hits": "Profiles",
    "reason_1": "Reason 1", "reason_2": "Reason 2", "reason_3": "Reason 3",
    "consignment_id": "Consignment", "declaration_ids": "Declarations", "lodged_date": "Lodged",
    "customs_office": "Office", "transport_mode": "Mode", "exporter_id": "Exporter", "consignor_id": "Consignor",
    "consignee_id": "Consignee", "forwarder_id": "Forwarder", "declarant_id": "Declarant",
    "port_of_loading": "Loading port", "route_ports": "Transit ports", "port_of_discharge": "Discharge port",
    "destination_country": "Destination", "main_hs_code": "Main HS code", "main_goods_description": "Goods description",
    "brands": "Declared brands", "matched_brand": "Recorded brand", "package_count": "Packages",
    "gross_weight_kg": "Gross kg", "total_value_hkd": "Value HK$", "model_version": "Model version",
}
NUMERIC_COLUMNS = ("rank_in_office", "score", "score_adjusted", "package_count", "gross_weight_kg", "total_value_hkd")
NUMBER_DECIMALS = {"score": 4, "score_adjusted": 4, "gross_weight_kg": 2, "total_value_hkd": 2}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
XLSX_MAX_CHARS = 32_767  # Excel's limit for one cell
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def office_file_stem(office: Any) -> str:
    """A file name from an office code: letters, digits, _ . - only, never hidden or empty."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", str(office)) if office not in (None, "") else "UNKNOWN_OFFICE"
    return stem if not stem.startswith(".") else "_" + stem[1:]


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def neutralise(text: str) -> str:
    """The CSV rule: formula-like text gets a leading apostrophe."""
    return "'" + text if is_formula_like(text) else text


def listed_rows(selected: Any) -> tuple[pd.DataFrame, list[str]]:
    """(the selected rows as pandas with list columns, every office seen) from Spark or pandas."""
    if isinstance(selected, pd.DataFrame):
        offices = sorted({str(o) for o in selected["customs_office"].dropna()})
        rows = selected[selected["selected"].astype(bool)].copy()
    else:
        from pyspark.sql import functions as F

        wanted = [c for c in list(COLUMNS) + ["reasons", "selected"] if c in selected.columns]
        # Bounded: the selected rows (capacity + RANDOM sample) and each office's first row,
        # so offices with nothing selected are known too; one pass over the frame.
        keep = F.col("selected") | (F.col("rank_in_office") == F.lit(1))
        rows = selected.where(keep).select(*wanted).toPandas()
        offices = sorted({str(o) for o in rows["customs_office"].dropna()})
        rows = rows[rows["selected"].astype(bool)].copy()
    reasons = rows["reasons"] if "reasons" in rows else pd.Series([[]] * len(rows), index=rows.index)
    for i in range(3):
        rows[f"reason_{i + 1}"] = [_nth(r, i) for r in reasons]
    ordered = [c for c in COLUMNS if c in rows.columns]
    rows = rows.sort_values(["customs_office", "rank_in_office", "consignment_id"], kind="mergesort")
    return rows[ordered].reset_index(drop=True), offices


def _nth(items: Any, i: int) -> str | None:
    items = list(items) if items is not None and not isinstance(items, str) else []
    return items[i] if i < len(items) else None


def cell_value(column: str, value: Any) -> str | int | float | None:
    """A cell as text or number, the same for every format (so files agree with each other)."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # numpy scalars and arrays to plain Python
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value if v is not None)
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return round(float(value), NUMBER_DECIMALS[column]) if column in NUMBER_DECIMALS else value
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return value.isoformat()[:10] if column == "lodged_date" else value.isoformat()
    return str(value)


def _text(value: str | int | float | None, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and column in NUMBER_DECIMALS:
        return f"{value:.{NUMBER_DECIMALS[column]}f}"
    return str(value)


def write_csv(rows: pd.DataFrame, path: Path) -> None:
    """UTF-8 with a byte-order mark (so Excel reads Chinese), RFC 4180 quoting, CRLF."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        out.writerow(list(rows.columns))
        for record in rows.itertuples(index=False):
            cells = [cell_value(c, v) for c, v in zip(rows.columns, record)]
            out.writerow([neutralise(x) if isinstance(x, str) else _text(x, c) for c, x in zip(rows.columns, cells)])


def write_xlsx(rows: pd.DataFrame, path: Path, title: str, run_date: str) -> None:
    import xlsxwriter

    options = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    workbook = xlsxwriter.Workbook(str(path), options)
    # A fixed creation time (the run date) keeps the file byte-identical across re-runs.
    workbook.set_properties({"title": title, "author": "shiprisk", "created": dt.datetime.fromisoformat(run_date)})
    sheet = workbook.add_worksheet("list")
    bold = workbook.add_format({"bold": True})
    as_text = workbook.add_format({"quote_prefix": True})
    for j, column in enumerate(rows.columns):
        sheet.write_string(0, j, COLUMNS.get(column, column), bold)
    for i, record in enumerate(rows.itertuples(index=False), start=1):
        for j, (column, raw) in enumerate(zip(rows.columns, record)):
            value = cell_value(column, raw)
            if value is None:
                continue
            if isinstance(value, (int, float)):
                sheet.write_number(i, j, value)
                continue
            text = _CONTROL.sub("\ufffd", value)  # XML cannot hold these characters
            if len(text) > XLSX_MAX_CHARS:
                text = text[: XLSX_MAX_CHARS - 1] + "\u2026"
            sheet.write_string(i, j, text, as_text if is_formula_like(text) else None)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(rows), 1), max(len(rows.columns) - 1, 0))
    workbook.close()

HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,"Segoe UI","Noto Sans","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1rem;font-size:13px}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #bbb;padding:3px 5px;vertical-align:top;text-align:left}
th{background:#eee;cursor:pointer;position:sticky;top:0}
th[aria-sort=ascending]::after{content:" \\25B2"} th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td{max-width:32em;overflow-wrap:anywhere}
tr.lane-RED td:nth-child(2){background:#f6c6c6} tr.lane-AMBER td:nth-child(2){background:#fde3a7}
@media print{.noprint{display:none} th{position:static;cursor:auto} thead{display:table-header-group}
tr{break-inside:avoid} body{margin:0;font-size:8pt} @page{size:A4 landscape;margin:8mm}}
</style></head><body>
<h1>{{ title }}</h1>
<p>{{ summary }}</p>
<p class="noprint">Click a column header to sort. Print for a paper copy.</p>
{% if rows %}<table id="list"><thead><tr>{% for label, numeric in headers %}<th scope="col" data-num="{{ 1 if numeric else 0 }}">{{ label }}</th>{% endfor %}</tr></thead>
<tbody>
{% for lane, cells in rows %}<tr class="lane-{{ lane }}">{% for cell in cells %}<td{% if headers[loop.index0][1] %} class="num"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
{% else %}<p>No consignment is listed for this office on this date.</p>{% endif %}
<script>
(function () {
  var table = document.getElementById("list");
  if (!table) { return; }
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (head, col) {
    head.addEventListener("click", function () {
      var numeric = head.getAttribute("data-num") === "1";
      var up = head.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      head.setAttribute("aria-sort", up ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].textContent, y = b.cells[col].textContent;
        var d = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
        return up ? d : -d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
</script>
</body></html>
"""


def render_html(title: str, rows: pd.DataFrame, cells: list[list[str]]) -> str:
    """A self-contained page: inline CSS and JS, every value escaped by Jinja2."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    headers = [(COLUMNS.get(c, c), c in NUMERIC_COLUMNS) for c in rows.columns]
    counts = rows["selection_basis"].value_counts() if "selection_basis" in rows else pd.Series(dtype=int)
    by_basis = ", ".join(f"{basis} {counts[basis]}" for basis in sorted(counts.index))
    versions = sorted({str(v) for v in rows.get("model_version", pd.Series(dtype=str)).dropna()})
    summary = f"{len(rows)} consignment(s) listed" + (f": {by_basis}" if by_basis else "") + (
        f". Model version {', '.join(versions)}." if versions else ".")
    lanes = rows["lane"].astype(str).tolist() if "lane" in rows else [""] * len(rows)
    page = env.from_string(HTML_PAGE)
    return page.render(title=title, summary=summary, headers=headers, rows=list(zip(lanes, cells)))


def write_inspection_lists(selected: Any, out_dir: str, run_date: str) -> list[str]:
    """Write <office>.csv, .xlsx and .html into out_dir for every office; return the paths.

    `selected` is the output of models.selection.select_for_inspection (Spark or pandas);
    offices with nothing selected get empty lists, so a missing file always means a failure.
    """
    rows, offices = listed_rows(selected)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stems = {office: office_file_stem(office) for office in offices}
    # Case-folded: HKAIR and hkair would overwrite each other on a Windows or macOS share.
    if len({stem.casefold() for stem in stems.values()}) != len(stems):
        raise ValueError(f"office codes collide as file names: {stems}")
    written: list[str] = []
    for office in offices:
        part = rows[rows["customs_office"].astype(str) == office].reset_index(drop=True)
        title = f"Inspection list {office} {run_date}"
        csv_path, xlsx_path, html_path = (out / f"{stems[office]}.{ext}" for ext in ("csv", "xlsx", "html"))
        write_csv(part, csv_path)
        write_xlsx(part, xlsx_path, title, run_date)
        cells = [[_text(cell_value(c, v), c) for c, v in zip(part.columns, rec)] for rec in part.itertuples(index=False)]
        html_path.write_text(render_html(title, part, cells), encoding="utf-8", newline="\n")
        written += [str(csv_path), str(xlsx_path), str(html_path)]
    return written


# Columns of the scored frame beyond the registered features that templates may use.
SCORED_COLUMNS = ("score", "score_adjusted", "model_version", "run_id", "run_date", "lodged_date", "selection_basis",
                  "total_value_hkd", "declarant_id", "gross_weight_kg", "package_count")


@dataclass(frozen=True)
class Targeting:
    """What selection needs besides the scores: analyst profiles, the policy, reason templates."""
    profiles: list
    policy: dict
    templates: dict


def load_targeting(settings: dict) -> Targeting:
    """Profiles, policy and reason templates from the settings, all checked: call at start-up,
    before any data. Raises UserError naming the file, profile and field when something is wrong.
    """
    from models.profiles import DETAIL_COLUMNS, parse_profiles, profile_columns
    from models.reasons import check_templates
    from models.selection import check_policy

    columns = profile_columns()
    profiles = parse_profiles(settings["profiles"].get("profiles"), columns)
    policy = check_policy(settings["selection"], columns)
    check_templates(settings["reasons"], [*columns, *DETAIL_COLUMNS, *SCORED_COLUMNS])
    return Targeting(profiles, policy, settings["reasons"])
