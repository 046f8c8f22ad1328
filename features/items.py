"""Item-level signals aggregated per consignment: every item counts, not only the highest-value one.

A parcel of many cheap items can hide one branded, under-valued line. Each item of the
consignment (features.consignments `items`) is looked at on its own:

    brand       the recorded brand its declared brand or its own description names
                (features.brands.match_item_brands: English, Chinese and mixed text, recorded
                aliases and near-misses), counted only from the brand's recorded_on day
    ratio       its unit value in HKD per unit of sale (features.units: count units only) over
                that brand's lowest genuine unit price; null without a brand, a price or a count unit
    under       ratio below item_undervalued_ratio (conf/base/features.yaml)
    mismatch    its description names a product type (conf/reference/product_terms.csv, English
                and Chinese) and none of the usual HS prefixes of the types it names starts its
                HS code ("sneakers" declared under 3926 plastics)
    vague       every word of its description is in vague_words ("gift", "samples", "禮品"): counted
                alone, and where its HS group is counterfeit-prone (conf/reference/hs_groups.csv). Alone
                because a misdeclared line puts the vague wording under a harmless heading, and the
                line that hides is rarely the highest-value one (features.commodity looks at that one)
    suspicious  it names a recorded brand AND (it is under-valued OR its description contradicts
                its HS code): a brand on goods priced below any genuine item, or declared under
                a heading the named goods do not belong to

These are same-day signals of the consignment itself; the only snapshot they read is
rights_holders, filtered to brands recorded on or before the lodging day (as features.commodity).
"""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from features.brands import ITEM_KEY, match_item_brands, text_terms
from features.commodity import is_vague
from features.reference import compact_text, match_hs_group
from features.registry import FeatureDef
from features.units import unit_value

_RH = ("declarations", "rights_holders")
_VALUE = ("declarations", "fx_rates", "rights_holders", "conf/reference/units.csv")
_TERMS = ("declarations", "conf/reference/product_terms.csv")
_GROUPS = ("declarations", "conf/reference/hs_groups.csv")
PRODUCT_TERMS_SCHEMA = "term string, hs_prefixes string, language string"


def _f(name, dtype, kind, meaning, sources=_RH, nullable=False):
    return FeatureDef(name, dtype, kind, "items", meaning, sources, "day of lodging", nullable)


FEATURES = [
    _f("n_items_brand_named", "integer", "numeric",
       "items whose declared brand or own description names a recorded brand (aliases, near-misses, Chinese)"),
    _f("n_item_brands", "integer", "numeric", "distinct recorded brands named across the items"),
    _f("items_min_value_to_genuine_ratio", "double", "numeric",
       "lowest, over the items naming a recorded brand, of the item's unit value over that brand's minimum "
       "genuine unit value; null if no such item has both", _VALUE, nullable=True),
    _f("n_items_under_genuine", "integer", "numeric",
       "items naming a recorded brand whose unit value is below item_undervalued_ratio (1.0) times the "
       "brand's minimum genuine unit value", _VALUE),
    _f("n_suspicious_items", "integer", "numeric",
       "items naming a recorded brand that are under-valued or whose description contradicts their HS code",
       _VALUE + ("conf/reference/product_terms.csv",)),
    _f("share_suspicious_items", "double", "numeric", "n_suspicious_items over the number of items",
       _VALUE + ("conf/reference/product_terms.csv",)),
    _f("n_vague_items", "integer", "numeric",
       "items with a vague description (every word in vague_words, English or Chinese), whatever their HS code",
       ("declarations",)),
    _f("n_vague_prone_items", "integer", "numeric",
       "items with a vague description (every word in vague_words) under a counterfeit-prone HS group", _GROUPS),
    _f("n_items_hs_mismatch", "integer", "numeric",
       "items whose description names a product type (product_terms.csv) none of whose usual HS prefixes "
       "starts the item's HS code", _TERMS),
]


def explode_items(consignments: DataFrame) -> DataFrame:
    """One row per item: ITEM_KEY, lodged_date, hs_code, goods_description, brand, value_hkd,
    quantity_base, quantity_dimension."""
    exploded = consignments.select("consignment_id", "lodged_date", F.explode("items").alias("i"))
    return exploded.select(
        "consignment_id", F.col("i.declaration_id").alias("declaration_id"), F.col("i.item_no").alias("item_no"),
        "lodged_date", F.col("i.hs_code").alias("hs_code"), F.col("i.goods_description").alias("goods_description"),
        F.col("i.brand").alias("brand"), F.col("i.value_hkd").alias("value_hkd"),
        F.col("i.quantity_base").alias("quantity_base"), F.col("i.quantity_dimension").alias("quantity_dimension"),
    )


def _prefixes(text: Column) -> Column:
    return F.filter(F.transform(F.split(text, ";"), F.trim), lambda p: p != "")


def product_terms_table(product_terms: DataFrame) -> DataFrame:
    """term (compacted as the description terms are) -> prefixes (array of HS prefixes), unique on term.

    Grouped so a term listed twice cannot repeat an item's row; its prefix lists are merged."""
    keyed = product_terms.select(compact_text(F.col("term")).alias("product_term"),
                                 _prefixes(F.col("hs_prefixes")).alias("prefixes"))
    return keyed.where(F.col("product_term") != "").groupBy("product_term").agg(
        F.array_distinct(F.flatten(F.collect_list("prefixes"))).alias("prefixes"))


def match_hs_mismatch(items: DataFrame, product_terms: DataFrame, params: Mapping) -> DataFrame:
    """ITEM_KEY + is_hs_mismatch (1 or 0) for items whose description names a product type; others
    get no row. 0 when any of the named types' prefixes starts the item's HS code."""
    terms = items.select(*ITEM_KEY, "hs_code",
                         F.explode(text_terms(F.col("goods_description"), params)).alias("term"))
    table = F.broadcast(product_terms_table(product_terms))  # a few hundred rows
    named = terms.join(table, on=F.col("term") == F.col("product_term"), how="inner")
    fits = F.exists(F.col("prefixes"), lambda p: F.col("hs_code").startswith(p))
    per_item = named.groupBy(*ITEM_KEY).agg(F.max(fits.cast("int")).alias("fits"))
    return per_item.select(*ITEM_KEY, (1 - F.col("fits")).alias("is_hs_mismatch"))


def _hs_groups_by_code(items: DataFrame, hs_groups: DataFrame) -> DataFrame:
    """hs_code -> counterfeit_prone, unique on hs_code (matched once per distinct code)."""
    codes = items.select("hs_code").where(F.col("hs_code").isNotNull()).distinct()
    return match_hs_group(codes, "hs_code", "hs_code", hs_groups).select("hs_code", "counterfeit_prone")


def item_signals(consignments: DataFrame, hs_groups: DataFrame, rights_holders: DataFrame,
                 product_terms: DataFrame, params: Mapping) -> DataFrame:
    """One row per item: ITEM_KEY + item_brand, value_to_genuine_ratio, is_under_genuine,
    is_hs_mismatch, is_vague, is_vague_prone, is_suspicious (flags 0/1), for analysts and the aggregates."""
    items = explode_items(consignments)
    brands = match_item_brands(items, rights_holders, params)  # unique on ITEM_KEY
    mismatch = match_hs_mismatch(items, product_terms, params)  # unique on ITEM_KEY
    groups = _hs_groups_by_code(items, hs_groups)  # unique on hs_code
    joined = (items.join(brands, on=list(ITEM_KEY), how="left").join(mismatch, on=list(ITEM_KEY), how="left")
              .join(groups, on="hs_code", how="left"))
    genuine = F.col("item_min_genuine_unit_value_hkd")
    ratio = F.when(genuine > 0, unit_value(F.col("value_hkd"), F.col("quantity_base"),
                                           F.col("quantity_dimension")) / genuine)
    is_branded = F.col("item_brand").isNotNull()
    is_under = F.coalesce(ratio < float(params["item_undervalued_ratio"]), F.lit(False))
    is_mismatch = F.coalesce(F.col("is_hs_mismatch") == 1, F.lit(False))
    is_prone = F.coalesce(F.col("counterfeit_prone") == 1, F.lit(False))
    is_vague_text = F.coalesce(is_vague(F.col("goods_description"), list(params["vague_words"])), F.lit(False))
    return joined.select(
        *ITEM_KEY, "item_brand",
        ratio.alias("value_to_genuine_ratio"),
        (is_branded & is_under).cast("int").alias("is_under_genuine"),
        is_mismatch.cast("int").alias("is_hs_mismatch"),
        is_vague_text.cast("int").alias("is_vague"),
        (is_vague_text & is_prone).cast("int").alias("is_vague_prone"),
        (is_branded & (is_under | is_mismatch)).cast("int").alias("is_suspicious"),
    )


def build_item_features(consignments: DataFrame, hs_groups: DataFrame, rights_holders: DataFrame,
                        product_terms: DataFrame, params: Mapping) -> DataFrame:
    """consignment_id + the item-level features, one row per consignment with at least one item."""
    signals = item_signals(consignments, hs_groups, rights_holders, product_terms, params)
    suspicious = F.sum("is_suspicious")
    per_consignment = signals.groupBy("consignment_id").agg(
        F.count("item_brand").alias("n_items_brand_named"),
        F.count_distinct("item_brand").alias("n_item_brands"),
        F.min("value_to_genuine_ratio").alias("items_min_value_to_genuine_ratio"),
        F.sum("is_under_genuine").alias("n_items_under_genuine"),
        suspicious.alias("n_suspicious_items"),
        (suspicious / F.count(F.lit(1))).alias("share_suspicious_items"),
        F.sum("is_vague").alias("n_vague_items"),
        F.sum("is_vague_prone").alias("n_vague_prone_items"),
        F.sum("is_hs_mismatch").alias("n_items_hs_mismatch"),
    )
    return per_consignment.select(
        "consignment_id",
        *[F.col(c).cast("int").alias(c) for c in ("n_items_brand_named", "n_item_brands", "n_items_under_genuine",
                                                  "n_suspicious_items")],
        F.col("items_min_value_to_genuine_ratio").cast("double"),
        F.col("share_suspicious_items").cast("double"),
        F.col("n_vague_items").cast("int"),
        F.col("n_vague_prone_items").cast("int"),
        F.col("n_items_hs_mismatch").cast("int"),
    )
