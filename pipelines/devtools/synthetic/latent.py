"""The latent model: p_counterfeit of each consignment from the patterns the world planted.

logit(p) = intercept + sum(coefficient x signal) + party risk + noise, with the
coefficients in conf/base/synthetic.yaml `latent`. The intercept is solved so that the
mean of p is the configured base rate. docs/synthetic_data.md explains each signal.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.devtools.synthetic.goods import VAGUE_DESCRIPTIONS
from pipelines.devtools.synthetic.items import GENERAL

_BISECTION_STEPS = 60


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def consignment_signals(c: pd.DataFrame, it: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """The true (partly hidden) signals of each consignment, aggregated over its items."""
    lat = cfg["latent"]
    per_cons = pd.DataFrame({
        "cons": it["cons"],
        "undervalued": it["undervalued"],
        "recorded_brand": it["brand_idx"] >= 0,
        "prone": it["group"] < GENERAL,
        "vague": it["goods_description"].isin(VAGUE_DESCRIPTIONS),
    }).groupby("cons").max()
    per_cons = per_cons.reindex(np.arange(len(c)), fill_value=False)
    small_parcel = c["transport_mode"].isin(["EXPRESS", "POST"]).to_numpy() & (
        c["package_count"].to_numpy() <= cfg["rings"]["parcel_packages_max"])
    return pd.DataFrame({
        "ring_member": c["is_ring"].to_numpy(),
        "undervalued_brand": per_cons["undervalued"].to_numpy(),
        "recorded_brand": per_cons["recorded_brand"].to_numpy() & ~per_cons["undervalued"].to_numpy(),
        "prone_goods": per_cons["prone"].to_numpy(),
        "vague_description": per_cons["vague"].to_numpy(),
        "transshipped": (c["route_ports"] != "").to_numpy(),
        "small_parcel": small_parcel,
        "fresh_exporter": (c["day"] - c["exporter_first_day"]).to_numpy() < lat["fresh_exporter_days"],
        "ring_consignee": c["ring_consignee"].to_numpy(),
    })


def solve_intercept(score: np.ndarray, base_rate: float) -> float:
    """The intercept b with mean(sigmoid(b + score)) == base_rate (bisection; the mean is monotone in b)."""
    low, high = -30.0, 30.0
    for _ in range(_BISECTION_STEPS):
        mid = (low + high) / 2
        if _sigmoid(mid + score).mean() < base_rate:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def draw_truth(c: pd.DataFrame, it: pd.DataFrame, cfg: dict, rng: np.random.Generator) -> pd.DataFrame:
    """p_counterfeit and is_counterfeit for every consignment."""
    lat = cfg["latent"]
    signals = consignment_signals(c, it, cfg)
    score = sum(lat[name] * signals[name].to_numpy().astype(float) for name in signals.columns)
    score = score + c["party_risk"].to_numpy() + rng.normal(0.0, lat["noise_sigma"], len(c))
    intercept = solve_intercept(score, lat["base_rate"]) if len(c) else 0.0
    p = _sigmoid(intercept + score)
    return pd.DataFrame({"p_counterfeit": p, "is_counterfeit": rng.random(len(c)) < p})
