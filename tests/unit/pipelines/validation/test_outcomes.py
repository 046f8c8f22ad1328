"""Outcomes read after a window (late labels) pass the same row checks and superseded rule."""
import datetime as dt

from pipelines.validation.outcomes import read_valid_outcomes

HEADER = "consignment_id,inspected_on,selection_reason,result,seized_items,seized_value_hkd,infringement_type\n"


def test_a_lower_case_result_is_refused_not_read_as_clean_and_later_rows_win(spark, settings, tmp_path):
    for day, lines in (("2026-06-02", ["c1,2026-06-02,RISK,CLEAN,,,", "c2,2026-06-02,RANDOM,seized,3,90,TRADEMARK"]),
                       ("2026-06-04", ["c1,2026-06-04,RISK,SEIZED,2,50,TRADEMARK", "c3,2026-06-04,EXPLORATION,CLEAN,,,"])):
        folder = tmp_path / "outcomes" / f"date={day}"
        folder.mkdir(parents=True)
        (folder / "o.csv").write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    rows = read_valid_outcomes(spark, str(tmp_path), ["2026-06-02", "2026-06-04"], settings["validation"]).collect()
    got = sorted((r.consignment_id, r.inspected_on, r.result, r.selection_reason) for r in rows)
    # c2's `seized` is not in the contract: refused, never a CLEAN label; c1's later finding replaces the earlier.
    assert got == [("c1", dt.date(2026, 6, 4), "SEIZED", "RISK"), ("c3", dt.date(2026, 6, 4), "CLEAN", "EXPLORATION")]
