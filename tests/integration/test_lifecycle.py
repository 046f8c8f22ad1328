"""Train, evaluate, promote, roll back and score through the real CLI, Spark and MLflow store."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from pipelines.cli import main
from pipelines.io.workspace import Workspace
from tests.integration.conftest import LAST_DAY, START, TRAIN_TO

pytestmark = pytest.mark.slow


def test_first_training_registers_a_champion_with_its_record(trained, settings):
    from pipelines.io import tracking

    cfg = settings
    tracking.configure(cfg, Workspace(trained))
    name = cfg["mlflow"]["registered_model"]
    assert tracking.alias_version(name, "champion") == "1"
    run = tracking.client().get_run(tracking.client().get_model_version(name, "1").run_id)
    params = run.data.params
    # Time split: the fit window ends the day before the hold-out starts, no overlap.
    assert params["train_from"] == START.isoformat()
    assert dt.date.fromisoformat(params["train_to"]) + dt.timedelta(days=1) == dt.date.fromisoformat(params["holdout_from"])
    assert params["holdout_to"] == TRAIN_TO.isoformat()
    assert run.data.tags["git_commit"] and params["feature_registry_version"] and params["input_digest"]
    assert "inspected_pr_auc" in run.data.metrics


def test_nightly_scores_every_valid_consignment_and_writes_lists(trained):
    summary = json.loads(Path(Workspace(trained).summary(LAST_DAY.isoformat())).read_text())
    counts = summary["counts"]
    assert counts["consignments_read"] == counts["consignments_scored"] + counts["consignments_quarantined"]
    assert 0 <= summary["score_distribution"]["p50"] <= summary["score_distribution"]["max"] <= 1
    scores = pd.read_parquet(Workspace(trained).scores_day(LAST_DAY.isoformat()))
    assert len(scores) == counts["consignments_scored"] > 0
    assert scores["consignment_id"].is_unique
    assert (scores["model_version"] == "1").all() and scores["run_id"].notna().all()
    assert scores["rank"].tolist() == sorted(scores["rank"].tolist())
    assert scores["score_adjusted"].is_monotonic_decreasing
    lists = list(Path(Workspace(trained).lists_day(LAST_DAY.isoformat())).glob("*.csv"))
    assert lists, "no inspection list written"
    listed = pd.concat([pd.read_csv(p) for p in lists])
    assert len(listed) == counts["selected"]
    # The fixture trained up to TRAIN_TO and ran no night until LAST_DAY: the run record says which
    # days the look-back lacks and how to fill them, rather than scoring on a silently thin history.
    gap = [w for w in summary["warnings"] if "history misses" in w]
    first_gap, last_gap = TRAIN_TO + dt.timedelta(days=1), LAST_DAY - dt.timedelta(days=1)
    assert gap == [f"the workspace's history misses 7 day(s) in the look-back of {LAST_DAY} ({first_gap}..{last_gap}): "
                   "party and route history features undercount those days; back-fill them with `shiprisk features "
                   f"--input <root> --workspace {trained} --from {first_gap} --to {last_gap}`"]


def test_reloading_the_champion_gives_identical_scores(trained, spark, settings):
    from features.registry import model_inputs
    from models.factory import to_model_frame
    from pipelines.io import tracking

    cfg = settings
    tracking.configure(cfg, Workspace(trained))
    numeric, categorical = model_inputs()
    features = pd.read_parquet(f"{trained}/features/date={LAST_DAY}")
    frame = to_model_frame(features, numeric, categorical)
    a, _ = tracking.load_model(cfg["mlflow"]["registered_model"], "champion")
    b, _ = tracking.load_model(cfg["mlflow"]["registered_model"], "champion")
    pd.testing.assert_series_equal(pd.Series(a.predict_proba(frame)[:, 1]), pd.Series(b.predict_proba(frame)[:, 1]))
    stored = pd.read_parquet(Workspace(trained).scores_day(LAST_DAY.isoformat())).set_index("consignment_id")["score"]
    fresh = pd.Series(a.predict_proba(frame)[:, 1], index=features["consignment_id"])
    pd.testing.assert_series_equal(stored.sort_index(), fresh.sort_index(), check_names=False)


def test_promotion_refuses_a_worse_challenger_then_accepts_and_rollback_restores(trained, input_root, monkeypatch, settings,
                                                                                capsys):
    from pipelines.io import tracking

    # The champion's own window again: any challenger will do, the margin decides. Its features
    # are the stored ones (nothing they were built from has changed since): a refit only.
    capsys.readouterr()
    assert main(["train", "--input", input_root, "--workspace", trained,
                 "--from", START.isoformat(), "--to", TRAIN_TO.isoformat()]) == 0
    assert f"features of {START}..{TRAIN_TO} reused" in capsys.readouterr().err
    cfg = settings
    tracking.configure(cfg, Workspace(trained))
    name = cfg["mlflow"]["registered_model"]
    assert tracking.alias_version(name, "challenger") == "2"
    # A challenger must beat the champion by 2 AUC points more than is possible: refused.
    monkeypatch.setenv("SHIPRISK__PROMOTION__MARGIN", "-2")
    assert main(["promote", "--workspace", trained]) == 0
    # Both versions are compared on the challenger's hold-out, a window of its own: built once,
    # then reused by the second promotion.
    holdout = f"{TRAIN_TO - dt.timedelta(days=6)}..{TRAIN_TO}"
    assert f"features of {holdout} reused" not in capsys.readouterr().err
    assert tracking.alias_version(name, "champion") == "1"
    assert tracking.alias_version(name, "challenger") == "2"
    # Within any margin: accepted.
    monkeypatch.setenv("SHIPRISK__PROMOTION__MARGIN", "2")
    assert main(["promote", "--workspace", trained]) == 0
    assert tracking.alias_version(name, "champion") == "2"
    assert f"features of {holdout} reused" in capsys.readouterr().err
    assert main(["models", "--workspace", trained]) == 0
    listed = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert listed["2"] == "champion" and listed["1"] == "-"  # aliases shown where they point
    assert main(["rollback", "--workspace", trained]) == 0
    assert tracking.alias_version(name, "champion") == "1"


def test_evaluate_writes_json_and_html_for_a_version(trained, input_root, capsys):
    # Four days after the training window: 2,000 consignments, enough for every view of the report.
    assert main(["evaluate", "--input", input_root, "--workspace", trained, "--from",
                 (LAST_DAY - dt.timedelta(days=3)).isoformat(), "--to", LAST_DAY.isoformat(), "--model", "1"]) == 0
    out = capsys.readouterr().out
    assert "truth/oracle" in out and "legacy rules" in out
    report = next((Path(trained) / "reports").glob("evaluate-v1-*")) / "evaluation.json"
    data = json.loads(report.read_text())
    assert data["random"]["n"] <= data["inspected"]["n"]
    assert "truth" in data and data["truth"]["at_capacity"]["0.01"]["oracle_precision"] is not None


def test_clear_errors_for_unknown_version_and_empty_window(trained, input_root, capsys):
    assert main(["evaluate", "--input", input_root, "--workspace", trained, "--from", START.isoformat(),
                 "--to", START.isoformat(), "--model", "99"]) == 5  # no such model (docs/operations.md)
    assert "no version 99" in capsys.readouterr().err
    assert main(["train", "--input", input_root, "--workspace", trained, "--from", "2020-01-01", "--to", "2020-01-20"]) == 3
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line.startswith("error: ") and "empty partition" in last_line
