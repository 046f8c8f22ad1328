"""Declared goods items: what each consignment holds, under which brand, at what value.

Each item carries both what is declared (hs_code, description, brand, value) and what
is true (the real goods group, the real brand, whether it is priced below the
brand's lowest genuine price): the latent model reads the truth, a risk model only
the declaration.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.devtools.synthetic.goods import PRONE_GROUPS, UNRECORDED_BRANDS, VAGUE_DESCRIPTIONS
from pipelines.devtools.synthetic.world import World, pick

GENERAL = len(PRONE_GROUPS)  # group index of benign goods
# Item kinds
HONEST, RING_BRANDED, RING_MISDECLARED, RING_COVER, RING_LOOKALIKE = range(5)


def _catalogue_row(world: World, rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    """A catalogue row of the given goods group, uniformly within the group."""
    names = np.array(PRONE_GROUPS + ["GENERAL"])
    rows_by_group = [np.flatnonzero(world.catalogue["group"].to_numpy() == g) for g in names]
    counts = np.array([len(r) for r in rows_by_group])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    flat = np.concatenate(rows_by_group)
    return flat[offsets[group] + (rng.random(len(group)) * counts[group]).astype(int)]


def _true_brand(world: World, cfg: dict, rng: np.random.Generator, group: np.ndarray, day: np.ndarray,
                ring: np.ndarray) -> np.ndarray:
    """A recorded brand of the item's group; rings turn to newly recorded brands once recorded."""
    b = world.brands
    brand = np.full(len(group), -1)
    for g in range(len(PRONE_GROUPS)):
        mask = group == g
        members = np.flatnonzero(b["group_idx"].to_numpy() == g)
        if not mask.any() or len(members) == 0:
            continue
        old = members[~b["is_new"].to_numpy()[members]]
        old = old if len(old) else members
        choice = old[rng.integers(0, len(old), size=int(mask.sum()))]
        new = members[b["is_new"].to_numpy()[members]]
        if len(new):
            cand = new[rng.integers(0, len(new), size=int(mask.sum()))]
            recorded = b["recorded_day"].to_numpy()[cand] <= day[mask]
            wants = ring[mask] & recorded & (rng.random(int(mask.sum())) < cfg["rings"]["new_brand_appetite"])
            choice = np.where(wants, cand, choice)
        brand[mask] = choice
    return brand


def _item_kind(cfg: dict, rng: np.random.Generator, is_ring: np.ndarray) -> np.ndarray:
    rc = cfg["rings"]
    cuts = np.cumsum([rc["branded_share"], rc["misdeclared_share"], rc["cover_share"]])
    ring_kind = RING_BRANDED + np.searchsorted(cuts, rng.random(len(is_ring)), side="right")
    return np.where(is_ring, ring_kind, HONEST)


def _goods(world: World, cfg: dict, rng: np.random.Generator, it: pd.DataFrame) -> pd.DataFrame:
    """True goods group, catalogue row, true brand, and whether the brand is genuine."""
    n, kind = len(it), it["kind"].to_numpy()
    ex = world.exporters
    exporter = it["exporter"].clip(lower=0).to_numpy()
    own_group = ex["group"].to_numpy()[exporter]
    group_weights = np.array([1.0] * GENERAL + [cfg["items"]["general_goods_weight"] * GENERAL])
    any_group = pick(rng, group_weights / group_weights.sum(), n)
    honest_group = np.where(rng.random(n) < cfg["items"]["focus"], own_group, any_group)
    ring_group = world.rings["group"].to_numpy()[it["ring"].clip(lower=0).to_numpy()]
    group = np.select([kind == HONEST, kind == RING_COVER], [honest_group, GENERAL], ring_group)
    prone = group < GENERAL
    distributor = ex["distributor"].to_numpy()[exporter] & (kind == HONEST)
    generic = ex["generic"].to_numpy()[exporter] & (kind == HONEST)
    branded = np.select([kind == HONEST, np.isin(kind, [RING_BRANDED, RING_MISDECLARED])],
                        [distributor | (~generic & (rng.random(n) < cfg["items"]["honest_brand_share"])), True], False) & prone
    brand = np.where(branded, _true_brand(world, cfg, rng, np.where(prone, group, 0), it["day"].to_numpy(),
                                          kind != HONEST), -1)
    return pd.DataFrame({"group": group, "row": _catalogue_row(world, rng, group), "brand_idx": brand,
                         "genuine": branded & (kind == HONEST), "generic": generic & prone}, index=it.index)


def _declared_brand(world: World, cfg: dict, rng: np.random.Generator, it: pd.DataFrame) -> np.ndarray:
    b = world.brands
    idx = it["brand_idx"].clip(lower=0).to_numpy()
    spelling = cfg["rings"]["brand_spelling"]
    u = rng.random(len(it))
    is_ring = (it["kind"] != HONEST).to_numpy()
    honest_canonical = cfg["items"]["honest_canonical_share"]
    canonical_cut = np.where(is_ring, spelling["CANONICAL"], honest_canonical)
    alias_cut = canonical_cut + np.where(is_ring, spelling["ALIAS"], 1.0 - honest_canonical)
    known = rng.random(len(it)) < cfg["rings"]["known_alias_share"]
    alias = np.where(known, b["alias_known"].to_numpy()[idx], b["alias_unknown"].to_numpy()[idx])
    text = np.select([u < canonical_cut, u < alias_cut], [b["brand"].to_numpy()[idx], alias], "")
    text = np.where(rng.random(len(it)) < cfg["items"]["title_case_share"], np.char.title(text.astype(str)), text)
    unrecorded = np.array(UNRECORDED_BRANDS)[rng.integers(0, len(UNRECORDED_BRANDS), size=len(it))]
    decoy = (it["brand_idx"] < 0).to_numpy() & (it["group"] < GENERAL).to_numpy() & (
        rng.random(len(it)) < cfg["items"]["unrecorded_brand_share"])
    text = np.where(it["kind"] == RING_MISDECLARED, "", text)
    return np.where((it["brand_idx"] >= 0).to_numpy(), text, np.where(decoy, unrecorded, ""))


def _descriptions(world: World, cfg: dict, rng: np.random.Generator, it: pd.DataFrame) -> np.ndarray:
    cat = world.catalogue
    variants = cat["desc_en"].str.split("|").to_list()
    counts = np.array([len(v) for v in variants])
    flat = np.array([text for v in variants for text in v], dtype=object)
    row = it["declared_row"].to_numpy()
    pick_variant = (rng.random(len(it)) * counts[row]).astype(int)
    english = flat[(np.cumsum(counts) - counts)[row] + pick_variant]
    chinese = cat["desc_zh"].to_numpy()[row]
    vague = np.array(VAGUE_DESCRIPTIONS)[rng.integers(0, len(VAGUE_DESCRIPTIONS), size=len(it))]
    ic = cfg["items"]
    misdeclared = (it["kind"] == RING_MISDECLARED).to_numpy()
    is_vague = misdeclared & (rng.random(len(it)) < cfg["rings"]["misdeclared_vague_share"]) | (rng.random(len(it)) < ic["vague_description_share"])
    text = np.where(rng.random(len(it)) < ic["chinese_description_share"], chinese, english)
    return np.where(is_vague, vague, text).astype(str)


def simulate_items(world: World, cfg: dict, rng: np.random.Generator, c: pd.DataFrame) -> pd.DataFrame:
    """One row per declared goods item, with the truth columns the latent model needs."""
    counts = 1 + pick(rng, np.array(cfg["items"]["count_weights"], dtype=float), len(c))
    parent = np.repeat(np.arange(len(c)), counts)
    it = pd.DataFrame({
        "cons": parent,
        "item_no": np.arange(len(parent)) - np.repeat(np.cumsum(counts) - counts, counts) + 1,
        "day": c["day"].to_numpy()[parent],
        "exporter": c["exporter"].to_numpy()[parent],
        "ring": c["ring"].to_numpy()[parent],
    })
    it["kind"] = _item_kind(cfg, rng, c["is_ring"].to_numpy()[parent])
    it = pd.concat([it, _goods(world, cfg, rng, it)], axis=1)
    # Misdeclared fakes travel under the code and wording of benign goods.
    benign_row = _catalogue_row(world, rng, np.full(len(it), GENERAL))
    it["declared_row"] = np.where(it["kind"] == RING_MISDECLARED, benign_row, it["row"])
    it["brand"] = _declared_brand(world, cfg, rng, it)
    it["goods_description"] = _descriptions(world, cfg, rng, it)
    if cfg["rings"]["brand_in_description_share"] > 0:  # no draw when off: a world without it keeps its bytes
        it = _brand_into_description(cfg, rng, it)
    return it


def _brand_into_description(cfg: dict, rng: np.random.Generator, it: pd.DataFrame) -> pd.DataFrame:
    """Ring branded items that write their brand (as spelt) into the description, the brand field blank."""
    brand = it["brand"].to_numpy().astype(str)
    moved = (it["kind"] == RING_BRANDED).to_numpy() & (brand != "") & (
        rng.random(len(it)) < cfg["rings"]["brand_in_description_share"])
    described = np.char.add(np.char.add(brand, " "), it["goods_description"].to_numpy().astype(str))
    out = it.copy()
    out["goods_description"] = np.where(moved, described, out["goods_description"].to_numpy())
    out["brand"] = np.where(moved, "", brand)
    return out
