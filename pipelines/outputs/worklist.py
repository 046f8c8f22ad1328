"""The night's worklist for the inspector workbench: one row per listed consignment.

`shiprisk nightly` writes it as ONE Parquet file, W/nights/date=D/worklist.parquet (pyarrow,
not a Spark folder), inside the night's unit: the RED list (PROFILE, MODEL, EXPLORATION and
RANDOM rows) and each office's AMBER queue, in office, lane (RED first) and rank order, with
the schema SCHEMA (the workbench is built against it: add columns, never rename).

The details come from the night's own frames: the listed rows (features joined with the
consignment details, with their reasons), the validated declarations for the goods items, the
validated watch-list snapshot for the hits, and the party-history features for the history.
Everything here works on the listed rows only, which office capacities bound.
"""
from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from features.consignments import item_values
from features.parties import PARTY_ROLES

ITEM = pa.struct([("item_no", pa.int32()), ("hs_code", pa.string()), ("goods_description", pa.string()),
                  ("brand", pa.string()), ("quantity", pa.float64()), ("quantity_unit", pa.string()),
                  ("declared_value", pa.float64()), ("currency", pa.string()), ("value_hkd", pa.float64())])
SCHEMA = pa.schema([
    ("list_date", pa.string()), ("customs_office", pa.string()), ("lane", pa.string()),
    ("rank_in_office", pa.int32()), ("selection_basis", pa.string()), ("selection_reason", pa.string()),
    ("score", pa.float64()), ("score_adjusted", pa.float64()), ("reasons", pa.list_(pa.string())),
    ("consignment_id", pa.string()), ("declaration_ids", pa.string()), ("lodged_date", pa.string()),
    ("transport_mode", pa.string()), ("exporter_id", pa.string()), ("consignor_id", pa.string()),
    ("consignee_id", pa.string()), ("forwarder_id", pa.string()), ("declarant_id", pa.string()),
    ("port_of_loading", pa.string()), ("route_ports", pa.string()), ("port_of_discharge", pa.string()),
    ("destination_country", pa.string()), ("destination_region", pa.string()), ("goods_description", pa.string()),
    ("brands", pa.string()), ("matched_brand", pa.string()), ("package_count", pa.int64()),
    ("gross_weight_kg", pa.float64()), ("total_value_hkd", pa.float64()), ("items", pa.list_(ITEM)),
    ("watchlist", pa.list_(pa.string())), ("party_history", pa.list_(pa.string())), ("model_version", pa.string()),
])
# Worklist column <- column of the listed frame, where the names differ.
RENAMED = {"destination_region": "dest_region", "goods_description": "main_goods_description"}
DETAIL_COLUMNS = ("declaration_ids", "items", "watchlist", "party_history")
LANE_ORDER = {"RED": 0, "AMBER": 1}


def detail_inputs() -> list[str]:
    """Columns of the listed frame that add_worklist_details reads."""
    history = [f"{role}_{name}" for role in PARTY_ROLES
               for name in ("seizures_365d", "inspections_365d", "shipments_365d", "days_since_first_seen")]
    return ["consignment_id", "lodged_date", *PARTY_ROLES.values(), *history]


def add_worklist_details(listed: DataFrame, inputs: Mapping[str, DataFrame], fx_fallback: Mapping[str, float] | None,
                         source_names: Mapping[str, str]) -> DataFrame:
    """The listed rows with declaration_ids, items, watchlist and party_history (DETAIL_COLUMNS)."""
    # The consignments frame has its own `items` (features.consignments, for the item-level
    # features); the worklist's come from the declarations, in the worklist's item layout.
    listed = listed.drop(*DETAIL_COLUMNS)
    ids = listed.select("consignment_id", "lodged_date", *PARTY_ROLES.values())
    items = _items(ids, inputs["declarations"], inputs.get("fx_rates"), fx_fallback)
    out = listed.join(items, on="consignment_id", how="left")  # items: one row per consignment (grouped)
    intelligence = inputs.get("intelligence")
    if intelligence is not None:
        out = out.join(_watchlist(ids, intelligence, source_names), on="consignment_id", how="left")  # grouped
    else:
        out = out.select("*", F.lit(None).cast("array<string>").alias("watchlist"))
    empty = F.array().cast("array<string>")
    return out.select(*[c for c in out.columns if c not in DETAIL_COLUMNS], "declaration_ids", "items",
                      F.coalesce(F.col("watchlist"), empty).alias("watchlist"), _party_history().alias("party_history"))


def _items(ids: DataFrame, declarations: DataFrame, fx_rates: DataFrame | None,
           fx_fallback: Mapping[str, float] | None) -> DataFrame:
    """consignment_id, declaration_ids ("D1;D2"), items (every declared item, by declaration and item)."""
    mine = declarations.join(ids.select("consignment_id"), on="consignment_id", how="left_semi")
    valued = item_values(mine, fx_rates, fx_fallback)
    item = F.struct(
        F.col("declaration_id").cast("string").alias("declaration_id"), F.col("item_no").cast("int").alias("item_no"),
        F.col("hs_code").cast("string").alias("hs_code"), F.col("goods_description").cast("string").alias("goods_description"),
        F.col("brand").cast("string").alias("brand"), F.col("quantity").cast("double").alias("quantity"),
        F.col("quantity_unit").cast("string").alias("quantity_unit"),
        F.col("declared_value").cast("double").alias("declared_value"), F.col("currency").cast("string").alias("currency"),
        F.col("value_hkd").cast("double").alias("value_hkd"))
    grouped = valued.groupBy("consignment_id").agg(
        F.array_join(F.array_sort(F.collect_set(F.col("declaration_id").cast("string"))), ";").alias("declaration_ids"),
        F.array_sort(F.collect_list(item)).alias("_items"))
    fields = [f for f in ITEM.names]
    return grouped.select("consignment_id", "declaration_ids",
                          F.transform("_items", lambda i: F.struct(*[i[f].alias(f) for f in fields])).alias("items"))


def _watchlist(ids: DataFrame, intelligence: DataFrame, source_names: Mapping[str, str]) -> DataFrame:
    """consignment_id, watchlist: "exporter EX1 listed by Macao customs since 2026-09-01", one per
    active entry (known by the lodging day, not expired), earliest first."""
    roles = [F.struct(F.lit(role).alias("role"), F.lit(rank).alias("role_rank"), F.col(column).alias("party_id"))
             for rank, (role, column) in enumerate(PARTY_ROLES.items())]
    parties = ids.select("consignment_id", "lodged_date", F.explode(F.array(*roles)).alias("p")).select(
        "consignment_id", "lodged_date", "p.role", "p.role_rank", "p.party_id").where(F.col("party_id").isNotNull())
    received = F.col("received_on") if "received_on" in intelligence.columns else F.lit(None).cast("date")
    listings = intelligence.select(
        F.lower(F.col("entity_type")).alias("w_role"), F.col("entity_id").alias("w_id"), F.col("source").alias("source"),
        F.greatest(F.col("listed_on"), F.coalesce(received, F.col("listed_on"))).alias("known_from"),
        F.col("expires_on").alias("expires_on"))
    is_party = (F.col("w_role") == F.col("role")) & (F.col("w_id") == F.col("party_id"))
    is_active = (F.col("known_from") <= F.col("lodged_date")) & (
        F.col("expires_on").isNull() | (F.col("lodged_date") <= F.col("expires_on")))
    # Many listings may match one party (several sources): reduced per consignment right after.
    hits = parties.join(listings, on=is_party & is_active, how="inner")
    sentence = F.concat(F.col("role"), F.lit(" "), F.col("party_id"), F.lit(" listed by "),
                        _source_name(F.col("source"), source_names), F.lit(" since "),
                        F.date_format("known_from", "yyyy-MM-dd"))
    entry = F.struct(F.col("known_from"), F.col("role_rank"), F.col("source"), sentence.alias("text"))
    grouped = hits.groupBy("consignment_id").agg(F.array_sort(F.collect_set(entry)).alias("_hits"))
    return grouped.select("consignment_id", F.array_distinct(F.transform("_hits", lambda h: h["text"])).alias("watchlist"))


def _source_name(code: Column, source_names: Mapping[str, str]) -> Column:
    pairs = [F.lit(str(x)) for k, v in sorted(source_names.items()) for x in (k, v)]
    return F.coalesce(F.try_element_at(F.create_map(*pairs), code), code) if pairs else code


def _party_history() -> Column:
    """One sentence per named party from the night's party-history features:
    "exporter E1: 2 seizure(s) in 5 inspection(s) over 365 days; 40 consignment(s) in 365 days; first seen 200 day(s) ago"."""
    sentences = []
    for role, column in PARTY_ROLES.items():
        def n(name: str, role: str = role) -> Column:
            return F.coalesce(F.col(f"{role}_{name}").cast("long"), F.lit(0)).cast("string")

        first_seen = F.col(f"{role}_days_since_first_seen")
        seen = F.when(first_seen.isNotNull(), F.concat(F.lit("; first seen "), first_seen.cast("string"),
                                                      F.lit(" day(s) ago")))
        text = F.concat(F.lit(f"{role} "), F.col(column), F.lit(": "), n("seizures_365d"), F.lit(" seizure(s) in "),
                        n("inspections_365d"), F.lit(" inspection(s) over 365 days; "), n("shipments_365d"),
                        F.lit(" consignment(s) in 365 days"), F.coalesce(seen, F.lit("")))
        sentences.append(F.when(F.col(column).isNotNull(), text))
    return F.filter(F.array(*sentences), lambda s: s.isNotNull())


def worklist_columns() -> list[str]:
    """Columns of the listed frame that worklist_table reads."""
    return sorted({RENAMED.get(name, name) for name in SCHEMA.names} - {"list_date"} | {"selected"})


def worklist_table(rows: pd.DataFrame, day: str) -> pa.Table:
    """The listed rows (pandas, with add_worklist_details' columns) as the worklist, in SCHEMA."""
    frame = pd.DataFrame({name: rows[RENAMED.get(name, name)] for name in SCHEMA.names if name != "list_date"})
    frame.insert(0, "list_date", day)
    frame["selection_reason"] = frame["selection_reason"].where(frame["lane"] != "AMBER", "RISK")
    frame["lodged_date"] = [None if v is None or pd.isna(v) else str(v)[:10] for v in frame["lodged_date"]]
    for name in ("route_ports", "brands"):
        frame[name] = [_joined(v) for v in frame[name]]
    for name in ("reasons", "watchlist", "party_history"):
        frame[name] = [[] if v is None else list(v) for v in frame[name]]
    frame["items"] = [[] if v is None else [_as_dict(i) for i in v] for v in frame["items"]]
    frame = frame.assign(_lane=frame["lane"].map(LANE_ORDER)).sort_values(
        ["customs_office", "_lane", "rank_in_office", "consignment_id"], kind="mergesort").drop(columns="_lane")
    return pa.Table.from_pandas(frame.reset_index(drop=True), schema=SCHEMA, preserve_index=False)


def _as_dict(item) -> dict:
    return item.asDict() if hasattr(item, "asDict") else dict(item)


def _joined(value) -> str | None:
    """A list of ports or brands as "A;B" (the contract's separator); empty = ""."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str):
        return value
    return ";".join(str(v) for v in list(value) if v is not None)


def write_worklist(spark, table: pa.Table, location: str) -> str:
    """One Parquet file at a local path or a Hadoop URI."""
    from pipelines.io.publish import is_local

    if is_local(location):
        pq.write_table(table, location)
    else:
        from pipelines.io.filesystem import write_bytes

        sink = io.BytesIO()
        pq.write_table(table, sink)
        write_bytes(spark, location, sink.getvalue())
    return location
