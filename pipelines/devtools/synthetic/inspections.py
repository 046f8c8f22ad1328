"""Which consignments get inspected (legacy rules, RANDOM control, INTEL) and what inspection finds.

The legacy policy is the kind of broad rule set a customs service runs before risk
models: whole HS chapters, a few destinations, the watch-list, high values. Detection
is imperfect, and some outcomes are later replaced (laboratory or rights-holder
verification).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.devtools.synthetic.goods import INFRINGEMENT_BY_GROUP, PRONE_GROUPS
from pipelines.devtools.synthetic.intelligence import listed_on_day
from pipelines.devtools.synthetic.simulate import COUNTRIES


def _any_item(it: pd.DataFrame, flag: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(it["cons"].to_numpy(), weights=flag.astype(float), minlength=n) > 0


def watchlisted(c: pd.DataFrame, wl: pd.DataFrame) -> np.ndarray:
    """Any party of the consignment on the watch-list on its lodging day."""
    day = c["day"].to_numpy()
    hit = np.zeros(len(c), dtype=bool)
    for kind, column in (("EXPORTER", "exporter_num"), ("CONSIGNEE", "consignee_num"),
                         ("FORWARDER", "forwarder_num"), ("DECLARANT", "declarant_num")):
        hit |= listed_on_day(wl, kind, c[column].to_numpy(), day)
    return hit


def legacy_probability(c: pd.DataFrame, it: pd.DataFrame, wl: pd.DataFrame, cfg: dict) -> np.ndarray:
    """Inspection probability under the legacy rules (documented in docs/synthetic_data.md)."""
    lc, n = cfg["inspections"]["legacy"], len(c)
    chapter = it["hs_code"].to_numpy().astype("U2")  # the first two digits
    chapter_hit = _any_item(it, np.isin(chapter, lc["chapters"]), n)
    destination_hit = c["dest"].map(dict(enumerate(COUNTRIES))).isin(lc["destinations"]).to_numpy() & chapter_hit
    value = np.bincount(it["cons"].to_numpy(), weights=it["value_hkd"].to_numpy(), minlength=n)
    prob = (lc["base"] + lc["chapter_rate"] * chapter_hit + lc["destination_rate"] * destination_hit
            + lc["watchlist_rate"] * watchlisted(c, wl) + lc["high_value_rate"] * (value > lc["high_value_hkd"]))
    return np.minimum(prob, 1.0)


def select_inspections(c: pd.DataFrame, it: pd.DataFrame, wl: pd.DataFrame, cfg: dict,
                       rng: np.random.Generator) -> np.ndarray:
    """Selection reason per consignment; empty = not inspected. RANDOM is drawn first, so it is unbiased."""
    ic, n = cfg["inspections"], len(c)
    ring_intel = c["ring_intel"].to_numpy() & (rng.random(n) < ic["intel_rate"])
    intel = ring_intel | (rng.random(n) < ic["intel_noise_rate"])
    risk = rng.random(n) < legacy_probability(c, it, wl, cfg)
    random = rng.random(n) < ic["random_rate"]
    other = rng.random(n) < ic["other_rate"]
    return np.select([random, intel, risk, other], ["RANDOM", "INTEL", "RISK", "OTHER"], "")


def _seizure_details(c: pd.DataFrame, it: pd.DataFrame) -> pd.DataFrame:
    """Items, market value and infringement type a seizure of each consignment would record."""
    n = len(c)
    infringing = it["infringing"].to_numpy()
    # A consignment without prone goods has its whole content taken (misdeclared fakes).
    has_prone = _any_item(it, infringing, n)
    taken = infringing | ~has_prone[it["cons"].to_numpy()]
    cons = it["cons"].to_numpy()
    items = np.bincount(cons, weights=np.where(taken, it["quantity"].to_numpy(), 0.0), minlength=n)
    value = np.bincount(cons, weights=np.where(taken, it["market_value_hkd"].to_numpy(), 0.0), minlength=n)
    first_group = pd.Series(it["group"].to_numpy()).groupby(cons).first().reindex(np.arange(n), fill_value=len(PRONE_GROUPS))
    names = np.array(PRONE_GROUPS + ["GENERAL"])[first_group.to_numpy()]
    kind = pd.Series(names).map(INFRINGEMENT_BY_GROUP).fillna("TRADEMARK").to_numpy()
    return pd.DataFrame({"seized_items": np.maximum(np.round(items), 1).astype(np.int64),
                         "seized_value_hkd": np.round(value, 2), "infringement_type": kind})


def simulate_outcomes(c: pd.DataFrame, it: pd.DataFrame, truth: pd.DataFrame, wl: pd.DataFrame, cfg: dict,
                      rng: np.random.Generator) -> pd.DataFrame:
    """Outcome rows (with day offsets): first findings, then the later ones that replace them."""
    ic = cfg["inspections"]
    reason = select_inspections(c, it, wl, cfg, rng)
    idx = np.flatnonzero(reason != "")
    fake = truth["is_counterfeit"].to_numpy()[idx]
    u = rng.random(len(idx))
    seized = np.where(fake, u < ic["detection_rate"], u < ic["false_seizure_rate"])
    delay = ic["inspection_delay_days"]
    first = pd.DataFrame({"cons": idx, "inspected_day": c["day"].to_numpy()[idx] + rng.integers(delay[0], delay[1] + 1, len(idx)),
                          "selection_reason": reason[idx], "seized": seized})
    v = rng.random(len(idx))
    missed, false_hit = fake & ~seized, ~fake & seized
    redo = (missed & (v < ic["recheck_missed_rate"])) | (false_hit & (v < ic["recheck_false_rate"])) | (
        fake & seized & (v < ic["amend_rate"]))
    later = first[redo].copy()
    later["seized"] = fake[redo]
    gap = ic["recheck_delay_days"]
    later["inspected_day"] += rng.integers(gap[0], gap[1] + 1, size=len(later))
    later["amend"] = rng.uniform(*ic["amended_share"], size=len(later))
    out = pd.concat([first.assign(amend=1.0), later], ignore_index=True)
    details = _seizure_details(c, it).iloc[out["cons"].to_numpy()].reset_index(drop=True)
    s = out["seized"].to_numpy()
    out["result"] = np.where(s, "SEIZED", "CLEAN")
    out["seized_items"] = pd.array(np.where(s, np.maximum(1, np.round(details["seized_items"] * out["amend"])), 0), dtype="Int64")
    out.loc[~s, "seized_items"] = pd.NA
    out["seized_value_hkd"] = np.where(s, np.round(details["seized_value_hkd"] * out["amend"], 2), np.nan)
    out["infringement_type"] = np.where(s, details["infringement_type"], None)
    return out.drop(columns=["seized", "amend"])
