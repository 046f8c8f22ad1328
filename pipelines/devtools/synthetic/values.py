"""Quantities, prices, currencies and weights of declared items, and the day's FX rates."""
from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.devtools.synthetic.geography import PORT_CURRENCY
from pipelines.devtools.synthetic.items import GENERAL, RING_BRANDED, RING_LOOKALIKE, RING_MISDECLARED
from pipelines.devtools.synthetic.world import World


def simulate_fx(cfg: dict, rng: np.random.Generator, days: int) -> pd.DataFrame:
    """[day, currency] HKD per unit: a random walk, flat for currencies pegged to the HKD or USD."""
    fx = cfg["fx"]
    names = list(fx["hkd_per_unit"])
    steps = rng.normal(0.0, fx["daily_sigma"], size=(days, len(names)))
    steps[:, [names.index(p) for p in fx["pegged"]]] = 0.0
    steps[0] = 0.0
    rates = np.array([fx["hkd_per_unit"][n] for n in names]) * np.exp(np.cumsum(steps, axis=0))
    return pd.DataFrame(np.round(rates, 6), columns=names)


def consignment_currency(cfg: dict, rng: np.random.Generator, c: pd.DataFrame) -> np.ndarray:
    """Local currency of the loading territory, or an invoicing currency of the buyer."""
    ic = cfg["items"]
    local = c["territory"].map(PORT_CURRENCY).to_numpy()
    others = np.array(ic["other_currencies"])[rng.integers(0, len(ic["other_currencies"]), size=len(c))]
    u = rng.random(len(c))
    cuts = np.cumsum([ic["usd_share"], ic["eur_share"], ic["other_currency_share"]])
    return np.select([u < cuts[0], u < cuts[1], u < cuts[2]], ["USD", "EUR", others], local).astype(str)


def _hs_codes(world: World, cfg: dict, rng: np.random.Generator, it: pd.DataFrame, territory: np.ndarray) -> np.ndarray:
    """National tariff codes: the HS subheading plus 2 (HK, MO) or 4 (CN) national digits."""
    hs6 = world.catalogue["hs6"].to_numpy()[it["declared_row"].to_numpy()]
    digits = pd.Series(territory).map(cfg["items"]["hs_digits"]).to_numpy()
    residual = rng.random(len(it)) < cfg["items"]["residual_subdivision_share"]
    extra = np.select([digits == 8, digits == 10], [np.where(residual, "90", "00"), np.where(residual, "9000", "0000")], "")
    return np.char.add(hs6.astype(str), extra)


def _unit_values(world: World, cfg: dict, rng: np.random.Generator, it: pd.DataFrame) -> np.ndarray:
    """Unit value in HKD: genuine brands above their floor, fakes far below it."""
    ic, kind = cfg["items"], it["kind"].to_numpy()
    base = world.catalogue["unit_value_hkd"].to_numpy()[it["row"].to_numpy()] * rng.lognormal(0.0, ic["price_sigma"], len(it))
    floor = world.brands["min_genuine_unit_value_hkd"].to_numpy()[it["brand_idx"].clip(lower=0).to_numpy()]
    genuine = floor * rng.uniform(*ic["genuine_price_range"], size=len(it))
    fake = floor * rng.uniform(*cfg["rings"]["undervaluation_range"], size=len(it))
    cheap = base * ic["generic_price_factor"]
    value = np.select(
        [it["genuine"].to_numpy(), np.isin(kind, [RING_BRANDED, RING_MISDECLARED]),
         it["generic"].to_numpy() | (kind == RING_LOOKALIKE)],
        [genuine, fake, cheap], base)
    return np.maximum(value, ic["min_unit_value_hkd"])


def price_items(world: World, cfg: dict, rng: np.random.Generator, it: pd.DataFrame, c: pd.DataFrame,
                fx: pd.DataFrame) -> pd.DataFrame:
    """Adds hs_code, quantity, unit, weights, declared value and currency, and the truth of under-valuation."""
    ic, cat = cfg["items"], world.catalogue
    cons = it["cons"].to_numpy()
    mode = c["transport_mode"].to_numpy()[cons]
    territory = c["territory"].to_numpy()[cons]
    unit = cat["unit"].to_numpy()[it["declared_row"].to_numpy()]
    median = pd.Series(mode).map(ic["median_quantity"]).to_numpy()
    qty = median * rng.lognormal(0.0, ic["quantity_sigma"], len(it))
    qty = np.where(unit == "KGM", np.maximum(np.round(qty, 1), 0.1), np.maximum(np.ceil(qty), 1.0))
    unit_hkd = _unit_values(world, cfg, rng, it)
    currency = c["currency"].to_numpy()[cons]
    rate = fx.to_numpy()[it["day"].to_numpy(), fx.columns.get_indexer(currency)]
    net = qty * cat["unit_kg"].to_numpy()[it["row"].to_numpy()] * rng.lognormal(0.0, ic["net_weight_sigma"], len(it))
    floor = world.brands["min_genuine_unit_value_hkd"].to_numpy()[it["brand_idx"].clip(lower=0).to_numpy()]
    has_brand = (it["brand_idx"] >= 0).to_numpy()
    out = it.copy()
    out["hs_code"] = _hs_codes(world, cfg, rng, it, territory)
    out["quantity"] = qty
    out["quantity_unit"] = unit
    out["net_weight_kg"] = np.round(np.where(unit == "KGM", qty, net), 3)
    amount = qty * unit_hkd / rate
    out["declared_value"] = np.where(currency == "JPY", np.round(amount, 0), np.round(amount, 2))
    out["currency"] = currency
    out["value_hkd"] = qty * unit_hkd
    out["undervalued"] = has_brand & (unit_hkd < floor)
    # What a seizure report would call the market value: the genuine price for a fake brand.
    out["market_value_hkd"] = qty * np.where(has_brand, floor, ic["unbranded_market_markup"] * unit_hkd)
    # Items a seizure of this consignment would take: the counterfeit-prone goods.
    out["infringing"] = (it["group"] < GENERAL).to_numpy()
    return out
