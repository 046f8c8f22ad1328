"""Watch-list entries (intelligence) and trademark recordations (rights_holders) of the world.

Ring parties are listed some time after they start trading (so early shipments of a
listed party pre-date its listing: point-in-time matters), innocent parties are
listed too (noise), and some entries expire.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.devtools.synthetic.world import World, pick, weights

# Party namespaces: the id prefix written to files and the code used in numeric keys.
PARTY_PREFIX = {"EXPORTER": "EX", "CONSIGNEE": "CE", "FORWARDER": "FW", "DECLARANT": "BR", "AGENT": "AG"}
PARTY_CODE = {"EXPORTER": 1, "CONSIGNEE": 2, "FORWARDER": 3, "DECLARANT": 4}
KEY_SPACE = 100_000_000
NOTES = ["tip-off", "seizure abroad", "rights holder complaint", "partner administration alert", "under review", ""]


def party_ids(kind: str, nums: np.ndarray) -> np.ndarray:
    """Written party ids, e.g. EX0012345; -1 (no party) becomes an empty string."""
    text = np.char.add(PARTY_PREFIX[kind], np.char.zfill(np.abs(nums).astype(str), 7))
    return np.where(nums >= 0, text, "")


def _entries(kind: str, nums: np.ndarray, first_use: np.ndarray, listed: np.ndarray, cfg: dict,
             rng: np.random.Generator) -> pd.DataFrame:
    ic = cfg["intelligence"]
    nums, first_use = nums[listed], first_use[listed]
    lag = rng.integers(ic["listed_after_days"][0], ic["listed_after_days"][1] + 1, size=len(nums))
    return pd.DataFrame({"kind": kind, "num": nums, "listed_day": first_use + lag})


def _ring_entries(world: World, cfg: dict, rng: np.random.Generator) -> list[pd.DataFrame]:
    ic, rings = cfg["intelligence"], world.rings
    ring_of_id = np.repeat(np.arange(len(rings)), rings["id_count"].to_numpy())
    k = np.arange(len(ring_of_id)) - rings["id_start"].to_numpy()[ring_of_id]
    id_first = k * rings["lifetime"].to_numpy()[ring_of_id] - rings["phase"].to_numpy()[ring_of_id]
    n_cne, n_r = len(world.ring_consignee_nums), len(rings)
    since = -ic["history_days"]
    out = [
        _entries("EXPORTER", world.ring_exporter_nums, id_first,
                 rng.random(len(id_first)) < ic["ring_exporter_listed"], cfg, rng),
        _entries("CONSIGNEE", world.ring_consignee_nums, rng.integers(since, world.days, size=n_cne),
                 rng.random(n_cne) < ic["ring_consignee_listed"], cfg, rng),
        _entries("FORWARDER", world.forwarders[rings["forwarder"].to_numpy()], rng.integers(since, world.days, size=n_r),
                 rng.random(n_r) < ic["ring_forwarder_listed"], cfg, rng),
        _entries("DECLARANT", world.declarants[rings["declarant"].to_numpy()], rng.integers(since, world.days, size=n_r),
                 rng.random(n_r) < ic["ring_declarant_listed"], cfg, rng),
    ]
    return out


def _innocent_entries(world: World, cfg: dict, rng: np.random.Generator) -> list[pd.DataFrame]:
    """Honest parties listed on stale or wrong tips; busy shippers are as likely as small ones."""
    share, days = cfg["intelligence"]["innocent_listed"], world.days
    since = -cfg["intelligence"]["history_days"]
    ex = world.exporters
    honest_cne = world.consignee_pool.ravel()
    out = []
    for kind, nums in (("EXPORTER", ex["exporter_num"].to_numpy()), ("CONSIGNEE", honest_cne),
                       ("FORWARDER", world.forwarders)):
        listed = rng.random(len(nums)) < share
        out.append(_entries(kind, nums, rng.integers(since, days, size=len(nums)), listed, cfg, rng))
    return out


def build_watchlist(world: World, cfg: dict, rng: np.random.Generator) -> pd.DataFrame:
    """One entry per listed party: kind, num, listed_day, expires_day (NaN = open), source, note."""
    ic = cfg["intelligence"]
    wl = pd.concat(_ring_entries(world, cfg, rng) + _innocent_entries(world, cfg, rng), ignore_index=True)
    wl["key"] = wl["kind"].map(PARTY_CODE).to_numpy() * KEY_SPACE + wl["num"].to_numpy()
    wl = wl[wl["listed_day"] < world.days]  # the snapshot is taken on the period's last day
    wl = wl.sort_values(["key", "listed_day"], kind="stable").drop_duplicates("key", keep="first").reset_index(drop=True)
    n = len(wl)
    valid = rng.integers(ic["valid_days"][0], ic["valid_days"][1] + 1, size=n)
    wl["expires_day"] = np.where(rng.random(n) < ic["expiring_share"], wl["listed_day"] + valid, np.nan)
    sources = list(ic["sources"])
    wl["source"] = np.array(sources)[pick(rng, weights(ic["sources"], sources), n)]
    wl["note"] = np.array(NOTES)[rng.integers(0, len(NOTES), size=n)]
    return wl


def listed_on_day(wl: pd.DataFrame, kind: str, nums: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whether each party was on the watch-list on that day."""
    index = pd.Index(wl["key"].to_numpy())
    pos = index.get_indexer(PARTY_CODE[kind] * KEY_SPACE + nums)
    found = pos >= 0
    listed = wl["listed_day"].to_numpy()[pos.clip(min=0)]
    expires = wl["expires_day"].to_numpy()[pos.clip(min=0)]
    return found & (nums >= 0) & (listed <= day) & ~(expires < day)


def rights_holder_rows(world: World) -> pd.DataFrame:
    """rights_holders columns (dates as day offsets): the recorded brands with their known aliases."""
    b, cat = world.brands, world.catalogue
    prefixes = {g: ";".join(sorted(cat.loc[cat["group"] == g, "hs6"].str[:4].unique())) for g in b["group"].unique()}
    return pd.DataFrame({
        "brand": b["brand"],
        "aliases": b["alias_known"],
        "hs_prefixes": b["group"].map(prefixes),
        "min_genuine_unit_value_hkd": b["min_genuine_unit_value_hkd"].astype(float),
        "recorded_day": b["recorded_day"],
    })
