"""Proposed watch-list entries from the seizures of a period: one entry per (role, party), in the
contract's `intelligence` columns, with the evidence of all its seizures merged into `note`.

    seized consignments (seizure_facts)  ->  propose_entries  ->  entity_type, entity_id, source,
                                                                  listed_on, expires_on, received_on, note

listed_on is the day the party's first seizure of the package became known here (its inspection
day); expires_on is its last seizure day plus the role's expiry days (open-ended for 0);
received_on is left empty: the receiving administration fills it on import. The note carries
only what the policy shares: seizure count and days always, then brands, HS headings (4
digits), routes and destination countries, seized items, each if its field is not withheld.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipelines.exchange.policy import ExchangePolicy

ENTRY_COLUMNS = ("entity_type", "entity_id", "source", "listed_on", "expires_on", "received_on", "note")
# Characters a note never carries from free text: controls, and the note's own separators.
_UNSAFE = r"[\p{Cc}\p{Zl}\p{Zp};|=]+"


def _clean(col: Column) -> Column:
    """Free text fit for a note: separators and controls become spaces, blanks collapse, upper case."""
    text = F.upper(F.trim(F.regexp_replace(F.regexp_replace(col, _UNSAFE, " "), r"\s+", " ")))
    return F.when(text != F.lit(""), text)


def _words(col: Column) -> Column:
    """Inspector-typed brand lists ("Nike, Adidas; Rolex") as a clean array."""
    parts = F.split(F.coalesce(col, F.lit("")), r"[,;\n]")
    return F.filter(F.transform(parts, _clean), lambda w: w.isNotNull())


def seizure_facts(consignments: DataFrame, seizures: DataFrame) -> DataFrame:
    """One row per seized consignment: its parties and what was found.

    consignments: features.consignments.build_consignments rows (unique on consignment_id);
    seizures: consignment_id, inspected_on, seized_items, seized_value_hkd, brands_found, one
    row per consignment (the latest result)."""
    route = F.array_join(F.concat(F.array("port_of_loading"), F.col("route_ports"), F.array("port_of_discharge")), ">")
    brands = F.array_distinct(F.concat(F.transform(F.col("brands"), _clean), _words(F.col("brands_found"))))
    c = consignments.select(
        "consignment_id", "exporter_id", "consignor_id", "consignee_id", "forwarder_id", "declarant_id",
        route.alias("route"), "destination_country",
        F.array_distinct(F.transform(F.col("hs_codes"), lambda h: F.substring(h, 1, 4))).alias("hs_headings"),
        F.col("brands"),
    )
    # seizures is one row per consignment (the latest result), consignments is keyed by it.
    joined = seizures.join(c, on="consignment_id", how="inner")
    return joined.select(
        "consignment_id", "inspected_on", "exporter_id", "consignor_id", "consignee_id", "forwarder_id",
        "declarant_id", "route", "destination_country", "hs_headings",
        F.array_compact(brands).alias("brands"), F.col("seized_items").cast("long").alias("seized_items"),
        F.col("seized_value_hkd").cast("double").alias("seized_value_hkd"),
    )


def _listed(name: str, values: Column, limit: int) -> Column:
    """'name=a|b|c (+4 more)' of a sorted array, null if empty."""
    shown = F.array_join(F.slice(values, 1, limit), "|")
    more = F.when(F.size(values) > limit, F.concat(F.lit(" (+"), (F.size(values) - limit).cast("string"),
                                                    F.lit(" more)"))).otherwise(F.lit(""))
    return F.when(F.size(values) > 0, F.concat(F.lit(f"{name}="), shown, more))


def _expiry(role: Column, last: Column, policy: ExchangePolicy) -> Column:
    expires = F.lit(None).cast("date")
    for name, days in policy.expiry_days.items():
        if days > 0:
            expires = F.when(role == F.lit(name), F.date_add(last, days)).otherwise(expires)
    return expires


def propose_entries(facts: DataFrame, policy: ExchangePolicy, source: str) -> DataFrame:
    """The package's watch-list entries, one per (entity_type, entity_id), sorted by them."""
    roles = [F.struct(F.lit(role).alias("entity_type"), F.col(field).alias("entity_id"))
             for role, field in policy.shared_roles.items()]
    if not roles:
        return facts.sparkSession.createDataFrame(
            [], "entity_type string, entity_id string, source string, listed_on date, expires_on date, "
                "received_on date, note string")
    parties = facts.select("*", F.explode(F.array(*roles)).alias("p")).select(
        "consignment_id", "inspected_on", F.col("p.entity_type").alias("entity_type"),
        F.trim(F.col("p.entity_id")).alias("entity_id"), "route", "destination_country", "hs_headings", "brands",
        "seized_items", "seized_value_hkd",
    ).where(F.col("entity_id").isNotNull() & (F.col("entity_id") != F.lit("")))

    def gathered(col: str) -> Column:
        return F.array_sort(F.array_distinct(F.flatten(F.collect_list(col))))

    def distinct(col: str) -> Column:
        return F.array_sort(F.collect_set(col))

    merged = parties.groupBy("entity_type", "entity_id").agg(
        F.countDistinct("consignment_id").alias("seizures"), F.min("inspected_on").alias("first"),
        F.max("inspected_on").alias("last"), gathered("brands").alias("brands"),
        gathered("hs_headings").alias("headings"), distinct("route").alias("routes"),
        distinct("destination_country").alias("destinations"), F.sum("seized_items").alias("items"),
        F.round(F.sum("seized_value_hkd"), 0).cast("long").alias("value"),
    )
    n = policy.note_max_items
    pieces = [F.concat(F.lit("seizures="), F.col("seizures").cast("string")),
              F.concat(F.lit("first="), F.col("first").cast("string")),
              F.concat(F.lit("last="), F.col("last").cast("string"))]
    optional = [("brand", _listed("brands", F.col("brands"), n)),
                ("hs_code", _listed("hs", F.col("headings"), n)),
                ("route_ports", _listed("routes", F.col("routes"), n)),
                ("destination_country", _listed("to", F.col("destinations"), n)),
                ("seized_items", F.concat(F.lit("items="), F.col("items").cast("string"))),
                ("seized_value_hkd", F.concat(F.lit("value_hkd="), F.col("value").cast("string")))]
    pieces += [piece for field, piece in optional if policy.shares(field)]
    return merged.select(
        "entity_type", "entity_id", F.lit(source).alias("source"), F.col("first").alias("listed_on"),
        _expiry(F.col("entity_type"), F.col("last"), policy).alias("expires_on"),
        F.lit(None).cast("date").alias("received_on"), F.concat_ws("; ", *pieces).alias("note"),
    ).orderBy("entity_type", "entity_id")
