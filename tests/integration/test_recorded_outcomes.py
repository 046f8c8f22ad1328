"""Issue 15's round trip: results recorded for night D in the results database flow back as labels
and party history, through the real CLI on generated data.

train (no database: the input root's labels only) -> record SEIZED / CLEAN / NOT_INSPECTED results
and a correction for consignments of night D that the feed never inspected -> `outcomes export`
-> `features` D..D+1: the exporter's seizure count seen by night D+1 rises by the seizures recorded
-> train again over the same window: exactly the recorded SEIZED + CLEAN results are new labels.
"""
from __future__ import annotations

import csv
import datetime as dt

import pytest
from pyspark.sql import functions as F

START = dt.date(2026, 6, 1)
DAYS = 8
PER_DAY = 200
LAST = START + dt.timedelta(days=DAYS - 1)
NIGHT = START + dt.timedelta(days=3)  # D: in the fitting days (the hold-out is the last 3)
# Small and quick: a short hold-out, few boosting rounds, and a world with more fakes and more
# random and quicker inspections so that eight days of 200 consignments hold enough labels to
# fit and calibrate on.
SETTINGS_ENV = {"SHIPRISK__EVALUATION__HOLDOUT_DAYS": "3", "SHIPRISK__EVALUATION__MIN_POSITIVES": "3",
                "SHIPRISK__EVALUATION__MIN_LABELLED_ROWS": "20", "SHIPRISK__MODEL__MAX_ITER": "30", "SHIPRISK__MODEL__CALIBRATION_SHARE": "0.3",
                "SHIPRISK__SPARK__SHUFFLE_PARTITIONS": "2"}
WORLD = {"latent": {"base_rate": 0.10}, "inspections": {"random_rate": 0.08, "inspection_delay_days": [1, 2]}}
NEXT = NIGHT + dt.timedelta(days=1)
SEIZURES = "exporter_seizures_30d"


def train_params(workspace: str, settings: dict, version: str) -> dict:
    from pipelines.io import tracking
    from pipelines.io.workspace import Workspace

    tracking.configure(settings, Workspace(workspace))
    client = tracking.client()
    run_id = client.get_model_version(settings["mlflow"]["registered_model"], version).run_id
    return client.get_run(run_id).data.params


def feature_of(spark, workspace: str, day: dt.date, consignment_id: str) -> int:
    row = (spark.read.parquet(f"{workspace}/features/date={day}")
           .where(F.col("consignment_id") == consignment_id).select(SEIZURES).first())
    return row[SEIZURES]


def pick(spark, root: str, workspace: str) -> dict:
    """Consignments of night D never inspected in the feed, from the exporter that has the most
    of them and also ships on D+1 (the one whose history night D+1 reads)."""
    from pipelines.io.readers import read_dataset

    inspected = read_dataset(spark, root, "outcomes").select("consignment_id").distinct()
    features = spark.read.parquet(f"{workspace}/features/date={NIGHT}").select("consignment_id")
    items = read_dataset(spark, root, "declarations", [NIGHT.isoformat(), NEXT.isoformat()])
    parties = (items.select("consignment_id", "exporter_id", "customs_office", F.to_date("lodged_at").alias("day"))
               .dropDuplicates(["consignment_id"]))  # one exporter and office per consignment in the generator
    fresh = (parties.where(F.col("day") == F.lit(NIGHT)).join(features, "consignment_id", how="inner")
             .join(inspected, "consignment_id", how="left_anti")).toPandas()
    next_day = parties.where(F.col("day") == F.lit(NEXT)).toPandas()
    shared = fresh[fresh["exporter_id"].isin(set(next_day["exporter_id"]))]
    exporter = shared["exporter_id"].value_counts().index[0]
    mine = fresh[fresh["exporter_id"] == exporter].sort_values("consignment_id")
    others = fresh[fresh["exporter_id"] != exporter].sort_values("consignment_id")
    return {"exporter": exporter, "seized": mine.head(2).to_dict("records"), "others": others.head(3).to_dict("records"),
            "next": next_day[next_day["exporter_id"] == exporter].sort_values("consignment_id").iloc[0]["consignment_id"]}


@pytest.mark.slow
def test_recorded_results_become_labels_and_party_history(spark, settings, tmp_path, monkeypatch, capsys):
    import copy

    from pipelines.cli import main
    from pipelines.devtools.synthetic import generate
    from pipelines.io.workspace import Workspace
    from pipelines.workbench.store import ResultEntry, ResultStore

    root, workspace, exported = str(tmp_path / "input"), str(tmp_path / "ws"), tmp_path / "exported"
    for key, value in SETTINGS_ENV.items():
        monkeypatch.setenv(key, value)
    world = copy.deepcopy(settings["synthetic"])
    for section, values in WORLD.items():
        world[section].update(values)
    generate(root, START, DAYS, PER_DAY, 7, world)
    window = ["--input", root, "--workspace", workspace, "--from", START.isoformat(), "--to", LAST.isoformat()]
    assert main(["train", *window]) == 0
    assert not (tmp_path / "ws" / "workbench.db").exists()  # nothing recorded: no database appears
    before = train_params(workspace, settings, "1")
    chosen = pick(spark, root, workspace)
    seizures_before = feature_of(spark, workspace, NEXT, chosen["next"])

    def entry(row, reason, result, **more):
        return ResultEntry(consignment_id=row["consignment_id"], list_date=NIGHT.isoformat(),
                           office=row["customs_office"], selection_reason=reason, result=result, **more)

    (s1, s2), (c1, c2, n1) = chosen["seized"], chosen["others"]
    day = NIGHT.isoformat()
    store = ResultStore.for_workspace(Workspace(workspace), settings)
    store.record([entry(s1, "RISK", "CLEAN", inspected_on=day),  # corrected below: the CLEAN must not count
                  entry(s2, "RANDOM", "SEIZED", inspected_on=day, seized_items=5, infringement_type="TRADEMARK"),
                  entry(c1, "EXPLORATION", "CLEAN", inspected_on=day, note='=HYPERLINK("http://x","y")'),
                  entry(c2, "RISK", "CLEAN", inspected_on=day),
                  entry(n1, "RISK", "NOT_INSPECTED", not_inspected_reason="already departed")], "ana", "web")
    store.record([entry(s1, "RISK", "SEIZED", inspected_on=day, seized_items=40, seized_value_hkd=12000.0,
                        infringement_type="TRADEMARK", brands_found="LUMORA")], "ben", "xlsx")

    assert main(["outcomes", "export", "--workspace", workspace, "--out", str(exported)]) == 0
    with open(exported / "outcomes" / f"date={day}" / "recorded_results.csv", newline="", encoding="utf-8") as f:
        rows = {r["consignment_id"]: r for r in csv.DictReader(f)}
    assert {c: (r["selection_reason"], r["result"]) for c, r in rows.items()} == {
        s1["consignment_id"]: ("RISK", "SEIZED"), s2["consignment_id"]: ("RANDOM", "SEIZED"),
        c1["consignment_id"]: ("EXPLORATION", "CLEAN"), c2["consignment_id"]: ("RISK", "CLEAN")}
    assert rows[c1["consignment_id"]]["note"] == "'=HYPERLINK(\"http://x\",\"y\")"

    # Night D+1's party history: D's aggregates rebuilt with the recorded results read beside the feed.
    assert main(["features", "--input", root, "--workspace", workspace, "--from", day, "--to", NEXT.isoformat()]) == 0
    assert feature_of(spark, workspace, NEXT, chosen["next"]) == seizures_before + 2
    recorded_day = tmp_path / "ws" / "recorded" / "outcomes" / f"date={day}" / "recorded_results.csv"
    assert recorded_day.read_text(encoding="utf-8") == (exported / "outcomes" / f"date={day}" /
                                                        "recorded_results.csv").read_text(encoding="utf-8")

    capsys.readouterr()
    assert main(["train", *window]) == 0
    # The same window, but its history and recorded results changed: its features are built again.
    assert f"features of {START}..{LAST} reused" not in capsys.readouterr().err
    after = train_params(workspace, settings, "2")
    assert int(after["n_train_rows"]) == int(before["n_train_rows"]) + 4  # 2 SEIZED + 2 CLEAN; not the NOT_INSPECTED
    assert int(after["n_train_positives"]) == int(before["n_train_positives"]) + 2
    assert int(after["n_random_rows"]) == int(before["n_random_rows"]) + 1
    assert (before["recorded_root"], after["recorded_root"]) == ("none", f"{workspace}/recorded")
