"""The result form: posted fields -> ResultEntry, and a recorded version -> the form's values."""
from __future__ import annotations

import math

from pipelines.workbench.store import TEXT_LIMIT, ResultEntry

FIELDS = ("result", "inspected_on", "not_inspected_reason", "seized_items", "seized_value_hkd",
          "infringement_type", "brands_found", "note")


def blank_form(**values) -> dict:
    return {**dict.fromkeys(FIELDS), **{k: v for k, v in values.items() if k in FIELDS}}


def form_from_result(version: dict) -> dict:
    """The form pre-filled with the current version, so a correction starts from it."""
    return blank_form(**version)


def _text(form: dict, name: str) -> str | None:
    value = (form.get(name) or "").strip()
    return value or None


def selection_reason_of(row: dict) -> str:
    """The contract's selection reason of a listed row: the list's own, or RISK for an AMBER row
    whose list left it empty (a document check is picked by its risk score)."""
    return str(row.get("selection_reason") or ("RISK" if row.get("lane") == "AMBER" else ""))


def entry_from_form(form: dict, row: dict, office: str, day: str) -> tuple[ResultEntry | None, list[str]]:
    """The entry the form describes, for the listed `row`, and what could not be read; the
    contract's rules are checked afterwards by store.check_entry. The selection reason comes
    from the list, never from the form."""
    problems = []
    seized_items = seized_value = None
    raw_items, raw_value = _text(form, "seized_items"), _text(form, "seized_value_hkd")
    if raw_items is not None:
        try:
            seized_items = int(raw_items)
        except ValueError:
            problems.append(f"items seized {raw_items[:40]!r} must be a whole number")
    if raw_value is not None:
        try:
            seized_value = float(raw_value.replace(",", ""))
            if not math.isfinite(seized_value):
                raise ValueError(raw_value)
        except ValueError:
            problems.append(f"value seized {raw_value[:40]!r} must be a number of HK$")
    for name in ("not_inspected_reason", "brands_found", "note"):
        if len(form.get(name) or "") > TEXT_LIMIT:
            problems.append(f"{name.replace('_', ' ')} is longer than {TEXT_LIMIT} characters")
    if problems:
        return None, problems
    entry = ResultEntry(
        consignment_id=str(row["consignment_id"]), list_date=day, office=office,
        selection_reason=selection_reason_of(row), result=_text(form, "result") or "",
        inspected_on=_text(form, "inspected_on"), not_inspected_reason=_text(form, "not_inspected_reason"),
        seized_items=seized_items, seized_value_hkd=seized_value, infringement_type=_text(form, "infringement_type"),
        brands_found=_text(form, "brands_found"), note=_text(form, "note"))
    return entry, []
