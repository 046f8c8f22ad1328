"""The validation's counts of every dataset, taken together in one query, stay per dataset."""
from pipelines.validation.quarantine import reason_counts_of


def test_reason_counts_of_several_datasets_keep_each_its_own(spark):
    manifests = spark.createDataFrame(
        [("C1", "2026-09-05", []), ("C2", "2026-09-05", ["DUPLICATE_KEY"]), ("C2", "2026-09-06", ["DUPLICATE_KEY"]),
         ("C3", "2026-09-06", ["MISSING_VALUE", "DUPLICATE_KEY"])],
        "consignment_id string, _partition_date string, _reasons array<string>")
    outcomes = spark.createDataFrame(
        [("C1", "2026-09-06", [], False), ("C1", "2026-09-06", [], True), ("C9", "2026-09-06", ["ORPHAN_OUTCOME"], False)],
        "consignment_id string, _partition_date string, _reasons array<string>, _superseded boolean")
    counts = reason_counts_of({"manifests": manifests, "outcomes": outcomes})
    assert counts["manifests"] == {"rows": 4, "quarantined": 3, "superseded": 0,
                                   "by_reason": {"DUPLICATE_KEY": 3, "MISSING_VALUE": 1},
                                   "quarantined_by_date": {"2026-09-05": 1, "2026-09-06": 2}}
    assert counts["outcomes"] == {"rows": 3, "quarantined": 1, "superseded": 1, "by_reason": {"ORPHAN_OUTCOME": 1},
                                  "quarantined_by_date": {"2026-09-06": 1}}


def test_a_clean_dataset_writes_no_quarantine_and_clears_an_earlier_runs(spark, tmp_path):
    from pipelines.io.spark import jobs_started
    from pipelines.io.workspace import Workspace
    from pipelines.validation.contract import DATASETS
    from pipelines.validation.quarantine import write_quarantine

    workspace = Workspace(str(tmp_path / "ws"))
    earlier = tmp_path / "ws" / "quarantine" / "date=2026-09-05" / "manifests"
    earlier.mkdir(parents=True)
    (earlier / "part-0.parquet").write_bytes(b"an earlier run's quarantined rows")
    before = jobs_started(spark)
    # The frame is not read when the count says no row is quarantined.
    written = write_quarantine(spark, spark.range(0), DATASETS["manifests"], workspace, ["2026-09-05"], quarantined=0)
    assert written == [] and not earlier.exists()
    assert jobs_started(spark) == before
