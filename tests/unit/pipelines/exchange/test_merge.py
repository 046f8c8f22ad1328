"""De-duplication of watch-list entries (pipelines.exchange.merge) on hand-built rows."""
from __future__ import annotations

from pipelines.exchange.merge import merge_entries, period


def row(entity_id="E1", source="MO", listed="2026-06-01", expires="", received="", note="", prov="", kind="EXPORTER"):
    return {"entity_type": kind, "entity_id": entity_id, "source": source, "listed_on": listed, "expires_on": expires,
            "received_on": received, "note": note, "provenance": prov}


def test_same_key_overlapping_merges_earliest_listed_latest_expiry():
    held = [row(listed="2026-06-01", expires="2026-12-01", received="2026-06-05", note="own", prov="MO:p0:aa")]
    new = row(listed="2026-05-20", expires="2027-03-01", received="2026-11-30", note="seizures=2", prov="MO:p1:bb")
    rows, counts = merge_entries(held, [new])
    assert counts == {"added": 0, "merged": 1, "unchanged": 0}
    assert rows == [row(listed="2026-05-20", expires="2027-03-01", received="2026-06-05", note="own // seizures=2",
                        prov="MO:p0:aa;MO:p1:bb")]


def test_received_on_of_a_merge_is_the_first_day_a_part_counted():
    """A partner's back-dated listed_on never makes the merged entry count earlier than its parts."""
    held = [row(listed="2026-06-01", received="2026-06-30", expires="2026-12-31")]  # counted from 06-30
    new = row(listed="2026-06-25", received="2026-06-20", expires="2026-12-31")  # counted from 06-25
    (merged,), _ = merge_entries(held, [new])
    assert (merged["listed_on"], merged["received_on"]) == ("2026-06-01", "2026-06-25")
    assert period(merged)[0].isoformat() == "2026-06-25"


def test_periods_with_a_gap_stay_separate():
    """Merging across a gap would list the party retroactively over days nobody had listed it."""
    held = [row(listed="2026-01-01", expires="2026-03-31")]
    new = row(listed="2026-06-01", expires="2026-12-31", received="2026-06-02")
    rows, counts = merge_entries(held, [new])
    assert counts["added"] == 1 and [r["listed_on"] for r in rows] == ["2026-01-01", "2026-06-01"]
    touching = row(listed="2026-04-01", received="2026-04-01", expires="2026-05-31")  # the day after 03-31
    rows, counts = merge_entries(held, [touching])
    assert counts["merged"] == 1 and [(r["listed_on"], r["expires_on"]) for r in rows] == [("2026-01-01", "2026-05-31")]


def test_other_sources_are_kept_as_their_own_rows():
    held = [row(source="GD", listed="2026-06-01")]
    rows, counts = merge_entries(held, [row(source="MO", listed="2026-06-03", received="2026-06-04")])
    assert counts["added"] == 1 and [r["source"] for r in rows] == ["GD", "MO"]


def test_open_ended_wins_and_reimport_changes_nothing():
    held = [row(listed="2026-06-01", expires="")]
    new = row(listed="2026-06-01", expires="2026-09-01", received="2026-06-10", note="n", prov="MO:p1:bb")
    once, _ = merge_entries(held, [new])
    assert once[0]["expires_on"] == "" and once[0]["received_on"] == "2026-06-01"
    again, counts = merge_entries(once, [dict(new, received_on="2026-07-01")])  # the same package, a later day
    assert again == once and counts == {"added": 0, "merged": 0, "unchanged": 1}


def test_untouched_rows_keep_their_text_and_bad_held_dates_are_not_merged():
    held = [row(entity_id="E9", listed="2026-06-01", note="x"), row(entity_id="E1", listed="not a date")]
    rows, counts = merge_entries(held, [row(entity_id="E1", listed="2026-06-01", received="2026-06-02")])
    assert counts["added"] == 1
    assert held[0] in rows and {"not a date", "2026-06-01"} == {r["listed_on"] for r in rows if r["entity_id"] == "E1"}
