"""Consignments of the synthetic world: who ships, by which mode, from where, to where, via which hubs.

Vectorised: every column is drawn for all consignments at once; loops run only over
the few categories (modes, regions, goods groups).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.devtools.synthetic.geography import CARRIERS, DESTINATIONS, HUB_PORTS, LOADING_PORTS
from pipelines.devtools.synthetic.world import World, pick, weights

REGIONS = ["NA", "EU", "BRI", "OTHER"]
PORT_TERRITORY = {p.locode: p.country for p in LOADING_PORTS}
HUBS = [p.locode for p in HUB_PORTS]
COUNTRIES = [d[0] for d in DESTINATIONS]
DISCHARGE = np.array([d[1] for d in DESTINATIONS])
DEST_REGION = np.array([REGIONS.index(d[2]) for d in DESTINATIONS])


def _country_probs(cfg: dict) -> np.ndarray:
    """[region, destination] probabilities: uniform within a region times the market boost."""
    boost = np.array([float(cfg["destinations"]["country_boost"].get(c, 1.0)) for c in COUNTRIES])
    probs = np.zeros((len(REGIONS), len(COUNTRIES)))
    for r in range(len(REGIONS)):
        probs[r] = np.where(DEST_REGION == r, boost, 0.0)
        probs[r] /= probs[r].sum()
    return probs


def _pick_rows(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One categorical draw per row, where each row has its own probability vector (probs[rows])."""
    cum = np.cumsum(probs, axis=1)[rows]
    u = rng.random(len(rows)) * cum[:, -1]
    return (cum < u[:, None]).sum(axis=1).clip(0, probs.shape[1] - 1)


def ring_hub_weights(cfg: dict, days: int) -> np.ndarray:
    """[day, hub] weights of the rings' transshipment hubs, after enforcement operations."""
    base = np.array([float(cfg["routes"]["ring_hubs"].get(h, 0.0)) for h in HUBS])
    table = np.tile(base, (days, 1))
    for op in cfg["enforcement_operations"]:
        from_day = int(op["at_share"] * days)
        table[from_day:, HUBS.index(op["hub"])] *= op["factor"]
        for hub in op["displaced_to"]:
            table[from_day:, HUBS.index(hub)] *= op["boost"]
    return table


def _parties(world: World, cfg: dict, rng: np.random.Generator, day: np.ndarray) -> pd.DataFrame:
    n = len(day)
    ex, rings = world.exporters, world.rings
    is_ring = rng.random(n) < cfg["rings"]["volume_share"]
    vol = ex["volume"].to_numpy()
    honest = pick(rng, vol / vol.sum(), n)
    steady = np.flatnonzero(ex["first_day"].to_numpy() < 0)
    fallback = steady[pick(rng, vol[steady] / vol[steady].sum(), n)]
    honest = np.where(ex["first_day"].to_numpy()[honest] > day, fallback, honest)
    ring = pick(rng, rings["volume"].to_numpy() / rings["volume"].sum(), n)
    life, phase = rings["lifetime"].to_numpy()[ring], rings["phase"].to_numpy()[ring]
    k = (day + phase) // life  # the ring's current shell-company id
    ring_num = world.ring_exporter_nums[rings["id_start"].to_numpy()[ring] + k]
    return pd.DataFrame({
        "day": day,
        "is_ring": is_ring,
        "exporter": np.where(is_ring, -1, honest),
        "ring": np.where(is_ring, ring, -1),
        "exporter_num": np.where(is_ring, ring_num, ex["exporter_num"].to_numpy()[honest]),
        "exporter_first_day": np.where(is_ring, k * life - phase, ex["first_day"].to_numpy()[honest]),
        "party_risk": np.where(is_ring, 0.0, ex["risk"].to_numpy()[honest]),
        "ring_intel": is_ring & rings["intel"].to_numpy()[ring],
    })


def _modes(world: World, cfg: dict, rng: np.random.Generator, c: pd.DataFrame) -> np.ndarray:
    modes = list(cfg["modes"]["mix"])
    usual = world.exporters["mode"].to_numpy()[c["exporter"].clip(lower=0)]
    mode = np.where(rng.random(len(c)) < cfg["modes"]["habit"], usual, pick(rng, weights(cfg["modes"]["mix"], modes), len(c)))
    style = world.rings["style"].to_numpy()[c["ring"].clip(lower=0)]
    rc = cfg["rings"]
    shifted = c["day"].to_numpy() >= int(rc["express_shift_at_share"] * world.days)
    express_share = np.where(shifted, rc["express_share_after"], rc["express_share"])
    parcel = np.where(rng.random(len(c)) < express_share, modes.index("EXPRESS"), modes.index("POST"))
    ring_mode = np.select([style == "PARCELS", style == "FREIGHT"], [parcel, modes.index("SEA")], modes.index("AIR"))
    return np.array(modes)[np.where(c["is_ring"], ring_mode, mode)]


def _destinations(world: World, cfg: dict, rng: np.random.Generator, c: pd.DataFrame) -> np.ndarray:
    n = len(c)
    probs = _country_probs(cfg)
    own = np.where(c["is_ring"], world.rings["region"].to_numpy()[c["ring"].clip(lower=0)],
                   world.exporters["region"].to_numpy()[c["exporter"].clip(lower=0)])
    honest_any = pick(rng, weights(cfg["destinations"]["region_weights"], REGIONS), n)
    ring_any = pick(rng, weights(cfg["destinations"]["ring_region_weights"], REGIONS), n)
    region = np.where(rng.random(n) < cfg["destinations"]["own_region_share"], own, np.where(c["is_ring"], ring_any, honest_any))
    dest = _pick_rows(rng, probs, region)
    for mode, key in (("ROAD", "road_destinations"), ("RAIL", "rail_destinations")):
        mask = (c["transport_mode"] == mode).to_numpy()
        allowed = np.array([COUNTRIES.index(x) for x in cfg["modes"][key]])
        dest[mask] = allowed[rng.integers(0, len(allowed), size=int(mask.sum()))]
    return dest


def _routes(cfg: dict, rng: np.random.Generator, c: pd.DataFrame, days: int) -> np.ndarray:
    """`;`-joined transit hubs; empty for direct shipments."""
    n, rc = len(c), cfg["routes"]
    region = DEST_REGION[c["dest"].to_numpy()]
    hub_probs = np.array([weights(rc["honest_hubs"][r], HUBS) for r in REGIONS])
    honest_hub = _pick_rows(rng, hub_probs, region)
    sea, air = (c["transport_mode"] == "SEA").to_numpy(), (c["transport_mode"] == "AIR").to_numpy()
    p_honest = np.array([rc["honest_transship"][r] for r in REGIONS])[region] * sea + rc["honest_air_transship"] * air
    air_hub = pick(rng, weights(rc["air_hubs"], HUBS), n)
    honest_hub = np.where(air, air_hub, honest_hub)
    ring_probs = ring_hub_weights(cfg, days)
    first, second = _pick_rows(rng, ring_probs, c["day"].to_numpy()), _pick_rows(rng, ring_probs, c["day"].to_numpy())
    ring = c["is_ring"].to_numpy()
    uses_hub = np.where(ring, (sea | air) & (rng.random(n) < rc["ring_transship"]), rng.random(n) < p_honest)
    # Air cargo changes planes at an air hub; sea hubs are for containers.
    hub1 = np.where(ring, np.where(air, air_hub, first), honest_hub)
    two = ring & sea & (rng.random(n) < rc["ring_second_hub"]) & (second != first)
    hubs = np.array(HUBS)
    route = np.where(two, np.char.add(np.char.add(hubs[hub1], ";"), hubs[second]), hubs[hub1])
    # A hub that is the port of discharge itself is no transshipment.
    uses_hub &= hubs[hub1] != DISCHARGE[c["dest"].to_numpy()]
    return np.where(uses_hub, route, "")


def split_orders(c: pd.DataFrame, consignee: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Consignees after splitting ring orders: with probability `share`, a ring consignment goes to
    the consignee of the same ring's previous consignment that day (chains make one order)."""
    rows = np.flatnonzero(c["is_ring"].to_numpy())
    ring_of, day_of = c["ring"].to_numpy(), c["day"].to_numpy()
    order = rows[np.lexsort((rows, day_of[rows], ring_of[rows]))]  # by ring, then day, then lodging order
    ring, day = ring_of[order], day_of[order]
    same_order = np.r_[False, (ring[1:] == ring[:-1]) & (day[1:] == day[:-1])]
    joins = same_order & (rng.random(len(order)) < share)
    head = np.maximum.accumulate(np.where(joins, 0, np.arange(len(order))))
    out = consignee.copy()
    out[order] = consignee[order][head]
    return out


def _counterparties(world: World, cfg: dict, rng: np.random.Generator, c: pd.DataFrame) -> pd.DataFrame:
    n, rings = len(c), world.rings
    ring = c["ring"].clip(lower=0).to_numpy()
    ring_cne = world.ring_consignee_nums[rings["consignee_start"].to_numpy()[ring]
                                         + (rng.random(n) * rings["n_consignees"].to_numpy()[ring]).astype(int)]
    honest_cne = world.consignee_pool[c["dest"].to_numpy(), rng.integers(0, world.consignee_pool.shape[1], size=n)]
    shared = rng.random(n) < cfg["rings"]["consignee_cover_share"]
    to_ring = c["is_ring"].to_numpy() | shared
    parcel = c["transport_mode"].isin(["EXPRESS", "POST"]).to_numpy()
    exporter = c["exporter"].clip(lower=0).to_numpy()
    honest_fwd = world.forwarders[world.exporters["exporter_num"].to_numpy()[exporter] % len(world.forwarders)]
    fwd = np.where(c["is_ring"], world.forwarders[rings["forwarder"].to_numpy()[ring]], honest_fwd)
    fwd = np.where(parcel, world.parcel_forwarders[rng.integers(0, len(world.parcel_forwarders), size=n)], fwd)
    has_fwd = parcel | c["is_ring"].to_numpy() | (rng.random(n) < cfg["world"]["forwarder_share"])
    declarant = np.where(c["is_ring"], world.declarants[rings["declarant"].to_numpy()[ring]],
                         world.declarants[world.exporters["declarant"].to_numpy()[exporter]])
    agent = rng.random(n) < cfg["world"]["agent_consignor_share"]
    consignee = np.where(to_ring, ring_cne, honest_cne)
    if cfg["rings"]["split_order_share"] > 0:  # no draw when off: a world without the pattern keeps its bytes
        consignee = split_orders(c, consignee, cfg["rings"]["split_order_share"], rng)
    return pd.DataFrame({
        "consignee_num": consignee,
        "ring_consignee": to_ring,
        "forwarder_num": np.where(has_fwd, fwd, -1),
        "declarant_num": declarant,
        "agent_num": np.where(agent, world.agents[rng.integers(0, len(world.agents), size=n)], -1),
    }, index=c.index)


def simulate_consignments(world: World, cfg: dict, rng: np.random.Generator, per_day: int) -> pd.DataFrame:
    """One row per consignment with the parties, mode, ports and route; ids come later."""
    day = np.repeat(np.arange(world.days), per_day)
    c = _parties(world, cfg, rng, day)
    c["transport_mode"] = _modes(world, cfg, rng, c)
    ports = np.empty(len(c), dtype=object)
    for mode, port_weights in cfg["modes"]["ports"].items():
        mask = (c["transport_mode"] == mode).to_numpy()
        names = list(port_weights)
        ports[mask] = np.array(names)[pick(rng, weights(port_weights, names), int(mask.sum()))]
    c["port_of_loading"] = ports.astype(str)
    c["territory"] = c["port_of_loading"].map(PORT_TERRITORY)
    c["dest"] = _destinations(world, cfg, rng, c)
    c["route_ports"] = _routes(cfg, rng, c, world.days)
    c = pd.concat([c, _counterparties(world, cfg, rng, c)], axis=1)
    carriers = np.empty(len(c), dtype=object)
    for mode, codes in CARRIERS.items():
        mask = (c["transport_mode"] == mode).to_numpy()
        carriers[mask] = np.array(codes)[rng.integers(0, len(codes), size=int(mask.sum()))]
    c["carrier_code"] = carriers.astype(str)
    return c


def finish_manifests(cfg: dict, rng: np.random.Generator, c: pd.DataFrame, it: pd.DataFrame) -> pd.DataFrame:
    """Packages, gross weight, containers and departure, consistent with the declared items."""
    mc, n = cfg["manifests"], len(c)
    mode = c["transport_mode"].to_numpy()
    median = pd.Series(mode).map(mc["median_packages"]).fillna(1.0).to_numpy()
    freight = np.maximum(1, np.round(median * rng.lognormal(0.0, mc["packages_sigma"], n))).astype(np.int64)
    parcel_max = np.where(c["is_ring"], cfg["rings"]["parcel_packages_max"], mc["parcel_max"])
    parcels = 1 + (rng.random(n) * parcel_max).astype(np.int64)
    packages = np.where(np.isin(mode, ["EXPRESS", "POST"]), parcels, freight)
    net = np.bincount(it["cons"].to_numpy(), weights=it["net_weight_kg"].to_numpy(), minlength=n)
    gross = net * rng.uniform(*mc["packing_factor"], size=n) + packages * mc["kg_per_package"]
    out = c.copy()
    out["package_count"] = packages
    out["gross_weight_kg"] = np.round(np.maximum(gross, 0.01), 2)
    sea = mode == "SEA"
    n_boxes = np.where(sea & (rng.random(n) >= mc["lcl_share"]), 1 + (rng.random(n) < mc["second_container_share"]), 0)
    out["n_containers"] = n_boxes
    delay = cfg["lodging"]["departure_delay_days"]
    out["departure_day"] = c["day"].to_numpy() + rng.integers(delay[0], delay[1] + 1, size=n)
    return out
