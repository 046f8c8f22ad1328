"""The worlds table (issue 17 item 5) end to end, small: real `shiprisk generate`, `train`, `models`
and `nightly` subprocesses, then the figures checked against the scores and truth files read apart."""
import json
import math
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def _csvs(folder: Path) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p, dtype=str) for p in sorted(folder.rglob("*.csv"))], ignore_index=True)


def _top_precision(night: pd.DataFrame, column: str, share: float) -> float:
    """Precision of the top ceil(share x n) by `column`, ties by consignment_id (as the evaluation)."""
    k = max(1, math.ceil(share * len(night)))
    top = night.sort_values([column, "consignment_id"], ascending=[False, True]).head(k)
    return float(top["is_counterfeit"].mean())


def test_worlds_table_matches_the_nights_scores_and_truth(spark, small_conf, tmp_path):
    from pipelines.devtools.worlds import main

    out = tmp_path / "worlds"
    assert main(["--worlds", "mainland_express", "--per-day", "400", "--train-days", "24", "--nights", "1",
                 "--label-lag", "3", "--out", str(out), "--card", str(tmp_path / "docs" / "model_card.md")]) == 0
    figures = json.loads((out / "worlds.json").read_text(encoding="utf-8"))
    world = figures["worlds"]["mainland_express"]
    commands = world["commands"]
    assert commands[0].startswith("shiprisk generate ") and "--world mainland_express" in commands[0]
    assert any(c.startswith("shiprisk train ") and "--from 2026-03-01 --to 2026-03-24" in c for c in commands)
    assert [c.split()[-1] for c in commands if c.startswith("shiprisk nightly ")] == ["2026-03-25"]

    root, workspace = out / "mainland_express" / "input", out / "mainland_express" / "workspace"
    risk = set(_csvs(root / "outcomes").query("selection_reason == 'RISK'")["consignment_id"])
    day = "2026-03-25"
    scores = pd.read_parquet(workspace / "nights" / f"date={day}" / "scores")[["consignment_id", "score"]]
    truth = _csvs(root / "truth" / f"date={day}")
    truth = truth.assign(p_counterfeit=truth["p_counterfeit"].astype(float), is_counterfeit=truth["is_counterfeit"] == "true")
    night = scores.merge(truth, on="consignment_id", how="inner")
    measured = world["nights"][day]
    assert measured["n"] == len(night) > 300
    for share in (0.01, 0.05):
        cell = measured["at_capacity"][f"{share:g}"]
        assert cell["k"] == math.ceil(share * len(night))
        assert cell["precision"] == pytest.approx(_top_precision(night, "score", share))
        assert cell["oracle_precision"] == pytest.approx(_top_precision(night, "p_counterfeit", share))
    picked = night[night["consignment_id"].isin(risk)]
    assert measured["legacy_picks"] == len(picked) > 0
    assert measured["legacy_precision"] == pytest.approx(picked["is_counterfeit"].mean())

    # One night (pooling several is tests/unit/pipelines/devtools/test_worlds_table.py's): the table's row is it.
    pooled = world["all_nights"]["at_capacity"]["0.01"]
    assert pooled == measured["at_capacity"]["0.01"] and world["all_nights"]["n"] == measured["n"]
    table = (out / "worlds.md").read_text(encoding="utf-8")
    assert f"| mainland_express | 1 | {world['all_nights']['n']} | {pooled['precision']:.3f} |" in table
    card = (tmp_path / "docs" / "model_card.md").read_text(encoding="utf-8")
    assert "## Other worlds" in card and commands[1] in card
