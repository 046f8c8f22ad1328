"""Commodity and brand features: HS chapter / heading / group, recorded brand, unit value in
HKD against the brand's genuine price and against the trailing HS6 median, vague
descriptions and weight consistency.

Unit values are HKD per unit of sale (features.units: COUNT quantities only, PR = 1 pair,
DZN = 12); an item in a mass, length, area, volume or package unit, or in an unknown unit,
has none. The unit value set against a brand's lowest genuine price is that of the item
bearing the brand (features.brands), which need not be the highest-value item."""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from features.brands import match_brands
from features.lookback import in_lookback
from features.reference import match_hs_group, normalise_text
from features.registry import FeatureDef
from features.units import unit_value

_D = ("declarations",)
_DM = ("declarations", "manifests")
_DAY = "day of lodging"
_UV = "unit_value_lookback_days (90) days before lodging"
_RH = ("declarations", "rights_holders")
_UNITS = "conf/reference/units.csv"
NO_GROUP = "UNGROUPED"
IQR_TO_SIGMA = 1.349  # IQR of a normal distribution in standard deviations


def _f(name, dtype, kind, meaning, sources=_D, window=_DAY, nullable=False, model_input=True):
    return FeatureDef(name, dtype, kind, "commodity", meaning, sources, window, nullable, model_input)


FEATURES = [
    _f("hs_chapter", "string", "categorical", "first 2 digits of the highest-value item's HS code"),
    _f("hs_heading", "string", "categorical", "first 4 digits of the highest-value item's HS code"),
    _f("hs_group", "string", "categorical",
       "goods group of the longest matching prefix in hs_groups.csv, UNGROUPED if none",
       ("declarations", "conf/reference/hs_groups.csv")),
    _f("is_counterfeit_prone", "integer", "flag", "1 if the highest-value item's HS group is counterfeit-prone",
       ("declarations", "conf/reference/hs_groups.csv")),
    _f("matched_brand", "string", "categorical",
       "recorded brand named by the brand column or the description (case, spacing, accents, aliases "
       "and small misspellings forgiven), NONE if none; for analysts, not a model input",
       _RH, model_input=False),
    _f("brand_match_source", "string", "categorical",
       "how the brand was found: DECLARED_EXACT, DECLARED_FUZZY, DESCRIPTION_EXACT, DESCRIPTION_FUZZY or NONE", _RH),
    _f("is_brand_recorded", "integer", "flag", "1 if a brand recorded on or before lodging was matched", _RH),
    _f("brand_protected_for_hs", "integer", "flag",
       "1 if the matched brand is recorded for an HS prefix of one of the consignment's items", _RH),
    _f("unit_value_hkd", "double", "numeric",
       "value in HKD per unit of sale of the highest-value item (fx_rates on or before lodging, else the "
       "configured fallback rate; quantity in units of sale: PCE 1, PR 1 pair, SET 1 set, DZN 12); null "
       "if the currency has no rate or the quantity unit is not a count (KGM, MTR, LTR, a package such "
       "as CT, or an unknown code)", ("declarations", "fx_rates", _UNITS), nullable=True),
    _f("brand_unit_value_hkd", "double", "numeric",
       "value in HKD per unit of sale of the item bearing the matched brand (the item that declares it, "
       "else the highest-value item whose description names it; of several, the lowest); null without "
       "a brand, a rate or a count unit; for analysts and reasons, not a model input",
       ("declarations", "fx_rates", "rights_holders", _UNITS), nullable=True, model_input=False),
    _f("value_to_genuine_ratio", "double", "numeric",
       "brand_unit_value_hkd over the matched brand's minimum genuine unit value: the unit value of the "
       "item bearing the brand, not of the highest-value item; null without both",
       ("declarations", "fx_rates", "rights_holders", _UNITS), nullable=True),
    _f("hs6_count_90d", "integer", "numeric",
       "consignments with a unit value (highest-value item in a count unit) whose main HS6 equals "
       "this one, in the look-back", ("declarations", _UNITS), _UV),
    _f("unit_value_robust_z_90d", "double", "numeric",
       "(ln unit value - trailing median ln unit value of the same HS6) / (IQR / 1.349), over the "
       "look-back, unit values per unit of sale; null with fewer than unit_value_min_history (5) prior "
       "values, zero spread or no unit value", ("declarations", "fx_rates", _UNITS), _UV, nullable=True),
    _f("is_vague_description", "integer", "flag",
       "1 if every word of the description is in the configured vague vocabulary (goods, samples, gifts, ...)"),
    _f("weight_per_package_kg", "double", "numeric", "gross weight over package count", ("manifests",)),
    _f("weight_per_unit_kg", "double", "numeric",
       "gross weight over the total units of sale of all items; null unless every item's quantity is "
       "in a count unit", ("declarations", "manifests", _UNITS), nullable=True),
    _f("is_weight_inconsistent", "integer", "flag",
       "1 if the items' net weight exceeds the gross weight or a package weighs less than "
       "min_kg_per_package", _DM),
]


def _main_unit_value() -> Column:
    """HKD per unit of sale of the highest-value item (null unless its unit is a count)."""
    return unit_value(F.col("main_value_hkd"), F.col("main_quantity_base"), F.col("main_quantity_dimension"))


def _hs6_unit_values(consignments: DataFrame) -> DataFrame:
    main_unit_value = _main_unit_value()
    return consignments.select(
        "consignment_id", "lodged_date",
        F.substring("main_hs_code", 1, 6).alias("hs6"),
        # Finite only: a huge value over a tiny quantity overflows to infinity, and ln(inf)
        # would stop the night with a CAST_OVERFLOW in the histogram buckets.
        F.when((main_unit_value > 0) & (main_unit_value < F.lit(float("inf"))), F.log(main_unit_value))
        .alias("log_unit_value"),
    )


def build_hs6_daily(consignments: DataFrame, bucket_width: float) -> DataFrame:
    """Daily aggregate: date, hs6, log_value_bucket, n_consignments.

    A histogram of ln unit value in fixed buckets, not a quantile sketch: sketches merge
    differently with the order of their inputs, so the same data on another cluster layout
    gave other quantiles; integer counts in fixed buckets add up the same everywhere.
    """
    uv = _hs6_unit_values(consignments).where(F.col("log_unit_value").isNotNull())
    bucket = F.floor(F.col("log_unit_value") / F.lit(float(bucket_width))).cast("int")
    return uv.groupBy(F.col("lodged_date").alias("date"), "hs6", bucket.alias("log_value_bucket")).agg(
        F.count(F.lit(1)).cast("long").alias("n_consignments"),
    )


def _hs6_history(targets: DataFrame, hs6_daily: DataFrame, days: int, bucket_width: float) -> DataFrame:
    """(lodged_date, hs6) -> n, q25, q50, q75 of ln unit value over the look-back; unique on the key."""
    wanted = targets.select("lodged_date", "hs6").distinct()
    hist = hs6_daily.select(F.col("date"), F.col("hs6").alias("h_hs6"), "log_value_bucket", "n_consignments")
    cond = (F.col("hs6") == F.col("h_hs6")) & in_lookback(F.col("date"), F.col("lodged_date"), days)
    buckets = wanted.join(hist, on=cond, how="inner").groupBy("lodged_date", "hs6", "log_value_bucket").agg(
        F.sum("n_consignments").alias("n_bucket"))
    key = Window.partitionBy("lodged_date", "hs6")
    cumulative = F.sum("n_bucket").over(key.orderBy("log_value_bucket").rowsBetween(Window.unboundedPreceding, 0))
    ranked = buckets.select("*", cumulative.alias("cum"), F.sum("n_bucket").over(key).alias("n"))

    def quantile(q: float):
        first = F.min(F.when(F.col("cum") >= F.lit(q) * F.col("n"), F.col("log_value_bucket")))
        return (first + F.lit(0.5)) * F.lit(float(bucket_width))

    return ranked.groupBy("lodged_date", "hs6").agg(
        F.first("n").alias("n"), F.array(quantile(0.25), quantile(0.5), quantile(0.75)).alias("q"))


def build_unit_value_history_features(consignments: DataFrame, hs6_daily: DataFrame, params: Mapping) -> DataFrame:
    """consignment_id, hs6_count_90d, unit_value_robust_z_90d (days strictly before lodging only)."""
    t = _hs6_unit_values(consignments)
    hist = _hs6_history(t, hs6_daily, int(params["unit_value_lookback_days"]), float(params["unit_value_bucket_width"]))
    joined = t.join(hist, on=["lodged_date", "hs6"], how="left")
    spread = (F.col("q")[2] - F.col("q")[0]) / IQR_TO_SIGMA
    enough = (F.col("n") >= int(params["unit_value_min_history"])) & (spread > 0)
    return joined.select(
        "consignment_id",
        F.coalesce(F.col("n"), F.lit(0)).cast("int").alias("hs6_count_90d"),
        F.when(enough, (F.col("log_unit_value") - F.col("q")[1]) / spread).alias("unit_value_robust_z_90d"),
    )


def is_vague(desc: Column, vague_words: list[str]) -> Column:
    """True when every word of two or more letters is in the vague vocabulary."""
    words = F.filter(F.split(normalise_text(desc), " "), lambda w: F.length(w) >= 2)
    vocabulary = F.array(*[F.lit(w.lower()) for w in vague_words])
    return F.forall(words, lambda w: F.array_contains(vocabulary, w))


def _protected(hs_codes: Column, hs_prefixes: Column) -> Column:
    prefixes = F.filter(F.transform(F.split(hs_prefixes, ";"), F.trim), lambda p: p != "")
    return F.exists(hs_codes, lambda h: F.exists(prefixes, lambda p: h.startswith(p)))


def build_commodity_features(
    consignments: DataFrame, hs_groups: DataFrame, rights_holders: DataFrame, hs6_daily: DataFrame, params: Mapping
) -> DataFrame:
    """consignment_id + the commodity features."""
    c = consignments.select(
        "consignment_id", "lodged_date", "main_hs_code", "hs_codes", "branded_items", "main_goods_description",
        "main_value_hkd", "main_quantity_base", "main_quantity_dimension", "total_quantity_base", "package_count",
        "gross_weight_kg", "net_weight_kg",
    )
    groups = match_hs_group(c, "consignment_id", "main_hs_code", hs_groups)  # unique on consignment_id
    brands = match_brands(c, rights_holders, params)  # unique on consignment_id
    history = build_unit_value_history_features(c, hs6_daily, params)  # unique on consignment_id
    joined = c.join(groups, "consignment_id", "left").join(brands, "consignment_id", "left").join(history, "consignment_id", "left")
    main_unit_value = _main_unit_value()
    brand_unit_value = unit_value(F.col("brand_item_value_hkd"), F.col("brand_item_quantity_base"),
                                  F.col("brand_item_quantity_dimension"))
    genuine = F.col("min_genuine_unit_value_hkd")
    per_package = F.col("gross_weight_kg") / F.col("package_count")
    heavier_net = F.coalesce(F.col("net_weight_kg") > F.col("gross_weight_kg"), F.lit(False))
    too_light = per_package < float(params["min_kg_per_package"])
    has_brand = F.col("matched_brand").isNotNull()
    return joined.select(
        "consignment_id",
        F.substring("main_hs_code", 1, 2).alias("hs_chapter"),
        F.substring("main_hs_code", 1, 4).alias("hs_heading"),
        F.coalesce("hs_group", F.lit(NO_GROUP)).alias("hs_group"),
        F.coalesce("counterfeit_prone", F.lit(0)).cast("int").alias("is_counterfeit_prone"),
        F.coalesce("matched_brand", F.lit("NONE")).alias("matched_brand"),
        F.coalesce("brand_match_source", F.lit("NONE")).alias("brand_match_source"),
        has_brand.cast("int").alias("is_brand_recorded"),
        F.coalesce(has_brand & _protected(F.col("hs_codes"), F.col("hs_prefixes")), F.lit(False)).cast("int")
        .alias("brand_protected_for_hs"),
        main_unit_value.alias("unit_value_hkd"),
        brand_unit_value.alias("brand_unit_value_hkd"),
        F.when(genuine > 0, brand_unit_value / genuine).alias("value_to_genuine_ratio"),
        F.coalesce("hs6_count_90d", F.lit(0)).cast("int").alias("hs6_count_90d"),
        F.col("unit_value_robust_z_90d"),
        is_vague(F.col("main_goods_description"), list(params["vague_words"])).cast("int").alias("is_vague_description"),
        per_package.alias("weight_per_package_kg"),
        F.when(F.col("total_quantity_base") > 0, F.col("gross_weight_kg") / F.col("total_quantity_base"))
        .alias("weight_per_unit_kg"),
        (heavier_net | too_light).cast("int").alias("is_weight_inconsistent"),
    )
