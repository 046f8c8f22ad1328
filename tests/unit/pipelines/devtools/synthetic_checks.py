"""Checks that a generated root follows the data contract, shared by the base-world and other-world tests."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from pyspark.sql import functions as F

from pipelines.io.readers import read_dataset
from pipelines.validation.contract import DATASETS


def read_root(spark, root: Path) -> dict:
    """Every contract dataset of a root, read by the pipeline's reader."""
    return {name: read_dataset(spark, str(root), name) for name in DATASETS}


def check_layout_and_schemas(root: Path, frames: dict, summary: dict, start: dt.date, days: int, per_day: int) -> None:
    """date= partitions per lodging day, CSV headers, Spark schemas and row counts as the contract says."""
    lodging_days = [str(start + dt.timedelta(days=d)) for d in range(days)]
    for name in ("manifests", "declarations", "truth"):
        assert sorted(p.name for p in (root / name).iterdir()) == [f"date={d}" for d in lodging_days]
    for csv_file in root.glob("*/**/*.csv"):
        header = csv_file.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
        assert header == DATASETS[csv_file.relative_to(root).parts[0]].column_names
    for name, dataset in DATASETS.items():
        assert frames[name].schema == dataset.spark_schema()
        assert frames[name].count() == summary["rows"][name]
    manifests = frames["manifests"]
    assert manifests.count() == days * per_day
    assert manifests.filter(F.col("package_count").isNull() | F.col("departure_date").isNull()).count() == 0


def check_referentially_whole(frames: dict) -> None:
    """Unique keys, every declaration, outcome and truth row has its consignment, sane values."""
    m, d, o, t = (frames[n] for n in ("manifests", "declarations", "outcomes", "truth"))
    assert m.select("consignment_id").distinct().count() == m.count()
    assert d.select("declaration_id", "item_no").distinct().count() == d.count()
    assert d.join(m, on="consignment_id", how="left_anti").count() == 0
    assert m.join(d.select("consignment_id").distinct(), on="consignment_id", how="left_anti").count() == 0
    assert o.join(m, on="consignment_id", how="left_anti").count() == 0
    assert t.join(m, on="consignment_id", how="left_anti").count() == 0 and t.count() == m.count()
    assert d.filter((F.col("quantity") <= 0) | (F.col("declared_value") < 0) | ~F.col("hs_code").rlike("^[0-9]{6,10}$")).count() == 0
