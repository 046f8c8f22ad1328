"""Brand matching: the declared brand or the goods description against recorded trademarks.

Terms and aliases are compared in a compact form (lower case, no accents, no spaces or
punctuation), exactly or within a small edit distance. Row logic is Spark built-ins only:
the alias table is small and broadcast, and candidate pairs are blocked on the first letter
so the fuzzy comparison never runs over a full cross product.
"""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from features.reference import compact_text, normalise_text

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


def candidate_terms(consignments: DataFrame, min_length: int) -> DataFrame:
    """consignment_id, lodged_date, term, from_description (0 declared brand, 1 description)."""
    declared = consignments.select(
        "consignment_id", "lodged_date",
        F.explode(F.transform("brands", compact_text)).alias("term"), F.lit(0).alias("from_description"),
    )
    described = consignments.select(
        "consignment_id", "lodged_date",
        F.explode(_description_terms(F.col("main_goods_description"))).alias("term"), F.lit(1).alias("from_description"),
    )
    terms = declared.unionByName(described)
    return terms.where(F.length("term") >= min_length).select("*", F.substring("term", 1, 1).alias("term_block"))


def match_brands(consignments: DataFrame, rights_holders: DataFrame, params: Mapping) -> DataFrame:
    """consignment_id, matched_brand, brand_match_source, hs_prefixes, min_genuine_unit_value_hkd
    for consignments whose brand or description names a recorded brand; others get no row.

    A brand counts only from its recorded_on day. Preference: declared brand over description,
    then fewer edits, then brand name (so the choice is deterministic).
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
    rank = F.struct("from_description", "distance", "brand")
    best = F.min_by(F.struct("brand", "hs_prefixes", "min_genuine_unit_value_hkd", "from_description", "distance"), rank)
    picked = pairs.groupBy("consignment_id").agg(best.alias("b"))
    origin = F.when(F.col("b.from_description") == 1, "DESCRIPTION").otherwise("DECLARED")
    kind = F.when(F.col("b.distance") == 0, "EXACT").otherwise("FUZZY")
    return picked.select(
        "consignment_id",
        F.col("b.brand").alias("matched_brand"),
        F.concat_ws("_", origin, kind).alias("brand_match_source"),
        F.col("b.hs_prefixes").alias("hs_prefixes"),
        F.col("b.min_genuine_unit_value_hkd").alias("min_genuine_unit_value_hkd"),
    )
