"""The evaluation page shows the hold-out week by week."""
from __future__ import annotations

import json

from pipelines.outputs.evaluation_report import write_report


def test_weeks_of_the_hold_out_are_tabled_in_order(tmp_path):
    report = {"inspected": {"at_capacity": {}}, "baselines": {},
              "by_week": {"truth": [{"week": "2026-08-31", "n": 700, "k": 7, "precision": 0.5714285,
                                     "oracle_precision": 0.7142857, "ratio_to_oracle": 0.8},
                                    {"week": "2026-09-07", "n": 700, "k": 7, "precision": 0.2857142,
                                     "oracle_precision": 0.7142857, "ratio_to_oracle": 0.4}]}}
    json_path, html_path = write_report(report, {}, str(tmp_path), "t", "s")
    html = (tmp_path / "evaluation.html").read_text(encoding="utf-8")
    first, second = html.index("<td>2026-08-31</td>"), html.index("<td>2026-09-07</td>")
    assert first < second
    assert "<td>0.5714</td><td>0.7143</td><td>0.8000</td>" in html
    assert "<td>0.2857</td><td>0.7143</td><td>0.4000</td>" in html
    assert json.loads((tmp_path / "evaluation.json").read_text())["by_week"]["truth"][1]["ratio_to_oracle"] == 0.4
