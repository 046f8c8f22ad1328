"""The lists inspectors open each morning: per office CSV, XLSX and a self-contained HTML page.

What is listed: the RED list (every selected row: PROFILE, MODEL, EXPLORATION, RANDOM) and the
AMBER queue (rows in lane AMBER that the caller passes in, bounded per office by
models.selection.queue_for_office). Both are bounded by office settings, so bringing them to
the driver as pandas is safe. Columns put the reasons and the goods first, identifiers after.
- `<office>.csv`: the RED list only (one physical-inspection list per office).
- `<office>.xlsx`: sheet "list" holds the RED list, sheet "AMBER document checks" the AMBER
  queue, with the same columns. After the listed columns both sheets have the result columns
  an inspector fills in and `shiprisk outcomes import` reads (RESULT_COLUMNS, with Excel data
  validation): "Result" (SEIZED, CLEAN, NOT_INSPECTED), "Inspected on" (a date on or after the
  list date), "Not inspected because", "Seized items" (whole number >= 0), "Seized value HK$"
  (>= 0), "Infringement type" (TRADEMARK, COPYRIGHT, DESIGN, PATENT), "Brands found", "Note".
- `<office>.html`: the RED list, then the AMBER queue, one row per consignment with the reasons
  as a bullet list in a wide column and the identifiers in a compact one
  (pipelines/outputs/list_page.py).
Text comes from declarations and is hostile until proven otherwise:
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

# Listed columns, in order, with the header shown in XLSX and HTML; absent ones are skipped.
# Reasons and goods first, then the route, then identifiers and scores.
# No run id: it changes with every run, and a re-run must give byte-identical lists
# (the run id is in the scores and the run record).
COLUMNS = {
    "rank_in_office": "Rank", "lane": "Lane", "selection_basis": "Selected by",
    "reason_1": "Reason 1", "reason_2": "Reason 2", "reason_3": "Reason 3",
    "main_goods_description": "Goods description", "brands": "Declared brands", "matched_brand": "Recorded brand",
    "main_hs_code": "Main HS code", "total_value_hkd": "Value HK$", "package_count": "Packages",
    "gross_weight_kg": "Gross kg", "transport_mode": "Mode", "port_of_loading": "Loading port",
    "route_ports": "Transit ports", "port_of_discharge": "Discharge port", "destination_country": "Destination",
    "consignment_id": "Consignment", "declaration_ids": "Declarations", "lodged_date": "Lodged",
    "customs_office": "Office", "exporter_id": "Exporter", "consignor_id": "Consignor",
    "consignee_id": "Consignee", "forwarder_id": "Forwarder", "declarant_id": "Declarant",
    "score": "Model score", "score_adjusted": "Score after profiles", "selection_reason": "Selection reason",
    "profile_hits": "Profiles", "model_version": "Model version",
}
# The XLSX result columns (header texts are read by `outcomes import`: keep them stable).
RESULT_COLUMNS = ("Result", "Inspected on", "Not inspected because", "Seized items", "Seized value HK$",
                  "Infringement type", "Brands found", "Note")
RESULTS = ("SEIZED", "CLEAN", "NOT_INSPECTED")
INFRINGEMENT_TYPES = ("TRADEMARK", "COPYRIGHT", "DESIGN", "PATENT")
RED_SHEET, AMBER_SHEET = "list", "AMBER document checks"
DIRECT = "direct"  # the transit ports of a direct route
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


@dataclass(frozen=True)
class Listed:
    """An office-by-office listing: the RED list, the AMBER queue, every office to write."""
    red: pd.DataFrame
    amber: pd.DataFrame
    offices: list[str] = field(default_factory=list)


def listed_rows(selected: Any, offices: list[str] | None = None) -> Listed:
    """The RED list (selected rows) and the AMBER queue (not selected, lane AMBER), as pandas in
    COLUMNS order, from Spark or pandas. Offices: the given ones, else every office seen."""
    if isinstance(selected, pd.DataFrame):
        seen = sorted({str(o) for o in selected["customs_office"].dropna()})
        rows = selected
    else:
        from pyspark.sql import functions as F

        wanted = [c for c in list(COLUMNS) + ["reasons", "selected"] if c in selected.columns]
        # Bounded: the listed rows (capacity + RANDOM sample + the AMBER rows the caller kept)
        # and each office's first row, so offices with nothing listed are known too.
        keep = F.col("selected") | (F.col("rank_in_office") == F.lit(1)) | (F.col("lane") == F.lit("AMBER"))
        rows = selected.where(keep).select(*wanted).toPandas()
        seen = sorted({str(o) for o in rows["customs_office"].dropna()})
    is_red = rows["selected"].astype(bool)
    is_amber = ~is_red & (rows["lane"].astype(str) == "AMBER") if "lane" in rows else ~is_red & False
    return Listed(_in_columns(rows[is_red].copy()), _in_columns(rows[is_amber].copy()), sorted({*seen, *(offices or [])}))


def _in_columns(rows: pd.DataFrame) -> pd.DataFrame:
    reasons = rows["reasons"] if "reasons" in rows else pd.Series([[]] * len(rows), index=rows.index)
    for i in range(3):
        rows[f"reason_{i + 1}"] = [_nth(r, i) for r in reasons]
    if "route_ports" in rows:
        rows["route_ports"] = [_route(r) for r in rows["route_ports"]]
    ordered = [c for c in COLUMNS if c in rows.columns]
    rows = rows.sort_values(["customs_office", "rank_in_office", "consignment_id"], kind="mergesort")
    return rows[ordered].reset_index(drop=True)


def _route(ports: Any) -> Any:
    """Transit ports as listed: "direct" for none (an empty list or text), else as given."""
    if hasattr(ports, "tolist") and not isinstance(ports, str):
        ports = ports.tolist()
    if ports is None or (isinstance(ports, float) and math.isnan(ports)):
        return None
    empty = not [p for p in ports if p] if isinstance(ports, (list, tuple)) else not str(ports).strip(" ;")
    return DIRECT if empty else ports


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


def write_xlsx(listed: tuple[pd.DataFrame, pd.DataFrame], path: Path, title: str, run_date: str) -> None:
    """Sheet "list" (RED) and "AMBER document checks", each with the result columns after the listed ones."""
    import xlsxwriter

    options = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    workbook = xlsxwriter.Workbook(str(path), options)
    # A fixed creation time (the run date) keeps the file byte-identical across re-runs.
    workbook.set_properties({"title": title, "author": "shiprisk", "created": dt.datetime.fromisoformat(run_date)})
    formats = {"bold": workbook.add_format({"bold": True}), "text": workbook.add_format({"quote_prefix": True}),
               "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
               "result": workbook.add_format({"bold": True, "bg_color": "#FFF2CC"})}
    for name, rows in zip((RED_SHEET, AMBER_SHEET), listed):
        _write_sheet(workbook.add_worksheet(name), rows, formats, dt.date.fromisoformat(run_date))
    workbook.close()


def _write_sheet(sheet, rows: pd.DataFrame, formats: dict, list_date: dt.date) -> None:
    for j, column in enumerate(rows.columns):
        sheet.write_string(0, j, COLUMNS.get(column, column), formats["bold"])
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
            sheet.write_string(i, j, text, formats["text"] if is_formula_like(text) else None)
    first = len(rows.columns)
    for k, header in enumerate(RESULT_COLUMNS):
        sheet.write_string(0, first + k, header, formats["result"])
    _validate_results(sheet, first, max(len(rows), 1), list_date, formats["date"])
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(rows), 1), first + len(RESULT_COLUMNS) - 1)


def _validate_results(sheet, first: int, n_rows: int, list_date: dt.date, date_format) -> None:
    """Excel data validation on the result cells of rows 1..n_rows: what `outcomes import` accepts."""
    rules = {
        "Result": {"validate": "list", "source": list(RESULTS), "input_title": "Result",
                   "input_message": "SEIZED, CLEAN or NOT_INSPECTED"},
        "Inspected on": {"validate": "date", "criteria": ">=", "value": list_date, "input_title": "Inspected on",
                         "input_message": f"a date on or after {list_date.isoformat()}"},
        "Seized items": {"validate": "integer", "criteria": ">=", "value": 0, "input_title": "Seized items",
                         "input_message": "a whole number, 0 or more"},
        "Seized value HK$": {"validate": "decimal", "criteria": ">=", "value": 0, "input_title": "Seized value HK$",
                             "input_message": "HK$, 0 or more"},
        "Infringement type": {"validate": "list", "source": list(INFRINGEMENT_TYPES), "input_title": "Infringement type",
                              "input_message": ", ".join(INFRINGEMENT_TYPES)},
    }
    for k, header in enumerate(RESULT_COLUMNS):
        col = first + k
        sheet.set_column(col, col, 14 if header != "Note" else 30, date_format if header == "Inspected on" else None)
        if header in rules:
            rule = {**rules[header], "error_title": header, "error_message": rules[header]["input_message"]}
            sheet.data_validation(1, col, n_rows, col, rule)


def write_inspection_lists(listed: Any, out_dir: str, run_date: str, offices: list[str] | None = None) -> list[str]:
    """Write <office>.csv, .xlsx and .html into out_dir for every office; return the paths.

    `listed` is the output of models.selection.select_for_inspection (Spark or pandas) with a
    `reasons` column (models.reasons.add_reasons), or only
    the rows that reach someone (models.selection.queue_for_office): selected rows make the RED
    list and non-selected AMBER rows the AMBER queue. Every office in `offices` (default: every
    office in `listed`) gets files, empty ones if nothing is listed, so a missing file always
    means a failure.
    """
    from pipelines.outputs.list_page import render_html

    rows = listed_rows(listed, offices)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stems = {office: office_file_stem(office) for office in rows.offices}
    # Case-folded: HKAIR and hkair would overwrite each other on a Windows or macOS share.
    if len({stem.casefold() for stem in stems.values()}) != len(stems):
        raise ValueError(f"office codes collide as file names: {stems}")
    written: list[str] = []
    for office in rows.offices:
        red, amber = (part[part["customs_office"].astype(str) == office].reset_index(drop=True)
                      for part in (rows.red, rows.amber))
        title = f"Inspection list {office} {run_date}"
        csv_path, xlsx_path, html_path = (out / f"{stems[office]}.{ext}" for ext in ("csv", "xlsx", "html"))
        write_csv(red, csv_path)
        write_xlsx((red, amber), xlsx_path, title, run_date)
        page = render_html(title, red, amber, (cells_of(red), cells_of(amber)))
        html_path.write_text(page, encoding="utf-8", newline="\n")
        written += [str(csv_path), str(xlsx_path), str(html_path)]
    return written


def cells_of(rows: pd.DataFrame) -> list[dict[str, str]]:
    """Each row as {column: text}, formatted as in the CSV (without its formula guard)."""
    return [{c: _text(cell_value(c, v), c) for c, v in zip(rows.columns, rec)} for rec in rows.itertuples(index=False)]


# Columns of the scored frame beyond the registered features that templates may use.
SCORED_COLUMNS = ("score", "score_adjusted", "model_version", "run_id", "run_date", "lodged_date", "selection_basis",
                  "total_value_hkd", "declarant_id", "gross_weight_kg", "package_count", "consignee_country",
                  "destination_country", "n_items", "brands", "carrier_code", "declaration_type")


@dataclass(frozen=True)
class Targeting:
    """What selection needs besides the scores: analyst profiles, the policy, reason templates, and
    the watch-list sources' readable names (settings exchange.source_names) for the reasons."""
    profiles: list
    policy: dict
    templates: dict
    source_names: dict = field(default_factory=dict)


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
    source_names = (settings.get("exchange") or {}).get("source_names") or {}
    return Targeting(profiles, policy, settings["reasons"], {str(k): str(v) for k, v in source_names.items()})
