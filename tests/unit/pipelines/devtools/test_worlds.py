"""Other worlds of the generator (conf/worlds/): each follows the contract and differs as it claims."""
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic_checks import check_layout_and_schemas, check_referentially_whole, read_root

from pipelines.cli import main
from pipelines.devtools.synthetic import generate
from pipelines.devtools.synthetic.geography import DESTINATIONS
from pipelines.devtools.synthetic.simulate import HUBS, ring_hub_weights, split_orders
from pipelines.devtools.synthetic.worlds import NamedWorld, available_worlds, load_world
from pipelines.errors import UserError
from pipelines.io.settings import SettingsError, merge_section

START = dt.date(2026, 9, 1)
DAYS, PER_DAY = 20, 2000
WORLDS = ("base", "displaced_hubs", "mainland_express", "air_belt_road")


@pytest.fixture(scope="module")
def worlds(settings):
    return {name: load_world(name, settings["synthetic"]) for name in WORLDS}


@pytest.fixture(scope="module")
def roots(worlds, tmp_path_factory):
    """One Parquet root per world, same seed: {name: (root, summary)}."""
    base = tmp_path_factory.mktemp("worlds")
    return {name: (base / name, generate(str(base / name), START, DAYS, PER_DAY, 4, world, fmt="parquet"))
            for name, world in worlds.items()}


@pytest.fixture(scope="module")
def tables(roots):
    """Per world: consignments (manifest, truth, lodging day) and declaration items, in pandas."""
    out = {}
    for name, (root, _) in roots.items():
        truth = pd.read_parquet(root / "truth", columns=["consignment_id", "p_counterfeit", "is_counterfeit"])
        m = pd.read_parquet(root / "manifests").merge(truth, on="consignment_id", how="inner", validate="1:1")
        m["day"] = (pd.to_datetime(m["date"].astype(str)) - pd.Timestamp(START)).dt.days
        out[name] = {"consignments": m, "items": pd.read_parquet(root / "declarations"),
                     "outcomes": pd.read_parquet(root / "outcomes"), "rights_holders": pd.read_parquet(root / "rights_holders")}
    return out


def _share(mask: pd.Series) -> float:
    return float(mask.mean())


def test_worlds_are_listed_and_differ(worlds, settings):
    assert set(WORLDS) <= set(available_worlds())
    assert len({w.digest for w in worlds.values()}) == len(WORLDS)
    assert load_world(None, settings["synthetic"]).digest == worlds["base"].digest
    for world in worlds.values():  # a world is a whole `synthetic` tree, the same knobs as base
        assert set(world.settings) == set(settings["synthetic"])


@pytest.mark.parametrize("name", ["displaced_hubs", "mainland_express", "air_belt_road"])
def test_each_world_follows_the_contract(spark, tmp_path, worlds, name):
    root, days, per_day = tmp_path / name, 3, 300
    summary = generate(str(root), START, days, per_day, 11, worlds[name], fmt="mixed")
    frames = read_root(spark, root)
    check_layout_and_schemas(root, frames, summary, START, days, per_day)
    check_referentially_whole(frames)
    record = json.loads((root / "_world.json").read_text(encoding="utf-8"))
    assert record == {"name": name, "settings_sha256": worlds[name].digest} and summary["world"] == name


def test_every_world_keeps_its_base_rate_and_detection_rate(roots, tables, worlds):
    for name, (_, summary) in roots.items():
        cfg = worlds[name].settings
        assert summary["mean_p_counterfeit"] == pytest.approx(cfg["latent"]["base_rate"], abs=1e-6)
        assert summary["base_rate"] == pytest.approx(cfg["latent"]["base_rate"], rel=0.15)
        t = tables[name]
        fakes = t["consignments"].loc[t["consignments"]["is_counterfeit"], ["consignment_id"]]
        first = t["outcomes"].sort_values(["inspected_on", "consignment_id"], kind="stable").drop_duplicates("consignment_id")
        found = first.merge(fakes, on="consignment_id", how="inner")  # first findings on fakes: before any re-check
        rate = cfg["inspections"]["detection_rate"]
        assert _share(found["result"] == "SEIZED") == pytest.approx(rate, abs=3 * np.sqrt(rate * (1 - rate) / len(found))), name
    assert len({w.settings["inspections"]["detection_rate"] for w in worlds.values()}) == len(WORLDS)
    random = {n: t["outcomes"].loc[t["outcomes"]["selection_reason"] == "RANDOM", "consignment_id"].nunique()
              / (DAYS * PER_DAY) for n, t in tables.items()}
    assert random["mainland_express"] < random["base"] < random["displaced_hubs"] < random["air_belt_road"]


def test_mainland_express_ships_parcels_from_the_mainland_with_loose_brand_spelling(tables):
    base, world = tables["base"], tables["mainland_express"]
    parcel = {n: _share(t["consignments"]["transport_mode"].isin(["EXPRESS", "POST"])) for n, t in tables.items()}
    assert parcel["mainland_express"] > 0.55 and parcel["base"] < 0.35
    cny = {n: _share(t["items"]["currency"] == "CNY") for n, t in tables.items()}
    assert cny["mainland_express"] > cny["base"] + 0.2

    def canonical(t):  # written brands that match a recorded brand exactly
        written = t["items"]["brand"].dropna()
        return _share(written.isin(set(t["rights_holders"]["brand"])))
    assert canonical(world) < 0.7 * canonical(base)
    # Drift: after the courier crackdown, fake parcels move from EXPRESS to POST.
    shift = int(0.55 * DAYS)
    fake_parcels = world["consignments"][world["consignments"]["is_counterfeit"]
                                         & world["consignments"]["transport_mode"].isin(["EXPRESS", "POST"])]
    express = fake_parcels["transport_mode"] == "EXPRESS"
    assert _share(express[fake_parcels["day"] < shift]) > _share(express[fake_parcels["day"] >= shift]) + 0.25


def test_displaced_hubs_moves_the_rings_off_their_hubs_on_its_dates(tables, worlds):
    cfg = worlds["displaced_hubs"].settings
    table = ring_hub_weights(cfg, DAYS)
    for op in cfg["enforcement_operations"]:
        day, hub = int(op["at_share"] * DAYS), HUBS.index(op["hub"])
        assert table[day, hub] == pytest.approx(table[day - 1, hub] * op["factor"])
    # In the files: counterfeit consignments transshipped via Piraeus (until day 7) and Port Klang (until day 12).
    m = tables["displaced_hubs"]["consignments"]
    routed = m[m["is_counterfeit"] & m["route_ports"].notna()]
    for hub, at_share in (("GRPIR", 0.35), ("MYPKG", 0.6)):
        via = routed["route_ports"].str.contains(hub)
        before, after = _share(via[routed["day"] < at_share * DAYS]), _share(via[routed["day"] >= at_share * DAYS])
        assert before > 0.15 and after < before / 3, (hub, before, after)
    # The base world's rings, by contrast, lean on Jebel Ali until its own operation.
    base = tables["base"]["consignments"]
    base_routed = base[base["is_counterfeit"] & base["route_ports"].notna()]

    def early_via_jebel_ali(r: pd.DataFrame) -> float:
        return _share(r.loc[r["day"] < 0.35 * DAYS, "route_ports"].str.contains("AEJEA"))
    assert early_via_jebel_ali(base_routed) > early_via_jebel_ali(routed) + 0.15


def test_air_belt_road_flies_fakes_to_belt_and_road_markets_and_leaves_singapore_halfway(tables, worlds):
    region = {country: r for country, _, r, _, _ in DESTINATIONS}
    air = {n: _share(t["consignments"]["transport_mode"] == "AIR") for n, t in tables.items()}
    assert air["air_belt_road"] > air["base"] + 0.1

    def bri_share_of_fakes(m: pd.DataFrame) -> float:
        return _share(m.loc[m["is_counterfeit"], "destination_country"].map(region) == "BRI")
    assert bri_share_of_fakes(tables["air_belt_road"]["consignments"]) > bri_share_of_fakes(tables["base"]["consignments"]) + 0.1
    # The operation at Singapore: the sea rings' favourite hub drops to a fifth from half the period
    # on. Most fakes fly here, so in the files the fall shows on a small share of the fakes.
    cfg = worlds["air_belt_road"].settings
    half, hub = int(cfg["enforcement_operations"][0]["at_share"] * DAYS), HUBS.index("SGSIN")
    weights = ring_hub_weights(cfg, DAYS)
    assert weights[half - 1, hub] == weights[:half, hub].max() and weights[half, hub] == pytest.approx(0.2 * weights[half - 1, hub])
    m = tables["air_belt_road"]["consignments"]
    routed = m[m["is_counterfeit"] & m["route_ports"].notna()]
    via = routed["route_ports"].str.contains("SGSIN")
    before, after = _share(via[routed["day"] < half]), _share(via[routed["day"] >= half])
    assert after < 0.6 * before, (before, after)


def _consignees_per_fake_order(m: pd.DataFrame) -> float:
    """Distinct consignees per counterfeit consignment, over shippers with several fakes on a day."""
    fakes = m[m["is_counterfeit"]]
    g = fakes.groupby(["day", "consignor_id"]).agg(n=("consignment_id", "size"), k=("consignee_id", "nunique"))
    g = g[g["n"] >= 2]
    return float(g["k"].sum() / g["n"].sum())


def test_new_patterns_appear_only_in_the_worlds_that_plant_them(tables, worlds, tmp_path):
    def brands_in_descriptions(t):
        names = "|".join(sorted(t["rights_holders"]["brand"]))
        items = t["items"]
        return int((items["brand"].isna() & items["goods_description"].str.upper().str.contains(names)).sum())
    assert brands_in_descriptions(tables["base"]) == 0 and brands_in_descriptions(tables["mainland_express"]) == 0
    assert brands_in_descriptions(tables["displaced_hubs"]) > 20
    assert brands_in_descriptions(tables["air_belt_road"]) > 10

    # Split orders: the same world without them (same seed) spreads a shipper's fakes over more consignees.
    world = worlds["mainland_express"]
    unsplit = NamedWorld("unsplit", merge_section(world.settings, {"rings": {"split_order_share": 0.0}}, "test"))
    generate(str(tmp_path / "unsplit"), START, DAYS, PER_DAY, 4, unsplit, fmt="parquet")
    m = pd.read_parquet(tmp_path / "unsplit" / "manifests").merge(
        pd.read_parquet(tmp_path / "unsplit" / "truth", columns=["consignment_id", "is_counterfeit"]),
        on="consignment_id", how="inner", validate="1:1")
    m["day"] = m["date"].astype(str)
    assert _consignees_per_fake_order(tables["mainland_express"]["consignments"]) < _consignees_per_fake_order(m) - 0.08


def test_split_orders_send_a_rings_day_to_one_consignee():
    c = pd.DataFrame({"is_ring": [True, True, False, True, True, True, True],
                      "ring": [0, 0, -1, 1, 0, 0, 0],
                      "day": [0, 0, 0, 0, 0, 1, 1]})
    consignee = np.array([10, 11, 99, 12, 13, 14, 15])
    always = split_orders(c, consignee, 1.0, np.random.default_rng(0))
    # Ring 0's day-0 consignments join the first; the honest row, ring 1 and day 1 start their own orders.
    assert always.tolist() == [10, 10, 99, 12, 10, 14, 14]
    assert split_orders(c, consignee, 0.0, np.random.default_rng(0)).tolist() == consignee.tolist()


def test_same_seed_and_world_give_identical_bytes(tmp_path, worlds):
    def files(root: Path) -> dict:
        return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    for name, world, seed in (("a", "displaced_hubs", 9), ("b", "displaced_hubs", 9), ("c", "mainland_express", 9)):
        generate(str(tmp_path / name), START, 2, 150, seed, worlds[world], fmt="mixed", dirty=0.02)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a") != files(tmp_path / "c")


def test_a_misspelt_key_in_a_world_file_is_refused_with_its_name(tmp_path, settings):
    path = tmp_path / "typo.yaml"
    path.write_text("rings:\n  volume_shar: 0.05\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"rings\.volume_shar in .*typo\.yaml; did you mean rings\.volume_share"):
        load_world(str(path), settings["synthetic"])
    path.write_text("enforcement_operations:\n  - {hub: GRPIR, at_shar: 0.3, factor: 0.1, displaced_to: [EGPSD], boost: 2}\n",
                    encoding="utf-8")
    with pytest.raises(SettingsError, match=r"enforcement_operations\[0\].*at_shar"):
        load_world(str(path), settings["synthetic"])
    path.write_text("enforcement_operations:\n  - {hub: XXHUB, at_share: 0.3, factor: 0.1, displaced_to: [EGPSD], boost: 2}\n",
                    encoding="utf-8")
    with pytest.raises(SettingsError, match="unknown hub XXHUB"):
        load_world(str(path), settings["synthetic"])


def test_an_unknown_world_name_lists_the_available_ones(settings):
    with pytest.raises(UserError, match="unknown world 'atlantis'; available: base, air_belt_road, displaced_hubs, mainland_express"):
        load_world("atlantis", settings["synthetic"])


def test_cli_world_option_by_name_and_by_path(tmp_path, capsys):
    args = ["generate", "--start", "2026-09-01", "--days", "1", "--per-day", "40", "--seed", "1"]
    assert main([*args, "--out", str(tmp_path / "named"), "--world", "mainland_express"]) == 0
    assert "world mainland_express" in capsys.readouterr().out
    assert json.loads((tmp_path / "named" / "_world.json").read_text(encoding="utf-8"))["name"] == "mainland_express"
    own = tmp_path / "quiet_port.yaml"
    own.write_text("rings:\n  volume_share: 0.01\n", encoding="utf-8")
    assert main([*args, "--out", str(tmp_path / "own"), "--world", str(own)]) == 0
    assert json.loads((tmp_path / "own" / "_world.json").read_text(encoding="utf-8"))["name"] == "quiet_port"
    assert main([*args, "--out", str(tmp_path / "none"), "--world", "atlantis"]) != 0
    assert not (tmp_path / "none").exists()
