"""The benchmark's input root: a night of another size whose parties are the history's."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.devtools.benchmark import PARTY_COLUMNS, place_night
from pipelines.devtools.synthetic import generate

START = dt.date(2026, 3, 1)


def _parties(root, dataset, day) -> pd.DataFrame:
    files = list((root / dataset / f"date={day}").glob("*.csv"))
    return pd.concat(pd.read_csv(f, dtype=str, keep_default_na=False) for f in files)


def test_placed_night_replaces_the_day_and_deals_with_known_parties(tmp_path, settings):
    root = tmp_path / "input"
    generate(str(root), START, 3, 60, 4, settings["synthetic"])
    history = [(START + dt.timedelta(days=i)).isoformat() for i in range(2)]
    night = START + dt.timedelta(days=2)
    place_night(root, night, 150, 9, history, settings["synthetic"])

    manifests = _parties(root, "manifests", night)
    declarations = _parties(root, "declarations", night)
    assert len(manifests) == 150  # the generated night replaced the day's 60 consignments
    assert set(declarations["consignment_id"]) == set(manifests["consignment_id"])
    known = set()
    for day in history:
        for dataset, columns in PARTY_COLUMNS.items():
            known |= set(_parties(root, dataset, day)[list(columns)].to_numpy().ravel())
    for frame, columns in ((manifests, PARTY_COLUMNS["manifests"]), (declarations, PARTY_COLUMNS["declarations"])):
        used = {p for p in frame[list(columns)].to_numpy().ravel() if p}
        assert used <= known, f"parties not seen in the history: {sorted(used - known)[:5]}"
    # A consignor that is the exporter keeps being the same party after the renaming.
    joined = manifests.merge(declarations, on="consignment_id")
    direct = joined[joined["consignor_id"].str.startswith("EX")]
    assert len(direct) > 0 and (direct["consignor_id"] == direct["exporter_id"]).all()
