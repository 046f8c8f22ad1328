"""The simulation's tables turned into the contract's datasets (columns, ids, codes, dates).

Dates are numpy datetime64 values; `lodged_at` is local time (+08:00) without zone,
turned into text or UTC by pipelines.devtools.synthetic.write.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipelines.devtools.synthetic.geography import CONTAINER_PREFIXES, CUSTOMS_OFFICES
from pipelines.devtools.synthetic.intelligence import party_ids
from pipelines.devtools.synthetic.simulate import COUNTRIES, DISCHARGE
from pipelines.devtools.synthetic.world import pick, weights
from pipelines.validation.contract import DATASETS


def day_dates(start: dt.date, day: np.ndarray) -> np.ndarray:
    return np.datetime64(start, "D") + np.asarray(day).astype("timedelta64[D]")


def seq_ids(prefix: str, start: dt.date, day: np.ndarray, width: int) -> np.ndarray:
    """prefix + yymmdd + a sequence number within the day."""
    day = np.asarray(day)
    first = np.r_[0, np.flatnonzero(np.diff(day)) + 1] if len(day) else np.array([], dtype=int)
    seq = np.arange(len(day)) - np.repeat(first, np.diff(np.r_[first, len(day)]))
    n_days = int(day.max()) + 1 if len(day) else 0
    stamps = np.array([(start + dt.timedelta(days=d)).strftime("%y%m%d") for d in range(n_days)])
    return np.char.add(np.char.add(prefix, stamps[day]), np.char.zfill((seq + 1).astype(str), width))


def _containers(rng: np.random.Generator, count: np.ndarray) -> np.ndarray:
    def one() -> np.ndarray:
        prefix = np.array(CONTAINER_PREFIXES)[rng.integers(0, len(CONTAINER_PREFIXES), size=len(count))]
        return np.char.add(prefix, np.char.zfill(rng.integers(0, 10_000_000, size=len(count)).astype(str), 7))
    first, second = one(), one()
    return np.select([count == 1, count == 2], [first, np.char.add(np.char.add(first, ";"), second)], "")


def manifest_frame(c: pd.DataFrame, start: dt.date, rng: np.random.Generator) -> pd.DataFrame:
    keys = ["day", "port_of_loading", "transport_mode", "carrier_code", "dest"]
    manifest_no = c.groupby(keys, sort=True).ngroup().to_numpy()
    consignor = np.where(c["agent_num"] >= 0, party_ids("AGENT", c["agent_num"].to_numpy()),
                         party_ids("EXPORTER", c["exporter_num"].to_numpy()))
    frame = pd.DataFrame({
        "consignment_id": c["consignment_id"],
        "manifest_id": np.char.add("MF", np.char.zfill(manifest_no.astype(str), 8)),
        "transport_mode": c["transport_mode"],
        "carrier_code": c["carrier_code"],
        "port_of_loading": c["port_of_loading"],
        "route_ports": c["route_ports"],
        "port_of_discharge": DISCHARGE[c["dest"].to_numpy()],
        "destination_country": np.array(COUNTRIES)[c["dest"].to_numpy()],
        "departure_date": day_dates(start, c["departure_day"].to_numpy()),
        "consignor_id": consignor,
        "consignee_id": party_ids("CONSIGNEE", c["consignee_num"].to_numpy()),
        "consignee_country": np.array(COUNTRIES)[c["dest"].to_numpy()],
        "forwarder_id": party_ids("FORWARDER", c["forwarder_num"].to_numpy()),
        "package_count": c["package_count"].astype(np.int64),
        "gross_weight_kg": c["gross_weight_kg"],
        "container_ids": _containers(rng, c["n_containers"].to_numpy()),
    })
    return frame[DATASETS["manifests"].column_names]


def _origins(cfg: dict, rng: np.random.Generator, territory: np.ndarray) -> np.ndarray:
    origin = np.empty(len(territory), dtype=object)
    for place, shares in cfg["items"]["origin"].items():
        mask = territory == place
        names = list(shares)
        origin[mask] = np.array(names)[pick(rng, weights(shares, names), int(mask.sum()))]
    return origin.astype(str)


def declaration_frame(c: pd.DataFrame, it: pd.DataFrame, start: dt.date, cfg: dict,
                      rng: np.random.Generator) -> pd.DataFrame:
    cons = it["cons"].to_numpy()
    territory = c["territory"].to_numpy()
    origin = _origins(cfg, rng, territory)
    office = np.empty(len(c), dtype=object)
    port, mode = c["port_of_loading"].to_numpy(), c["transport_mode"].to_numpy()
    for (at_port, by_mode), name in CUSTOMS_OFFICES.items():
        office[(port == at_port) & (mode == by_mode)] = name
    hours = cfg["lodging"]["hours"]
    seconds = rng.integers(hours[0] * 3600, hours[1] * 3600, size=len(c)).astype("timedelta64[s]")
    lodged = day_dates(start, c["day"].to_numpy()).astype("datetime64[s]") + seconds
    re_export = (territory == "HK") & (origin != "HK")
    frame = pd.DataFrame({
        "declaration_id": c["declaration_id"].to_numpy()[cons],
        "item_no": it["item_no"].astype(np.int64).to_numpy(),
        "consignment_id": c["consignment_id"].to_numpy()[cons],
        "lodged_at": lodged[cons],
        "customs_office": office[cons],
        "exporter_id": party_ids("EXPORTER", c["exporter_num"].to_numpy())[cons],
        "declarant_id": party_ids("DECLARANT", c["declarant_num"].to_numpy())[cons],
        "declaration_type": np.where(re_export, "REEXPORT", "EXPORT")[cons],
        "hs_code": it["hs_code"].to_numpy(),
        "goods_description": it["goods_description"].to_numpy(),
        "brand": it["brand"].to_numpy(),
        "origin_country": origin[cons],
        "quantity": it["quantity"].to_numpy(),
        "quantity_unit": it["quantity_unit"].to_numpy(),
        "net_weight_kg": it["net_weight_kg"].to_numpy(),
        "declared_value": it["declared_value"].to_numpy(),
        "currency": it["currency"].to_numpy(),
    })
    return frame


def outcome_frame(c: pd.DataFrame, outcomes: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    frame = pd.DataFrame({
        "consignment_id": c["consignment_id"].to_numpy()[outcomes["cons"].to_numpy()],
        "inspected_on": day_dates(start, outcomes["inspected_day"].to_numpy()),
        "selection_reason": outcomes["selection_reason"].to_numpy(),
        "result": outcomes["result"].to_numpy(),
        "seized_items": outcomes["seized_items"].array,
        "seized_value_hkd": outcomes["seized_value_hkd"].to_numpy(),
        "infringement_type": outcomes["infringement_type"].to_numpy(),
    })
    return frame.sort_values(["inspected_on", "consignment_id"], kind="stable").reset_index(drop=True)


def _entity_ids(wl: pd.DataFrame) -> np.ndarray:
    ids = np.empty(len(wl), dtype=object)
    for kind in wl["kind"].unique():
        mask = (wl["kind"] == kind).to_numpy()
        ids[mask] = party_ids(kind, wl["num"].to_numpy()[mask])
    return ids


def intelligence_frame(wl: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    expires = wl["expires_day"].to_numpy()
    open_ended = np.isnan(expires)
    expires_on = np.where(open_ended, np.datetime64("NaT"), day_dates(start, np.nan_to_num(expires).astype(int)))
    frame = pd.DataFrame({
        "entity_type": wl["kind"],
        "entity_id": _entity_ids(wl),
        "source": wl["source"],
        "listed_on": day_dates(start, wl["listed_day"].to_numpy()),
        "expires_on": expires_on.astype("datetime64[D]"),
        # Entries reach this administration the day they are listed: received_on stays empty.
        "received_on": np.full(len(wl), np.datetime64("NaT"), dtype="datetime64[D]"),
        "note": wl["note"],
    })
    return frame.sort_values(["listed_on", "entity_id"], kind="stable").reset_index(drop=True)


def fx_frame(fx: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    long = fx.stack().reset_index()
    long.columns = ["day", "currency", "hkd_per_unit"]
    return pd.DataFrame({"currency": long["currency"], "rate_date": day_dates(start, long["day"].to_numpy()),
                         "hkd_per_unit": long["hkd_per_unit"]}).sort_values(["rate_date", "currency"], kind="stable")
