"""The population of the synthetic world: brands, honest exporters, infringing rings, other parties.

Everything is drawn once per run from the seeded generator, so one seed is one world.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.devtools.synthetic.geography import DESTINATIONS, PORTS, Port  # noqa: F401  (PORTS re-exported)
from pipelines.devtools.synthetic.goods import PRONE_GROUPS, hs_catalogue

ID_SPACE = 10_000_000


@dataclass
class World:
    days: int
    catalogue: pd.DataFrame
    brands: pd.DataFrame
    exporters: pd.DataFrame
    rings: pd.DataFrame
    consignee_pool: np.ndarray  # [destination index, slot] -> consignee id number
    ring_exporter_nums: np.ndarray  # rings' exporter ids, ring r owns [id_start, id_start + id_count)
    ring_consignee_nums: np.ndarray  # ring r owns [consignee_start, consignee_start + n_consignees)
    forwarders: np.ndarray
    parcel_forwarders: np.ndarray
    declarants: np.ndarray
    agents: np.ndarray


def weights(mapping: dict, keys: list) -> np.ndarray:
    """Normalised weights of `keys` from a {key: weight} mapping (absent keys weigh 0)."""
    raw = np.array([float(mapping.get(k, 0.0)) for k in keys])
    return raw / raw.sum()


def pick(rng: np.random.Generator, probs: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn from one categorical distribution, vectorised."""
    return np.searchsorted(np.cumsum(probs), rng.random(size) * probs.sum(), side="right").clip(0, len(probs) - 1)


def _unique_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(ID_SPACE, size=n, replace=False)


def _misspell(name: str, shift: int) -> str:
    """A plausible misspelling: one vowel swapped, deterministically."""
    vowels = "AEIOU"
    positions = [i for i, ch in enumerate(name) if ch in vowels and i > 0]
    if not positions:
        return name + name[-1]
    i = positions[shift % len(positions)]
    swapped = vowels[(vowels.index(name[i]) + 1 + shift) % len(vowels)]
    return name[:i] + swapped + name[i + 1:]


def build_brands(cfg: dict, rng: np.random.Generator, days: int) -> pd.DataFrame:
    """Recorded brands with aliases the rights holder knows and misspellings it does not."""
    spec = cfg["brands"]
    frame = pd.DataFrame(spec["catalogue"], columns=["brand", "group", "min_genuine_unit_value_hkd"])
    n = len(frame)
    years = rng.uniform(*spec["recorded_years_before"], size=n)
    recorded_day = -(years * 365).astype(int)
    is_new = rng.random(n) < spec["new_brand_share"]
    recorded_day[is_new] = rng.integers(days // 5, max(days // 5 + 1, (4 * days) // 5), size=int(is_new.sum()))
    frame["recorded_day"] = recorded_day
    frame["is_new"] = is_new
    frame["alias_known"] = [n_.replace(" ", "") if " " in n_ else _misspell(n_, 0) for n_ in frame["brand"]]
    frame["alias_unknown"] = [_misspell(n_.replace(" ", ""), 1) for n_ in frame["brand"]]
    frame["group_idx"] = frame["group"].map({g: i for i, g in enumerate(PRONE_GROUPS)})
    return frame


def build_exporters(cfg: dict, rng: np.random.Generator, total: int, days: int, n_declarants: int) -> pd.DataFrame:
    """Honest exporters: Zipf volumes, a usual mode and goods group, some newcomers."""
    wc = cfg["world"]
    n = max(wc["min_exporters"], total // wc["consignments_per_exporter"])
    modes = list(cfg["modes"]["mix"])
    volume = 1.0 / np.arange(1, n + 1) ** wc["volume_zipf"]
    first_day = np.full(n, -10_000)
    newcomer = rng.random(n) < wc["newcomer_share"]
    first_day[newcomer] = rng.integers(0, max(days, 1), size=int(newcomer.sum()))
    group_probs = np.array([1.0] * len(PRONE_GROUPS) + [wc["general_goods_weight"] * len(PRONE_GROUPS)])
    return pd.DataFrame({
        "volume": rng.permutation(volume),
        "first_day": first_day,
        "mode": pick(rng, weights(cfg["modes"]["mix"], modes), n),
        "group": pick(rng, group_probs / group_probs.sum(), n),
        "region": pick(rng, weights(cfg["destinations"]["region_weights"], ["NA", "EU", "BRI", "OTHER"]), n),
        "distributor": rng.random(n) < wc["distributor_share"],
        "generic": rng.random(n) < wc["generic_prone_share"],
        "risk": rng.normal(0.0, cfg["parties"]["honest_risk_sigma"], size=n),
        "declarant": rng.integers(0, n_declarants, size=n),
    })


def build_rings(cfg: dict, rng: np.random.Generator, total: int, days: int, world_ids: dict) -> pd.DataFrame:
    """Infringing rings: a style, a goods group, rotating exporter ids, shared consignees."""
    rc = cfg["rings"]
    n = max(cfg["world"]["min_rings"], total // cfg["world"]["consignments_per_ring"])
    styles = list(rc["style_weights"])
    lifetime = rng.integers(rc["id_lifetime_days"][0], rc["id_lifetime_days"][1] + 1, size=n)
    phase = rng.integers(0, lifetime)
    id_count = (days + phase) // lifetime + 1
    id_start = np.concatenate([[0], np.cumsum(id_count)[:-1]])
    n_consignees = rng.integers(rc["consignees"][0], rc["consignees"][1] + 1, size=n)
    return pd.DataFrame({
        "style": [styles[i] for i in pick(rng, weights(rc["style_weights"], styles), n)],
        "group": rng.integers(0, len(PRONE_GROUPS), size=n),
        "volume": rng.pareto(1.5, size=n) + 1.0,
        "lifetime": lifetime,
        "phase": phase,
        "id_start": id_start,
        "id_count": id_count,
        "n_consignees": n_consignees,
        "consignee_start": np.concatenate([[0], np.cumsum(n_consignees)[:-1]]),
        "forwarder": rng.integers(0, len(world_ids["forwarders"]), size=n),
        "declarant": rng.integers(0, len(world_ids["declarants"]), size=n),
        "region": pick(rng, weights(cfg["destinations"]["ring_region_weights"], ["NA", "EU", "BRI", "OTHER"]), n),
        "intel": rng.random(n) < cfg["inspections"]["intel_ring_share"],
    })


def build_world(cfg: dict, rng: np.random.Generator, total: int, days: int) -> World:
    wc = cfg["world"]
    n_declarants = max(wc["min_declarants"], total // wc["consignments_per_declarant"])
    ids = {
        "forwarders": _unique_ids(rng, max(wc["min_forwarders"], total // wc["consignments_per_forwarder"])),
        "parcel_forwarders": _unique_ids(rng, wc["parcel_forwarders"]),
        "declarants": _unique_ids(rng, n_declarants),
        "agents": _unique_ids(rng, wc["agents"]),
    }
    brands = build_brands(cfg, rng, days)
    exporters = build_exporters(cfg, rng, total, days, n_declarants)
    rings = build_rings(cfg, rng, total, days, ids)
    # One draw per id namespace so honest and ring ids never collide.
    exporter_nums = _unique_ids(rng, len(exporters) + int(rings["id_count"].sum()))
    exporters["exporter_num"] = exporter_nums[: len(exporters)]
    per_destination = max(wc["min_consignees_per_destination"], total // wc["consignments_per_consignee"] // len(DESTINATIONS))
    pool_size = len(DESTINATIONS) * per_destination
    consignee_nums = _unique_ids(rng, pool_size + int(rings["n_consignees"].sum()))
    return World(
        days=days, catalogue=hs_catalogue(), brands=brands, exporters=exporters, rings=rings,
        consignee_pool=consignee_nums[:pool_size].reshape(len(DESTINATIONS), -1),
        ring_exporter_nums=exporter_nums[len(exporters):], ring_consignee_nums=consignee_nums[pool_size:],
        forwarders=ids["forwarders"], parcel_forwarders=ids["parcel_forwarders"],
        declarants=ids["declarants"], agents=ids["agents"],
    )
