"""The result form: typed values become a ResultEntry; the selection reason comes from the list."""
from __future__ import annotations

import datetime as dt

from pipelines.workbench.forms import blank_form, entry_from_form, form_from_result
from pipelines.workbench.store import check_entry

ROW = {"consignment_id": "CS1", "selection_reason": "RANDOM"}
DAY = "2026-11-28"
TODAY = dt.date(2026, 11, 30)


def test_a_seizure_is_read_with_numbers_and_the_lists_reason():
    form = {"result": "SEIZED", "inspected_on": DAY, "seized_items": "12", "seized_value_hkd": "3,400.50",
            "infringement_type": "TRADEMARK", "brands_found": " NIKE ", "note": "", "selection_reason": "RISK"}
    entry, problems = entry_from_form(form, ROW, "KC", DAY)
    assert problems == []
    assert (entry.seized_items, entry.seized_value_hkd, entry.brands_found, entry.note) == (12, 3400.5, "NIKE", None)
    assert entry.selection_reason == "RANDOM"  # from the list, not the posted field
    assert (entry.office, entry.list_date, entry.consignment_id) == ("KC", DAY, "CS1")
    assert check_entry(entry, TODAY) == []


def test_unreadable_numbers_are_named():
    _, problems = entry_from_form({"result": "SEIZED", "seized_items": "1.5", "seized_value_hkd": "nan"}, ROW, "KC", DAY)
    assert problems == ["items seized '1.5' must be a whole number", "value seized 'nan' must be a number of HK$"]


def test_contract_rules_apply_after_reading():
    entry, _ = entry_from_form({"result": "NOT_INSPECTED", "inspected_on": DAY}, ROW, "KC", DAY)
    assert check_entry(entry, TODAY) == ["NOT_INSPECTED needs a reason (for example: already departed)",
                                         "NOT_INSPECTED has no inspection day"]
    entry, _ = entry_from_form({"result": "CLEAN", "inspected_on": DAY, "seized_items": "3"}, ROW, "KC", DAY)
    assert check_entry(entry, TODAY) == ["seized items, value and infringement type belong to a SEIZED result only"]


def test_forms_always_carry_every_field():
    assert set(blank_form()) == set(form_from_result({"result": "CLEAN", "id": 3, "recorded_by": "x"}))
    assert form_from_result({"result": "CLEAN", "note": "n"})["note"] == "n"


def test_an_amber_row_without_a_selection_reason_records_risk():
    entry, _ = entry_from_form({"result": "CLEAN", "inspected_on": DAY}, {"consignment_id": "A1", "lane": "AMBER",
                                                                          "selection_reason": None}, "KC", DAY)
    assert entry.selection_reason == "RISK" and check_entry(entry, TODAY) == []
    entry, _ = entry_from_form({"result": "CLEAN", "inspected_on": DAY}, {"consignment_id": "R1", "lane": "RED",
                                                                          "selection_reason": None}, "KC", DAY)
    assert check_entry(entry, TODAY) == ["selection reason '' is not one of RISK, EXPLORATION, RANDOM, INTEL, OTHER"]
