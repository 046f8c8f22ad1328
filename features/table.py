"""The feature table: one row per consignment with every registered feature.

    build_daily_aggregates(consignments, reference, params) -> {name: daily aggregate frame}
    build_feature_table(consignments, inputs, reference, history, params, party_params)

`consignments` is the frame of features.consignments.build_consignments for the target
days only; `inputs` holds the snapshot datasets (rights_holders, intelligence);
`reference` the conf/reference frames (countries, ports, hs_groups, product_terms); `history` the daily
aggregates read from the workspace (route_daily, hub_region_daily, hs6_daily and
party_daily), which may include the target days and later ones:
every look-back feature filters to days strictly before lodging.

Null filling: a feature declared nullable=False gets DEFAULTS[kind] where its family left
a null (numeric and flag 0, categorical "UNKNOWN"); nullable features keep their nulls.
"""
from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.commodity import build_commodity_features, build_hs6_daily
from features.destination import build_destination_features
from features.intelligence import build_watchlist_features
from features.items import PRODUCT_TERMS_SCHEMA, build_item_features
from features.party_lookback import build_party_features
from features.registry import FeatureDef, all_features
from features.route import build_route_basics, build_route_daily, build_route_history_features
from features.shape import build_shape_features

KEY_COLUMNS = ("consignment_id", "lodged_date", "customs_office")
DEFAULTS = {"numeric": 0, "flag": 0, "categorical": "UNKNOWN"}
SPARK_TYPES = {"integer": "long", "double": "double", "string": "string"}


def _route_keys(consignments: DataFrame, reference: Mapping[str, DataFrame]) -> tuple[DataFrame, DataFrame, DataFrame]:
    """(route basics, destination features, route keys for the look-back aggregates)."""
    basics = build_route_basics(consignments, reference["ports"])
    destination = build_destination_features(consignments, reference["countries"])
    keys = (
        consignments.select("consignment_id", "lodged_date")
        .join(basics.select("consignment_id", "route_key", "route_hub"), on="consignment_id", how="inner")
        .join(destination.select("consignment_id", "dest_region"), on="consignment_id", how="inner")
    )
    return basics, destination, keys


def build_daily_aggregates(consignments: DataFrame, reference: Mapping[str, DataFrame],
                           params: Mapping) -> dict[str, DataFrame]:
    """The route and unit-value daily aggregates of the given consignments (every day they cover)."""
    _, _, keys = _route_keys(consignments, reference)
    aggregates = build_route_daily(keys)
    aggregates["hs6_daily"] = build_hs6_daily(consignments, float(params["unit_value_bucket_width"]))
    return aggregates


def _product_terms(consignments: DataFrame, reference: Mapping[str, DataFrame]) -> DataFrame:
    """conf/reference/product_terms.csv (pipelines.io.reference loads it); a hand-built reference
    without it finds no HS mismatch."""
    if "product_terms" in reference:
        return reference["product_terms"]
    return consignments.sparkSession.createDataFrame([], PRODUCT_TERMS_SCHEMA)


def _family_frames(consignments, inputs, reference, history, params, party_params, target_days) -> list[DataFrame]:
    basics, destination, keys = _route_keys(consignments, reference)
    return [
        destination,
        basics.drop("route_key", "route_hub"),
        build_route_history_features(keys, history["route_daily"], history["hub_region_daily"],
                                     int(params["route_lookback_days"]), int(params["route_recent_days"])),
        build_commodity_features(consignments, reference["hs_groups"], inputs["rights_holders"],
                                 history["hs6_daily"], params),
        build_item_features(consignments, reference["hs_groups"], inputs["rights_holders"],
                            _product_terms(consignments, reference), params),
        build_shape_features(consignments, params),
        build_party_features(consignments, history["party_daily"], party_params, target_days),
        build_watchlist_features(consignments, inputs["intelligence"]),
    ]


def _filled(feature: FeatureDef):
    value = F.col(feature.name)
    if not feature.nullable:
        value = F.coalesce(value, F.lit(DEFAULTS[feature.kind]))
    return value.cast(SPARK_TYPES[feature.dtype]).alias(feature.name)


def build_feature_table(
    consignments: DataFrame,
    inputs: Mapping[str, DataFrame],
    reference: Mapping[str, DataFrame],
    history: Mapping[str, DataFrame],
    params: Mapping,
    party_params,
    target_days: int = 1,
) -> DataFrame:
    """consignment_id, lodged_date, customs_office + every registered feature, one row per consignment.

    params: the `features` section of conf/base/features.yaml; party_params: the
    features.parties.PartyParams (pipelines.io.history_store.party_params()); target_days: how many
    lodging days the consignments span (it picks the party family's path, features.party_lookback).
    """
    families = _family_frames(consignments, inputs, reference, history, params, party_params, target_days)
    table = assemble_by_consignment(consignments.select(*KEY_COLUMNS), families)
    return table.select(*KEY_COLUMNS, *[_filled(f) for f in all_features()])


def assemble_by_consignment(keys: DataFrame, families: list[DataFrame]) -> DataFrame:
    """Every row of `keys` with the columns of each family frame (each unique on consignment_id),
    null where a family has no row for it: a chain of left joins, done as one union and one grouping.

    Why not joins: a chain of sort-merge joins on the same key runs in one task with one sorter
    per join, none of which can give memory back while the next one fills; a 350,000-consignment
    night ran out of memory in a 4 GB driver that way. Here each family is packed into one struct
    column, the frames are stacked and grouped by consignment: one spillable sort per task.
    """
    frames = [keys, *families]
    packed, seen = [], {"consignment_id"}
    for i, frame in enumerate(frames):
        columns = [c for c in frame.columns if c != "consignment_id"]
        repeated = seen.intersection(columns)
        if repeated:
            raise ValueError(f"feature family {i} repeats column(s) {sorted(repeated)} of an earlier family")
        seen.update(columns)
        packed.append(frame.select("consignment_id", F.struct(*columns).alias(f"_family_{i}")))
    stacked = packed[0]
    for frame in packed[1:]:
        stacked = stacked.unionByName(frame, allowMissingColumns=True)
    names = [f"_family_{i}" for i in range(len(frames))]
    grouped = stacked.groupBy("consignment_id").agg(*[F.first(n, ignorenulls=True).alias(n) for n in names])
    return grouped.where(F.col("_family_0").isNotNull()).select(
        "consignment_id", *[F.col(f"{n}.*") for n in names])


def table_schema():
    """The Spark schema of the feature table, from the registry."""
    from pyspark.sql import types as T

    types = {"integer": T.LongType(), "double": T.DoubleType(), "string": T.StringType()}
    keys = [T.StructField("consignment_id", T.StringType()), T.StructField("lodged_date", T.DateType()),
            T.StructField("customs_office", T.StringType())]
    return T.StructType(keys + [T.StructField(f.name, types[f.dtype], f.nullable) for f in all_features()])


# Closed sets of categorical features, for the feature-table expectations.
CATEGORY_SETS = {
    "dest_region": ["NORTH_AMERICA", "EUROPE", "BELT_AND_ROAD", "OTHER"],
    "cross_boundary_pattern": ["MAINLAND_VIA_HK", "MAINLAND_VIA_MO", "MAINLAND_DIRECT", "HK_REEXPORT", "HK_EXPORT",
                               "MO_REEXPORT", "MO_EXPORT", "OTHER_LOADING"],
    "brand_match_source": ["DECLARED_EXACT", "DECLARED_FUZZY", "DESCRIPTION_EXACT", "DESCRIPTION_FUZZY", "NONE"],
    "transport_mode": ["SEA", "AIR", "ROAD", "RAIL", "POST", "EXPRESS", "UNKNOWN"],
}
# Numeric bounds that hold by construction (mostly: the share of rows that must satisfy them).
NUMERIC_BOUNDS = {
    "detour_ratio": (0.999, None, 0.99),  # a declared route is never shorter than the direct one
    "hub_region_share_shift": (-1.0, 1.0, 1.0),
    "unit_value_robust_z_90d": (-20.0, 20.0, 0.999),
    "share_suspicious_items": (0.0, 1.0, 1.0),
}


def _expect(kind: str, column: str, mostly: float = 1.0, **kwargs) -> dict:
    kw = {"column": column, **kwargs}
    if mostly < 1.0:
        kw["mostly"] = mostly
    return {"type": f"expect_column_values_to_{kind}", "kwargs": kw, "meta": {"reason": "FEATURE_OUT_OF_RANGE"}}


def expectation_suite() -> list[dict]:
    """GX expectations for the feature table, derived from the registry: keys and non-nullable
    features not null, flags 0/1, counts and amounts >= 0, closed categories in their sets.
    Run it with pipelines.validation.expectations.run_suites({"features": table}, {"features": suite}, ...)."""
    suite = [_expect("not_be_null", key) for key in KEY_COLUMNS]
    for f in all_features():
        if not f.nullable:
            suite.append(_expect("not_be_null", f.name))
        if f.kind == "flag":
            suite.append(_expect("be_in_set", f.name, value_set=[0, 1]))
        elif f.name in CATEGORY_SETS:
            suite.append(_expect("be_in_set", f.name, value_set=CATEGORY_SETS[f.name]))
        elif f.name in NUMERIC_BOUNDS:
            low, high, mostly = NUMERIC_BOUNDS[f.name]
            suite.append(_expect("be_between", f.name, mostly, min_value=low, max_value=high))
        elif f.kind == "numeric" and not f.name.endswith(("_z_90d", "_shift")):
            suite.append(_expect("be_between", f.name, min_value=0))
    return [{**e, "meta": {**e["meta"], "index": i}} for i, e in enumerate(suite)]
