"""Brand matching: the declared brand or the goods description against recorded trademarks.

Terms and aliases are compared in a compact form (lower case, no accents, no spaces or
punctuation), exactly or within a small edit distance. Row logic is Spark built-ins only:
the alias table is small and broadcast, and candidate pairs are blocked on the first letter
so the fuzzy comparison never runs over a full cross product.

Every candidate term keeps the item it comes from: a declared brand the item that declares it
(`branded_items`), a word of the description the highest-value item, whose description it is.
The match reports that item's value_hkd and quantity_base, so a brand's genuine price is
compared with the unit value of the goods that bear the brand, not with another item's.
`match_item_brands` runs the same matching on every item (its declared brand and its own
description), for the item-level family (features.items).

Chinese (and other Han) text has no spaces: its runs are cut into substrings (text_terms), so a
recorded alias in Chinese is found inside a longer run or inside mixed Latin and Han text.
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


# Han characters (Chinese, and the kanji of Japanese) are written without spaces between words:
# a run of them is cut into its substrings, so an alias such as a brand's Chinese name is found
# inside "品牌手袋" or "Nike运动鞋" without a dictionary of Chinese words.
_HAN_RUN = r"(\p{IsHan}+)"
_IS_HAN = r"^\p{IsHan}+$"


def _han_substrings(word: Column, min_length: int, max_length: int) -> Column:
    """Every substring of `word` with min_length to max_length characters (a word shorter than
    min_length gives none)."""
    n = F.length(word)
    spans = F.sequence(F.lit(min_length), F.least(n, F.lit(max_length)))
    cut = F.flatten(F.transform(spans, lambda k: F.transform(F.sequence(F.lit(1), n - k + 1),
                                                             lambda s: word.substr(s, k))))
    return F.when(n >= min_length, cut).otherwise(F.array().cast("array<string>"))


def text_terms(text: Column, params: Mapping) -> Column:
    """Candidate terms of a free text: its words, adjacent word pairs glued together ('louis vuitton'
    -> 'louisvuitton') and the substrings of its Han runs ('nike运动鞋' -> 'nike', '运动', '运动鞋', ...).

    Latin terms shorter than brand_min_term_length are dropped (two letters match too much);
    Han substrings run from brand_min_han_term_length to brand_max_han_term_length characters."""
    separated = F.regexp_replace(normalise_text(text), _HAN_RUN, " $1 ")
    words = F.filter(F.split(separated, " "), lambda w: w != "")
    n = F.size(words)
    pairs = F.zip_with(F.slice(words, 1, F.greatest(n - 1, F.lit(1))), F.slice(words, 2, F.greatest(n - 1, F.lit(1))),
                       lambda a, b: F.concat(a, b))
    latin = F.filter(F.concat(words, F.filter(pairs, lambda p: p.isNotNull())),
                     lambda t: ~t.rlike(_IS_HAN) & (F.length(t) >= int(params["brand_min_term_length"])))
    han_words = F.filter(words, lambda w: w.rlike(_IS_HAN))
    han = F.flatten(F.transform(han_words, lambda w: _han_substrings(
        w, int(params["brand_min_han_term_length"]), int(params["brand_max_han_term_length"]))))
    return F.array_distinct(F.concat(latin, han))


def _item(declaration_id: Column, item_no: Column, value_hkd: Column, quantity_base: Column,
          quantity_dimension: Column) -> Column:
    """The item a candidate term comes from, typed alike for declared brands and descriptions."""
    return F.struct(
        declaration_id.cast("string").alias("declaration_id"), item_no.cast("long").alias("item_no"),
        value_hkd.cast("double").alias("value_hkd"), quantity_base.cast("double").alias("quantity_base"),
        quantity_dimension.cast("string").alias("quantity_dimension"),
    )


def declared_terms(brand: Column, params: Mapping) -> Column:
    """Candidate terms of a declared brand: the whole of it compacted ('Louis  Vuiton' ->
    'louisvuiton') and the terms of its text, so 'LV Louis Vuitton' or 'Nike 耐克' is found too."""
    whole = compact_text(brand)
    long_enough = whole.rlike(_IS_HAN) | (F.length(whole) >= int(params["brand_min_term_length"]))
    kept = F.when(long_enough, F.array(whole)).otherwise(F.array().cast("array<string>"))
    return F.array_distinct(F.concat(kept, text_terms(brand, params)))


def candidate_terms(consignments: DataFrame, params: Mapping) -> DataFrame:
    """consignment_id, lodged_date, term, from_description (0 declared brand, 1 description),
    item (struct of the item the term comes from: declaration_id, item_no, value_hkd,
    quantity_base, quantity_dimension)."""
    declared = consignments.select(
        "consignment_id", "lodged_date", F.explode("branded_items").alias("b"),
    ).select(
        "consignment_id", "lodged_date", F.explode(declared_terms(F.col("b.brand"), params)).alias("term"),
        F.lit(0).alias("from_description"),
        _item(*[F.col(f"b.{f}") for f in ("declaration_id", "item_no", "value_hkd", "quantity_base",
                                          "quantity_dimension")]).alias("item"),
    )
    # The description is the highest-value item's: its value and quantity go with its words.
    main_item = _item(F.lit(None), F.lit(None), F.col("main_value_hkd"), F.col("main_quantity_base"),
                      F.col("main_quantity_dimension"))
    described = consignments.select(
        "consignment_id", "lodged_date",
        F.explode(text_terms(F.col("main_goods_description"), params)).alias("term"),
        F.lit(1).alias("from_description"), main_item.alias("item"),
    )
    return declared.unionByName(described)


def matched_aliases(terms: DataFrame, rights_holders: DataFrame, params: Mapping) -> DataFrame:
    """Every (term, recorded alias) pair within the allowed edit distance: the columns of `terms`
    (which has term and lodged_date) + brand, hs_prefixes, min_genuine_unit_value_hkd, distance.

    A brand counts only from its recorded_on day (on or before lodging). Candidate pairs are
    blocked on the first character, so the fuzzy comparison never runs over a cross product."""
    aliases = alias_table(rights_holders)
    alias_len = F.length("alias_norm")
    allowed = (
        F.when(alias_len >= int(params["brand_fuzzy_long_length"]), 2)
        .when(alias_len >= int(params["brand_fuzzy_min_length"]), 1)
        .otherwise(0)
    )
    distance = F.levenshtein(F.col("term"), F.col("alias_norm"))
    recorded = F.col("recorded_on") <= F.col("lodged_date")
    blocked = terms.select("*", F.substring("term", 1, 1).alias("term_block"))
    cond = (F.col("term_block") == F.col("block")) & recorded & (distance <= allowed)
    pairs = blocked.join(F.broadcast(aliases), on=cond, how="inner")
    return pairs.select(*terms.columns, "brand", "hs_prefixes", "min_genuine_unit_value_hkd",
                        distance.alias("distance"))


def match_brands(consignments: DataFrame, rights_holders: DataFrame, params: Mapping) -> DataFrame:
    """consignment_id, matched_brand, brand_match_source, hs_prefixes, min_genuine_unit_value_hkd,
    brand_item_value_hkd, brand_item_quantity_base, brand_item_quantity_dimension for consignments
    whose declared brands (`branded_items`) or main description name a recorded brand; others get
    no row. The brand_item_* columns are those of the item bearing the matched brand.

    A brand counts only from its recorded_on day. Preference: declared brand over description,
    then fewer edits, then brand name; among items bearing the same brand, the lowest unit value
    per unit of sale (nulls last), then declaration and item number (so the choice is deterministic).
    """
    pairs = matched_aliases(candidate_terms(consignments, params), rights_holders, params)
    item_uv = unit_value(F.col("item.value_hkd"), F.col("item.quantity_base"), F.col("item.quantity_dimension"))
    rank = F.struct(
        "from_description", "distance", "brand", item_uv.isNull().alias("no_unit_value"), item_uv.alias("unit_value"),
        F.col("item.declaration_id").alias("declaration_id"), F.col("item.item_no").alias("item_no"),
    )
    best = F.min_by(
        F.struct("brand", "hs_prefixes", "min_genuine_unit_value_hkd", "from_description", "distance", "item"), rank)
    picked = pairs.groupBy("consignment_id").agg(best.alias("b"))
    return picked.select(
        "consignment_id",
        F.col("b.brand").alias("matched_brand"),
        _source(F.col("b.from_description"), F.col("b.distance")).alias("brand_match_source"),
        F.col("b.hs_prefixes").alias("hs_prefixes"),
        F.col("b.min_genuine_unit_value_hkd").alias("min_genuine_unit_value_hkd"),
        F.col("b.item.value_hkd").alias("brand_item_value_hkd"),
        F.col("b.item.quantity_base").alias("brand_item_quantity_base"),
        F.col("b.item.quantity_dimension").alias("brand_item_quantity_dimension"),
    )


def _source(from_description: Column, distance: Column) -> Column:
    origin = F.when(from_description == 1, "DESCRIPTION").otherwise("DECLARED")
    kind = F.when(distance == 0, "EXACT").otherwise("FUZZY")
    return F.concat_ws("_", origin, kind)


ITEM_KEY = ("consignment_id", "declaration_id", "item_no")


def match_item_brands(items: DataFrame, rights_holders: DataFrame, params: Mapping) -> DataFrame:
    """The recorded brand each item names, in its declared brand or its own description.

    items: consignment_id, lodged_date, declaration_id, item_no, brand, goods_description (one row
    per item). Returns ITEM_KEY + item_brand, item_brand_source, item_brand_hs_prefixes,
    item_min_genuine_unit_value_hkd for the items that name one (unique on ITEM_KEY); others
    get no row. Preference as in match_brands: declared over description, fewer edits, brand name.
    """
    declared = items.select(*ITEM_KEY, "lodged_date", F.explode(declared_terms(F.col("brand"), params)).alias("term"),
                            F.lit(0).alias("from_description"))
    described = items.select(*ITEM_KEY, "lodged_date",
                             F.explode(text_terms(F.col("goods_description"), params)).alias("term"),
                             F.lit(1).alias("from_description"))
    pairs = matched_aliases(declared.unionByName(described), rights_holders, params)
    best = F.min_by(F.struct("brand", "hs_prefixes", "min_genuine_unit_value_hkd", "from_description", "distance"),
                    F.struct("from_description", "distance", "brand"))
    picked = pairs.groupBy(*ITEM_KEY).agg(best.alias("b"))
    return picked.select(
        *ITEM_KEY,
        F.col("b.brand").alias("item_brand"),
        _source(F.col("b.from_description"), F.col("b.distance")).alias("item_brand_source"),
        F.col("b.hs_prefixes").alias("item_brand_hs_prefixes"),
        F.col("b.min_genuine_unit_value_hkd").alias("item_min_genuine_unit_value_hkd"),
    )
