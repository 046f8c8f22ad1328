"""Another source that follows the contract but lacks whole signals: every optional column and
the optional fx_rates absent throughout, no transit ports, no recorded brand that matches, every
consignment inspected and no RANDOM sample. train and nightly must run, leave the dead
features out of the fit (listed in the model card) and reconcile their counts."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipelines.cli import main
from pipelines.io.workspace import Workspace
from pipelines.validation.contract import DATASETS

pytestmark = pytest.mark.slow
# 20 days: the 18-day train window keeps an 11-day fit (its last 7 days hold about 37 seizures, so
# model selection still runs) and the 7-day hold-out; more days only add validation and features.
START, DAYS = dt.date(2026, 7, 1), 20


def _optional(name: str) -> list[str]:
    return [c.name for c in DATASETS[name].columns if not c.required]


def _rewrite(folder: Path, change) -> None:
    for path in folder.rglob("*.csv"):
        change(pd.read_csv(path, dtype=str, keep_default_na=False)).to_csv(path, index=False)


def _every_consignment_inspected(root: Path) -> None:
    """One outcome per consignment, inspected the day after lodging, chosen by targeting (RISK)."""
    shutil.rmtree(root / "outcomes")
    for folder in sorted((root / "truth").iterdir()):
        lodged = dt.date.fromisoformat(folder.name.split("=")[1])
        truth = pd.concat(pd.read_csv(p, dtype=str) for p in folder.glob("*.csv"))
        inspected = (lodged + dt.timedelta(days=1)).isoformat()
        frame = pd.DataFrame({"consignment_id": truth["consignment_id"], "inspected_on": inspected,
                              "selection_reason": "RISK",
                              "result": ["SEIZED" if v.lower() == "true" else "CLEAN" for v in truth["is_counterfeit"]]})
        target = root / "outcomes" / f"date={inspected}"
        target.mkdir(parents=True, exist_ok=True)
        frame.to_csv(target / f"from-{lodged}.csv", index=False)


@pytest.fixture(scope="module")
def sparse_root(settings, tmp_path_factory):
    from pipelines.devtools.synthetic import generate

    root = tmp_path_factory.mktemp("sparse")
    generate(str(root), START, DAYS, 300, 5, settings["synthetic"])
    shutil.rmtree(root / "fx_rates")
    for name in ("manifests", "declarations", "intelligence", "rights_holders"):
        _rewrite(root / name, lambda f, name=name: f.drop(columns=[c for c in _optional(name) if c in f.columns]))
    _every_consignment_inspected(root)
    _rewrite(root / "rights_holders", lambda f: f.head(1).assign(brand="ZZQXNOBRAND", hs_prefixes="9999"))
    return root


def test_train_and_nightly_run_on_a_source_without_whole_signals(sparse_root, small_conf, tmp_path, capsys):
    workspace = str(tmp_path / "ws")
    last = START + dt.timedelta(days=DAYS - 2)  # the last day's consignments have their outcomes
    train_to = last - dt.timedelta(days=1)
    assert main(["train", "--input", str(sparse_root), "--workspace", workspace,
                 "--from", START.isoformat(), "--to", train_to.isoformat()]) == 0
    err = capsys.readouterr().err
    assert "features left out of this fit" in err
    card = Path(Workspace(workspace).model_card).read_text(encoding="utf-8")
    # No transit port anywhere: the route features are constant; no brand matches: the brand flag is constant.
    assert "n_transit_hubs (constant 0)" in card and "is_brand_recorded (constant 0)" in card
    assert main(["nightly", "--input", str(sparse_root), "--workspace", workspace, "--date", last.isoformat()]) == 0
    summary = json.loads(Path(Workspace(workspace).summary(last.isoformat())).read_text())
    counts = summary["counts"]
    assert counts["consignments_read"] == counts["consignments_scored"] + counts["consignments_quarantined"] == 300
    assert counts["selected"] > 0 and summary["drift_status"] == "MEASURED"
