"""`shiprisk ablation` on the shared small root: one fit per family left out, reports in W/reports/.

It runs on a copy of the trained workspace over the window `train` built: the stored features
are reused (pipelines.jobs.feature_reuse), which is how a risk team runs it after training."""
import json
import shutil
from pathlib import Path

import pytest

from features.registry import all_features, model_inputs
from pipelines.cli import main
from pipelines.jobs.ablation import family_columns

pytestmark = pytest.mark.slow
# The window of the shared root that `trained` (conftest.py) trains on.
START, TRAIN_TO = "2026-06-01", "2026-06-28"


def test_ablation_leaves_out_each_family_and_reports_the_loss(trained, input_root, small_conf, tmp_path, capsys):
    workspace = tmp_path / "ws"
    shutil.copytree(trained, workspace)
    card = tmp_path / "docs" / "model_card.md"
    assert main(["ablation", "--input", input_root, "--workspace", str(workspace), "--from", START,
                 "--to", TRAIN_TO, "--card", str(card), "--note", "small test run"]) == 0
    printed = capsys.readouterr()
    assert f"features of {START}..{TRAIN_TO} reused" in printed.err
    result = json.loads((workspace / "reports" / "ablation.json").read_text(encoding="utf-8"))
    numeric, categorical = model_inputs()
    families = family_columns(all_features(), numeric, categorical)
    assert [(r["family"], r["columns"]) for r in result["families"]] == [(f, len(c)) for f, c in families.items()]
    assert result["holdout"] == ["2026-06-22", "2026-06-28"] and result["n_columns"] == len(numeric) + len(categorical)
    full = result["full"]
    assert 0.0 <= full["labelled"] <= 1.0 and 0.0 <= full["truth"] <= full["oracle"] <= 1.0
    for row in result["families"]:
        assert row["loss_labelled"] == pytest.approx(full["labelled"] - row["without_labelled"])
        assert row["loss_truth"] == pytest.approx(full["truth"] - row["without_truth"])
    # Leaving a family out changes the fit: were the columns not dropped, every model would be the full one.
    assert any(row["loss_truth"] != 0 for row in result["families"])
    table = (workspace / "reports" / "ablation.md").read_text(encoding="utf-8")
    party = next(r for r in result["families"] if r["family"] == "party")
    assert f"| party | {party['columns']} | {party['without_labelled']:.3f} |" in table
    assert table in printed.out
    text = Path(card).read_text(encoding="utf-8")
    assert "## Feature family ablation" in text and "_small test run_" in text and "| party |" in text
