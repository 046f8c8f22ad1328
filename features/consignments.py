"""The consignment frame: one row per consignment, declaration items aggregated up and joined
to the manifest. Every feature family starts from this frame.

Inputs are typed contract frames; partitioned datasets carry `partition_date` (DateType,
the date= folder, which is the local lodging day). Quantities are normalised with the units
reference table (conf/reference/units.csv, see features.units): `*_quantity_base` counts units
of sale where the unit is a COUNT unit (PCE, PR, SET, DZN, ...), and is null otherwise.
"""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from features.units import COUNT, with_quantity_base


def _fallback_rate(currency: Column, fallback: Mapping[str, float] | None) -> Column:
    if not fallback:
        return F.lit(None).cast("double")
    pairs = [x for code, rate in sorted(fallback.items()) for x in (F.lit(code), F.lit(float(rate)))]
    return F.create_map(*pairs)[currency]


def _rates_by_day(declarations: DataFrame, fx_rates: DataFrame | None) -> DataFrame:
    """(currency, partition_date) -> the latest fx rate on or before that day, if any."""
    needed = declarations.select(F.upper(F.col("currency")).alias("currency"), F.col("partition_date")).distinct()
    if fx_rates is None:
        return needed.withColumn("hkd_per_unit", F.lit(None).cast("double"))
    rates = fx_rates.select(
        F.upper(F.col("currency")).alias("fx_currency"), F.col("rate_date"), F.col("hkd_per_unit").cast("double")
    )
    on_or_before = (F.col("currency") == F.col("fx_currency")) & (F.col("rate_date") <= F.col("partition_date"))
    # Small: distinct (currency, day) pairs against the rate table.
    joined = needed.join(rates, on=on_or_before, how="left")
    latest = F.max_by(F.col("hkd_per_unit"), F.col("rate_date"))
    return joined.groupBy("currency", "partition_date").agg(latest.alias("hkd_per_unit"))


def item_values(declarations: DataFrame, fx_rates: DataFrame | None, fx_fallback: Mapping[str, float] | None = None) -> DataFrame:
    """Declaration items with `value_hkd` (fx_rates, else the configured fallback; HKD is 1)."""
    items = declarations.withColumn("currency", F.upper(F.col("currency")))
    rates = _rates_by_day(items, fx_rates)
    rate = F.coalesce(
        F.when(F.col("currency") == "HKD", F.lit(1.0)), F.col("hkd_per_unit"), _fallback_rate(F.col("currency"), fallback=fx_fallback)
    )
    joined = items.join(rates, on=["currency", "partition_date"], how="left")
    return joined.withColumn("value_hkd", F.col("declared_value") * rate)


def _branded_item(brand: Column) -> Column:
    """The facts of an item with a declared brand (null without one), for brand matching: the
    unit value compared with the brand's genuine price must be that of the item bearing it."""
    fields = F.struct(
        F.col("declaration_id").cast("string").alias("declaration_id"), F.col("item_no").cast("long").alias("item_no"),
        brand.alias("brand"), F.col("value_hkd").cast("double").alias("value_hkd"),
        F.col("quantity_base").cast("double").alias("quantity_base"),
        F.col("quantity_dimension").cast("string").alias("quantity_dimension"),
    )
    return F.when(brand.isNotNull(), fields)


def _item(brand: Column) -> Column:
    """Every item's own facts, for the item-level features (features.items): a branded line
    among cheap ones must be seen even when it is not the highest-value item."""
    return F.struct(
        F.col("declaration_id").cast("string").alias("declaration_id"), F.col("item_no").cast("long").alias("item_no"),
        F.col("hs_code").cast("string").alias("hs_code"),
        F.col("goods_description").cast("string").alias("goods_description"), brand.alias("brand"),
        F.col("value_hkd").cast("double").alias("value_hkd"),
        F.col("quantity_base").cast("double").alias("quantity_base"),
        F.col("quantity_dimension").cast("string").alias("quantity_dimension"),
    )


def aggregate_items(items: DataFrame) -> DataFrame:
    """One row per consignment_id from its items (unique on consignment_id by construction).

    items: declaration items with value_hkd (item_values) and quantity_base, quantity_dimension
    (features.units.with_quantity_base).
    """
    first_item = F.struct(F.col("item_no"), F.col("declaration_id"))
    # Highest value first; ties go to the lowest item number, so the choice is deterministic.
    by_value = F.struct(F.coalesce(F.col("value_hkd"), F.lit(-1.0)), -F.col("item_no"), F.col("declaration_id"))
    main = F.max_by(
        F.struct("hs_code", "goods_description", "quantity", "quantity_unit", "quantity_base", "quantity_dimension",
                 "value_hkd"), by_value
    )
    brand = F.nullif(F.trim(F.col("brand")), F.lit(""))
    not_counted = F.sum(F.when(F.col("quantity_dimension") == F.lit(COUNT), 0).otherwise(1))
    return items.groupBy("consignment_id").agg(
        F.min("partition_date").alias("lodged_date"),
        F.min("lodged_at").alias("lodged_at"),
        F.min_by(F.col("customs_office"), first_item).alias("customs_office"),
        F.min_by(F.col("exporter_id"), first_item).alias("exporter_id"),
        F.min_by(F.col("declarant_id"), first_item).alias("declarant_id"),
        F.count(F.lit(1)).alias("n_items"),
        # Cents: a sum of doubles depends on the order Spark adds them in; rounding makes
        # the total (and every feature from it) the same on any partitioning.
        F.round(F.sum("value_hkd"), 2).alias("total_value_hkd"),
        F.array_sort(F.collect_set("hs_code")).alias("hs_codes"),
        F.array_sort(F.collect_set(brand)).alias("brands"),
        # Sorted (declaration, item first) so the array does not depend on partitioning.
        F.array_sort(F.collect_list(_branded_item(brand))).alias("branded_items"),
        F.array_sort(F.collect_list(_item(brand))).alias("items"),
        main.alias("main"),
        F.max(F.when(F.upper(F.col("declaration_type")) == "REEXPORT", 1).otherwise(0)).alias("is_reexport"),
        # Units of sale over all items, only if every item is counted (else a sum of unlike units).
        F.when(not_counted == 0, F.sum("quantity_base")).alias("total_quantity_base"),
        F.sum("net_weight_kg").alias("net_weight_kg"),
    )


def _route_array(col: Column) -> Column:
    ports = F.transform(F.split(F.coalesce(col, F.lit("")), ";"), lambda p: F.upper(F.trim(p)))
    return F.filter(ports, lambda p: p != F.lit(""))


def build_consignments(
    manifests: DataFrame,
    declarations: DataFrame,
    fx_rates: DataFrame | None,
    fx_fallback: Mapping[str, float] | None = None,
    *,
    units: DataFrame,
) -> DataFrame:
    """One row per consignment that has a manifest row and at least one declaration item.

    `units` is conf/reference/units.csv (code, dimension, factor_to_base, ...).
    `route_ports` becomes array<string> of transit LOCODEs in travel order (empty = direct).
    `declaration_type` is REEXPORT if any item is a re-export, else EXPORT.
    `main_*` describe the highest-value item; `branded_items` holds every item with a declared
    brand (declaration_id, item_no, brand, value_hkd, quantity_base, quantity_dimension);
    `items` holds every item (declaration_id, item_no, hs_code, goods_description, brand, value_hkd,
    quantity_base, quantity_dimension), sorted by declaration and item number;
    `total_quantity_base` is the units of sale of all items, null unless every item is counted.
    """
    items = with_quantity_base(item_values(declarations, fx_rates, fx_fallback), units)
    per_consignment = aggregate_items(items)
    m = manifests.select(
        "consignment_id", "consignor_id", "consignee_id", "forwarder_id",
        F.upper(F.trim(F.col("destination_country"))).alias("destination_country"),
        F.upper(F.trim(F.col("consignee_country"))).alias("consignee_country"),
        F.upper(F.trim(F.col("port_of_loading"))).alias("port_of_loading"),
        _route_array(F.col("route_ports")).alias("route_ports"),
        F.upper(F.trim(F.col("port_of_discharge"))).alias("port_of_discharge"),
        F.upper(F.col("transport_mode")).alias("transport_mode"),
        "carrier_code", "package_count", "gross_weight_kg",
    )
    # per_consignment is unique on consignment_id (grouped); manifests are keyed by it.
    joined = m.join(per_consignment, on="consignment_id", how="inner")
    return joined.select(
        "consignment_id", "lodged_date", "lodged_at", "customs_office", "exporter_id", "declarant_id",
        "consignor_id", "consignee_id", "forwarder_id", "destination_country", "consignee_country",
        "port_of_loading", "route_ports", "port_of_discharge", "transport_mode", "carrier_code",
        F.col("package_count").cast(T.LongType()).alias("package_count"),
        F.col("gross_weight_kg").cast(T.DoubleType()).alias("gross_weight_kg"),
        "n_items", "total_value_hkd", "hs_codes",
        F.col("main.hs_code").alias("main_hs_code"),
        "brands", "branded_items", "items",
        F.col("main.goods_description").alias("main_goods_description"),
        F.when(F.col("is_reexport") == 1, F.lit("REEXPORT")).otherwise(F.lit("EXPORT")).alias("declaration_type"),
        F.col("main.quantity").cast(T.DoubleType()).alias("main_quantity"),
        F.col("main.quantity_unit").alias("main_quantity_unit"),
        F.col("main.quantity_base").alias("main_quantity_base"),
        F.col("main.quantity_dimension").alias("main_quantity_dimension"),
        F.col("main.value_hkd").alias("main_value_hkd"),
        "total_quantity_base", "net_weight_kg",
    )
