import copy
import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F
from synthetic_checks import check_layout_and_schemas, check_referentially_whole

from pipelines.cli import main
from pipelines.devtools.synthetic import generate
from pipelines.devtools.synthetic.dirty import PROBLEMS, make_empty_partition, write_file_missing_column
from pipelines.devtools.synthetic.latent import solve_intercept
from pipelines.devtools.synthetic.simulate import HUBS, ring_hub_weights
from pipelines.devtools.synthetic.world import PORTS
from pipelines.io.readers import CORRUPT_RECORD, PARTITION_DATE, read_dataset, read_raw
from pipelines.validation.contract import DATASETS

START = dt.date(2026, 9, 1)
CLEAN_DAYS, CLEAN_PER_DAY = 3, 300


@pytest.fixture(scope="module")
def clean_root(settings, tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic") / "clean"
    summary = generate(str(root), START, CLEAN_DAYS, CLEAN_PER_DAY, 11, settings["synthetic"], fmt="mixed")
    return root, summary


@pytest.fixture(scope="module")
def clean_frames(spark, clean_root):
    """The clean root's datasets, read once and cached: Spark jobs dominate this module's time."""
    root, _ = clean_root
    frames = {name: read_dataset(spark, str(root), name).cache() for name in DATASETS}
    yield frames
    for frame in frames.values():
        frame.unpersist()




def _csv_frame(root: Path, name: str) -> pd.DataFrame:
    files = sorted((root / name).glob("**/*.csv"))
    return pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True)


def test_layout_and_schemas_follow_the_contract(clean_root, clean_frames):
    root, summary = clean_root
    formats = {p.suffix for p in (root / "manifests").glob("date=*/part-0.*")}
    assert formats == {".csv", ".parquet"}  # mixed: both kinds in one root
    check_layout_and_schemas(root, clean_frames, summary, START, CLEAN_DAYS, CLEAN_PER_DAY)
    assert json.loads((root / "_world.json").read_text(encoding="utf-8"))["name"] == "base"


def test_lodging_time_is_local_and_matches_the_partition_day(spark, clean_root):
    root, _ = clean_root
    raw = read_raw(spark, str(root), "declarations")
    local_day = F.to_date(F.from_utc_timestamp(F.col("lodged_at").cast("timestamp"), "+08:00"))
    assert raw.filter(local_day != F.col(PARTITION_DATE).cast("date")).count() == 0
    csv_text = next((root / "declarations").glob("date=*/part-0.csv")).read_text(encoding="utf-8")
    assert csv_text.split("\n")[1].split(",")[3].endswith("+08:00")


def test_clean_data_is_referentially_whole(clean_frames):
    check_referentially_whole(clean_frames)


def test_outcomes_follow_inspection_rules(clean_frames):
    o = clean_frames["outcomes"]
    d = clean_frames["declarations"].groupBy("consignment_id").agg(F.min("lodged_at").alias("lodged_at"))
    delay = F.datediff(F.col("inspected_on"), F.to_date(F.from_utc_timestamp("lodged_at", "+08:00")))
    delays = o.join(d, on="consignment_id", how="inner").groupBy().agg(F.min(delay), F.max(delay)).first()
    assert delays[0] >= 1  # an outcome arrives days after lodging; later ones replace earlier ones
    seized = o.filter(F.col("result") == "SEIZED")
    assert seized.filter((F.col("seized_items") <= 0) | F.col("seized_value_hkd").isNull()).count() == 0
    assert o.filter((F.col("result") == "CLEAN") & F.col("seized_items").isNotNull()).count() == 0
    reasons = {r[0] for r in o.select("selection_reason").distinct().collect()}
    assert reasons <= {"RISK", "RANDOM", "INTEL", "OTHER"} and "RANDOM" in reasons


def test_base_rate_random_share_and_latent_model(tmp_path, settings):
    cfg = settings["synthetic"]
    summary = generate(str(tmp_path / "r"), START, 4, 2500, 3, settings["synthetic"], fmt="parquet")
    assert summary["mean_p_counterfeit"] == pytest.approx(cfg["latent"]["base_rate"], abs=1e-6)
    assert 0.01 <= summary["base_rate"] <= 0.025
    outcomes = pd.read_parquet(tmp_path / "r" / "outcomes")
    random_share = outcomes.loc[outcomes["selection_reason"] == "RANDOM", "consignment_id"].nunique() / 10_000
    assert abs(random_share - cfg["inspections"]["random_rate"]) < 0.006
    truth = pd.read_parquet(tmp_path / "r" / "truth")
    top = truth.nlargest(100, "p_counterfeit")["is_counterfeit"].mean()
    assert top > 10 * truth["is_counterfeit"].mean()  # the planted patterns concentrate the fakes


def test_same_seed_gives_identical_bytes(tmp_path, settings):
    def files(root):
        return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    for name, seed in (("a", 9), ("b", 9), ("c", 10)):
        generate(str(tmp_path / name), START, 2, 150, seed, settings["synthetic"], fmt="mixed", dirty=0.02)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a") != files(tmp_path / "c")


def test_intercept_solves_the_base_rate():
    assert solve_intercept(np.zeros(10), 0.5) == pytest.approx(0.0, abs=1e-9)
    assert solve_intercept(np.zeros(10), 0.018) == pytest.approx(math.log(0.018 / 0.982), abs=1e-9)


def test_enforcement_operation_moves_rings_off_a_hub(settings):
    cfg = copy.deepcopy(settings["synthetic"])
    cfg["enforcement_operations"] = [{"hub": "AEJEA", "at_share": 0.45, "factor": 0.1, "displaced_to": ["OMSLL"], "boost": 4.0}]
    table = ring_hub_weights(cfg, 20)  # the operation starts on day int(0.45 * 20) = 9
    aejea, omsll = HUBS.index("AEJEA"), HUBS.index("OMSLL")
    base = cfg["routes"]["ring_hubs"]
    assert table[8, aejea] == base["AEJEA"] and table[9, aejea] == pytest.approx(base["AEJEA"] * 0.1)
    assert table[8, omsll] == base["OMSLL"] and table[19, omsll] == pytest.approx(base["OMSLL"] * 4.0)


def test_every_written_port_is_exported(clean_root):
    root, _ = clean_root
    known = {p.locode for p in PORTS}
    manifests = _csv_frame(root, "manifests")
    used = set(manifests["port_of_loading"]) | set(manifests["port_of_discharge"])
    used |= {port for route in manifests["route_ports"] if route for port in route.split(";")}
    assert used <= known and all(len(code) == 5 for code in known)


def test_intelligence_is_point_in_time(tmp_path, settings):
    days = 60
    generate(str(tmp_path / "w"), START, days, 10, 2, settings["synthetic"])
    wl = _csv_frame(tmp_path / "w", "intelligence")
    listed = pd.to_datetime(wl["listed_on"]).dt.date
    last_day = START + dt.timedelta(days=days - 1)
    # Some entries are known before the period, some arrive during it; none after the snapshot day.
    assert (listed < START).any() and (listed > START).any() and (listed <= last_day).all()
    assert (wl["expires_on"] != "").any() and (wl["expires_on"] == "").any()


def _same(value, expected) -> bool:
    try:
        return float(value) == float(expected)  # Parquet numbers read back as "0.0" for "0"
    except (TypeError, ValueError):
        return value == expected


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_dirty_corruptions_are_listed_and_really_in_the_files(spark, tmp_path, fmt, settings):
    root = tmp_path / fmt
    summary = generate(str(root), START, 2, 400, 5, settings["synthetic"], fmt=fmt, dirty=0.02)
    listed = pd.read_csv(root / "_corruptions.csv", dtype=str, keep_default_na=False)
    text_only = {p[1] for p in PROBLEMS if p[4]}
    assert len(listed) == summary["corruptions"] >= len(PROBLEMS) - len(text_only)
    expected_problems = {p[1] for p in PROBLEMS} - (text_only if fmt == "parquet" else set())
    assert set(listed["problem"]) == expected_problems  # every problem a format can hold appears
    raw = {n: read_raw(spark, str(root), n).toPandas() for n in ("manifests", "declarations", "outcomes")}
    text_by_problem = {p[1]: p[5] for p in PROBLEMS}
    for row in listed.itertuples(index=False):
        frame = raw[row.dataset]
        hits = frame[frame["consignment_id"] == row.consignment_id]
        if row.dataset == "declarations":
            hits = hits[(hits["declaration_id"] == row.declaration_id) & (hits["item_no"] == row.item_no)]
        assert len(hits) >= 1, row
        assert (hits[PARTITION_DATE] == row.partition_date).all()
        value = hits.iloc[0][row.column]
        if row.problem == "duplicate consignment_id":
            assert len(hits) == 2
        elif row.problem in ("declaration without manifest", "outcome without consignment"):
            assert row.consignment_id not in set(raw["manifests"]["consignment_id"])
        elif row.problem == "broken CSV quoting":
            assert hits.iloc[0][CORRUPT_RECORD] is not None
        elif row.problem == "10,000-character description":
            assert len(value) == 10_000
        elif text_by_problem[row.problem] == "":
            assert value is None  # an empty CSV field reads as missing
        else:
            assert _same(value, text_by_problem[row.problem]), row


def test_whole_file_problem_helpers(tmp_path):
    path = write_file_missing_column(tmp_path, "manifests", "2026-09-01", "port_of_loading")
    header = path.read_text(encoding="utf-8").split("\n")[0].split(",")
    assert "port_of_loading" not in header and "consignment_id" in header
    folder = make_empty_partition(tmp_path, "declarations", "2026-09-02")
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_cli_generates_and_reports(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["generate", "--out", str(out), "--start", "2026-09-01", "--days", "1", "--per-day", "50",
                 "--seed", "1", "--format", "parquet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert f"under {out}" in printed and "manifests" in printed and "base rate" in printed
    assert (out / "manifests" / "date=2026-09-01" / "part-0.parquet").exists()
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--out", str(out), "--start", "01/09/2026", "--days", "1", "--per-day", "5", "--seed", "1"])
    assert exc.value.code == 2
