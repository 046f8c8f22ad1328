"""`shiprisk bench` compares its headline figures with the recorded ones, and records them on request."""
import json

from pipelines.devtools.benchmark import compare_with_recorded, headline_figures, load_recorded, record_figures


def _results():
    night = {"per_day": 3000, "single_history": {"nightly_seconds": 18.0}, "double_history": {"nightly_seconds": 19.5}}
    return {"options": {"history_days": 30, "history_per_day": 3000}, "nights": [night],
            "train": {"days": 60, "per_day": 3000, "seconds": 140.0}, "backfill": {"days": 30, "per_day": 3000, "seconds": 90.0}}


def test_headline_figures_name_their_scale():
    assert headline_figures(_results()) == {"night of 3,000 (history 30d x 3,000)": 18.0,
                                            "train 60 days x 3,000": 140.0, "backfill 30 days x 3,000": 90.0}


def test_ratio_to_the_recorded_figure_and_none_where_nothing_was_recorded(tmp_path):
    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps({"figures": {"night of 3,000 (history 30d x 3,000)": {"seconds": 72.0}}}))
    rows = {r["figure"]: r for r in compare_with_recorded(headline_figures(_results()), load_recorded(path))}
    assert rows["night of 3,000 (history 30d x 3,000)"]["ratio_to_previous"] == 0.25
    assert rows["train 60 days x 3,000"]["previous_seconds"] is None
    assert rows["train 60 days x 3,000"]["ratio_to_previous"] is None


def test_recording_replaces_figures_of_the_same_name_and_keeps_the_others(tmp_path):
    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps({"figures": {"night of 3,000 (history 30d x 3,000)": {"seconds": 72.0},
                                            "night of 100,000 (history 180d x 5,000)": {"seconds": 225.2}}}))
    record_figures(path, {"night of 3,000 (history 30d x 3,000)": 18.0}, "2026-12-01", 0.4)
    figures = json.loads(path.read_text())["figures"]
    assert figures["night of 3,000 (history 30d x 3,000)"] == {"seconds": 18.0, "recorded_on": "2026-12-01",
                                                                "load_average": 0.4}
    assert figures["night of 100,000 (history 180d x 5,000)"] == {"seconds": 225.2}
    assert load_recorded(tmp_path / "absent.json") == {"figures": {}}
