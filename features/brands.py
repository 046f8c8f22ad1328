"""Brand matching: the declared brand or the goods description against recorded trademarks.

Terms and aliases are compared in a compact form (lower case, no accents, no spaces or
punctuation), exactly or within a small edit distance. Row logic is Spark built-ins only:
the alias table is small and broadcast, and candidate pairs are blocked on the first letter
so the fuzzy comparison never runs over a full cross product.

Every candidate term keeps the item it comes from: a declared brand the item that declares it
(`branded_items`), a word of the description the highest-value item, whose description it is.
The match reports that item's value_hkd and quantity_base, so a brand's genuine price is
compared with the unit value of the goods that bear the brand, not with another item's.
"""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from features.reference import compact_text, normalise_text
from features.units import unit_value

SOURCES = ("DECLARED_EXACT", "DECLARED_FUZZY", "DESCRIPTION_EXACT", "DESCRIPTION_FUZZY", "NONE")


def alias_table(rights_holders: DataFrame) -> DataFrame:
    """One row per (brand, alias): the canonical name counts as an alias of itself."""
    names = F.concat(F.array("brand"), F.coalesce(F.split("aliases", ";"), F.array().cast("array<string>")))
    exploded = rights_holders.select(
        F.col("brand"), F.col("hs_prefixes"), F.col("recorded_on"),
        F.col("min_genuine_unit_value_hkd").cast("double").alias("min_genuine_unit_value_hkd"),
        F.explode(names).alias("alias"),
    )
    keyed = exploded.select(
        "brand", "hs_prefixes", "recorded_on", "min_genuine_unit_value_hkd",
        compact_text(F.col("alias")).alias("alias_norm"),
    )
    return keyed.where(F.col("alias_norm") != "").select(
        "*", F.substring("alias_norm", 1, 1).alias("block")
    )


def _description_terms(desc: Column) -> Column:
    """Words of the description and adjacent word pairs glued together ('louis vuitton' -> 'louisvuitton')."""
    words = F.filter(F.split(normalise_text(desc), " "), lambda w: w != "")
    n = F.size(words)
    pairs = F.zip_with(F.slice(words, 1, F.greatest(n - 1, F.lit(1))), F.slice(words, 2, F.greatest(n - 1, F.lit(1))),
                       lambda a, b: F.concat(a, b))
    return F.array_distinct(F.concat(words, F.filter(pairs, lambda p: p.isNotNull())))


def _item(declaration_id: Column, item_no: Column, value_hkd: Column, quantity_base: Column,
          quantity_dimension: Column) -> Column:
    """The item a candidate term comes from, typed alike for declared brands and descriptions."""
    return F.struct(
        declaration_id.cast("string").alias("declaration_id"), item_no.cast("long").alias("item_no"),
        value_hkd.cast("double").alias("value_hkd"), quantity_base.cast("double").alias("quantity_base"),
        quantity_dimension.cast("string").alias("quantity_dimension"),
    )


def candidate_terms(consignments: DataFrame, min_length: int) -> DataFrame:
    """consignment_id, lodged_date, term, from_description (0 declared brand, 1 description),
    item (struct of the item the term comes from: declaration_id, item_no, value_hkd,
    quantity_base, quantity_dimension), term_block."""
    declared = consignments.select(
        "consignment_id", "lodged_date", F.explode("branded_items").alias("b"),
    ).select(
        "consignment_id", "lodged_date", compact_text(F.col("b.brand")).alias("term"), F.lit(0).alias("from_description"),
        _item(*[F.col(f"b.{f}") for f in ("declaration_id", "item_no", "value_hkd", "quantity_base",
                                          "quantity_dimension")]).alias("item"),
    )
    # The description is the highest-value item's: its value and quantity go with its words.
    main_item = _item(F.lit(None), F.lit(None), F.col("main_value_hkd"), F.col("main_quantity_base"),
                      F.col("main_quantity_dimension"))
    described = consignments.select(
        "consignment_id", "lodged_date",
        F.explode(_description_terms(F.col("main_goods_description"))).alias("term"), F.lit(1).alias("from_description"),
        main_item.alias("item"),
    )
    terms = declared.unionByName(described)
    return terms.where(F.length("term") >= min_length).select("*", F.substring("term", 1, 1).alias("term_block"))


def match_brands(consignments: DataFrame, rights_holders: DataFrame, params: Mapping) -> DataFrame:
    """consignment_id, matched_brand, brand_match_source, hs_prefixes, min_genuine_unit_value_hkd,
    brand_item_value_hkd, brand_item_quantity_base, brand_item_quantity_dimension for consignments
    whose declared brands (`branded_items`) or main description name a recorded brand; others get
    no row. The brand_item_* columns are those of the item bearing the matched brand.

    A brand counts only from its recorded_on day. Preference: declared brand over description,
    then fewer edits, then brand name; among items bearing the same brand, the lowest unit value
    per unit of sale (nulls last), then declaration and item number (so the choice is deterministic).
    """
    terms = candidate_terms(consignments, int(params["brand_min_term_length"]))
    aliases = alias_table(rights_holders)
    alias_len = F.length("alias_norm")
    allowed = (
        F.when(alias_len >= int(params["brand_fuzzy_long_length"]), 2)
        .when(alias_len >= int(params["brand_fuzzy_min_length"]), 1)
        .otherwise(0)
    )
    distance = F.levenshtein(F.col("term"), F.col("alias_norm"))
    recorded = F.col("recorded_on") <= F.col("lodged_date")
    cond = (F.col("term_block") == F.col("block")) & recorded & (distance <= allowed)
    pairs = terms.join(F.broadcast(aliases), on=cond, how="inner").select("*", distance.alias("distance"))
    item_uv = unit_value(F.col("item.value_hkd"), F.col("item.quantity_base"), F.col("item.quantity_dimension"))
    rank = F.struct(
        "from_description", "distance", "brand", item_uv.isNull().alias("no_unit_value"), item_uv.alias("unit_value"),
        F.col("item.declaration_id").alias("declaration_id"), F.col("item.item_no").alias("item_no"),
    )
    best = F.min_by(
        F.struct("brand", "hs_prefixes", "min_genuine_unit_value_hkd", "from_description", "distance", "item"), rank)
    picked = pairs.groupBy("consignment_id").agg(best.alias("b"))
    origin = F.when(F.col("b.from_description") == 1, "DESCRIPTION").otherwise("DECLARED")
    kind = F.when(F.col("b.distance") == 0, "EXACT").otherwise("FUZZY")
    return picked.select(
        "consignment_id",
        F.col("b.brand").alias("matched_brand"),
        F.concat_ws("_", origin, kind).alias("brand_match_source"),
        F.col("b.hs_prefixes").alias("hs_prefixes"),
        F.col("b.min_genuine_unit_value_hkd").alias("min_genuine_unit_value_hkd"),
        F.col("b.item.value_hkd").alias("brand_item_value_hkd"),
        F.col("b.item.quantity_base").alias("brand_item_quantity_base"),
        F.col("b.item.quantity_dimension").alias("brand_item_quantity_dimension"),
    )
