"""The offline path: a filled-in XLSX inspection list read back as results (`shiprisk outcomes import`).

The only module that uses openpyxl. The workbook is opened read-only with data_only: a cell
gives its stored value, nothing is evaluated, and text that starts with `=` or an apostrophe
stays the text it is. Each worked row (a non-empty Result) becomes a ResultEntry checked with
the store's rules (store.check_entry) plus the list's: the consignment must be on the office's
list of that night, once; its selection reason comes from the list, never from the sheet.
Rows whose Result is empty are not yet worked: skipped and counted.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from pipelines.errors import FeedError, UserError
from pipelines.outputs.lists import is_formula_like
from pipelines.workbench.store import INFRINGEMENT_TYPES, RESULTS, ResultEntry, check_entry

# Header texts of the list's key and result columns (pipelines.outputs.lists writes them).
KEY = "Consignment"
OFFICE = "Office"
RESULT_HEADERS = {
    "Result": "result", "Inspected on": "inspected_on", "Not inspected because": "not_inspected_reason",
    "Seized items": "seized_items", "Seized value HK$": "seized_value_hkd",
    "Infringement type": "infringement_type", "Brands found": "brands_found", "Note": "note",
}
_ADVICE = (  # (words in a problem, what to do), first match wins
    ("is not on the list", "check --office and --date, or record it in the workbench as INTEL / OTHER"),
    ("more than once", "keep one row per consignment (the latest result) and delete the others"),
    ("is before the list", "write the day the consignment was inspected, on or after the list's night"),
    ("in the future", "write the day the consignment was inspected, not a later one"),
    ("inspected on", "write the inspection day as YYYY-MM-DD"),
    ("needs a reason", "fill in 'Not inspected because' (for example: already departed)"),
    ("no inspection day", "clear 'Inspected on' for a consignment that was not inspected"),
    ("belong to a SEIZED", "clear the seizure cells, or set Result to SEIZED"),
    ("result", f"choose one of {', '.join(RESULTS)}"),
    ("infringement type", f"choose one of {', '.join(INFRINGEMENT_TYPES)}"),
    ("seized items", "write a whole number of items, 0 or more"),
    ("seized value", "write the value in HK$ as a number, 0 or more"),
    ("office", "import each office's list with its own --office"),
    ("longer than", "shorten the text"),
)


class XlsxRefused(FeedError):
    """The file has bad rows: nothing was loaded. `problems` is the row-by-row report."""

    def __init__(self, message: str, problems: list[RowProblem]):
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class RowProblem:
    row: int  # the sheet's row number, as the spreadsheet shows it
    consignment: str
    problem: str
    advice: str


@dataclass
class SheetRows:
    """What a sheet holds: worked rows by sheet row number, and the rows not yet worked."""
    rows: list[tuple[int, dict]] = field(default_factory=list)
    not_worked: int = 0


def advice_for(problem: str) -> str:
    lower = problem.lower()
    return next((todo for words, todo in _ADVICE if words.lower() in lower), "correct the cell and import again")


def _text(value) -> str | None:
    """A cell as text: strings as they are (trimmed), whole numbers without '.0', empty as None."""
    if value is None:
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _key(value) -> str | None:
    """The consignment id; an apostrophe that a CSV list put before a formula-like id is undone."""
    text = _text(value)
    if text and text.startswith("'") and is_formula_like(text[1:]):
        return text[1:]
    return text


def read_sheet(path: str) -> SheetRows:
    """The worked rows of the list's sheet as raw cell values keyed by field name."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a broken or non-XLSX file: openpyxl raises many kinds
        raise UserError(f"{path} cannot be read as an XLSX workbook ({type(exc).__name__}: {exc}); "
                        "import the .xlsx list of the night, saved as Excel Workbook (.xlsx)") from None
    try:
        sheet = book["list"] if "list" in book.sheetnames else book.worksheets[0]
        return _rows(path, enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1))
    finally:
        book.close()


HEADER_SEARCH_ROWS = 10  # the header row is the first of these holding "Consignment"


def _header(path: str, rows) -> dict[str, int]:
    """Column index per header text, from the first row holding the key header."""
    for number, cells in rows:
        header = [(_text(h) or "") for h in cells]
        if KEY in header:
            columns = {name: header.index(name) for name in (KEY, OFFICE, *RESULT_HEADERS) if name in header}
            missing = [name for name in RESULT_HEADERS if name not in columns]
            if missing:
                raise UserError(f"{path}: the header row (row {number}) has no column "
                                f"{', '.join(repr(m) for m in missing)}; import the night's XLSX list with its "
                                "result columns filled in (headers unchanged)")
            return columns
        if number >= HEADER_SEARCH_ROWS:
            break
    raise UserError(f"{path}: no header row with a {KEY!r} column in the first {HEADER_SEARCH_ROWS} rows; import "
                    "the night's XLSX list (headers unchanged)")


def _rows(path: str, rows) -> SheetRows:
    """rows: (sheet row number, cell values) from the top of the sheet."""
    columns = _header(path, rows)
    out = SheetRows()
    for number, cells in rows:
        def cell(name, cells=cells):
            i = columns.get(name)
            return cells[i] if i is not None and i < len(cells) else None

        values = {field: cell(header) for header, field in RESULT_HEADERS.items()}
        values["consignment_id"], values["office"] = _key(cell(KEY)), _text(cell(OFFICE))
        if _text(values["result"]) is None:
            if values["consignment_id"] or any(_text(v) is not None for v in values.values()):
                out.not_worked += 1
            continue
        out.rows.append((number, values))
    return out


def _date(value) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return _text(value)


def _whole(value, name: str, problems: list[str]):
    if value is None or _text(value) is None:
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        problems.append(f"{name} {_text(value)!r} is not a number")
        return None
    if not math.isfinite(number) or not number.is_integer():
        problems.append(f"{name} {_text(value)!r} must be a whole number >= 0")
        return None
    return int(number)


def _number(value, name: str, problems: list[str]):
    if value is None or _text(value) is None:
        return None
    try:
        return float(str(value).strip().replace(",", ""))
    except ValueError:
        problems.append(f"{name} {_text(value)!r} is not a number")
        return None


def to_entry(values: dict, list_date: str, office: str, selection_reason: str) -> tuple[ResultEntry, list[str]]:
    """A sheet row as a ResultEntry, and what is wrong with it beyond check_entry's rules."""
    problems: list[str] = []
    if values["office"] and values["office"] != office:
        problems.append(f"the row's office {values['office']!r} is not {office!r}")
    result = (_text(values["result"]) or "").upper().replace(" ", "_")
    infringement = _text(values["infringement_type"])
    entry = ResultEntry(
        consignment_id=values["consignment_id"] or "", list_date=list_date, office=office,
        selection_reason=selection_reason, result=result, inspected_on=_date(values["inspected_on"]),
        not_inspected_reason=_text(values["not_inspected_reason"]),
        seized_items=_whole(values["seized_items"], "seized items", problems),
        seized_value_hkd=_number(values["seized_value_hkd"], "seized value", problems),
        infringement_type=infringement.upper() if infringement else None,
        brands_found=_text(values["brands_found"]), note=_text(values["note"]))
    return entry, problems


def check_sheet(sheet: SheetRows, listed: dict[str, str], office: str, list_date: str,
                today: dt.date | None = None) -> tuple[list[ResultEntry], list[RowProblem]]:
    """Entries of every worked row, and every problem of every row (empty: all can be recorded).

    listed: consignment_id -> selection_reason of the office's list of that night."""
    entries, problems, seen = [], [], {}
    for number, values in sheet.rows:
        cid = values["consignment_id"] or ""
        found = []
        if not cid:
            found.append("the Consignment cell is empty")
        elif cid not in listed:
            found.append(f"consignment {cid} is not on the list of office {office} for {list_date}")
        elif cid in seen:
            found.append(f"consignment {cid} appears more than once (rows {seen[cid]} and {number})")
        seen.setdefault(cid, number)
        entry, own = to_entry(values, list_date, office, listed.get(cid, "OTHER"))
        found += own + check_entry(entry, today)
        problems += [RowProblem(number, cid, p, advice_for(p)) for p in found]
        entries.append(entry)
    return entries, problems


def render_problems(problems: list[RowProblem]) -> str:
    lines = [f"row {p.row}: {p.consignment or '(no consignment)'}: {p.problem}; what to do: {p.advice}"
             for p in problems]
    return "\n".join(lines)
